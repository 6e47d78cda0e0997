import DeepNetEngine
import DeepNetHarness
import Experiments
import Foundation
import HDF5Store
import XCTest

/// A run stopped right after a checkpoint and resumed writes the same result file as the uninterrupted run:
/// every dataset and attribute bit-identical except provenance and timing (ResultComparison). One case per kind of
/// measurement: curves + BLEU (table1), per-layer gradient norms (fig2), model update + LayerNorm inputs + gradient
/// norms (fig3), model update with its bound (fig4), loss landscape + PCA trajectory (fig5), causal LM (table7).
final class ExactResumeTests: XCTestCase {
    func smokeRun(_ id: String) throws -> PlannedRun {
        let e = try experimentRegistry().experiment(id)
        let runs = try Expansion.expand(e, profile: .smoke, environment: testEnv)
        return try XCTUnwrap(runs.first { $0.config.training.steps >= 4 })
    }

    /// Checkpoint at `at` (a probe step and an eval step, or not), stop there, resume, compare with a clean run.
    func checkResumeIsExact(_ id: String, checkpointAt: ((RunConfig) -> Int)? = nil, file: StaticString = #filePath, line: UInt = #line) throws {
        let run = try smokeRun(id)
        var config = run.config
        let at = checkpointAt?(config) ?? max(1, config.training.steps / 2 - 1)
        config.training.checkpointEvery = at
        let root = tempDir("resume-\(id)"), ref = tempDir("resume-\(id)-ref")
        defer { try? FileManager.default.removeItem(at: root); try? FileManager.default.removeItem(at: ref) }
        func spec(_ dir: URL) -> RunSpec {
            RunSpec(runID: "r", label: id, config: config, dataFingerprint: run.dataFingerprint, resultsRoot: dir.path, dataRoot: nil)
        }
        let interrupted = RunExecutor(spec: spec(root))
        interrupted.interruptAfterCheckpoint = at
        XCTAssertThrowsError(try interrupted.run(), file: file, line: line)
        let resumed = try RunExecutor(spec: spec(root)).run()
        let log = (try? String(contentsOf: ResultStore(root: root).logFile("r"), encoding: .utf8)) ?? ""
        XCTAssertEqual(resumed.provenance.resumedCount, 1, "\(id): not resumed. Log:\n\(log)", file: file, line: line)
        let clean = try RunExecutor(spec: spec(ref)).run()
        XCTAssertEqual(clean.provenance.resumedCount, 0, file: file, line: line)
        XCTAssertEqual(resumed.status, clean.status, file: file, line: line)
        let diffs = try ResultComparison.differences(ResultStore(root: root).runFile("r"), ResultStore(root: ref).runFile("r"))
        XCTAssertEqual(diffs, [], "\(id): resumed run differs from the uninterrupted one", file: file, line: line)
        // The comparison itself is not blind: the resumed file's provenance does differ.
        XCTAssertNotEqual(resumed.provenance.resumedCount, clean.provenance.resumedCount, file: file, line: line)
    }

    func testCurvesAndBLEU() throws { try checkResumeIsExact("table1") }
    func testPerLayerGradientNorms() throws { try checkResumeIsExact("fig2") }
    func testModelUpdateLayerNormAndGradients() throws { try checkResumeIsExact("fig3") }
    /// Checkpoint between probe steps (odd step) and at a probe step.
    func testModelUpdateWithBound() throws {
        try checkResumeIsExact("fig4", checkpointAt: { c in c.diagnostics.every * 2 + 1 })
        try checkResumeIsExact("fig4", checkpointAt: { c in c.diagnostics.every * 2 })
    }
    func testLandscapeAndTrajectory() throws { try checkResumeIsExact("fig5") }
    func testCausalLanguageModel() throws { try checkResumeIsExact("table7") }

    /// The comparison used above reports a real difference (a changed loss value) and ignores timing.
    func testComparisonFindsDifferencesAndIgnoresTiming() throws {
        let root = tempDir("cmp")
        defer { try? FileManager.default.removeItem(at: root) }
        let e = tinyExperiment(steps: 4)
        let run = try Expansion.expand(e, profile: .smoke, environment: testEnv)[0]
        let store = ResultStore(root: root)
        var rec = try RunExecutor(spec: RunSpec(run: run, store: store, dataRoot: nil, git: ("t", false))).run()
        let a = root.appendingPathComponent("a.h5"), b = root.appendingPathComponent("b.h5")
        try FileManager.default.copyItem(at: store.runFile(run.runID), to: a)
        rec.metrics.wallSeconds += 100
        rec.provenance.gitCommit = "other"
        try store.write(rec)
        XCTAssertEqual(try ResultComparison.differences(a, store.runFile(run.runID)), [])
        rec.curves.trainLoss[2] = rec.curves.trainLoss[2].nextUp
        try store.write(rec)
        try FileManager.default.copyItem(at: store.runFile(run.runID), to: b)
        let d = try ResultComparison.differences(a, b)
        XCTAssertEqual(d.count, 1, "\(d)")
        XCTAssertTrue(d.first?.hasPrefix("/curves/train_loss: 1 of 4 values differ") ?? false, "\(d)")
    }
}
