// Fig. 4: model updates of Post-LN and DeepNet early in training, 64-128-2 tiny Transformers, 6L-6L … 100L-100L.
import DeepNetData
import DeepNetHarness
import Foundation

private let methods = [L.method("Post-LN", Method.postLN), L.method("DeepNet", Method.deepNorm)]

let fig4 = Experiment(
    id: "fig4",
    title: "Model updates of vanilla Post-LN and DeepNet at the early stage of training",
    artifact: .figure(4),
    claim: "DeepNet's early model update ‖ΔF‖ stays small and nearly constant as depth grows from 6L-6L to 100L-100L, while Post-LN's explodes with depth.",
    paper: PaperNumbers(statements: [
        PaperStatement("Fig. 4. Model updates of vanilla Post-LN and DeepNet at the early stage of training. The visualization is conducted on 64-128-2 tiny Transformers with depth varying from 6L-6L to 100L-100L. It shows that DeepNet has much smaller and more stable updates than Post-LN.", section: "caption"),
        PaperStatement("Fig. 4 shows that the model update of DeepNet is nearly constant, while the model update of Post-LN is exploding.", section: "III-C"),
    ]),
    paperSetup: "IWSLT-14 De-En, 64-128-2 tiny Transformers (64 hidden, 128 FFN, 2 heads), depths 6L-6L … 100L-100L, early stage of training.",
    measured: "‖F(x, θᵢ) − F(x, θ₀)‖₂ on a fixed batch over the first steps, per depth.",
    measurements: [.modelUpdate],
    renders: [
        // The paper's layout: one panel per method, a line per depth; the verdicts' measure (before the last LN) first.
        .diagnosticArray(.modelUpdate, array: "delta_f_pre_ln", series: "depth", panels: "method", logY: true),
        .diagnostic(.modelUpdate, series: "depth", panels: "method", logY: true),
    ],
    profiles: [
        .smoke: .runs(RunGrid(base: Base.earlyStage(Base.smokeTranslation, steps: 10, every: 2),
                              axes: [Axis("method", methods), Axis("depth", [L.depth(1), L.depth(4)])]), notes: ["Synthetic data, d = 32."]),
        // Pre-registered (docs/preregistration.md, Fig. 4): two seeds; judged on ΔF before the last LayerNorm.
        .reduced: .runs(RunGrid(base: Base.earlyStage(with(Base.reducedIWSLT) { $0.training.batchTokens = 512 }, steps: 100, every: 5),
                                axes: [Axis("method", methods), Axis("depth", [L.depth(6), L.depth(12), L.depth(24), L.depth(50), L.depth(100)]),
                                       Axis("seed", [L.seed(1), L.seed(2)])]),
                        data: RealData.iwslt,
                        notes: ["The paper's own tiny configuration (64-128-2); depths 6/12/24/50/100; two seeds; the first 100 steps (the linear warm-up to lr 1.5e-3) of 512-token batches, ‖ΔF‖ every 5 steps; IWSLT14-mini instead of full IWSLT-14.",
                                "The verdicts use ΔF of the decoder's top residual stream before its last LayerNorm, averaged over the first 25 steps: the LayerNorm output itself saturates near √(2d) ≈ 11, which hid the growth with depth."]),
        .paper: .runs(RunGrid(base: Base.earlyStage(Base.paperTiny, steps: 1000, every: 10),
                              axes: [Axis("method", methods), Axis("depth", [L.depth(6), L.depth(12), L.depth(24), L.depth(50), L.depth(100)])]),
                      notes: Base.paperIWSLTNotes + ["Paper text: 64-128-2 tiny Transformers, 6L-6L to 100L-100L. Not in the text: the intermediate depths (12/24/50 assumed) and the length of the early stage (1,000 steps assumed)."]),
    ],
    summary: { r, _ in fig4Summary(r) },
    verdict: { r in
        instrumentVerdicts(r, [
            ("DeepNet's early model update is much smaller than Post-LN's at every depth.", .modelUpdate, fig4MuchSmaller),
            ("DeepNet's early model update stays bounded as depth grows (log-log slope ≤ 0.6 and ≤ half of Post-LN's).", .modelUpdate, fig4Bounded),
            ("Post-LN's early model update grows with depth.", .modelUpdate, fig4PostLNGrows),
        ])
    }
)

// MARK: verdict rules (docs/preregistration.md, Fig. 4; computed from recorded instrument data only)
//
// The measure: ‖ΔF‖ of the decoder's top residual stream before its last LayerNorm ("delta_f_pre_ln"), averaged
// over the recorded steps 1–25; with two seeds, per depth the seed mean (claim 1 checks each seed).

/// Mean ‖ΔF_pre‖ over recorded steps 1…25 of one run.
func earlyUpdatePreLN(_ x: RunRecord, upTo last: Double = 25) -> Double? {
    let st = InstrumentSummaries.steps(x, .modelUpdate), u = InstrumentSummaries.modelUpdatePreLN(x)
    let v = zip(st, u).filter { $0.0 > 0 && $0.0 <= last && $0.1.isFinite }.map(\.1)
    return v.isEmpty ? nil : v.reduce(0, +) / Double(v.count)
}

/// Per depth (total layers), the early update of `method` for every seed that recorded it.
func earlyUpdatesByDepth(_ r: ExperimentResults, method: String) -> [(label: String, layers: Double, values: [Double])] {
    numericLevels(r, "depth").compactMap { d in
        let v = r.entries(["method": method, "depth": d]).compactMap { $0.record.flatMap { earlyUpdatePreLN($0) } }
        return v.isEmpty ? nil : (d, Verdicts.numericValue(d), v)
    }
}

/// Least-squares slope of ln y against ln x with its standard error (nil with fewer than 3 points).
func logLogSlope(_ pts: [(Double, Double)]) -> (slope: Double, se: Double)? {
    let p = pts.filter { $0.0 > 0 && $0.1 > 0 }.map { (Foundation.log($0.0), Foundation.log($0.1)) }
    guard p.count >= 3 else { return nil }
    let n = Double(p.count), mx = p.map(\.0).reduce(0, +) / n, my = p.map(\.1).reduce(0, +) / n
    var sxx = 0.0, sxy = 0.0
    for q in p { sxx += (q.0 - mx) * (q.0 - mx); sxy += (q.0 - mx) * (q.1 - my) }
    guard sxx > 0 else { return nil }
    let b = sxy / sxx, a = my - b * mx
    var sse = 0.0
    for q in p { let e = q.1 - (a + b * q.0); sse += e * e }
    return (b, (sse / (n - 2) / sxx).squareRoot())
}

private func mean(_ v: [Double]) -> Double { v.reduce(0, +) / Double(max(1, v.count)) }

private func describe(_ p: [(label: String, layers: Double, values: [Double])]) -> String {
    p.map { "\($0.label) " + $0.values.map { fv($0, 3) }.joined(separator: "/") }.joined(separator: ", ")
}

private func fig4MuchSmaller(_ r: ExperimentResults, _ claim: String) -> ClaimVerdict {
    let d = earlyUpdatesByDepth(r, method: "DeepNet"), p = earlyUpdatesByDepth(r, method: "Post-LN")
    guard !d.isEmpty, !p.isEmpty else { return Verdicts.notRun(claim, "no ΔF before the LayerNorm recorded") }
    var ratios: [String] = [], ok = true, compared = 0
    for x in d {
        guard let y = p.first(where: { $0.label == x.label }) else { continue }
        for (a, b) in zip(x.values, y.values) {
            compared += 1
            if !(a < b / 5) { ok = false }
            ratios.append("\(x.label) \(fv(b / a, 1))×")
        }
    }
    guard compared > 0 else { return Verdicts.notRun(claim, "no depth has both methods") }
    return ClaimVerdict(claim, ok ? .reproduced : .notReproduced,
                        "mean ‖ΔF‖ before the last LN over steps 1–25 (per seed): DeepNet \(describe(d)); Post-LN \(describe(p)); Post-LN/DeepNet \(ratios.joined(separator: ", ")) (need > 5× for every depth and seed)")
}

private func fig4Bounded(_ r: ExperimentResults, _ claim: String) -> ClaimVerdict {
    let d = earlyUpdatesByDepth(r, method: "DeepNet"), p = earlyUpdatesByDepth(r, method: "Post-LN")
    guard let sd = logLogSlope(d.map { ($0.layers, mean($0.values)) }), let sp = logLogSlope(p.map { ($0.layers, mean($0.values)) }) else {
        return Verdicts.notRun(claim, "fewer than three depths with ΔF before the LayerNorm")
    }
    let ok = sd.slope <= 0.6 && sd.slope <= sp.slope / 2
    return ClaimVerdict(claim, ok ? .reproduced : .notReproduced,
                        "log-log slope of the seed-mean early ‖ΔF‖ (before the last LN) against total layers: DeepNet \(fv(sd.slope, 3)) ± \(fv(sd.se, 3)), Post-LN \(fv(sp.slope, 3)) ± \(fv(sp.se, 3)) (need DeepNet ≤ 0.6 and ≤ half of Post-LN's)")
}

private func fig4PostLNGrows(_ r: ExperimentResults, _ claim: String) -> ClaimVerdict {
    let p = earlyUpdatesByDepth(r, method: "Post-LN")
    guard let sp = logLogSlope(p.map { ($0.layers, mean($0.values)) }) else { return Verdicts.notRun(claim, "fewer than three depths") }
    // The interval: slope ± 1.96 standard errors (normal approximation).
    return ClaimVerdict(claim, sp.slope - 1.96 * sp.se > 0 ? .reproduced : .notReproduced,
                        "Post-LN early ‖ΔF‖ (before the last LN) by depth: \(describe(p)); log-log slope \(fv(sp.slope, 3)) ± \(fv(sp.se, 3)) (need slope − 1.96·SE > 0)")
}

/// What Fig. 4's numbers show: how the early update grows with depth for both methods.
private func fig4Summary(_ r: ExperimentResults) -> String {
    let d = earlyUpdatesByDepth(r, method: "DeepNet"), p = earlyUpdatesByDepth(r, method: "Post-LN")
    guard r.isComplete, let sd = logLogSlope(d.map { ($0.layers, mean($0.values)) }), let sp = logLogSlope(p.map { ($0.layers, mean($0.values)) }),
          let lo = d.first, let hi = d.last, let plo = p.first, let phi = p.last else { return "" }
    return "Early update before the last LN, seed mean, \(lo.label) → \(hi.label): Post-LN \(fv(mean(plo.values), 2)) → \(fv(mean(phi.values), 2)) (log-log slope \(fv(sp.slope, 2))), DeepNet \(fv(mean(lo.values), 2)) → \(fv(mean(hi.values), 2)) (slope \(fv(sd.slope, 2)))."
}
