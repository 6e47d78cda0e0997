// Fig. 3: model update, LN input norms and decoder gradient norms of 18L-18L models early in training.
import DeepNetData
import DeepNetHarness

private let variants: [Level] = [
    L.custom("Post-LN w/o warm-up", [.set(\.model.method, Method.postLN, as: "model.method"), .set(\.optimizer.warmupUpdates, 0, as: "optimizer.warmupUpdates")]),
    L.custom("Post-LN", [.set(\.model.method, Method.postLN, as: "model.method")]),
    L.custom("Post-LN-init", [.set(\.model.method, Method.postLNInit, as: "model.method")]),
]

let fig3 = Experiment(
    id: "fig3",
    title: "Model update, average LN input and gradient norms of 18L-18L models early in training",
    artifact: .figure(3),
    claim: "Post-LN's instability starts with an exploding model update ‖ΔF‖ at the very beginning of training, which inflates the inputs to LayerNorm far beyond √d and causes vanishing gradients; warm-up or a better initialization (Post-LN-init) keeps updates and LN inputs small.",
    paper: PaperNumbers(statements: [
        PaperStatement("Post-LN has an exploding update at the very beginning of training, and then nearly no update shortly. It indicates that the model has been stuck in a spurious local optima. Both warm-up and better initialization help alleviate this issue", section: "II"),
        PaperStatement("Fig. 3(b) and (c) show that ‖x‖₂ is significantly larger than √d (d = 512) without warm-up or proper initialization.", section: "II"),
        PaperStatement("Fig. 3. Visualization of the model update, the average input of LNs, and the gradients for the 18L-18L models at the early stage of training. (d) Gradient norm in all decoder layers.", section: "caption"),
    ]),
    paperSetup: "IWSLT-14 De-En, 18L-18L, d = 512, early stage of training; Post-LN with and without warm-up, Post-LN-init.",
    measured: "‖F(x, θᵢ) − F(x, θ₀)‖₂ on a fixed batch, the average ‖x‖₂ of the inputs to the FFN and attention LNs, and gradient norms of all decoder layers.",
    measurements: [.modelUpdate, .lnInputNorm, .gradientNormPerLayer],
    renders: [
        .diagnostic(.modelUpdate, series: "variant", logY: true),
        .diagnostic(.lnInputNorm, series: "variant", logY: true),
        .diagnostic(.gradientNormPerLayer, series: "variant", logY: true),
        .curves(.trainLoss, series: "variant"),
    ],
    profiles: [
        .smoke: .runs(RunGrid(base: Base.earlyStage(with(Base.smokeTranslation) { $0.model.encoderLayers = 2; $0.model.decoderLayers = 2 }, steps: 10, every: 2),
                              axes: [Axis("variant", variants)]), notes: ["Synthetic data, d = 32, 2L-2L, 10 steps."]),
        .reduced: .runs(RunGrid(base: Base.earlyStage(with(Base.reducedIWSLT) {
            // 200 steps of 1,024 tokens: ~5 min per run on one core; the claims concern the first updates.
            $0.model.encoderLayers = 18; $0.model.decoderLayers = 18; $0.training.batchTokens = 1024
        }, steps: 200, every: 5), axes: [Axis("variant", variants)]), data: RealData.iwslt,
                        notes: ["18L-18L at d = 64 (√d = 8) instead of 512; the first 200 steps of 1,024-token batches, diagnostics every 5 steps; warm-up 100 steps where used; IWSLT14-mini."]),
        .paper: .runs(RunGrid(base: Base.earlyStage(with(Base.paperIWSLT) {
            $0.model.encoderLayers = 18; $0.model.decoderLayers = 18
        }, steps: 1000, every: 10), axes: [Axis("variant", variants)]),
                      notes: Base.paperIWSLTNotes + ["Not in the text: the legend of Fig. 3 (three variants assumed from §II: Post-LN with and without warm-up, Post-LN-init) and the length of the early stage (1,000 steps assumed)."]),
    ],
    verdict: { r in
        instrumentVerdicts(r, [
            ("Post-LN without warm-up has an exploding model update at the beginning of training, then almost none.", .modelUpdate, fig3ExplodingUpdate),
            ("Without warm-up or proper initialization the LN inputs grow far beyond √d.", .lnInputNorm, fig3LNInputs),
            ("Post-LN without warm-up suffers vanishing gradients in the decoder layers.", .gradientNormPerLayer, fig3Vanishing),
        ])
    }
)

// MARK: verdict rules (computed from recorded instrument data only; each states its criterion in its evidence)

private let noWarmup = "Post-LN w/o warm-up"

private func fig3ExplodingUpdate(_ r: ExperimentResults, _ claim: String) -> ClaimVerdict {
    guard let a = rec(r, ["variant": noWarmup]), let b = rec(r, ["variant": "Post-LN"]) else { return Verdicts.notRun(claim, "missing runs") }
    let u = InstrumentSummaries.modelUpdate(a).filter(\.isFinite)
    guard u.count >= 4, let fa = InstrumentSummaries.firstModelUpdate(a), let fb = InstrumentSummaries.firstModelUpdate(b) else {
        return Verdicts.notRun(claim, "too few model-update points")
    }
    let mid = u[u.count / 2], last = u.last!
    let growth = mid > 0 ? (last - mid) / mid : .infinity
    let ok = fa >= 2 * fb && growth < 0.2
    return ClaimVerdict(claim, ok ? .reproduced : .notReproduced,
                        "‖ΔF‖ at \(stepLabel(r)): w/o warm-up \(fv(fa)), Post-LN \(fv(fb)) (need ≥ 2×); peaks \(fv(u.max())) vs \(fv(InstrumentSummaries.peakModelUpdate(b))); growth over the second half of the steps \(fv(growth * 100, 1)) % (need < 20 %)")
}

private func fig3LNInputs(_ r: ExperimentResults, _ claim: String) -> ClaimVerdict {
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
                        "peak mean decoder LN input ‖x‖₂: " + peaks.map { "\($0.0) \(fv($0.1))" }.joined(separator: ", ") + "; √d = \(fv(sqrtD)) (need the largest and ≥ 1.5·√d)")
}

private func fig3Vanishing(_ r: ExperimentResults, _ claim: String) -> ClaimVerdict {
    var vals: [(String, Double)] = []
    for v in r.levels("variant") {
        guard let x = rec(r, ["variant": v]) else { continue }
        let g = InstrumentSummaries.layerGradNorms(x, stack: "decoder").filter(\.isFinite)
        if !g.isEmpty { vals.append((v, g.reduce(0, +) / Double(g.count))) }
    }
    guard let mine = vals.first(where: { $0.0 == noWarmup })?.1, vals.count >= 2 else { return Verdicts.notRun(claim, "missing gradient norms") }
    let ok = vals.allSatisfy { $0.1 >= mine }
    return ClaimVerdict(claim, ok ? .reproduced : .notReproduced,
                        "mean decoder-layer gradient norm at the last recorded step: " + vals.map { "\($0.0) \(fv($0.1, 4))" }.joined(separator: ", "))
}
