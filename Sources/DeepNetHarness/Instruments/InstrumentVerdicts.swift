// Instruments: verdicts for the analysis figures' claims, computed from recorded instrument data only.
//
// Drop-in for experiments/Common.swift `instrumentVerdicts(r, claims)`: `InstrumentVerdicts.verdicts(r, claims)`
// evaluates claim i of experiment `r.experiment.id` with the i-th rule below (claims keep the registry's wording;
// each rule states its criterion in the evidence text). Claims without a rule stay "not run" as before.
//
//  fig1  [0] roughness(DeepNet) < roughness(Post-LN)                      (li surface, SurfaceRoughness.definition)
//  fig2  [0] mean grad norm of the top ⌈L/3⌉ decoder layers: Post-LN-init > Post-LN at 18L-18L (else the deepest depth)
//        [1] mean grad norm of the last decoder layer: Post-LN-init > Post-LN at every depth
//  fig3  [0] "w/o warm-up": ‖ΔF‖ at the first recorded step ≥ 2× Post-LN's (not the peak: both saturate near √(2d),
//            as in fig4), and ‖ΔF‖ grows < 20% over the second half of the steps
//        [1] "w/o warm-up": largest peak mean LN input (decoder) of the variants, and ≥ 1.5·√d
//        [2] "w/o warm-up": smallest mean decoder-layer grad norm at the last recorded step
//  fig4  ‖ΔF‖ at the first recorded step after step 0 (not the peak: LN-normalised outputs saturate near √(2d))
//        [0] DeepNet: max/min across depths ≤ 2
//        [1] Post-LN: deepest ≥ 1.5× the shallowest, and a larger depth ratio than DeepNet's
//  fig5  [0] Post-LN rougher at the deepest depth than at the shallowest, and DeepNet smoother than Post-LN at the deepest
//        [1] Post-LN's share of PCA path length in the second half < DeepNet's at the deepest depth
import Foundation
import DeepNetEngine

public enum InstrumentVerdicts {
    public typealias Rule = (ExperimentResults, String) -> ClaimVerdict

    public static func verdicts(_ r: ExperimentResults, _ claims: [(String, MeasurementKind)]) -> [ClaimVerdict] {
        let rules = table[r.experiment.id] ?? []
        return claims.enumerated().map { i, c in
            let rule: Rule? = i < rules.count ? rules[i] : nil
            return Verdicts.needsInstrument(r, claim: c.0, c.1, evaluate: rule.map { f in { f($0, c.0) } })
        }
    }

    static let table: [String: [Rule]] = [
        "fig1": [fig1Smoother],
        "fig2": [fig2TopLayers, fig2LastLayer],
        "fig3": [fig3ExplodingUpdate, fig3LNInputs, fig3Vanishing],
        "fig4": [fig4DeepNetConstant, fig4PostLNGrows],
        "fig5": [fig5Roughness, fig5Stall],
    ]

    static func f(_ x: Double?, _ d: Int = 3) -> String { Verdicts.fmt(x, d) }

    /// Levels of `axis` sorted by numeric value.
    static func numericLevels(_ r: ExperimentResults, _ axis: String) -> [String] {
        r.levels(axis).sorted { Verdicts.numericValue($0) < Verdicts.numericValue($1) }
    }

    static func rec(_ r: ExperimentResults, _ sel: [String: String]) -> RunRecord? { r.record(sel) }

    // MARK: fig1
    static func fig1Smoother(_ r: ExperimentResults, _ claim: String) -> ClaimVerdict {
        guard let a = rec(r, ["method": "DeepNet"]).flatMap(InstrumentSummaries.roughness),
              let b = rec(r, ["method": "Post-LN"]).flatMap(InstrumentSummaries.roughness) else {
            return Verdicts.notRun(claim, "a surface is missing (diverged run or not recorded)")
        }
        return ClaimVerdict(claim, a < b ? .reproduced : .notReproduced,
                            "roughness (mean |Δ²L| / loss range, same grid and seed): DeepNet \(f(a, 4)), Post-LN \(f(b, 4))")
    }

    // MARK: fig2
    static func depthFor18(_ r: ExperimentResults) -> String? {
        let ds = numericLevels(r, "depth")
        return ds.contains("18L-18L") ? "18L-18L" : ds.last
    }

    static func fig2TopLayers(_ r: ExperimentResults, _ claim: String) -> ClaimVerdict {
        guard let d = depthFor18(r),
              let a = rec(r, ["method": "Post-LN-init", "depth": d]), let b = rec(r, ["method": "Post-LN", "depth": d]) else {
            return Verdicts.notRun(claim, "missing runs")
        }
        func top(_ x: RunRecord) -> Double? {
            let g = InstrumentSummaries.meanLayerGradNorms(x, stack: "decoder").filter(\.isFinite)
            guard !g.isEmpty else { return nil }
            let k = max(1, (g.count + 2) / 3)
            return g.suffix(k).reduce(0, +) / Double(k)
        }
        guard let ga = top(a), let gb = top(b) else { return Verdicts.notRun(claim, "no gradient norms recorded") }
        return ClaimVerdict(claim, ga > gb ? .reproduced : .notReproduced,
                            "\(d), mean gradient norm of the top third of the decoder layers over the recorded steps: Post-LN-init \(f(ga, 4)), Post-LN \(f(gb, 4))")
    }

    static func fig2LastLayer(_ r: ExperimentResults, _ claim: String) -> ClaimVerdict {
        var ok = true, parts: [String] = [], n = 0
        for d in numericLevels(r, "depth") {
            guard let a = rec(r, ["method": "Post-LN-init", "depth": d]), let b = rec(r, ["method": "Post-LN", "depth": d]),
                  let ga = InstrumentSummaries.meanLayerGradNorms(a, stack: "decoder").last,
                  let gb = InstrumentSummaries.meanLayerGradNorms(b, stack: "decoder").last else { continue }
            n += 1
            ok = ok && ga > gb
            parts.append("\(d): \(f(ga, 4)) vs \(f(gb, 4))")
        }
        if n == 0 { return Verdicts.notRun(claim, "no depth has both runs with gradient norms") }
        return ClaimVerdict(claim, ok ? .reproduced : .notReproduced,
                            "last decoder layer, mean gradient norm (Post-LN-init vs Post-LN): " + parts.joined(separator: "; "))
    }

    // MARK: fig3
    static let noWarmup = "Post-LN w/o warm-up"

    static func fig3ExplodingUpdate(_ r: ExperimentResults, _ claim: String) -> ClaimVerdict {
        guard let a = rec(r, ["variant": noWarmup]), let b = rec(r, ["variant": "Post-LN"]) else { return Verdicts.notRun(claim, "missing runs") }
        let u = InstrumentSummaries.modelUpdate(a).filter(\.isFinite)
        guard u.count >= 4, let fa = InstrumentSummaries.firstModelUpdate(a), let fb = InstrumentSummaries.firstModelUpdate(b) else {
            return Verdicts.notRun(claim, "too few model-update points")
        }
        let mid = u[u.count / 2], last = u.last!
        let growth = mid > 0 ? (last - mid) / mid : .infinity
        let ok = fa >= 2 * fb && growth < 0.2
        return ClaimVerdict(claim, ok ? .reproduced : .notReproduced,
                            "‖ΔF‖ at \(stepLabel(r)): w/o warm-up \(f(fa)), Post-LN \(f(fb)) (need ≥ 2×); peaks \(f(u.max())) vs \(f(InstrumentSummaries.peakModelUpdate(b))); growth over the second half of the steps \(f(growth * 100, 1)) % (need < 20 %)")
    }

    static func fig3LNInputs(_ r: ExperimentResults, _ claim: String) -> ClaimVerdict {
        var peaks: [(String, Double)] = []
        var dim = 0
        for v in r.levels("variant") {
            guard let x = rec(r, ["variant": v]), let p = InstrumentSummaries.lnMean(x, stack: "decoder").filter(\.isFinite).max() else { continue }
            peaks.append((v, p)); dim = x.config.model.embedDim
        }
        guard let mine = peaks.first(where: { $0.0 == noWarmup })?.1, peaks.count >= 2 else { return Verdicts.notRun(claim, "missing LN input norms") }
        let sqrtD = Double(dim).squareRoot()
        let ok = peaks.allSatisfy { $0.1 <= mine } && mine >= 1.5 * sqrtD
        return ClaimVerdict(claim, ok ? .reproduced : .notReproduced,
                            "peak mean decoder LN input ‖x‖₂: " + peaks.map { "\($0.0) \(f($0.1))" }.joined(separator: ", ") + "; √d = \(f(sqrtD)) (need the largest and ≥ 1.5·√d)")
    }

    static func fig3Vanishing(_ r: ExperimentResults, _ claim: String) -> ClaimVerdict {
        var vals: [(String, Double)] = []
        for v in r.levels("variant") {
            guard let x = rec(r, ["variant": v]) else { continue }
            let g = InstrumentSummaries.layerGradNorms(x, stack: "decoder").filter(\.isFinite)
            if !g.isEmpty { vals.append((v, g.reduce(0, +) / Double(g.count))) }
        }
        guard let mine = vals.first(where: { $0.0 == noWarmup })?.1, vals.count >= 2 else { return Verdicts.notRun(claim, "missing gradient norms") }
        let ok = vals.allSatisfy { $0.1 >= mine }
        return ClaimVerdict(claim, ok ? .reproduced : .notReproduced,
                            "mean decoder-layer gradient norm at the last recorded step: " + vals.map { "\($0.0) \(f($0.1, 4))" }.joined(separator: ", "))
    }

    // MARK: fig4
    static func firstUpdatesByDepth(_ r: ExperimentResults, method: String) -> [(String, Double)] {
        numericLevels(r, "depth").compactMap { d in
            rec(r, ["method": method, "depth": d]).flatMap(InstrumentSummaries.firstModelUpdate).map { (d, $0) }
        }
    }
    static func stepLabel(_ r: ExperimentResults) -> String {
        guard let x = r.entries.compactMap(\.record).first, let s = InstrumentSummaries.arr(x, .modelUpdate, "steps")?.values.first(where: { $0 > 0 }) else { return "first recorded step" }
        return "step \(Int(s))"
    }

    static func fig4DeepNetConstant(_ r: ExperimentResults, _ claim: String) -> ClaimVerdict {
        let p = firstUpdatesByDepth(r, method: "DeepNet")
        guard p.count >= 2, let lo = p.map(\.1).min(), let hi = p.map(\.1).max(), lo > 0 else { return Verdicts.notRun(claim, "fewer than two depths") }
        return ClaimVerdict(claim, hi / lo <= 2 ? .reproduced : .notReproduced,
                            "DeepNet ‖ΔF‖ at \(stepLabel(r)) by depth: " + p.map { "\($0.0) \(f($0.1))" }.joined(separator: ", ") + "; max/min \(f(hi / lo, 2)) (need ≤ 2)")
    }

    static func fig4PostLNGrows(_ r: ExperimentResults, _ claim: String) -> ClaimVerdict {
        let p = firstUpdatesByDepth(r, method: "Post-LN"), q = firstUpdatesByDepth(r, method: "DeepNet")
        guard p.count >= 2, let first = p.first?.1, let last = p.last?.1, first > 0 else { return Verdicts.notRun(claim, "fewer than two depths") }
        let ratio = last / first
        let deepRatio = q.count >= 2 && q.first!.1 > 0 ? q.last!.1 / q.first!.1 : 1
        return ClaimVerdict(claim, ratio >= 1.5 && ratio > deepRatio ? .reproduced : .notReproduced,
                            "Post-LN ‖ΔF‖ at \(stepLabel(r)) by depth: " + p.map { "\($0.0) \(f($0.1))" }.joined(separator: ", ")
                            + "; deepest/shallowest \(f(ratio, 2)) (need ≥ 1.5 and > DeepNet's \(f(deepRatio, 2)))")
    }

    // MARK: fig5
    static func fig5Roughness(_ r: ExperimentResults, _ claim: String) -> ClaimVerdict {
        let ds = numericLevels(r, "depth")
        guard let lo = ds.first, let hi = ds.last, lo != hi else { return Verdicts.notRun(claim, "fewer than two depths") }
        func rough(_ m: String, _ d: String) -> Double? { rec(r, ["method": m, "depth": d]).flatMap(InstrumentSummaries.roughness) }
        guard let pLo = rough("Post-LN", lo), let pHi = rough("Post-LN", hi), let dHi = rough("DeepNet", hi) else {
            return Verdicts.notRun(claim, "a surface is missing (diverged run or not recorded)")
        }
        let all = ds.map { d in "\(d): DeepNet \(f(rough("DeepNet", d), 4)), Post-LN \(f(rough("Post-LN", d), 4))" }
        return ClaimVerdict(claim, pHi > pLo && dHi < pHi ? .reproduced : .notReproduced,
                            "roughness " + all.joined(separator: "; ") + " (need Post-LN rougher at \(hi) than at \(lo), and DeepNet smoother than Post-LN at \(hi))")
    }

    static func fig5Stall(_ r: ExperimentResults, _ claim: String) -> ClaimVerdict {
        guard let hi = numericLevels(r, "depth").last,
              let p = rec(r, ["method": "Post-LN", "depth": hi]).flatMap(InstrumentSummaries.trajectoryStats),
              let d = rec(r, ["method": "DeepNet", "depth": hi]).flatMap(InstrumentSummaries.trajectoryStats) else {
            return Verdicts.notRun(claim, "missing trajectories")
        }
        return ClaimVerdict(claim, p.lateShare < d.lateShare ? .reproduced : .notReproduced,
                            "\(hi): share of the PCA path travelled in the second half of the early stage: Post-LN \(f(p.lateShare * 100, 1)) %, DeepNet \(f(d.lateShare * 100, 1)) %; final loss Post-LN \(f(p.finalLoss)), DeepNet \(f(d.finalLoss))")
    }

    // MARK: fig8 (cross-run)
    /// BLEU = A·ln(depth) + B over converged runs along `axis` (total layers), with SEs and a bootstrap CI;
    /// reproduced when A > 0 with its 95 % bootstrap (or t) interval above 0.
    public static func scalingLaw(_ r: ExperimentResults, axis: String = "layers", metric: Metric = .bleu,
                                  claim: String = "BLEU follows A·ln(depth) + B with A > 0 (95 % interval of A above 0).") -> ClaimVerdict {
        if let v = Verdicts.requireRuns(r, claim) { return v }
        let pts = scalingPoints(r, axis: axis, metric: metric)
        guard pts.count >= 3, let fit = try? ScalingLaw.fit(depths: pts.map(\.0), values: pts.map(\.1)) else {
            return Verdicts.notRun(claim, "fewer than three converged depths with \(metric.title)")
        }
        let lo = fit.bootstrapIntervalA.first ?? fit.tIntervalA[0]
        let ev = fit.formula(metric: metric.title) + "; 95 % bootstrap CI of A [\(f(fit.bootstrapIntervalA.first)), \(f(fit.bootstrapIntervalA.last))], t CI [\(f(fit.tIntervalA[0])), \(f(fit.tIntervalA[1]))]"
        if let v = Verdicts.bleuTooLowToCompare(claim, metric: metric, values: pts.map(\.1), evidence: ev) { return v }
        return ClaimVerdict(claim, fit.a > 0 && lo > 0 ? .reproduced : .notReproduced, ev)
    }

    /// (total layers, metric) of converged runs.
    public static func scalingPoints(_ r: ExperimentResults, axis: String = "layers", metric: Metric = .bleu) -> [(Double, Double)] {
        r.entries.compactMap { e in
            guard let rec = e.record, rec.status == .ok, let v = rec.value(metric), v.isFinite, let l = e.coordinates[axis] else { return nil }
            let d = Verdicts.numericValue(l)
            return d > 0 ? (d, v) : nil
        }.sorted { $0.0 < $1.0 }
    }
}
