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

    /// `git rev-parse HEAD` and whether `git status --porcelain` is non-empty, in `directory`.
    public static func git(in directory: URL? = nil) -> (String, Bool) {
        func run(_ args: [String]) -> String? {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            p.arguments = ["git"] + args
            if let d = directory { p.currentDirectoryURL = d }
            let out = Pipe()
            p.standardOutput = out
            p.standardError = FileHandle.nullDevice
            do { try p.run() } catch { return nil }
            let data = out.fileHandleForReading.readDataToEndOfFile()
            p.waitUntilExit()
            guard p.terminationStatus == 0 else { return nil }
            return String(decoding: data, as: UTF8.self)
        }
        let head = run(["rev-parse", "HEAD"])?.trimmingCharacters(in: .whitespacesAndNewlines) ?? "unknown"
        let dirty = !(run(["status", "--porcelain"])?.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty ?? true)
        return (head, dirty)
    }
}
