import Foundation
import XCTest
@testable import DeepNetHarness

/// `deepnet calibrate`'s fit: recovers known coefficients, keeps them non-negative, stores and reloads, and refuses a
/// file that is not a calibration.
final class CostCalibrationTests: XCTestCase {
    func testFitRecoversKnownCoefficients() throws {
        let truth = CostCalibration(coefficients: [2e-11, 4e-7, 3e-10, 0, 1e-9], secondsPerRun: ["a": 5, "b": 40], source: "truth")
        var samples: [CalibrationSample] = []
        for i in 0..<24 {
            let f = 1e12 * Double(1 + i % 5), share = f * 1e-5 * Double(1 + i % 3)
            let feats = [f, share, i % 4 == 0 ? 1e11 : 0, 0, i % 6 == 0 ? 1e10 : 0]
            let ds = i % 2 == 0 ? "a" : "b"
            samples.append(CalibrationSample(runID: "r\(i)", label: "", measuredSeconds: truth.seconds(feats, dataset: ds), features: feats, dataset: ds))
        }
        let fit = try CostFit.fit(samples, source: "test")
        for (x, y) in zip(fit.coefficients, truth.coefficients) { XCTAssertEqual(x, y, accuracy: 1e-6 * max(abs(y), 1e-12)) }
        XCTAssertEqual(fit.secondsPerRun["a"]!, 5, accuracy: 1e-6)
        XCTAssertEqual(fit.secondsPerRun["b"]!, 40, accuracy: 1e-6)
        // An unseen data set is charged the largest fixed cost.
        XCTAssertEqual(fit.seconds([0, 0, 0, 0, 0], dataset: "new"), 40, accuracy: 1e-6)
        // The synthetic task is generated in memory: no fixed cost unless one was fitted for it.
        XCTAssertEqual(fit.seconds([0, 0, 0, 0, 0], dataset: "synthetic"), 0)
    }

    func testTooFewRunsAndBadFilesAreErrors() throws {
        XCTAssertThrowsError(try CostFit.fit([], source: "none"))
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("calib-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        XCTAssertNil(try CostCalibration.stored(in: dir))
        try CostModel.builtIn.store(in: dir)
        XCTAssertEqual(try CostCalibration.stored(in: dir), CostModel.builtIn)
        try Data("{\"coefficients\": [1]}".utf8).write(to: dir.appendingPathComponent(CostCalibration.fileName))
        XCTAssertThrowsError(try CostCalibration.stored(in: dir)) { e in
            XCTAssertTrue("\(e)".contains(CostCalibration.fileName), "\(e)")
        }
    }
}
