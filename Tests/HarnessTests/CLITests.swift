// End-to-end tests of the `deepnet` command line: reports that fail loudly without destroying anything, write
// failures under a file-size limit, flag validation. They run the built executable (skipped when it is not next
// to the test bundle).
import DeepNetHarness
import Foundation
import XCTest
#if canImport(Glibc)
import Glibc
#endif

final class CLITests: XCTestCase {
    var dir: URL!

    override func setUpWithError() throws { dir = tempDir("cli") }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    func deepnet() throws -> URL { try builtDeepnetExecutable() }

    struct Result { var status: Int32; var signaled: Bool; var stdout: String; var stderr: String }

    /// Runs `deepnet args`, or `sh -c shell "$deepnet" args...` when `shell` is given (for ulimit).
    func run(_ args: [String], shell: String? = nil, environment: [String: String]? = nil) throws -> Result {
        let p = Process()
        if let sh = shell {
            p.executableURL = URL(fileURLWithPath: "/bin/sh")
            p.arguments = ["-c", sh, try deepnet().path] + args
        } else {
            p.executableURL = try deepnet()
            p.arguments = args
        }
        if let env = environment { p.environment = env }
        p.currentDirectoryURL = dir
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        let errBox = LineSink()
        let group = DispatchGroup()
        group.enter()
        DispatchQueue.global().async { errBox.add(String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)); group.leave() }
        let o = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        group.wait()
        return Result(status: p.terminationStatus, signaled: p.terminationReason == .uncaughtSignal,
                      stdout: String(decoding: o, as: UTF8.self), stderr: errBox.lines.joined())
    }

    func files(_ d: URL) -> Set<String> { Set((try? FileManager.default.contentsOfDirectory(atPath: d.path)) ?? []) }

    /// A reports folder holding a committed report that must survive every failure.
    func committedReports() throws -> URL {
        let out = dir.appendingPathComponent("reports")
        try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
        try Data("committed report\n".utf8).write(to: out.appendingPathComponent("table1.md"))
        return out
    }

    func assertCommittedIntact(_ out: URL, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(try? String(contentsOf: out.appendingPathComponent("table1.md"), encoding: .utf8), "committed report\n",
                       file: file, line: line)
        XCTAssertEqual(files(out).filter { $0.contains(".tmp-") }, [], "temporary files left", file: file, line: line)
    }

    // MARK: point 5: reports fail loudly and never destroy

    func testReportOnMissingResultsFolderIsAnErrorAndWritesNothing() throws {
        let out = try committedReports()
        let missing = dir.appendingPathComponent("results/nope")
        let r = try run(["report", "table1", "--results", missing.path, "--out", out.path])
        XCTAssertEqual(r.status, 1, r.stderr)
        XCTAssertTrue(r.stderr.contains("results folder '\(missing.path)' does not exist; nothing was written"), r.stderr)
        XCTAssertFalse(r.stderr.lowercased().contains("usage:"), r.stderr)
        assertCommittedIntact(out)
        XCTAssertEqual(files(out), ["table1.md"])
        XCTAssertFalse(FileManager.default.fileExists(atPath: missing.path))
    }

    func testReportOnCorruptIndexNamesTheFileAndWritesNothing() throws {
        let out = try committedReports()
        let results = dir.appendingPathComponent("results")
        let idx = results.appendingPathComponent("table1/index.json")
        try FileManager.default.createDirectory(at: idx.deletingLastPathComponent(), withIntermediateDirectories: true)
        for (text, expected) in [("{\"schema\": ", "corrupt experiment index: JSON parse error at byte 11: unexpected end"),
                                 (#"{"schema": "deepnet-experiment-index", "schemaVersion": 1, "runs": 3}"#, "corrupt experiment index: field 'experiment': missing"),
                                 (#"{"format": "other"}"#, "not a deepnet experiment index: schema missing")] {
            try Data(text.utf8).write(to: idx)
            let r = try run(["report", "--all", "--results", results.path, "--out", out.path])
            XCTAssertEqual(r.status, 1, r.stderr)
            XCTAssertTrue(r.stderr.contains("\(idx.path): \(expected)"), r.stderr)
            XCTAssertFalse(r.stderr.contains("NSCocoaErrorDomain") || r.stderr.contains("DecodingError"), r.stderr)
            assertCommittedIntact(out)
            XCTAssertEqual(files(out), ["table1.md"], "a failed --all wrote some reports")
        }
    }

    /// Temporary files left in the reports folder by a killed `deepnet report` are removed by the next one.
    func testReportRemovesStaleTemporaryFiles() throws {
        let out = try committedReports()
        let results = dir.appendingPathComponent("results")
        try FileManager.default.createDirectory(at: results, withIntermediateDirectories: true)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/true")
        try p.run()
        p.waitUntilExit()
        let stale = out.appendingPathComponent(".table1.md.tmp-\(p.processIdentifier)-12345")
        try FileManager.default.createDirectory(at: out.appendingPathComponent("figures"), withIntermediateDirectories: true)
        let staleFig = out.appendingPathComponent("figures/.table1-bleu.svg.tmp-\(p.processIdentifier)-ab")
        for f in [stale, staleFig] { try Data("partial".utf8).write(to: f) }
        let r = try run(["report", "table1", "--results", results.path, "--out", out.path])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.contains("table1.md: not run (no results)"), r.stdout)
        XCTAssertFalse(FileManager.default.fileExists(atPath: stale.path))
        XCTAssertFalse(FileManager.default.fileExists(atPath: staleFig.path))
    }

    // MARK: point 6: file-size limit

    /// Under `ulimit -f` (no `trap '' XFSZ` in the shell: deepnet itself must not die of SIGXFSZ) a report that
    /// cannot be written is an error naming the report file, with the committed one intact.
    func testReportUnderFileSizeLimitNamesTheTargetAndExits1() throws {
        let out = try committedReports()
        let results = dir.appendingPathComponent("results")
        try FileManager.default.createDirectory(at: results, withIntermediateDirectories: true)
        let r = try run(["report", "table1", "--results", results.path, "--out", out.path],
                        shell: "ulimit -f 1; exec \"$0\" \"$@\"")
        XCTAssertFalse(r.signaled, "killed by signal \(r.status): \(r.stderr)")
        XCTAssertEqual(r.status, 1, r.stderr)
        XCTAssertTrue(r.stderr.contains(out.path + "/") && r.stderr.contains(": cannot write: File too large"), r.stderr)
        XCTAssertFalse(r.stderr.contains(".tmp-"), "names the temporary file: \(r.stderr)")
        assertCommittedIntact(out)
        XCTAssertEqual(files(out.appendingPathComponent("figures")).filter { $0.contains(".tmp-") }, [])
    }

    /// The same for an HDF5 output (`forward-backward -o`): the message names out.h5, not `.out.h5.tmp-…`.
    func testHDF5WriteUnderFileSizeLimitNamesTheTarget() throws {
        let fx = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("EngineTests/Fixtures/golden_post-ln.h5").path
        let out = dir.appendingPathComponent("out.h5")
        let r = try run(["forward-backward", "--checkpoint", fx, "--batch", fx, "--output", out.path],
                        shell: "ulimit -f 16; exec \"$0\" \"$@\"")
        XCTAssertFalse(r.signaled, "killed by signal \(r.status): \(r.stderr)")
        XCTAssertEqual(r.status, 1, r.stderr)
        XCTAssertTrue(r.stderr.contains("error: \(out.path): "), r.stderr)
        XCTAssertFalse(r.stderr.contains(".tmp-"), "names the temporary file: \(r.stderr)")
        XCTAssertEqual(files(dir), [], "output or temporary file left")
    }

    // MARK: point 7

    func testNoWaitRefusalIsAPlainError() throws {
        let results = dir.appendingPathComponent("results")
        let held = try ResultsLock(ResultStore(root: results).lockFile, mode: .fail)
        defer { held.release() }
        let r = try run(["run", "table1", "--profile", "smoke", "--results", results.path, "--no-wait"])
        XCTAssertEqual(r.status, 1, r.stderr)
        XCTAssertTrue(r.stderr.contains("another deepnet runner holds the lock on \(results.path)"), r.stderr)
        XCTAssertFalse(r.stderr.lowercased().contains("usage:"), "usage text printed: \(r.stderr)")
    }

    /// `--budget`: durations with units parse; a budget shorter than the 2-minute start margin starts nothing and says
    /// so (exit 0, nothing failed); a malformed one is a usage error.
    func testBudgetFlag() throws {
        let results = dir.appendingPathComponent("results")
        let r = try run(["run", "fig3", "--profile", "smoke", "--results", results.path, "--budget", "1m30s"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stderr.contains("budget used: 0 stopped at a checkpoint, 4 not started"), r.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: results.appendingPathComponent("runs").path) &&
                       ((try? FileManager.default.contentsOfDirectory(atPath: results.appendingPathComponent("runs").path)) ?? []).contains { $0.hasSuffix(".h5") })
        for bad in ["abc", "2x", "0h", "-1h"] {
            let b = try run(["run", "fig3", "--profile", "smoke", "--results", results.path, "--budget", bad])
            XCTAssertEqual(b.status, 64, "\(bad): \(b.stderr)")
        }
        let d = try run(["run", "fig3", "--profile", "smoke", "--results", results.path, "--budget", "2.5h", "--dry-run"])
        XCTAssertEqual(d.status, 0, d.stderr)
    }

    func testEmptyResultsFlagIsAnError() throws {
        for args in [["run", "table1", "--results", ""], ["report", "table1", "--results", ""], ["report", "table1", "--out", ""],
                     ["train", "--results", ""]] {
            let r = try run(args)
            XCTAssertEqual(r.status, 64, "\(args): \(r.stderr)")
            XCTAssertTrue(r.stderr.contains("must not be empty"), "\(args): \(r.stderr)")
        }
        XCTAssertEqual(files(dir), [], "something was written into the current directory")
    }

    func testEveryFloatFlagRejectsNaNAndInfinity() throws {
        let fx = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("EngineTests/Fixtures/golden_post-ln.h5").path
        let hyp = dir.appendingPathComponent("hyp.txt")
        try Data("a b c\n".utf8).write(to: hyp)
        let commands: [(prefix: [String], flags: [String])] = [
            (["train"], ["lr", "lenpen", "label-smoothing", "dropout"]),
            (["bleu", "--hyp", hyp.path, "--ref", hyp.path, "--smooth", "floor"], ["smooth-value"]),
            (["forward-backward", "--checkpoint", fx, "--batch", fx, "--output", dir.appendingPathComponent("o.h5").path],
             ["label-smoothing", "dropout", "attention-dropout", "activation-dropout", "alpha-multiplier", "beta-multiplier"]),
        ]
        for (prefix, flags) in commands {
            for flag in flags {
                for v in ["nan", "inf", "-inf", "NaN", "-infinity"] {
                    let r = try run(prefix + ["--\(flag)=\(v)"])
                    XCTAssertNotEqual(r.status, 0, "--\(flag)=\(v) accepted")
                    XCTAssertTrue(r.stderr.contains("--\(flag)") && r.stderr.contains("'\(v)' is not a finite number"), "--\(flag)=\(v): \(r.stderr)")
                }
            }
        }
        let r = try run(commands[2].prefix + ["--method-option", "x=inf"])
        XCTAssertEqual(r.status, 64, r.stderr)
        XCTAssertTrue(r.stderr.contains("--method-option x: 'inf' is not a finite number"), r.stderr)
        XCTAssertEqual(files(dir), ["hyp.txt"])
    }

    /// Every Double option in the CLI's sources goes through `finiteDouble` (a new float flag without it fails here).
    func testNoFloatFlagBypassesTheFiniteCheck() throws {
        let sources = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Sources/deepnet")
        var checked = 0
        for name in try FileManager.default.contentsOfDirectory(atPath: sources.path) where name.hasSuffix(".swift") {
            let lines = try String(contentsOf: sources.appendingPathComponent(name), encoding: .utf8).components(separatedBy: "\n")
            for (i, line) in lines.enumerated() where line.contains("@Option") {
                let decl = line.contains(" var ") ? line : line + " " + (i + 1 < lines.count ? lines[i + 1] : "")
                let float = decl.range(of: #":\s*\[?(Double|Float)\]?\??"#, options: .regularExpression) != nil
                XCTAssertNil(decl.range(of: #"var \w+ = -?[0-9]+(\.[0-9]+|[eE])"#, options: .regularExpression),
                             "\(name):\(i + 1): give float options an explicit type: \(decl)")
                if float {
                    checked += 1
                    XCTAssertTrue(decl.contains("transform: finiteDouble"), "\(name):\(i + 1): float flag without finiteDouble: \(decl)")
                }
            }
        }
        XCTAssertEqual(checked, 12)
    }

    /// `deepnet train --dataset iwslt14-mini` scores tokenized BLEU, as the data registry declares (needs the
    /// IWSLT files in DEEPNET_DATA).
    func testTrainOnIWSLTScoresTokenizedBLEU() throws {
        guard let data = ProcessInfo.processInfo.environment["DEEPNET_DATA"], !data.isEmpty,
              FileManager.default.fileExists(atPath: data + "/iwslt14/test.de") else {
            throw XCTSkip("DEEPNET_DATA with iwslt14/ not available")
        }
        let r = try run(["train", "--dataset", "iwslt14-mini", "--src", "de", "--tgt", "en", "--encoder-layers", "1", "--decoder-layers", "1",
                         "--embed-dim", "16", "--ffn-dim", "32", "--heads", "2", "--vocab", "300", "--steps", "2", "--eval-every", "2",
                         "--batch-tokens", "128", "--eval-sentences", "3", "--beam", "1", "--results", dir.appendingPathComponent("r").path])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.contains("|tok:none|smooth:none|"), r.stdout)
    }
}
