// End-to-end tests of `deepnet forward-backward` (runs the built executable; skipped when it is not next to
// the test bundle, e.g. when only the engine targets were built).
import DeepNetEngine
import Foundation
import HDF5Store
import XCTest

final class CheckpointCLITests: XCTestCase {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")
    var dir: URL!

    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("fbcli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    func deepnet() throws -> URL { try deepnetExecutable() }

    func run(_ args: [String]) throws -> (status: Int32, stdout: String, stderr: String) { try runDeepnet(args) }

    func testForwardBackwardOnTorchscaleFixture() throws {
        let fx = Self.fixtures.appendingPathComponent("golden_deepnorm.h5").path
        let out = dir.appendingPathComponent("fb.h5")
        let r = try run(["forward-backward", "--checkpoint", fx, "--batch", fx, "--output", out.path])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.hasPrefix("loss "), r.stdout)
        let f = try HDF5File.open(out)
        defer { f.close() }
        let ref = try HDF5File.open(URL(fileURLWithPath: fx))
        defer { ref.close() }
        let loss = try f.readDoubles(at: "loss").values[0], refLoss = try ref.readDoubles(at: "reference/loss").values[0]
        XCTAssertLessThanOrEqual(abs(loss - refLoss) / refLoss, 1e-5)
        XCTAssertEqual(Set(try f.children(of: "grads")), Set(try ref.children(of: "reference/grads")))
        XCTAssertEqual(try f.shape(of: "logits"), [3, 6, 48])
        XCTAssertEqual(try f.stringAttribute("method"), "deepnorm")
    }

    /// Table XI's ablations are engine methods like the others, so `forward-backward` knows them (they used to be
    /// registered by the harness only, and this command rejected them as unknown).
    func testForwardBackwardKnowsTheAblationMethods() throws {
        let fx = Self.fixtures.appendingPathComponent("golden_deepnorm.h5")
        let (golden, _) = try Checkpoint.loadModel(from: fx)
        for method in ["deepnorm-no-alpha", "deepnorm-no-init"] {
            var c = golden.config
            c.method = method
            let ckpt = dir.appendingPathComponent("\(method).h5"), out = dir.appendingPathComponent("\(method)-fb.h5")
            try Checkpoint.save(try TransformerModel(config: c, seed: 3), to: ckpt)
            let r = try run(["forward-backward", "--checkpoint", ckpt.path, "--batch", fx.path, "--method", method,
                             "--output", out.path])
            XCTAssertEqual(r.status, 0, "\(method): \(r.stderr)")
            XCTAssertTrue(r.stdout.hasPrefix("loss "), r.stdout)
            let f = try HDF5File.open(out)
            defer { f.close() }
            XCTAssertEqual(try f.stringAttribute("method"), method)
            XCTAssertTrue(try f.readDoubles(at: "loss").values[0].isFinite)
        }
    }

    /// A write that fails half-way (here: the file-size limit, EFBIG) is a reported error with exit status 1, the
    /// previous output intact and no temporary file left — not a segfault in HDF5's exit handler (it used to be:
    /// the failed close left the file open in HDF5, which flushed it again at exit).
    func testFailedWriteIsAReportedErrorNotACrash() throws {
        let fx = Self.fixtures.appendingPathComponent("golden_post-ln.h5").path
        let out = dir.appendingPathComponent("out.h5")
        try Data("previous".utf8).write(to: out)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/sh")
        // SIGXFSZ ignored so that the write fails with EFBIG instead of killing the process; the limit (a few
        // KiB whatever the shell's block unit) is far below the ~300 KB the gradients need.
        p.arguments = ["-c", "trap '' XFSZ; ulimit -f 16; exec \"$0\" forward-backward --checkpoint \"$1\" --batch \"$1\" --output \"$2\"",
                       try deepnet().path, fx, out.path]
        let err = Pipe()
        p.standardOutput = FileHandle.nullDevice
        p.standardError = err
        try p.run()
        let e = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        XCTAssertEqual(p.terminationReason, .exit, "killed by signal \(p.terminationStatus): \(e)")
        XCTAssertEqual(p.terminationStatus, 1, e)
        XCTAssertTrue(e.contains("out.h5"), "the error should name the output file: \(e)")
        XCTAssertEqual(try String(contentsOf: out, encoding: .utf8), "previous")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.path), ["out.h5"], "temporary files left behind")
    }

    func testBadInputsFailCleanlyWithoutOutput() throws {
        let fx = Self.fixtures.appendingPathComponent("golden_post-ln.h5").path
        let out = dir.appendingPathComponent("out.h5")
        // A previous output must survive failed runs untouched.
        try Data("previous".utf8).write(to: out)
        let badTokens = dir.appendingPathComponent("tokens.h5")
        try HDF5File.writeAtomically(to: badTokens) { f in
            try f.write([Int64(5), 6, 2], shape: [1, 3], at: "src_tokens")
            try f.write([Int64(2), 7], shape: [1, 2], at: "prev_output_tokens")
            try f.write([Int64(7), 99], shape: [1, 2], at: "target")
        }
        let badShape = dir.appendingPathComponent("shape.h5")
        try HDF5File.writeAtomically(to: badShape) { f in
            try f.write([Int64(5), 6, 2], shape: [1, 3], at: "src_tokens")
            try f.write([Int64(2), 7, 7], shape: [1, 3], at: "prev_output_tokens")
            try f.write([Int64(7), 2], shape: [1, 2], at: "target")
        }
        let foreign = dir.appendingPathComponent("foreign.h5")
        try Data("not hdf5".utf8).write(to: foreign)
        let cases: [([String], String)] = [
            (["--checkpoint", dir.appendingPathComponent("missing.h5").path, "--batch", fx], "missing.h5: no such file"),
            (["--checkpoint", foreign.path, "--batch", fx], "foreign.h5: not an HDF5 file"),
            (["--checkpoint", fx, "--batch", foreign.path], "foreign.h5: not an HDF5 file"),
            (["--checkpoint", fx, "--batch", badTokens.path], "target[0, 1] = 99 is outside [0, 48)"),
            (["--checkpoint", fx, "--batch", badShape.path], "dataset 'prev_output_tokens' has shape [1, 3], expected [1, 2]"),
            (["--checkpoint", fx, "--batch", fx, "--method", "deepnorm"], "flag for 'method' is \"deepnorm\" but the checkpoint says \"post-ln\""),
            (["--checkpoint", fx, "--batch", fx, "--embed-dim", "32"], "flag for 'embed_dim' is 32 but the checkpoint says 16"),
        ]
        for (args, message) in cases {
            let r = try run(["forward-backward"] + args + ["--output", out.path])
            XCTAssertEqual(r.status, 1, "\(args): \(r.stderr)")
            XCTAssertTrue(r.stderr.contains(message), "\(args): stderr was \(r.stderr)")
            XCTAssertEqual(try String(contentsOf: out, encoding: .utf8), "previous")
        }
        XCTAssertEqual(Set(try FileManager.default.contentsOfDirectory(atPath: dir.path)),
                       ["out.h5", "tokens.h5", "shape.h5", "foreign.h5"], "temporary files left behind")
        // Output into a missing directory.
        let r = try run(["forward-backward", "--checkpoint", fx, "--batch", fx, "--output", dir.appendingPathComponent("no/dir/o.h5").path])
        XCTAssertEqual(r.status, 1)
        XCTAssertTrue(r.stderr.contains("does not exist"), r.stderr)
    }
}
