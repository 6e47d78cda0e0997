// `deepnet compare-results A B`: are two results folders (or two run files) the same numbers? Used by
// scripts/kill_test.sh; useful to anyone checking that a rerun, a resume or another machine reproduced a run.
import ArgumentParser
import DeepNetHarness
import Foundation

struct CompareResults: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compare-results",
        abstract: "Compare run files dataset by dataset (all values bitwise; provenance and timing ignored).",
        discussion: """
        With two folders, every run file under <A>/runs is compared with the file of the same run id under <B>/runs \
        (a run missing from either side is reported). With two .h5 files, those two. Prints one line per difference \
        and a summary; exit status 0 when everything is equal, 1 otherwise.
        """)
    @Argument(help: "First results folder or run file.") var first: String
    @Argument(help: "Second results folder or run file.") var second: String

    func validate() throws {
        try requireNonEmptyPath(first, flag: "first"); try requireNonEmptyPath(second, flag: "second")
        for p in [first, second] where !FileManager.default.fileExists(atPath: p) {
            throw ValidationError("'\(p)' does not exist")
        }
    }

    func run() throws {
        var isDir: ObjCBool = false
        _ = FileManager.default.fileExists(atPath: first, isDirectory: &isDir)
        var pairs: [(String, URL?, URL?)] = []
        if isDir.boolValue {
            func runs(_ root: String) -> [String: URL] {
                let store = ResultStore(root: URL(fileURLWithPath: root))
                return Dictionary(uniqueKeysWithValues: store.runFileIDs().map { ($0, store.runFile($0)) })
            }
            let a = runs(first), b = runs(second)
            for id in Set(a.keys).union(b.keys).sorted() { pairs.append((id, a[id], b[id])) }
        } else {
            pairs = [(URL(fileURLWithPath: first).lastPathComponent, URL(fileURLWithPath: first), URL(fileURLWithPath: second))]
        }
        var equal = 0, differing = 0, missing = 0
        for (id, a, b) in pairs {
            guard let a, let b else {
                missing += 1
                print("\(id.prefix(12)): only in \(a == nil ? second : first)")
                continue
            }
            let d: [String]
            do { d = try ResultComparison.differences(a, b) } catch {
                // An unreadable file is a difference too (the kill test counts these as corrupt).
                differing += 1
                print("\(id.prefix(12)): unreadable: \(error)")
                continue
            }
            if d.isEmpty { equal += 1; continue }
            differing += 1
            print("\(id.prefix(12)): \(d.count) difference(s)")
            for line in d.prefix(10) { print("  \(line)") }
        }
        print("compare-results: \(equal) equal, \(differing) differ, \(missing) missing on one side")
        if differing + missing > 0 { throw ExitCode(1) }
    }
}
