// Fig. 4: model updates of Post-LN and DeepNet early in training, 64-128-2 tiny Transformers, 6L-6L … 100L-100L.
import DeepNetData
import DeepNetHarness

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
    renders: [.diagnostic(.modelUpdate, series: "method", panels: "depth", logY: true)],
    profiles: [
        .smoke: .runs(RunGrid(base: Base.earlyStage(Base.smokeTranslation, steps: 10, every: 2),
                              axes: [Axis("method", methods), Axis("depth", [L.depth(1), L.depth(4)])]), notes: ["Synthetic data, d = 32."]),
        // 100 steps of 512 target tokens (warm-up 100): the 100L-100L runs dominate (~8 min each on one core).
        .reduced: .runs(RunGrid(base: Base.earlyStage(with(Base.reducedIWSLT) { $0.training.batchTokens = 512 }, steps: 100, every: 5),
                                axes: [Axis("method", methods), Axis("depth", [L.depth(6), L.depth(12), L.depth(24), L.depth(50), L.depth(100)])]),
                        data: RealData.iwslt,
                        notes: ["The paper's own tiny configuration (64-128-2); depths 6/12/24/50/100; the first 100 steps (the linear warm-up to lr 1.5e-3) of 512-token batches, ‖ΔF‖ every 5 steps; IWSLT14-mini instead of full IWSLT-14.", "F is the final decoder hidden state, a LayerNorm output in both Post-LN and DeepNet, so ‖ΔF‖ saturates near √(2d) ≈ 11 (Post-LN within ~10 steps, DeepNet within ~25 at 100L); the verdicts therefore compare the first recorded update (step 5), not the peak."]),
        .paper: .runs(RunGrid(base: Base.earlyStage(Base.paperTiny, steps: 1000, every: 10),
                              axes: [Axis("method", methods), Axis("depth", [L.depth(6), L.depth(12), L.depth(24), L.depth(50), L.depth(100)])]),
                      notes: Base.paperIWSLTNotes + ["Paper text: 64-128-2 tiny Transformers, 6L-6L to 100L-100L. Not in the text: the intermediate depths (12/24/50 assumed) and the length of the early stage (1,000 steps assumed)."]),
    ],
    verdict: { r in
        instrumentVerdicts(r, [
            ("DeepNet's early model update is nearly constant across depth.", .modelUpdate, fig4DeepNetConstant),
            ("Post-LN's early model update grows with depth (explodes).", .modelUpdate, fig4PostLNGrows),
        ])
    }
)

// MARK: verdict rules (computed from recorded instrument data only; each states its criterion in its evidence)

private func fig4DeepNetConstant(_ r: ExperimentResults, _ claim: String) -> ClaimVerdict {
    let p = firstUpdatesByDepth(r, method: "DeepNet")
    guard p.count >= 2, let lo = p.map(\.1).min(), let hi = p.map(\.1).max(), lo > 0 else { return Verdicts.notRun(claim, "fewer than two depths") }
    return ClaimVerdict(claim, hi / lo <= 2 ? .reproduced : .notReproduced,
                        "DeepNet ‖ΔF‖ at \(stepLabel(r)) by depth: " + p.map { "\($0.0) \(fv($0.1))" }.joined(separator: ", ") + "; max/min \(fv(hi / lo, 2)) (need ≤ 2)")
}

private func fig4PostLNGrows(_ r: ExperimentResults, _ claim: String) -> ClaimVerdict {
    let p = firstUpdatesByDepth(r, method: "Post-LN"), q = firstUpdatesByDepth(r, method: "DeepNet")
    guard p.count >= 2, let first = p.first?.1, let last = p.last?.1, first > 0 else { return Verdicts.notRun(claim, "fewer than two depths") }
    let ratio = last / first
    let deepRatio = q.count >= 2 && q.first!.1 > 0 ? q.last!.1 / q.first!.1 : 1
    return ClaimVerdict(claim, ratio >= 1.5 && ratio > deepRatio ? .reproduced : .notReproduced,
                        "Post-LN ‖ΔF‖ at \(stepLabel(r)) by depth: " + p.map { "\($0.0) \(fv($0.1))" }.joined(separator: ", ")
                        + "; deepest/shallowest \(fv(ratio, 2)) (need ≥ 1.5 and > DeepNet's \(fv(deepRatio, 2)))")
}
