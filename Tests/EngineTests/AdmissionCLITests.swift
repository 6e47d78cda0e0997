// End-to-end admission through the built `deepnet` executable (skipped when it is not next to the test bundle):
// refusals are one error line and exit status 3 — no "Fatal error", no backtrace, no result or output file — and
// an admitted run's estimate is an upper bound within 2× of its measured peak RSS.
import Foundation
import HDF5Store
import XCTest

final class AdmissionCLITests: XCTestCase {
    var dir: URL!

    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("admcli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    func deepnet() throws -> URL { try deepnetExecutable() }

    func run(_ args: [String]) throws -> (status: Int32, stdout: String, stderr: String) { try runDeepnet(args, in: dir) }

    func assertCleanRefusal(_ r: (status: Int32, stdout: String, stderr: String), _ parts: [String], file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(r.status, 3, r.stderr, file: file, line: line)
        XCTAssertFalse(r.stderr.contains("Fatal error") || r.stderr.contains("backtrace") || r.stderr.contains("Stack dump"), r.stderr, file: file, line: line)
        for p in parts { XCTAssertTrue(r.stderr.contains(p), "'\(p)' missing from: \(r.stderr)", file: file, line: line) }
    }

    func resultFiles(_ root: URL) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: root.appendingPathComponent("runs").path)) ?? []).filter { $0.hasSuffix(".h5") }
    }

    /// The commands: 10000L-10000L d=512, 10^8 tokens per batch. Each is refused naming the setting, the
    /// estimate and the memory available; nothing is allocated (the process stays far below the estimate's size)
    /// and no result file is written.
    func testTrainRefusesOversizedConfigurations() throws {
        let results = dir.appendingPathComponent("results")
        let deep = try run(["train", "--encoder-layers", "10000", "--decoder-layers", "10000", "--embed-dim", "512", "--ffn-dim", "2048",
                            "--heads", "8", "--steps", "1", "--results", results.path])
        assertCleanRefusal(deep, ["error: run ", "(10000L-10000L, deepnorm", "needs an estimated", "TB", "is available", "encoderLayers=10000"])
        let batch = try run(["train", "--batch-tokens", "100000000", "--steps", "1", "--results", results.path])
        assertCleanRefusal(batch, ["error: run ", "batchTokens=100000000", "needs an estimated", "is available", "batch "])
        XCTAssertEqual(resultFiles(results), [])
    }

    /// forward-backward on a checkpoint whose attribute says encoder_layers = 1000000: rejected by comparing the
    /// attribute with the layer tensors present, before the model is built; no output file.
    func testForwardBackwardRejectsAttributesThatContradictTheTensors() throws {
        let fx = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/golden_deepnorm.h5")
        let ck = dir.appendingPathComponent("deep.h5")
        try FileManager.default.copyItem(at: fx, to: ck)
        let f = try HDF5File.open(ck, mode: .readWrite)
        try f.setAttribute("encoder_layers", 1_000_000)
        f.close()
        let out = dir.appendingPathComponent("fb.h5")
        let r = try run(["forward-backward", "--checkpoint", ck.path, "--batch", fx.path, "--output", out.path])
        XCTAssertEqual(r.status, 1, r.stderr)
        XCTAssertTrue(r.stderr.contains("deep.h5: missing tensor 'encoder.layers.") && r.stderr.contains("encoder_layers is 1000000 but the file holds encoder layers 0…"), r.stderr)
        XCTAssertFalse(r.stderr.contains("Fatal error"), r.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: out.path))
        // An honest checkpoint with a batch too large for the memory cap is refused with the batch named (exit 3).
        let p = Process()
        p.executableURL = try deepnet()
        p.arguments = ["forward-backward", "--checkpoint", fx.path, "--batch", fx.path, "--output", out.path]
        p.environment = ProcessInfo.processInfo.environment.merging(["DEEPNET_MEMORY_LIMIT": "10K"]) { $1 }
        let err = Pipe()
        p.standardError = err
        p.standardOutput = Pipe()
        try p.run()
        let e = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        assertCleanRefusal((p.terminationStatus, "", e), ["forward-backward on", "DEEPNET_MEMORY_LIMIT=10K"])
        XCTAssertFalse(FileManager.default.fileExists(atPath: out.path))
    }

    /// A small real training run: the recorded estimate of the peak is at least the measured peak RSS (VmHWM) and
    /// at most twice it, so the check does not refuse what fits.
    func testEstimateIsAnUpperBoundWithinTwiceTheMeasuredPeak() throws {
        let r = try run(["train", "--method", "post-ln", "--encoder-layers", "2", "--decoder-layers", "2", "--embed-dim", "64", "--ffn-dim", "128",
                         "--batch-tokens", "2048", "--steps", "10", "--eval-every", "5", "--beam", "4", "--eval-sentences", "64",
                         "--results", dir.appendingPathComponent("results").path])
        XCTAssertEqual(r.status, 0, r.stderr)
        guard let line = r.stdout.split(separator: "\n").first(where: { $0.hasPrefix("memory: estimated peak") }),
              let ratio = line.split(separator: " ").last.flatMap({ Double($0.dropLast()) }) else {
            return XCTFail("no memory line in: \(r.stdout)")
        }
        XCTAssertGreaterThanOrEqual(ratio, 1.0, String(line))
        XCTAssertLessThanOrEqual(ratio, 2.0, String(line))
    }
}
