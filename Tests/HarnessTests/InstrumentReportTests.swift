// Tests of the instrument verdicts and figures on synthetic run records (no training): the rules decide as
// documented and the figures render SVG for every instrument measurement.
import XCTest
import Foundation
import DeepNetData
import DeepNetEngine
import DeepNetHarness
import Experiments

final class InstrumentReportTests: XCTestCase {
    /// The project's experiment (its file under experiments/ holds its verdict rules).
    func experiment(_ id: String) -> Experiment { try! experimentRegistry().experiment(id) }

    /// A record with a model-update series whose values are `updates` at steps 0, 2, 4, …
    func record(updates: [Double], lnMean: [Double] = [], grads: [[Double]] = []) -> RunRecord {
        var series = ProbeSeries()
        for (i, u) in updates.enumerated() {
            var dec = StackProbe(stack: "decoder", outputUpdate: u)
            if i < lnMean.count { dec.lnInputNorm = [lnMean[i]]; dec.lnNames = ["decoder.layers.0.final_layer_norm"] }
            if i < grads.count { dec.layerGradNorm = grads[i] }
            series.append(ProbeRecord(step: 2 * i, totalGradNorm: 1, decoder: dec, modelUpdate: u, parameterDistance: u))
        }
        var rc = RunConfig()
        rc.model.embedDim = 16
        var d = series.diagnostics(for: [.modelUpdate, .lnInputNorm, .gradientNormPerLayer])
        // The rules read ΔF before the last LayerNorm: here the same values as `updates`.
        d[MeasurementKind.modelUpdate.rawValue]!.removeAll { $0.name == "delta_f_pre_ln" }
        d[MeasurementKind.modelUpdate.rawValue]!.append(DiagnosticArray(name: "delta_f_pre_ln", shape: [updates.count], values: updates))
        return RunRecord(runID: UUID().uuidString, config: rc, dataFingerprint: "", engineNumericsVersion: "", status: .ok, diagnostics: d)
    }

    func entry(_ labels: [String: String], _ rec: RunRecord) -> ResultEntry {
        let axes = labels.keys.sorted()
        return ResultEntry(coordinates: Coordinates(axes: axes, labels: axes.map { labels[$0]! }), paperKeys: labels,
                           runID: rec.runID, record: rec)
    }

    /// The pre-registered Fig. 4 rules (docs/preregistration.md) read ΔF before the last LayerNorm ("delta_f_pre_ln").
    func testFig4Rules() {
        func withPreLN(_ rec: RunRecord, _ v: [Double]) -> RunRecord {
            var r = rec
            var arrs = r.diagnostics[MeasurementKind.modelUpdate.rawValue] ?? []
            arrs.removeAll { $0.name == "delta_f_pre_ln" }
            arrs.append(DiagnosticArray(name: "delta_f_pre_ln", shape: [v.count], values: v))
            r.diagnostics[MeasurementKind.modelUpdate.rawValue] = arrs
            return r
        }
        func results(deepNet: [Double]) -> ExperimentResults {
            var es: [ResultEntry] = []
            for (i, d) in ["6L-6L", "12L-12L", "24L-24L"].enumerated() {
                let post = 10 * pow(2, Double(i))   // Post-LN's update doubles with the depth: log-log slope 1
                es.append(entry(["method": "DeepNet", "depth": d], withPreLN(record(updates: [0, 1, 1]), [0, deepNet[i], deepNet[i]])))
                es.append(entry(["method": "Post-LN", "depth": d], withPreLN(record(updates: [0, 1, 1]), [0, post, post])))
            }
            return ExperimentResults(experiment: experiment("fig4"), profile: .smoke, axes: ["depth", "method"], entries: es)
        }
        // DeepNet flat at 1: much smaller (10/20/40 vs 1), bounded (slope 0), Post-LN grows (slope 1).
        let r = results(deepNet: [1, 1, 1])
        let v = r.experiment.verdict(r)
        XCTAssertEqual(v.map(\.status), [.reproduced, .reproduced, .reproduced], v.map(\.evidence).joined(separator: " | "))
        // DeepNet growing as fast as Post-LN and only 2x smaller: all of DeepNet's claims fail.
        let bad = results(deepNet: [5, 10, 20])
        let w = bad.experiment.verdict(bad)
        XCTAssertEqual(w.map(\.status), [.notReproduced, .notReproduced, .reproduced], w.map(\.evidence).joined(separator: " | "))
        // a claim of an experiment without rules stays "not run"
        let other = ExperimentResults(experiment: experiment("fig9"), profile: .smoke, axes: r.axes, entries: r.entries)
        XCTAssertEqual(Verdicts.needsInstrument(other, claim: "x", .modelUpdate).status, .notRun)
    }

    func testFig3Rules() {
        let r = ExperimentResults(experiment: experiment("fig3"), profile: .smoke, axes: ["variant"], entries: [
            entry(["variant": "Post-LN w/o warm-up"], record(updates: [0, 10, 10.5, 10.6, 10.7], lnMean: [5, 30, 31, 31, 31],
                                                               grads: [[0, 0], [1, 1], [0.1, 0.1], [0.05, 0.05], [0.01, 0.01]])),
            entry(["variant": "Post-LN"], record(updates: [0, 1, 2, 3, 4], lnMean: [5, 6, 6, 6, 6],
                                                 grads: [[0, 0], [1, 1], [1, 1], [1, 1], [1, 1]])),
        ])
        let v = r.experiment.verdict(r)   // experiments/Fig3.swift's four rules; the fourth needs Post-LN-init w/o warm-up
        XCTAssertEqual(v.map(\.status), [.reproduced, .reproduced, .reproduced, .notRun], v.map(\.evidence).joined(separator: " | "))
        for m in [MeasurementKind.lnInputNorm, .gradientNormPerLayer] {
            let out = InstrumentFigures.render(m, r, series: "variant", panels: nil, logY: true, figureBase: "f")
            XCTAssertFalse(out?.1.isEmpty ?? true, "\(m)")
        }
        // Claim 1 reads the first recorded update, not the peak: Post-LN catches up to the same ceiling later.
        func updatesOnly(_ a: [Double], _ b: [Double]) -> ClaimVerdict {
            let r = ExperimentResults(experiment: experiment("fig3"), profile: .smoke, axes: ["variant"], entries: [
                entry(["variant": "Post-LN w/o warm-up"], record(updates: a)), entry(["variant": "Post-LN"], record(updates: b))])
            return r.experiment.verdict(r)[0]
        }
        XCTAssertEqual(updatesOnly([0, 10, 10.5, 10.6, 10.7], [0, 2, 9, 10.8, 11]).status, .reproduced)
        XCTAssertEqual(updatesOnly([0, 10, 10.5, 10.6, 10.7], [0, 6, 10, 10.5, 10.6]).status, .notReproduced)
    }

    /// Table III's claim 2 (changed after pre-registration, see experiments/Table3.swift): the 200-layer DeepNet
    /// must be *better* by the paired bootstrap on the direction mean and on X→En and En→X separately. En→X output
    /// higher by one n-gram match in one sentence (above the baseline's En→X mean, which the pre-registered rule
    /// accepted, but tied by the bootstrap) fails the claim although the direction mean is better.
    func testTable3GroupsAreBootstrappedPerDirection() {
        let dirs = Array(repeating: "de-en", count: 100) + Array(repeating: "en-de", count: 100)
        func rec(_ deEn: [BLEUStats], _ enDe: [BLEUStats]) -> RunRecord {
            var r = RunRecord(runID: UUID().uuidString, config: RunConfig(), dataFingerprint: "", engineNumericsVersion: "", status: .ok,
                              bleuSentenceStats: deEn + enDe, bleuSentenceDirections: dirs)
            let tok = r.config.decode.bleuTokenize
            r.metrics.bleuByDirection = ["de-en": TestSetBLEU.corpusBLEU(deEn, tokenize: tok), "en-de": TestSetBLEU.corpusBLEU(enDe, tokenize: tok)]
            r.metrics.bleu = r.rescoredBLEU()
            return r
        }
        func stats(_ base: Int) -> [BLEUStats] {
            (0..<100).map { i in
                var s = BLEUStats(); s.sysLen = 10; s.refLen = 10
                for k in 0..<4 { s.total[k] = 10 - k; s.correct[k] = max(0, base + i % 3 - k) }
                return s
            }
        }
        let weak = stats(3), strong = stats(6)
        func results(deep200EnDe: [BLEUStats]) -> ExperimentResults {
            var es: [ResultEntry] = []
            for layers in ["12", "24", "48"] {
                for seed in ["1", "2"] { es.append(entry(["model": "Baseline", "layers": layers, "seed": seed], rec(weak, weak))) }
            }
            for seed in ["1", "2"] { es.append(entry(["model": "DeepNet", "layers": "48", "seed": seed], rec(strong, strong))) }
            es.append(entry(["model": "DeepNet", "layers": "200", "seed": "1"], rec(strong, deep200EnDe)))
            return ExperimentResults(experiment: experiment("table3"), profile: .reduced, axes: ["layers", "model", "seed"], entries: es)
        }
        let good = results(deep200EnDe: strong)
        let v = good.experiment.verdict(good)[1]
        XCTAssertEqual(v.status, .reproduced, v.evidence)
        XCTAssertTrue(v.evidence.contains("X→En (1 direction)") && v.evidence.contains("En→X (1 direction)") && v.evidence.contains("mean of 2 directions"), v.evidence)
        var hair = weak
        hair[17].correct[0] += 1
        let tiedEnDe = results(deep200EnDe: hair)
        XCTAssertGreaterThan(TestSetBLEU.corpusBLEU(hair, tokenize: .mteval13a), TestSetBLEU.corpusBLEU(weak, tokenize: .mteval13a))
        let w = tiedEnDe.experiment.verdict(tiedEnDe)[1]
        XCTAssertEqual(w.status, .notReproduced, w.evidence)
        XCTAssertTrue(w.evidence.contains("→ tied"), w.evidence)
        XCTAssertEqual(good.experiment.changesAfterPreregistration.count, 1)
    }

    /// Rule G5 for Tables VII–IX (docs/preregistration.md §8): the perplexity claims compare seed means at each
    /// method's best learning rate; the learning-rate claims read only the seed-1 sweep. Built so that a rule reading
    /// seed 1 alone, or the best single run, or a sweep reference that includes seed 2, gives the other answer.
    func testTable7PerplexityUsesSeedMeansAndLRClaimsUseSeedOne() {
        func rec(_ ppl: Double?) -> RunRecord {
            var m = FinalMetrics(); m.perplexity = ppl; m.bestValidLoss = ppl.map { log($0) }
            return RunRecord(runID: UUID().uuidString, config: RunConfig(), dataFingerprint: "", engineNumericsVersion: "",
                             status: ppl == nil ? .diverged : .ok, divergedAtStep: ppl == nil ? 100 : nil, metrics: m)
        }
        /// (4e-3 seed 1, 8e-3 seed 1, 8e-3 seed 2) per method; nil = diverged.
        func results(_ ppl: [String: (Double?, Double?, Double?)]) -> ExperimentResults {
            var es: [ResultEntry] = []
            for (m, p) in ppl {
                es.append(entry(["method": m, "lr": "4e-3", "depth": "24L", "seed": "1"], rec(p.0)))
                es.append(entry(["method": m, "lr": "8e-3", "depth": "24L", "seed": "1"], rec(p.1)))
                es.append(entry(["method": m, "lr": "8e-3", "depth": "24L", "seed": "2"], rec(p.2)))
            }
            return ExperimentResults(experiment: experiment("table7"), profile: .reduced, axes: ["depth", "lr", "method", "seed"], entries: es)
        }
        // Seed 1: GPT-2 and NormFormer diverge at 8e-3, DeepNet trains (30). Seed 2's DeepNet (10) would make every
        // seed-1 run "stalled" (> 1.25× its loss) if it were part of the sweep's reference.
        let lr = results(["DeepNet": (50, 30, 10), "GPT-2": (45, nil, 33), "NormFormer": (48, nil, 40)])
        let v = lr.experiment.verdict(lr)
        XCTAssertEqual(v.count, 2)
        XCTAssertEqual(v[0].status, .reproduced, v[0].evidence)
        XCTAssertTrue(v[0].evidence.contains("DeepNet 8e-3, GPT-2 4e-3, NormFormer 4e-3"), v[0].evidence)
        // Perplexity: seed means 32.5 (DeepNet) vs 33 (GPT-2) is 1.5 %, short of 2 %; seed 1 alone (30 vs 33) or the
        // best single run would pass.
        let close = results(["DeepNet": (50, 30, 35), "GPT-2": (45, 33, 33), "NormFormer": (48, 40, 40)])
        let w = close.experiment.verdict(close)
        XCTAssertEqual(w[1].status, .notReproduced, w[1].evidence)
        XCTAssertTrue(w[1].evidence.contains("DeepNet 32.500 (seed 1: 30.000, seed 2: 35.000; spread 5.000) at lr 8e-3"), w[1].evidence)
        let clear = results(["DeepNet": (50, 30, 31), "GPT-2": (45, 33, 33), "NormFormer": (48, 40, 40)])
        XCTAssertEqual(clear.experiment.verdict(clear)[1].status, .reproduced, clear.experiment.verdict(clear)[1].evidence)
        XCTAssertEqual(close.experiment.changesAfterPreregistration.count, 1)
    }

    /// Table XI's committed learning rate (`AlphaBeta.selectedLR`, read through Fig. 9's plan) is checked in the
    /// report against the selection rule on the stage-1 probes: the largest probe lr at which DeepNet neither fails
    /// (diverges or stalls) nor misses the 20-BLEU bar (docs/preregistration.md §8, item 4).
    func testTable11ChecksTheCommittedSelectionAgainstTheRule() throws {
        guard let committed = experiment("fig9").plan(.reduced).grid?.base.optimizer.lr else {
            throw XCTSkip("Table XI's stage 1 has not selected a learning rate yet")
        }
        let probes = [1.5e-3, 3e-3, 6e-3]
        let sel = try XCTUnwrap(probes.first { abs($0 - committed) < 1e-12 }, "the committed lr is one of the probes")
        enum Probe { case translates, sourceBlind, diverges }
        func rec(_ p: Probe) -> RunRecord {
            var m = FinalMetrics()
            m.bestValidLoss = p == .diverges ? nil : (p == .translates ? 2.07 : 2.57)  // 2.57 / 2.07 = 1.24 < 1.25: not "stalled"
            m.bleu = p == .diverges ? nil : (p == .translates ? 30.8 : 2.0)
            return RunRecord(runID: UUID().uuidString, config: RunConfig(), dataFingerprint: "", engineNumericsVersion: "",
                             status: p == .diverges ? .diverged : .ok, divergedAtStep: p == .diverges ? 50 : nil, metrics: m,
                             hypotheses: p == .sourceBlind ? ["Un homme.", "Un homme."] : ["Un homme.", "Une femme."])
        }
        func lab(_ lr: Double) -> String { ["1.5e-3", "3e-3", "6e-3"][probes.firstIndex(of: lr)!] }
        func verdict(_ probe: (Double) -> Probe) -> ClaimVerdict {
            var es = probes.map { lr in entry(["variant": "DeepNet", "lr": lab(lr), "seed": "1"], rec(probe(lr))) }
            es.append(entry(["variant": "DeepNet", "lr": lab(sel), "seed": "2"], rec(.translates)))
            let r = ExperimentResults(experiment: experiment("table11"), profile: .reduced, axes: ["lr", "seed", "variant"], entries: es)
            return r.experiment.verdict(r)[2]
        }
        // The committed lr translates, every larger probe diverges: the rule agrees.
        let a = verdict { $0 <= sel ? .translates : .diverges }
        XCTAssertTrue(a.evidence.contains("the rule selects \(lab(sel)) = the committed \(lab(sel))"), a.evidence)
        // Larger probes that pass the loss rule but ignore their source (below the bar) are not selected.
        let b = verdict { $0 <= sel ? .translates : .sourceBlind }
        XCTAssertTrue(b.evidence.contains("the rule selects \(lab(sel)) = the committed \(lab(sel))"), b.evidence)
        XCTAssertTrue(b.evidence.contains("BLEU 2.00, 1 distinct output for 2 test sentences"), b.evidence)
        // A larger probe that translates (or a failing committed one): the report says the rule selects another lr.
        let d = verdict { lr in sel == probes.last! ? (lr == sel ? .diverges : .translates) : .translates }
        XCTAssertTrue(d.evidence.contains("DIFFERENT from the committed \(lab(sel))"), d.evidence)
        XCTAssertEqual(experiment("table11").changesAfterPreregistration.count, 1)
        XCTAssertEqual(experiment("fig9").changesAfterPreregistration, experiment("table11").changesAfterPreregistration)
    }

    func testScalingLawVerdictAndPlot() {
        func rec(_ bleu: Double) -> RunRecord {
            var m = FinalMetrics(); m.bleu = bleu
            return RunRecord(runID: UUID().uuidString, config: RunConfig(), dataFingerprint: "", engineNumericsVersion: "",
                             status: .ok, metrics: m)
        }
        let pts: [(String, Double)] = [("12", 20.1), ("24", 21.4), ("48", 22.3), ("100", 23.9), ("200", 24.8)]
        let r = ExperimentResults(experiment: experiment("fig8"), profile: .reduced, axes: ["layers"],
                                  entries: pts.map { entry(["layers": $0.0], rec($0.1)) })
        let v = InstrumentVerdicts.scalingLaw(r)
        XCTAssertEqual(v.status, .reproduced, v.evidence)
        let out = InstrumentFigures.scalingLaw(r, axis: "layers", figureBase: "fig8-1")
        XCTAssertEqual(out?.1.count, 1)
        XCTAssertTrue(out!.0.contains("bootstrap CI"))
    }

    /// BLEU orderings among barely trained runs (all below `Verdicts.minimumComparableBLEU`) are "inconclusive";
    /// the same comparisons above the floor, or against a diverged run, still decide the claim.
    func testLowBLEUComparisonsAreInconclusive() {
        func rec(_ bleu: Double, _ status: RunStatus = .ok) -> RunRecord {
            var m = FinalMetrics(); m.bleu = status == .ok ? bleu : nil
            return RunRecord(runID: UUID().uuidString, config: RunConfig(), dataFingerprint: "", engineNumericsVersion: "",
                             status: status, metrics: m)
        }
        func results(_ pts: [(String, Double, RunStatus)]) -> ExperimentResults {
            ExperimentResults(experiment: experiment("fig8"), profile: .reduced, axes: ["layers"],
                              entries: pts.map { entry(["layers": $0.0], rec($0.1, $0.2)) })
        }
        let low = results([("6", 0.35, .ok), ("12", 0.40, .ok), ("24", 0.31, .ok)])
        let high = results([("6", 20.35, .ok), ("12", 20.40, .ok), ("24", 20.31, .ok)])
        let better = { (r: ExperimentResults) in
            Verdicts.better(r, claim: "c", metric: .bleu, a: ["layers": "12"], than: [["layers": "6"], ["layers": "24"]]).status
        }
        XCTAssertEqual(better(low), .inconclusive)
        XCTAssertEqual(better(high), .reproduced)
        XCTAssertEqual(better(results([("6", 0.35, .diverged), ("12", 0.40, .ok), ("24", 0.31, .diverged)])), .reproduced)
        XCTAssertEqual(Verdicts.improvesAlong(low, claim: "c", metric: .bleu, axis: "layers").status, .inconclusive)
        XCTAssertEqual(Verdicts.improvesAlong(high, claim: "c", metric: .bleu, axis: "layers").status, .notReproduced)
        XCTAssertEqual(InstrumentVerdicts.scalingLaw(low).status, .inconclusive)
        XCTAssertEqual(InstrumentVerdicts.scalingLaw(high).status, .notReproduced)
        // Validation loss has no floor.
        XCTAssertNil(Verdicts.bleuTooLowToCompare("c", metric: .bestValidLoss, values: [0.1], evidence: ""))
        XCTAssertEqual(ReportRenderer.overallStatus([ClaimVerdict("a", .reproduced, ""), ClaimVerdict("b", .inconclusive, "")]), "partly reproduced")
        XCTAssertEqual(ReportRenderer.overallStatus([ClaimVerdict("b", .inconclusive, ""), ClaimVerdict("c", .notRun, "")]), "inconclusive")
    }
}
