// The reduced profile never falls back to synthetic data: a plan that names real data is planned on it with or
// without DEEPNET_DATA (the ids are the real data's, computable without the files); without the data folder,
// runs whose results exist are reused and runs without a result are listed, not run.
import DeepNetData
import DeepNetEngine
import DeepNetHarness
import Foundation
import XCTest

final class NeedDataTests: XCTestCase {
    func testReducedPlanOnRealDataWithoutDataFolderReusesResultsAndListsMissingRuns() throws {
        let root = tempDir("need-data")
        defer { try? FileManager.default.removeItem(at: root) }
        var e = tinyExperiment(id: "tinyreal")
        e.profiles[.reduced] = .runs(e.profiles[.smoke]!.grid!, data: DataChoice(real: .multi30k, source: "en", target: "de", description: "Multi30k en→de"))
        let fingerprint: @Sendable (DataSpec, URL?) throws -> String = { s, r in try DataGlue.fingerprint(s, dataRoot: r) }
        let noData = HarnessEnvironment(dataRoot: nil, fingerprint: fingerprint)
        let withData = HarnessEnvironment(dataRoot: URL(fileURLWithPath: "/nonexistent/deepnet-data"), fingerprint: fingerprint)

        // The real data set's runs and ids, the same with and without a data folder.
        let planned = try Expansion.expand(e, profile: .reduced, environment: noData)
        XCTAssertEqual(planned.count, 2)
        XCTAssertEqual(planned.map(\.runID), try Expansion.expand(e, profile: .reduced, environment: withData).map(\.runID))
        for r in planned {
            XCTAssertEqual(r.config.data.dataset, .multi30k)
            XCTAssertEqual(r.config.data.sourceLanguage, "en"); XCTAssertEqual(r.config.data.targetLanguage, "de")
            XCTAssertTrue(r.dataFingerprint.hasPrefix("multi30k-"), r.dataFingerprint)
        }
        // The smoke profile stays synthetic.
        XCTAssertTrue(try Expansion.expand(e, profile: .smoke, environment: noData).allSatisfy { $0.config.data.dataset == .synthetic })

        // One result exists (as committed results do); the other is missing.
        let store = ResultStore(root: root)
        try store.prepare()
        let done = planned[0], missing = planned[1]
        try store.write(RunRecord(runID: done.runID, config: done.config, dataFingerprint: done.dataFingerprint,
                                  engineNumericsVersion: engineNumericsVersion, status: .ok))
        let out = OutputBox()
        var o = RunnerOptions()
        o.output = { out.add($0) }
        o.interactive = false
        let runner = Runner(store: store, environment: noData, options: o)
        XCTAssertTrue(try runner.dryRun([e], profile: .reduced).contains("[needs DEEPNET_DATA]"))
        let s = try runner.run([e], profile: .reduced)
        XCTAssertEqual(s.cached, 1)
        XCTAssertEqual(s.needData, 1)
        XCTAssertEqual(s.executed, 0)
        XCTAssertEqual(s.failed, 0)
        XCTAssertTrue(out.value.contains("1 of 2 runs have no result and were not run: they need DEEPNET_DATA; `make data` fetches the corpora"), out.value)
        XCTAssertTrue(out.value.contains(missing.runID), out.value)
        XCTAssertFalse(out.value.contains(done.runID), out.value)
        XCTAssertTrue(s.description.contains("1 not run (they need DEEPNET_DATA)"), s.description)
        // Nothing was computed or written for the missing run; the existing result is untouched.
        XCTAssertEqual(store.runFileIDs(), [done.runID])
        XCTAssertEqual(try store.read(done.runID).status, .ok)
        // The index lists the real data's ids, so `deepnet report` finds the existing result.
        let loaded = try store.load(e)
        XCTAssertEqual(loaded.entries.map(\.runID), planned.map(\.runID))
        XCTAssertNotNil(loaded.entries[0].record)
        XCTAssertNil(loaded.entries[1].record)
    }
}
