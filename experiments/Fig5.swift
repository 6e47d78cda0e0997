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
        // 6/12/24 rather than 6/18/50: a 50L-50L surface costs ~15 min per method here (2 × 441 forward passes).
        .reduced: .runs(RunGrid(base: Base.earlyStage(with(Base.reducedIWSLT) { $0.diagnostics.landscapeResolution = 13; $0.training.batchTokens = 512 }, steps: 100, every: 20),
                                axes: [Axis("method", methods), Axis("depth", [L.depth(6), L.depth(12), L.depth(24)])]),
                        data: RealData.iwslt,
                        notes: ["The paper's 64-128-2 configuration at 6L-6L, 12L-12L and 24L-24L (the paper's depths are not stated); the first 100 steps of 512-token batches (warm-up 100), checkpoints every 20 steps for the trajectory; 13×13 grid on two fixed training batches; IWSLT14-mini."]),
        .paper: .runs(RunGrid(base: Base.earlyStage(with(Base.paperTiny) { $0.diagnostics.landscapeResolution = 51 }, steps: 1000, every: 50),
                              axes: [Axis("method", methods), Axis("depth", [L.depth(6), L.depth(18), L.depth(50)])]),
                      notes: Base.paperIWSLTNotes + ["Not in the text: the three depths (6L-6L, 18L-18L, 50L-50L assumed), the early-stage length and the grid."]),
    ],
    verdict: { r in
        instrumentVerdicts(r, [
            ("Post-LN's landscape gets rougher with depth; DeepNet's stays smooth.", .lossLandscape2D, fig5Roughness),
            ("Post-LN's trajectory stalls in a spurious local optimum.", .trajectoryPCA, fig5Stall),
        ])
    }
)

// MARK: verdict rules (computed from recorded instrument data only; each states its criterion in its evidence)

private func fig5Roughness(_ r: ExperimentResults, _ claim: String) -> ClaimVerdict {
    let ds = numericLevels(r, "depth")
    guard let lo = ds.first, let hi = ds.last, lo != hi else { return Verdicts.notRun(claim, "fewer than two depths") }
    func rough(_ m: String, _ d: String) -> Double? { rec(r, ["method": m, "depth": d]).flatMap(InstrumentSummaries.roughness) }
    guard let pLo = rough("Post-LN", lo), let pHi = rough("Post-LN", hi), let dHi = rough("DeepNet", hi) else {
        return Verdicts.notRun(claim, "a surface is missing (diverged run or not recorded)")
    }
    let all = ds.map { d in "\(d): DeepNet \(fv(rough("DeepNet", d), 4)), Post-LN \(fv(rough("Post-LN", d), 4))" }
    return ClaimVerdict(claim, pHi > pLo && dHi < pHi ? .reproduced : .notReproduced,
                        "roughness " + all.joined(separator: "; ") + " (need Post-LN rougher at \(hi) than at \(lo), and DeepNet smoother than Post-LN at \(hi))")
}

private func fig5Stall(_ r: ExperimentResults, _ claim: String) -> ClaimVerdict {
    guard let hi = numericLevels(r, "depth").last,
          let p = rec(r, ["method": "Post-LN", "depth": hi]).flatMap(InstrumentSummaries.trajectoryStats),
          let d = rec(r, ["method": "DeepNet", "depth": hi]).flatMap(InstrumentSummaries.trajectoryStats) else {
        return Verdicts.notRun(claim, "missing trajectories")
    }
    return ClaimVerdict(claim, p.lateShare < d.lateShare ? .reproduced : .notReproduced,
                        "\(hi): share of the PCA path travelled in the second half of the early stage: Post-LN \(fv(p.lateShare * 100, 1)) %, DeepNet \(fv(d.lateShare * 100, 1)) %; final loss Post-LN \(fv(p.finalLoss)), DeepNet \(fv(d.finalLoss))")
}
