// Provenance of a run: git commit and dirty flag, engine version, threads, CPU model, library versions, times.
import CBLAS
import DeepNetEngine
import Foundation
import HDF5Store

public let harnessVersion = "deepnet-harness-1"

extension Provenance {
    /// UTC, second resolution, ISO 8601.
    public static func now() -> String {
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = TimeZone(identifier: "UTC")
        f.dateFormat = "yyyy-MM-dd'T'HH:mm:ss'Z'"
        return f.string(from: Date())
    }

    public static func collect(gitCommit: String, gitDirty: Bool) -> Provenance {
        var p = Provenance()
        p.gitCommit = gitCommit
        p.gitDirty = gitDirty
        p.engineNumericsVersion = DeepNetEngine.engineNumericsVersion
        p.harnessVersion = DeepNetHarness.harnessVersion
        // Engine threads (the numbers do not depend on them: OpenBLAS is pinned to one thread per GEMM block).
        // Results made before that pinning stored OPENBLAS_NUM_THREADS here.
        p.threads = "\(Parallel.threads) engine"
        p.cpuModel = cpuModel()
        if let v = hdf5LibraryVersion { p.hdf5Version = v }
        if let cfg = openblas_get_config() { p.openblasConfig = String(cString: cfg).trimmingCharacters(in: .whitespaces) }
        #if swift(>=6.3)
        p.swiftVersion = "6.3+"
        #elseif swift(>=6.0)
        p.swiftVersion = "6.x"
        #else
        p.swiftVersion = "5.x"
        #endif
        return p
    }

    static func cpuModel() -> String {
        guard let s = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8) else { return "unknown" }
        for line in s.split(separator: "\n") where line.hasPrefix("model name") {
            if let i = line.firstIndex(of: ":") { return line[line.index(after: i)...].trimmingCharacters(in: .whitespaces) }
        }
        return "unknown"
    }

    /// The project checkout this harness was compiled from: this file is
    /// `<checkout>/Sources/DeepNetHarness/Execution/Provenance+Collect.swift`.
    public static let projectCheckout: URL = {
        var u = URL(fileURLWithPath: #filePath)
        for _ in 0..<4 { u.deleteLastPathComponent() }
        return u
    }()

    /// `git rev-parse HEAD` and whether `git status --porcelain` is non-empty, in `directory` (default: the
    /// project checkout, not the current directory, which may be another repository or none). When the commit
    /// cannot be read, the first value is `unknown (<why>)`.
    public static func git(in directory: URL? = nil) -> (String, Bool) {
        let dir = directory ?? projectCheckout
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: dir.path, isDirectory: &isDir), isDir.boolValue else {
            return ("unknown (project checkout \(dir.path) not found)", false)
        }
        func run(_ args: [String]) -> (out: String?, err: String) {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            p.arguments = ["git", "-C", dir.path] + args
            let out = Pipe(), err = Pipe()
            p.standardOutput = out
            p.standardError = err
            do { try p.run() } catch { return (nil, "cannot run git: \(error.localizedDescription)") }
            let data = out.fileHandleForReading.readDataToEndOfFile()
            let e = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            p.waitUntilExit()
            guard p.terminationStatus == 0 else {
                let why = e.split(separator: "\n").first.map(String.init) ?? "exit status \(p.terminationStatus)"
                return (nil, p.terminationStatus == 127 ? "git not installed" : why)
            }
            return (String(decoding: data, as: UTF8.self), "")
        }
        let head = run(["rev-parse", "HEAD"])
        guard let commit = head.out?.trimmingCharacters(in: .whitespacesAndNewlines), !commit.isEmpty else {
            return ("unknown (git rev-parse HEAD in \(dir.path): \(head.err))", false)
        }
        // Dirty = changes to what determines a run. The results and reports folders are the harness's own outputs (a
        // campaign rewrites results/*/index.json as it goes), so their changes do not make the code dirty.
        let dirty = !(run(["status", "--porcelain", "--", ".", ":(exclude)results", ":(exclude)reports"]).out?
            .trimmingCharacters(in: .whitespacesAndNewlines).isEmpty ?? true)
        return (commit, dirty)
    }
}
