// Fig. 3: model update, LN input norms and decoder gradient norms of 18L-18L models early in training.
import DeepNetData
import DeepNetHarness

private let variants: [Level] = [
    L.custom("Post-LN w/o warm-up", [.set(\.model.method, Method.postLN, as: "model.method"), .set(\.optimizer.warmupUpdates, 0, as: "optimizer.warmupUpdates")]),
    L.custom("Post-LN", [.set(\.model.method, Method.postLN, as: "model.method")]),
    L.custom("Post-LN-init", [.set(\.model.method, Method.postLNInit, as: "model.method")]),
    L.custom("Post-LN-init w/o warm-up", [.set(\.model.method, Method.postLNInit, as: "model.method"), .set(\.optimizer.warmupUpdates, 0, as: "optimizer.warmupUpdates")]),
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
        .diagnosticArray(.modelUpdate, array: "delta_f_pre_ln", series: "variant", logY: true),
        .diagnostic(.modelUpdate, series: "variant", logY: true),
        .diagnostic(.lnInputNorm, series: "variant", logY: true),
        .diagnostic(.gradientNormPerLayer, series: "variant", logY: true),
        .curves(.trainLoss, series: "variant"),
    ],
    profiles: [
        .smoke: .runs(RunGrid(base: Base.earlyStage(with(Base.smokeTranslation) { $0.model.encoderLayers = 2; $0.model.decoderLayers = 2 }, steps: 10, every: 2),
                              axes: [Axis("variant", variants)]), notes: ["Synthetic data, d = 32, 2L-2L, 10 steps."]),
        // Pre-registered (docs/preregistration.md, Fig. 3): 300 steps; Post-LN-init also without warm-up (§II separates the two).
        .reduced: .runs(RunGrid(base: Base.earlyStage(with(Base.reducedIWSLT) {
            $0.model.encoderLayers = 18; $0.model.decoderLayers = 18; $0.training.batchTokens = 1024
        }, steps: 300, every: 5), axes: [Axis("variant", variants)]), data: RealData.iwslt,
                        notes: ["18L-18L at d = 64 (√d = 8) instead of 512; the first 300 steps of 1,024-token batches, diagnostics every 5 steps; warm-up 100 steps where used; IWSLT14-mini.",
                                "The model update is judged on the decoder's top residual stream before its last LayerNorm (the LayerNorm output saturates near √(2d))."]),
        .paper: .runs(RunGrid(base: Base.earlyStage(with(Base.paperIWSLT) {
            $0.model.encoderLayers = 18; $0.model.decoderLayers = 18
        }, steps: 1000, every: 10), axes: [Axis("variant", variants)]),
                      notes: Base.paperIWSLTNotes + ["Not in the text: the legend of Fig. 3 (three variants assumed from §II: Post-LN with and without warm-up, Post-LN-init) and the length of the early stage (1,000 steps assumed)."]),
    ],
    summary: { r, _ in fig3Summary(r) },
    verdict: { r in
        instrumentVerdicts(r, [
            ("Post-LN without warm-up has an exploding model update at the beginning of training.", .modelUpdate, fig3ExplodingUpdate),
            ("Without warm-up the LN inputs grow far beyond their starting size and the warm-up run's.", .lnInputNorm, fig3LNInputs),
            ("Post-LN without warm-up suffers vanishing gradients in the decoder layers.", .gradientNormPerLayer, fig3Vanishing),
            ("A better initialization alone (Post-LN-init without warm-up) keeps the first update smaller than Post-LN's.", .modelUpdate, fig3InitWithoutWarmup),
        ])
    }
)

// MARK: verdict rules (docs/preregistration.md, Fig. 3; computed from recorded instrument data only)

private let noWarmup = "Post-LN w/o warm-up"

private func fig3ExplodingUpdate(_ r: ExperimentResults, _ claim: String) -> ClaimVerdict {
    guard let a = rec(r, ["variant": noWarmup]), let b = rec(r, ["variant": "Post-LN"]) else { return Verdicts.notRun(claim, "missing runs") }
    guard let fa = InstrumentSummaries.firstModelUpdatePreLN(a), let fb = InstrumentSummaries.firstModelUpdatePreLN(b) else {
        return Verdicts.notRun(claim, "no model update before the LayerNorm recorded")
    }
    return ClaimVerdict(claim, fa >= 2 * fb ? .reproduced : .notReproduced,
                        "‖ΔF‖ before the last LN at \(stepLabel(r)): w/o warm-up \(fv(fa)), with warm-up \(fv(fb)) (need ≥ 2×); peaks \(fv(InstrumentSummaries.peakModelUpdatePreLN(a))) vs \(fv(InstrumentSummaries.peakModelUpdatePreLN(b)))")
}

private func fig3LNInputs(_ r: ExperimentResults, _ claim: String) -> ClaimVerdict {
    guard let a = rec(r, ["variant": noWarmup]), let b = rec(r, ["variant": "Post-LN"]) else { return Verdicts.notRun(claim, "missing runs") }
    let la = InstrumentSummaries.lnMean(a, stack: "decoder").filter(\.isFinite), lb = InstrumentSummaries.lnMean(b, stack: "decoder").filter(\.isFinite)
    guard let start = la.first, let peak = la.max(), let peakB = lb.max(), start > 0, peakB > 0 else { return Verdicts.notRun(claim, "missing LN input norms") }
    let ok = peak >= 2 * start && peak >= 2 * peakB
    return ClaimVerdict(claim, ok ? .reproduced : .notReproduced,
                        "mean decoder LN input ‖x‖₂ of Post-LN w/o warm-up: first recorded \(fv(start)), peak \(fv(peak)) (\(fv(peak / start, 2))×, need ≥ 2×); peak with warm-up \(fv(peakB)) (ratio \(fv(peak / peakB, 2)), need ≥ 2); √d = \(fv(Double(a.config.model.embedDim).squareRoot()))")
}

/// Mean gradient norm of the bottom third of the decoder layers over the recorded steps in the second half.
private func lateBottomGradient(_ x: RunRecord) -> Double? {
    guard let arr = InstrumentSummaries.arr(x, .gradientNormPerLayer, "decoder.layer") else { return nil }
    let rows = InstrumentDiagnostics.rows(arr)
    guard rows.count >= 2, let w = rows.first?.count, w > 0 else { return nil }
    let late = rows[(rows.count / 2)...], k = max(1, w / 3)
    let v = late.flatMap { $0.prefix(k) }.filter(\.isFinite)
    return v.isEmpty ? nil : v.reduce(0, +) / Double(v.count)
}

private func fig3Vanishing(_ r: ExperimentResults, _ claim: String) -> ClaimVerdict {
    guard let a = rec(r, ["variant": noWarmup]).flatMap(lateBottomGradient), let b = rec(r, ["variant": "Post-LN"]).flatMap(lateBottomGradient) else {
        return Verdicts.notRun(claim, "missing gradient norms")
    }
    return ClaimVerdict(claim, a <= 0.5 * b ? .reproduced : .notReproduced,
                        "mean gradient norm of the bottom third of the decoder layers over the second half of the recorded steps: w/o warm-up \(String(format: "%.3g", a)), with warm-up \(String(format: "%.3g", b)), ratio \(fv(a / b, 2)) (need ≤ 0.5)")
}

private func fig3InitWithoutWarmup(_ r: ExperimentResults, _ claim: String) -> ClaimVerdict {
    guard let a = rec(r, ["variant": "Post-LN-init w/o warm-up"]).flatMap(InstrumentSummaries.firstModelUpdatePreLN),
          let b = rec(r, ["variant": noWarmup]).flatMap(InstrumentSummaries.firstModelUpdatePreLN) else { return Verdicts.notRun(claim, "missing runs") }
    return ClaimVerdict(claim, a < b ? .reproduced : .notReproduced,
                        "‖ΔF‖ before the last LN at \(stepLabel(r)) without warm-up: Post-LN-init \(fv(a)), Post-LN \(fv(b)) (need Post-LN-init smaller)")
}

/// What Fig. 3's numbers show: the first update, LN-input growth and bottom-decoder gradients without warm-up.
private func fig3Summary(_ r: ExperimentResults) -> String {
    guard r.isComplete, let a = rec(r, ["variant": noWarmup]), let b = rec(r, ["variant": "Post-LN"]),
          let fa = InstrumentSummaries.firstModelUpdatePreLN(a), let fb = InstrumentSummaries.firstModelUpdatePreLN(b), fb > 0,
          let fi = rec(r, ["variant": "Post-LN-init w/o warm-up"]).flatMap(InstrumentSummaries.firstModelUpdatePreLN) else { return "" }
    let la = InstrumentSummaries.lnMean(a, stack: "decoder").filter(\.isFinite)
    let growth = la.first.flatMap { s in la.max().map { $0 / s } }
    let grad = lateBottomGradient(a).flatMap { x in lateBottomGradient(b).map { x / $0 } }
    return "Without warm-up Post-LN's first update is \(fv(fa / fb, 1))× the warm-up run's (\(fv(fa, 1)) vs \(fv(fb, 1))) and Post-LN-init's is \(fv(fi, 1)); its decoder LN inputs grow \(fv(growth, 2))× from their start; its bottom decoder layers get \(fv(grad, 2))× the warm-up run's gradient."
}
