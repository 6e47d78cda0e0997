// Fig. 5: loss landscapes and optimization trajectories of DeepNet and Post-LN at three depths.
import DeepNetData
import DeepNetHarness

private let methods = [L.method("DeepNet", Method.deepNorm), L.method("Post-LN", Method.postLN)]

let fig5 = Experiment(
    id: "fig5",
    title: "Loss landscape and trajectory of DeepNet and vanilla Post-LN at the early stage of training",
    artifact: .figure(5),
    claim: "Post-LN's loss landscape becomes less smooth as depth grows and its trajectory gets stuck in a spurious local optimum, while DeepNet keeps a consistently smooth landscape across depths.",
    paper: PaperNumbers(statements: [
        PaperStatement("Fig. 5 presents that the loss landscape of vanilla Post-LN is less smooth with the increasing model depth, while our model tends to have consistent smoothness across different depth. Besides, vanilla Post-LN is easier to be stuck in a spurious local optima", section: "III-C"),
        PaperStatement("Fig. 5. Loss landscape and trajectory of DeepNet (a)–(c) and vanilla Post-LN (d)–(f) at the early stage of training. The visualization is conducted on 64-128-2 tiny Transformers with varying depth.", section: "caption"),
    ]),
    paperSetup: "IWSLT-14 De-En, 64-128-2 tiny Transformers at three depths, landscape and trajectory following Hao et al. [30].",
    measured: "2-D loss landscape around the early-stage parameters and the PCA projection of the optimization trajectory, per method and depth.",
    measurements: [.lossLandscape2D, .trajectoryPCA],
    renders: [
        .diagnostic(.lossLandscape2D, series: "method", panels: "depth"),
        .diagnostic(.trajectoryPCA, series: "method", panels: "depth"),
    ],
    profiles: [
        .smoke: .runs(RunGrid(base: Base.earlyStage(Base.smokeTranslation, steps: 10, every: 5),
                              axes: [Axis("method", methods), Axis("depth", [L.depth(1), L.depth(3)])]), notes: ["Synthetic data, d = 32, 5×5 grid."]),
        // Pre-registered (docs/preregistration.md, Fig. 5): depths 6/18/50 over three direction seeds.
        .reduced: .runs(RunGrid(base: Base.earlyStage(with(Base.reducedIWSLT) { $0.diagnostics.landscapeResolution = 13; $0.training.batchTokens = 512 }, steps: 100, every: 20),
                                axes: [Axis("method", methods), Axis("depth", [L.depth(6), L.depth(18), L.depth(50)]),
                                       Axis("directions", [123, 124, 125].map { s in
                                           Level("seed \(s)", [.set(\.diagnostics.landscapeSeed, s, as: "diagnostics.landscapeSeed")]) })]),
                        data: RealData.iwslt,
                        notes: ["The paper's 64-128-2 configuration at 6L-6L, 18L-18L and 50L-50L (the paper's depths are not stated); the first 100 steps of 512-token batches (warm-up 100), checkpoints every 20 steps for the trajectory; 13×13 grid on two fixed training batches, three seeds of the random directions (the same training); IWSLT14-mini."]),
        .paper: .runs(RunGrid(base: Base.earlyStage(with(Base.paperTiny) { $0.diagnostics.landscapeResolution = 51 }, steps: 1000, every: 50),
                              axes: [Axis("method", methods), Axis("depth", [L.depth(6), L.depth(18), L.depth(50)])]),
                      notes: Base.paperIWSLTNotes + ["Not in the text: the three depths (6L-6L, 18L-18L, 50L-50L assumed), the early-stage length and the grid."]),
    ],
    summary: { r, _ in fig5Summary(r) },
    verdict: { r in
        instrumentVerdicts(r, [
            ("Post-LN's landscape gets rougher with depth.", .lossLandscape2D, fig5Roughness),
            ("DeepNet's landscape is at least as smooth as Post-LN's at every depth.", .lossLandscape2D, fig5DeepNetSmoother),
            ("DeepNet's landscape stays consistently smooth across depths.", .lossLandscape2D, fig5Consistent),
            ("Post-LN's trajectory stalls in a spurious local optimum.", .trajectoryPCA, fig5Stall),
        ])
    }
)

// MARK: verdict rules (computed from recorded instrument data only; each states its criterion in its evidence)

/// Roughness per direction seed of one (method, depth).
private func roughnessBySeed(_ r: ExperimentResults, _ m: String, _ d: String) -> [Double] {
    r.entries(["method": m, "depth": d]).compactMap { $0.record.flatMap(InstrumentSummaries.roughness) }
}
private func median(_ v: [Double]) -> Double? {
    guard !v.isEmpty else { return nil }
    let s = v.sorted(); return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
}
private func seedList(_ v: [Double]) -> String { v.map { fv($0, 4) }.joined(separator: "/") }

private func fig5Roughness(_ r: ExperimentResults, _ claim: String) -> ClaimVerdict {
    let ds = numericLevels(r, "depth")
    guard let lo = ds.first, let hi = ds.last, lo != hi, let a = median(roughnessBySeed(r, "Post-LN", lo)), let b = median(roughnessBySeed(r, "Post-LN", hi)) else {
        return Verdicts.notRun(claim, "Post-LN surfaces missing at two depths")
    }
    return ClaimVerdict(claim, b >= 1.5 * a ? .reproduced : .notReproduced,
                        "Post-LN roughness (median over direction seeds): \(lo) \(fv(a, 4)), \(hi) \(fv(b, 4)); ratio \(fv(b / a, 2)) (need ≥ 1.5); per depth and seed: " + ds.map { "\($0) \(seedList(roughnessBySeed(r, "Post-LN", $0)))" }.joined(separator: ", "))
}

private func fig5DeepNetSmoother(_ r: ExperimentResults, _ claim: String) -> ClaimVerdict {
    var ok = true, parts: [String] = [], n = 0
    for d in numericLevels(r, "depth") {
        for e in r.entries(["method": "DeepNet", "depth": d]) {
            guard let seed = e.coordinates["directions"], let x = e.record.flatMap(InstrumentSummaries.roughness),
                  let y = r.record(["method": "Post-LN", "depth": d, "directions": seed]).flatMap(InstrumentSummaries.roughness) else { continue }
            n += 1
            if x > y { ok = false }
            parts.append("\(d) \(seed): DeepNet \(fv(x, 4)) vs Post-LN \(fv(y, 4))")
        }
    }
    guard n > 0 else { return Verdicts.notRun(claim, "no depth and seed with both surfaces") }
    return ClaimVerdict(claim, ok ? .reproduced : .notReproduced, parts.joined(separator: "; ") + " (need DeepNet ≤ Post-LN everywhere)")
}

private func fig5Consistent(_ r: ExperimentResults, _ claim: String) -> ClaimVerdict {
    let v = numericLevels(r, "depth").compactMap { d in median(roughnessBySeed(r, "DeepNet", d)).map { (d, $0) } }
    guard v.count >= 2, let lo = v.map(\.1).min(), let hi = v.map(\.1).max(), lo > 0 else { return Verdicts.notRun(claim, "DeepNet surfaces missing at two depths") }
    return ClaimVerdict(claim, hi / lo < 2 ? .reproduced : .notReproduced,
                        "DeepNet roughness (median over direction seeds): " + v.map { "\($0.0) \(fv($0.1, 4))" }.joined(separator: ", ") + "; max/min \(fv(hi / lo, 2)) (need < 2)")
}

private func fig5Stall(_ r: ExperimentResults, _ claim: String) -> ClaimVerdict {
    guard let hi = numericLevels(r, "depth").last,
          // The trajectory does not depend on the direction seed (the same training): the first seed's run is read.
          let p = rec(r, ["method": "Post-LN", "depth": hi]).flatMap(InstrumentSummaries.trajectoryStats),
          let d = rec(r, ["method": "DeepNet", "depth": hi]).flatMap(InstrumentSummaries.trajectoryStats) else {
        return Verdicts.notRun(claim, "missing trajectories")
    }
    return ClaimVerdict(claim, p.lateShare < d.lateShare ? .reproduced : .notReproduced,
                        "\(hi): share of the PCA path travelled in the second half of the early stage: Post-LN \(fv(p.lateShare * 100, 1)) %, DeepNet \(fv(d.lateShare * 100, 1)) %; final loss Post-LN \(fv(p.finalLoss)), DeepNet \(fv(d.finalLoss))")
}

/// What Fig. 5's numbers show: roughness over depth for both methods (medians over direction seeds) and the trajectories.
private func fig5Summary(_ r: ExperimentResults) -> String {
    let ds = numericLevels(r, "depth")
    guard r.isComplete, let hi = ds.last,
          let p = rec(r, ["method": "Post-LN", "depth": hi]).flatMap(InstrumentSummaries.trajectoryStats),
          let d = rec(r, ["method": "DeepNet", "depth": hi]).flatMap(InstrumentSummaries.trajectoryStats) else { return "" }
    func row(_ m: String) -> String { ds.map { fv(median(roughnessBySeed(r, m, $0)), 3) }.joined(separator: " / ") }
    return "Roughness at \(ds.joined(separator: " / ")) (median over direction seeds): Post-LN \(row("Post-LN")), DeepNet \(row("DeepNet")); at \(hi) Post-LN travels \(fv(p.lateShare * 100, 0)) % of its PCA path in the second half of the early stage, DeepNet \(fv(d.lateShare * 100, 0)) %."
}
