import DeepNetData
import DeepNetEngine
import Foundation
import DeepNetHarness
import Experiments
import XCTest

final class RegistryTests: XCTestCase {
    /// Every table (I–XI, VII–IX as one value) and figure (1–9) of the paper has exactly one registry value.
    func testEveryTableAndFigureHasExactlyOneValue() throws {
        let reg = try experimentRegistry()
        var tables: [Int: [String]] = [:], figures: [Int: [String]] = [:]
        for e in reg.experiments {
            for t in e.artifact.tableNumbers { tables[t, default: []].append(e.id) }
            if let f = e.artifact.figureNumber { figures[f, default: []].append(e.id) }
        }
        for t in 1...11 { XCTAssertEqual(tables[t]?.count, 1, "Table \(PaperArtifact.roman(t)): \(tables[t] ?? [])") }
        for f in 1...9 { XCTAssertEqual(figures[f]?.count, 1, "Fig. \(f): \(figures[f] ?? [])") }
        XCTAssertEqual(Set(tables.keys), Set(1...11))
        XCTAssertEqual(Set(figures.keys), Set(1...9))
        // Tables VII–IX are one value.
        XCTAssertEqual(Set(tables[7]! + tables[8]! + tables[9]!), ["table7"])
        XCTAssertEqual(reg.experiments.count, 18)
    }

    func testDuplicateIdIsAnError() throws {
        XCTAssertThrowsError(try ExperimentRegistry(allExperiments + [allExperiments[0]])) { err in
            XCTAssertEqual(err as? RegistryError, .duplicate(id: "table1"))
            XCTAssertTrue("\(err)".contains("duplicate experiment id 'table1'"))
        }
    }

    func testUnknownIdSuggestsCloseMatches() throws {
        let reg = try experimentRegistry()
        XCTAssertThrowsError(try reg.experiment("tabel1")) { err in
            let s = "\(err)"
            XCTAssertTrue(s.contains("Did you mean: table1"), s)
            XCTAssertTrue(s.contains("Known experiments: table1, table2"), s)
        }
        XCTAssertEqual(ExperimentRegistry.suggestions(for: "figure9", among: reg.ids).first, "fig9")
        XCTAssertThrowsError(try reg.experiment("table8")) { XCTAssertTrue("\($0)".contains("Did you mean: table7"), "\($0)") }
        XCTAssertNoThrow(try reg.experiment("fig9"))
    }

    /// Spot checks of transcribed numbers against the paper text.
    func testTableINumbers() throws {
        let t = try experimentRegistry().experiment("table1").paper.tables[0]
        XCTAssertEqual(t.cellCount, 40)
        XCTAssertEqual(t.columns, ["6L-6L", "18L-18L", "50L-50L", "100L-100L"])
        XCTAssertEqual(t.cell(row: "Vanilla Post-LN", column: "6L-6L"), .value(28.1))
        XCTAssertEqual(t.cell(row: "Vanilla Post-LN", column: "18L-18L"), .diverged)
        XCTAssertEqual(t.cell(row: "Admin", column: "18L-18L"), .value(28.8))
        XCTAssertEqual(t.cell(row: "Admin", column: "50L-50L"), .diverged)
        XCTAssertEqual(t.cell(row: "ReZero", column: "6L-6L"), .value(26.9))
        XCTAssertEqual(t.cell(row: "ReZero", column: "18L-18L"), .diverged)
        XCTAssertEqual(t.cell(row: "T-Fixup", column: "50L-50L"), .value(27.9))
        XCTAssertEqual(t.cell(row: "R-Fixup", column: "100L-100L"), .diverged)
        XCTAssertEqual(t.cell(row: "DLCL", column: "50L-50L"), .diverged)
        XCTAssertEqual(t.cell(row: "DLCL", column: "100L-100L"), .value(27.5))
        XCTAssertEqual(t.cell(row: "Vanilla Pre-LN", column: "100L-100L"), .value(27.4))
        XCTAssertEqual(t.cell(row: "NormFormer", column: "100L-100L"), .diverged)
        XCTAssertEqual(t.row("DeepNet")?.cells, [.value(27.8), .value(28.8), .value(29.0), .value(28.9)])
        XCTAssertEqual(t.rows.flatMap(\.cells).filter(\.isDiverged).count, 15)
    }

    func testOtherTablesSpotChecks() throws {
        let reg = try experimentRegistry()
        let t2 = try reg.experiment("table2").paper.tables[0]
        XCTAssertEqual(t2.cell(row: "DeepNet", column: "WMT14 En-Fr 18L-18L"), .value(42.4))
        XCTAssertEqual(t2.cell(row: "Vanilla Post-LN", column: "WMT14 En-De 18L-18L"), .diverged)
        XCTAssertEqual(t2.cell(row: "T-Fixup", column: "WMT14 En-De 6L-6L"), .value(26.4))
        XCTAssertEqual(try reg.experiment("table3").paper.tables[0].cell(row: "DeepNet 1000", column: "Avg"), .value(32.1))
        XCTAssertEqual(try reg.experiment("table4").paper.tables[0].cell(row: "DeepNet 48L-48L", column: "Avg"), .value(31.6))
        XCTAssertEqual(try reg.experiment("table5").paper.tables[0].cell(row: "DeepNet", column: "Flores"), .value(18.6))
        XCTAssertEqual(try reg.experiment("table6").paper.tables[0].cell(row: "Transformer 5e-4", column: "Avg."), .value(85.7))
        let t79 = try reg.experiment("table7").paper.tables
        XCTAssertEqual(t79.count, 3)
        XCTAssertEqual(t79[0].cell(row: "72L DeepNet 1.2e-3", column: "Avg."), .value(65.8))
        XCTAssertEqual(t79[1].cell(row: "72L DeepNet 1.2e-3", column: "WGe"), .value(59.8))
        XCTAssertEqual(t79[2].cell(row: "24L DeepNet 1e-3", column: "WG"), .value(74.7))
        XCTAssertEqual(t79[2].cell(row: "24L GPT-2 1e-3", column: "SC"), .diverged)
        XCTAssertEqual(try reg.experiment("table10").paper.tables[0].cell(row: "24L DeepNet", column: "ImageNet Adversarial"), .value(65.4))
        let t11 = try reg.experiment("table11").paper.tables[0]
        XCTAssertEqual(t11.cell(row: "- DeepNorm", column: "BLEU"), .diverged)
        XCTAssertEqual(t11.cell(row: "- Initialization", column: "BLEU"), .value(42.2))
    }

    /// Every profile of every experiment expands into valid configurations (or states why it cannot run), and
    /// every method name used is known to the engine.
    /// A run's data fingerprint comes from the data set's declared file hashes: the same with and without a data
    /// folder (and whatever the folder holds); the paper's corpora keep a stable "unavailable-" id.
    func testDataFingerprintNeedsNoFiles() throws {
        var specs: [DataSpec] = []
        for (name, src, tgt) in [(DataSetName.multi30k, "de", "en"), (.multi30k, "en", "de"), (.iwslt14Mini, "de", "en"), (.tatoeba, "xx", "xx"),
                                 (.newstest2014, "en", "de"), (.synthetic, "src", "tgt"), (.wmt17EnDe, "en", "de")] {
            var d = DataSpec(); d.dataset = name; d.sourceLanguage = src; d.targetLanguage = tgt
            specs.append(d)
        }
        var seen = Set<String>()
        for d in specs {
            let none = try DataGlue.fingerprint(d, dataRoot: nil)
            XCTAssertEqual(try DataGlue.fingerprint(d, dataRoot: URL(fileURLWithPath: "/nonexistent/deepnet-data")), none)
            if let real = ProcessInfo.processInfo.environment["DEEPNET_DATA"], !real.isEmpty {
                XCTAssertEqual(try DataGlue.fingerprint(d, dataRoot: URL(fileURLWithPath: real)), none)
            }
            XCTAssertTrue(none.hasPrefix(d.dataset == .wmt17EnDe ? "unavailable-" : "\(d.dataset)-"), none)
            XCTAssertTrue(seen.insert(none).inserted, "\(d.dataset) \(d.sourceLanguage)-\(d.targetLanguage): \(none) is not distinct")
        }
        // A direction the data set lacks still fails at planning.
        var bad = DataSpec(); bad.dataset = .multi30k; bad.sourceLanguage = "de"; bad.targetLanguage = "fr"
        XCTAssertThrowsError(try DataGlue.fingerprint(bad, dataRoot: nil))
    }

    func testAllProfilesExpandAndValidate() throws {
        let env = HarnessEnvironment(dataRoot: nil, fingerprint: { spec, _ in "test:" + spec.dataset.rawValue })
        for e in try experimentRegistry().experiments {
            for p in Profile.allCases {
                let plan = e.plan(p)
                let runs = try Expansion.expand(e, profile: p, environment: env)
                if plan.notRunReason != nil { XCTAssertTrue(runs.isEmpty); continue }
                XCTAssertFalse(runs.isEmpty, "\(e.id)/\(p.rawValue) has no runs")
                for r in runs {
                    XCTAssertNotNil(MethodRegistry.type(named: r.config.model.method), "\(e.id): \(r.config.model.method)")
                    if p == .smoke { XCTAssertEqual(r.config.data.dataset, .synthetic) }
                }
            }
        }
    }

    /// reduced ≤ ~3 h per experiment at the assumed engine speed; smoke small.
    func testProfileBudgets() throws {
        try CostModel.with(CostModel.planningAssumption) { try profileBudgets() }
    }
    /// The pre-registered reduced campaign (docs/preregistration.md) runs across sessions (`deepnet run --budget`), so
    /// a plan may exceed one session; the whole campaign — every distinct run of every reduced plan, counted once however
    /// many experiments share it — must fit the issue's ≈ 24 h of wall time on 2 cores, i.e. 48 h of single-thread
    /// runs two at a time, at the speed the plans were sized for (`CostModel.planningAssumption`, which matched the
    /// campaign's first measured runs). The smoke profile stays small for CI.
    func profileBudgets() throws {
        let env = HarnessEnvironment(dataRoot: nil, fingerprint: { spec, _ in "test:\(spec.dataset):\(spec.sourceLanguage)-\(spec.targetLanguage)" })
        var smokeRuns = Set<String>(), campaign = Set<String>()
        var total = 0.0
        for e in try experimentRegistry().experiments {
            for r in try Expansion.expand(e, profile: .reduced, environment: env) where campaign.insert(r.runID).inserted {
                total += CostModel.estimate(r.config).seconds
            }
            for r in try Expansion.expand(e, profile: .smoke, environment: env) { smokeRuns.insert(r.runID) }
        }
        XCTAssertGreaterThan(campaign.count, 150)
        XCTAssertLessThanOrEqual(total, 48 * 3600, "the reduced campaign: \(campaign.count) distinct runs, \(CostModel.duration(total)) of single-thread runs")
        XCTAssertLessThanOrEqual(smokeRuns.count, 170)
    }

    /// Every runnable `reduced` plan expands to runs, with synthetic ids and with the real data sets (no data needed:
    /// the fingerprint is faked).
    func testReducedPlansExpand() throws {
        let synthetic = HarnessEnvironment(dataRoot: nil, fingerprint: { spec, _ in "test:" + spec.dataset.rawValue })
        let real = HarnessEnvironment(dataRoot: URL(fileURLWithPath: "/nonexistent/deepnet-data"),
                                      fingerprint: { spec, _ in "test:\(spec.dataset):\(spec.sourceLanguage)-\(spec.targetLanguage)" })
        var checked = 0
        for e in try experimentRegistry().experiments {
            if e.plan(.reduced).notRunReason != nil { continue }
            for (name, env) in [("synthetic", synthetic), ("DEEPNET_DATA", real)] {
                XCTAssertFalse(try Expansion.expand(e, profile: .reduced, environment: env).isEmpty, "\(e.id) reduced (\(name)) has no runs")
            }
            checked += 1
        }
        XCTAssertGreaterThan(checked, 15)
    }
}
