// Results folders that are damaged, read-only, littered by killed processes or full: errors name the file and
// what is wrong, nothing is destroyed, and leftovers are cleaned.
import DeepNetEngine
import DeepNetData
import DeepNetHarness
import Experiments
import Foundation
import HDF5Store
import XCTest
#if canImport(Glibc)
import Glibc
#endif

final class ResultsRobustnessTests: XCTestCase {
    // MARK: index.json

    func testCorruptIndexIsAnErrorNamingTheFile() throws {
        let root = tempDir("corrupt-index")
        defer { try? FileManager.default.removeItem(at: root) }
        let store = ResultStore(root: root)
        let e = tinyExperiment()
        let url = store.indexFile(e.id)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)

        func message(_ text: String) -> String {
            try? Data(text.utf8).write(to: url)
            do { _ = try store.load(e); XCTFail("no error for index \(text)"); return "" } catch {
                XCTAssertTrue(error is ResultStoreError, "\(type(of: error)): \(error)")
                let m = "\(error)"
                XCTAssertTrue(m.hasPrefix(url.path + ": "), "should name the file: \(m)")
                XCTAssertFalse(m.contains("NSCocoaErrorDomain") || m.contains("DecodingError") || m.contains("CodingKeys"), m)
                return m
            }
        }
        XCTAssertTrue(message("{\"schema\": \"deepnet-experiment-index\", ").contains("corrupt experiment index: JSON parse error at byte"))
        XCTAssertTrue(message("[1, 2]").contains("not a deepnet experiment index: schema missing"))
        XCTAssertTrue(message(#"{"schema": "something-else", "schemaVersion": 1}"#)
            .contains("schema 'something-else' version 1 (expected 'deepnet-experiment-index' version 1)"))
        XCTAssertTrue(message(#"{"schema": "deepnet-experiment-index", "schemaVersion": 7}"#).contains("version 7"))
        let good = #"{"schema": "deepnet-experiment-index", "schemaVersion": 1, "experiment": "tiny", "profile": "smoke", "axes": [], "baseConfig": {}, "#
        XCTAssertTrue(message(good + #""runs": "x"}"#).contains("corrupt experiment index: field 'runs': expected an array"))
        XCTAssertTrue(message(good + #""runs": [{"coordinates": [], "paperKeys": {}, "file": "f", "overrides": []}]}"#)
            .contains("field 'runs[0].runID': missing"))
        XCTAssertTrue(message(good + #""runs": [{"coordinates": [], "paperKeys": {}, "runID": 5, "file": "f", "overrides": []}]}"#)
            .contains("field 'runs[0].runID': expected a string"))
    }

    /// An index deleted (or never written) while the run files exist is rebuilt from the plan, in memory.
    func testMissingIndexIsRebuiltFromRunFiles() throws {
        let root = tempDir("rebuild")
        defer { try? FileManager.default.removeItem(at: root) }
        let e = tinyExperiment(steps: 4)
        try quietRunner(root).run([e], profile: .smoke)
        let store = ResultStore(root: root)
        let before = try store.load(e)
        try FileManager.default.removeItem(at: store.indexFile(e.id))
        XCTAssertFalse(try store.load(e).hasAny, "plain load has nothing without an index")

        let (r, rebuilt) = try store.load(e, rebuildingMissingIndexAt: .smoke, environment: testEnv)
        XCTAssertTrue(rebuilt)
        XCTAssertTrue(r.isComplete)
        XCTAssertEqual(r.entries.map(\.runID), before.entries.map(\.runID))
        XCTAssertEqual(r.axes, before.axes)
        XCTAssertEqual(ReportRenderer.render(r).markdown, ReportRenderer.render(before).markdown)
        XCTAssertFalse(FileManager.default.fileExists(atPath: store.indexFile(e.id).path), "report-side rebuild writes nothing")

        // Run files of other experiments only: nothing to rebuild, the experiment is simply not run.
        let other = tinyExperiment(id: "other", steps: 4, lr: 2e-3)
        let (o, rebuiltOther) = try store.load(other, rebuildingMissingIndexAt: .smoke, environment: testEnv)
        XCTAssertFalse(rebuiltOther)
        XCTAssertFalse(o.hasAny)
    }

    // MARK: read-only and all-cached runs

    /// Paths → (inode, size, mtime) of every file under `root` except the lock file (which holds the runner's pid).
    func snapshot(_ root: URL) throws -> [String: [Double]] {
        var out: [String: [Double]] = [:]
        let fm = FileManager.default
        for case let rel as String in fm.enumerator(atPath: root.path)! where rel != ".lock" {
            let a = try fm.attributesOfItem(atPath: root.appendingPathComponent(rel).path)
            out[rel] = [Double((a[.systemFileNumber] as? Int) ?? -1), Double((a[.size] as? Int) ?? -1),
                        (a[.modificationDate] as? Date)?.timeIntervalSince1970 ?? -1]
        }
        return out
    }

    func testAllCachedRunWritesNothing() throws {
        let root = tempDir("cached-nowrite")
        defer { try? FileManager.default.removeItem(at: root) }
        let e = tinyExperiment(steps: 4)
        try quietRunner(root).run([e], profile: .smoke)
        let before = try snapshot(root)
        XCTAssertNotNil(before["tiny/index.json"])
        Thread.sleep(forTimeInterval: 0.05)
        let s = try quietRunner(root).run([e], profile: .smoke)
        XCTAssertEqual(s.cached, 2)
        XCTAssertEqual(try snapshot(root), before, "an all-cached run rewrote or added files")
    }

    /// The same run as an unprivileged user on a folder it cannot write: renders, and refuses only when a run has
    /// to execute. (The test process is root, which ignores permissions, so it drops its effective uid.)
    func testAllCachedRunOnReadOnlyFolder() throws {
        guard geteuid() == 0 else { throw XCTSkip("needs root to switch to an unprivileged effective uid") }
        let root = tempDir("readonly")
        defer { try? FileManager.default.removeItem(at: root) }
        let e = tinyExperiment(steps: 4)
        try quietRunner(root).run([e], profile: .smoke)
        try FileManager.default.removeItem(at: ResultStore(root: root).lockFile)   // the worst case: no lock file either
        try FileManager.default.removeItem(at: ResultStore(root: root).workDir)
        let nobody: uid_t = 65534
        XCTAssertEqual(seteuid(nobody), 0)
        defer { _ = seteuid(0) }
        XCTAssertNotEqual(faccessat(AT_FDCWD, root.path, W_OK, AT_EACCESS), 0, "the folder should not be writable now")

        let s = try quietRunner(root).run([e], profile: .smoke)
        XCTAssertEqual(s.cached, 2)
        XCTAssertEqual(s.executed, 0)
        XCTAssertTrue(try ResultStore(root: root).load(e).isComplete)

        // With a run missing, the run is refused with a message naming the folder (not a crash, nothing written).
        XCTAssertEqual(seteuid(0), 0)
        let store = ResultStore(root: root)
        try FileManager.default.removeItem(at: store.runFile(try store.load(e).entries[0].runID))
        XCTAssertEqual(seteuid(nobody), 0)
        XCTAssertThrowsError(try quietRunner(root).run([e], profile: .smoke)) { err in
            XCTAssertEqual("\(err)", "\(root.path): results folder is not writable, but 1 of 2 runs still have to execute")
        }
    }

    // MARK: leftovers and write failures

    func deadPID() throws -> pid_t {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/true")
        try p.run()
        p.waitUntilExit()
        return p.processIdentifier
    }

    func testStaleTemporaryFilesAreRemovedAtRunStart() throws {
        let root = tempDir("stale")
        defer { try? FileManager.default.removeItem(at: root) }
        let e = tinyExperiment(steps: 4)
        try quietRunner(root).run([e], profile: .smoke)
        let store = ResultStore(root: root)
        let dead = try deadPID()
        XCTAssertNotEqual(kill(dead, 0), 0)
        try FileManager.default.createDirectory(at: store.workDir("x"), withIntermediateDirectories: true)
        let stale = [store.runsDir.appendingPathComponent(".abc.h5.tmp-\(dead)-1A2B3C4D"),
                     root.appendingPathComponent("tiny/.index.json.tmp-\(dead)-123456"),
                     store.workDir("x").appendingPathComponent(".checkpoint.h5.tmp-\(dead)-ffff"),
                     root.appendingPathComponent(".something.tmp-\(dead)-0")]
        // A live writer's file (pid 1 always exists, and so does this process) and files not named by the atomic
        // writers stay.
        let kept = [store.runsDir.appendingPathComponent(".abc.h5.tmp-1-1A2B3C4D"),
                    store.runsDir.appendingPathComponent(".abc.h5.tmp-\(getpid())-1A2B3C4D"),
                    store.runsDir.appendingPathComponent(".notes.tmp"),
                    store.runsDir.appendingPathComponent("abc.h5.tmp-\(dead)-1")]
        for f in stale + kept { try Data("x".utf8).write(to: f) }
        var o = RunnerOptions()
        let sink = LineSink()
        o.output = { sink.add($0) }
        o.interactive = false
        let s = try Runner(store: store, environment: testEnv, options: o).run([e], profile: .smoke)
        let lines = sink.lines
        XCTAssertEqual(s.cached, 2)
        for f in stale { XCTAssertFalse(FileManager.default.fileExists(atPath: f.path), f.path) }
        for f in kept { XCTAssertTrue(FileManager.default.fileExists(atPath: f.path), f.path) }
        XCTAssertTrue(lines.joined().contains("removed 4 temporary file(s) left by an interrupted process"), lines.joined())
        XCTAssertEqual(StaleTempFiles.ownerPID(".a.h5.tmp-42-xyz"), 42)
        XCTAssertNil(StaleTempFiles.ownerPID(".a.h5.tmp-x-42"))
    }

    /// A write that fails (file-size limit, EFBIG) names the target file, not the temporary file it was writing.
    func testFailedWritesNameTheTargetFile() throws {
        let root = tempDir("efbig")
        defer { try? FileManager.default.removeItem(at: root) }
        let store = ResultStore(root: root)
        try store.prepare()
        var rec = RunRecord(runID: "abc", config: RunConfig(), dataFingerprint: "fp", engineNumericsVersion: "e", status: .ok)
        rec.hypotheses = Array(repeating: String(repeating: "word ", count: 200), count: 400)   // ~400 KB
        signal(SIGXFSZ, SIG_IGN)
        var old = rlimit()
        getrlimit(Int32(RLIMIT_FSIZE.rawValue), &old)
        var lim = rlimit(rlim_cur: 64 * 1024, rlim_max: old.rlim_max)
        setrlimit(Int32(RLIMIT_FSIZE.rawValue), &lim)
        defer { setrlimit(Int32(RLIMIT_FSIZE.rawValue), &old) }
        XCTAssertThrowsError(try store.write(rec)) { err in
            let m = "\(err)"
            XCTAssertTrue(m.hasPrefix(store.runFile("abc").relativePath + ": "), m)
            XCTAssertFalse(m.contains(".tmp-"), m)
        }
        XCTAssertThrowsError(try AtomicFile.write(Data(count: 1 << 20), to: root.appendingPathComponent("big.json"))) { err in
            XCTAssertTrue("\(err)".hasPrefix(root.appendingPathComponent("big.json").path + ": cannot write: File too large"), "\(err)")
        }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: store.runsDir.path), [])
    }

    // MARK: provenance and scoring

    /// The commit of the project checkout, whatever the current directory (here: a folder outside any repository).
    func testProvenanceReadsTheProjectCheckoutNotTheCurrentDirectory() throws {
        let checkout = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        XCTAssertEqual(Provenance.projectCheckout.standardizedFileURL.path, checkout.standardizedFileURL.path)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["git", "-C", checkout.path, "rev-parse", "HEAD"]
        let out = Pipe()
        p.standardOutput = out
        p.standardError = FileHandle.nullDevice
        try p.run()
        let expected = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        p.waitUntilExit()
        guard p.terminationStatus == 0 else { throw XCTSkip("the sources are not a git checkout here") }

        let elsewhere = tempDir("not-a-repo")
        defer { try? FileManager.default.removeItem(at: elsewhere) }
        let cwd = FileManager.default.currentDirectoryPath
        XCTAssertTrue(FileManager.default.changeCurrentDirectoryPath(elsewhere.path))
        defer { FileManager.default.changeCurrentDirectoryPath(cwd) }
        XCTAssertEqual(Provenance.git().0, expected)
        // Where the commit cannot be read, the value says why.
        let (unknown, dirty) = Provenance.git(in: elsewhere)
        XCTAssertTrue(unknown.hasPrefix("unknown (git rev-parse HEAD in \(elsewhere.path): "), unknown)
        XCTAssertTrue(unknown.contains("not a git repository"), unknown)
        XCTAssertFalse(dirty)
        XCTAssertTrue(Provenance.git(in: elsewhere.appendingPathComponent("gone")).0.hasPrefix("unknown (project checkout"))

        // Dirty means changed inputs: a change under results/ or reports/ (the harness's outputs) does not count,
        // a change anywhere else does.
        let repo = tempDir("git-dirty")
        defer { try? FileManager.default.removeItem(at: repo) }
        func git(_ args: String...) throws {
            let g = Process()
            g.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            g.arguments = ["git", "-C", repo.path, "-c", "user.name=t", "-c", "user.email=t@t"] + args
            g.standardOutput = FileHandle.nullDevice; g.standardError = FileHandle.nullDevice
            try g.run(); g.waitUntilExit()
        }
        for d in ["results", "reports", "Sources"] { try FileManager.default.createDirectory(at: repo.appendingPathComponent(d), withIntermediateDirectories: true) }
        for f in ["results/index.json", "reports/a.md", "Sources/a.swift"] { try Data("0".utf8).write(to: repo.appendingPathComponent(f)) }
        try git("init", "-q"); try git("add", "-A"); try git("commit", "-q", "-m", "c")
        XCTAssertFalse(Provenance.git(in: repo).1)
        try Data("1".utf8).write(to: repo.appendingPathComponent("results/index.json"))
        try Data("1".utf8).write(to: repo.appendingPathComponent("reports/b.md"))
        XCTAssertFalse(Provenance.git(in: repo).1, "results/ and reports/ changes counted as dirty")
        try Data("1".utf8).write(to: repo.appendingPathComponent("Sources/a.swift"))
        XCTAssertTrue(Provenance.git(in: repo).1)
    }

    func testTrainScoresWithTheRegistrysBLEUTokenization() {
        XCTAssertEqual(DataGlue.bleuTokenize(for: .iwslt14Mini), .tokenized)
        XCTAssertEqual(DataGlue.bleuTokenize(for: .multi30k), .mteval13a)
        XCTAssertEqual(DataGlue.bleuTokenize(for: .synthetic), .mteval13a)
        XCTAssertEqual(DataGlue.bleuTokenize(for: .tatoeba), .mteval13a)
        // The paper's corpora are registered too (described, not loadable), with the paper's scoring.
        XCTAssertEqual(DataGlue.bleuTokenize(for: .wmt17EnDe), .mteval13a)
        XCTAssertEqual(DataGlue.bleuTokenize(for: .iwslt14), .tokenized)
    }
}

final class LineSink: @unchecked Sendable {
    private let lock = NSLock()
    private var store: [String] = []
    func add(_ s: String) { lock.lock(); store.append(s); lock.unlock() }
    var lines: [String] { lock.lock(); defer { lock.unlock() }; return store }
}
