// Fig. 2: gradient norms and validation loss of Post-LN vs Post-LN-init.
import DeepNetData
import DeepNetHarness

private let methods = [L.method("Post-LN", Method.postLN), L.method("Post-LN-init", Method.postLNInit), L.method("DeepNet", Method.deepNorm)]

let fig2 = Experiment(
    id: "fig2",
    title: "Gradient norms (top layers, last layer vs depth) and validation loss of Post-LN and Post-LN-init",
    artifact: .figure(2),
    claim: "Post-LN-init converges at 18L-18L while Post-LN does not, although Post-LN-init has larger gradient norms in the top layers at every depth from 6L-6L to 24L-24L — so exploding gradients are not the root cause of Post-LN's instability.",
    paper: PaperNumbers(statements: [
        PaperStatement("As shown in Fig. 2(c), Post-LN-init converged while Post-LN did not. Post-LN-init has an even larger gradient norm in the last several layers, although its weights have been scaled down.", section: "II"),
        PaperStatement("the gradient norm of Post-LN-init in the last layer is still much larger than that of Post-LN, regardless of model depth", section: "II"),
        PaperStatement("Fig. 2. (a) Gradient norm in the top layers of 18L-18L models. (b) Gradient norm in the last layer of the models with depths varying from 6L-6L to 24L-24L. (c) Validation loss curves of 18L-18L models.", section: "caption"),
    ]),
    paperSetup: "IWSLT-14 De-En; Post-LN vs Post-LN-init (Xavier, then layer l scaled by 1/(N−l+1)); 18L-18L and 6L-6L … 24L-24L.",
    measured: "Per-layer gradient norms (top layers, last decoder layer) and validation loss curves.",
    measurements: [.gradientNormPerLayer, .validLoss],
    renders: [
        .curves(.validLoss, series: "method", panels: "depth"),
        .diagnostic(.gradientNormPerLayer, series: "method", panels: "depth", logY: true),
    ],
    profiles: [
        .smoke: .runs(RunGrid(base: Base.smokeTranslation, axes: [Axis("method", methods), Axis("depth", [L.depth(1), L.depth(3)])]),
                      notes: ["Synthetic data, d = 32, 1L-1L and 3L-3L."]),
        // Pre-registered (docs/preregistration.md, Fig. 2): 1M tokens; DeepNet at 18L-18L is the stall rule's reference.
        .reduced: .runs(RunGrid(base: with(Campaign.translation(steps: 1000, batch: 1024)) {
                                    $0.training.evalEvery = 50; $0.decode.beam = 0; $0.diagnostics.every = 10
                                },
                                axes: [Axis("method", methods), Axis("depth", [L.depth(6), L.depth(12), L.depth(18), L.depth(24)])],
                                include: { c in c["method"] != "DeepNet" || c["depth"] == "18L-18L" }),
                        data: RealData.deEn,
                        notes: ["The paper's depths (6L-6L … 24L-24L) with 64-128-2 tiny Transformers, 1,000 updates of 1,024 target tokens at lr 1.5e-3 with 40 warm-up updates, validation every 50 steps, gradient norms every 10; Multi30k de→en instead of IWSLT-14 (convergence is judged, so the larger training set). No BLEU (the figure has none).",
                                "DeepNet at 18L-18L is the reference of the stall rule (a run stalls when its best validation loss exceeds 1.25× DeepNet's); Post-LN-init is vanilla Post-LN's initialization with layer l divided by L − l + 1, so its top layer equals Post-LN's."]),
        .paper: .runs(RunGrid(base: with(Base.paperIWSLT) { $0.decode.beam = 0; $0.training.steps = 20_000 },
                              axes: [Axis("method", methods), Axis("depth", [L.depth(6), L.depth(12), L.depth(18), L.depth(24)])]),
                      notes: Base.paperIWSLTNotes + ["Not in the text: the depths between 6L-6L and 24L-24L (6/12/18/24 assumed) and the length of the validation curves (20k steps assumed)."]),
    ],
    summary: { r, _ in fig2Summary(r) },
    verdict: { r in
        [postLNInitConverges(r)] + instrumentVerdicts(r, [
            ("Post-LN-init has much larger gradient norms than Post-LN in the top layers (18L-18L; ≥ 1.5×).", .gradientNormPerLayer, fig2TopLayers),
            ("Post-LN-init's last-layer gradient norm exceeds Post-LN's at every depth.", .gradientNormPerLayer, fig2LastLayer),
        ])
    }
)

/// Fig. 2(c), rule G3 with DeepNet at 18L-18L as the reference: Post-LN-init trains, Post-LN fails.
private func postLNInitConverges(_ r: ExperimentResults) -> ClaimVerdict {
    let claim = "At 18L-18L Post-LN-init trains while Post-LN fails (diverges, or stalls above 1.25× DeepNet's best validation loss)."
    let a = ["method": "Post-LN-init", "depth": "18L-18L"], b = ["method": "Post-LN", "depth": "18L-18L"]
    for s in [a, b] { if let v = Verdicts.requireRuns(r, claim, s) { return v } }
    guard let (oa, ra) = outcome(r, a), let (ob, rb) = outcome(r, b) else { return Verdicts.notRun(claim, "missing runs") }
    return ClaimVerdict(claim, !oa.failedToTrain && ob.failedToTrain ? .reproduced : .notReproduced,
                        "Post-LN-init: \(oa.text(reference: ra)); Post-LN: \(ob.text(reference: rb))")
}

// MARK: verdict rules (computed from recorded instrument data only; each states its criterion in its evidence)

private func depthFor18(_ r: ExperimentResults) -> String? {
    let ds = numericLevels(r, "depth")
    return ds.contains("18L-18L") ? "18L-18L" : ds.last
}

/// Mean gradient norm of the top third of the decoder layers over the recorded steps (nil without gradient norms).
private func topThirdDecoderGradient(_ x: RunRecord) -> Double? {
    let g = InstrumentSummaries.meanLayerGradNorms(x, stack: "decoder").filter(\.isFinite)
    guard !g.isEmpty else { return nil }
    let k = max(1, (g.count + 2) / 3)
    return g.suffix(k).reduce(0, +) / Double(k)
}

private func fig2TopLayers(_ r: ExperimentResults, _ claim: String) -> ClaimVerdict {
    guard let d = depthFor18(r),
          let a = rec(r, ["method": "Post-LN-init", "depth": d]), let b = rec(r, ["method": "Post-LN", "depth": d]) else {
        return Verdicts.notRun(claim, "missing runs")
    }
    guard let ga = topThirdDecoderGradient(a), let gb = topThirdDecoderGradient(b) else { return Verdicts.notRun(claim, "no gradient norms recorded") }
    return ClaimVerdict(claim, ga >= 1.5 * gb ? .reproduced : .notReproduced,
                        "\(d), mean gradient norm of the top third of the decoder layers over the recorded steps: Post-LN-init \(fv(ga, 4)), Post-LN \(fv(gb, 4)); ratio \(fv(ga / gb, 2)) (need ≥ 1.5)")
}

private func fig2LastLayer(_ r: ExperimentResults, _ claim: String) -> ClaimVerdict {
    var ok = true, parts: [String] = [], n = 0
    for d in numericLevels(r, "depth") {
        guard let a = rec(r, ["method": "Post-LN-init", "depth": d]), let b = rec(r, ["method": "Post-LN", "depth": d]),
              let ga = InstrumentSummaries.meanLayerGradNorms(a, stack: "decoder").last,
              let gb = InstrumentSummaries.meanLayerGradNorms(b, stack: "decoder").last else { continue }
        n += 1
        ok = ok && ga >= 1.2 * gb
        parts.append("\(d): \(fv(ga, 4)) vs \(fv(gb, 4)) (\(fv(ga / gb, 2))×)")
    }
    if n == 0 { return Verdicts.notRun(claim, "no depth has both runs with gradient norms") }
    return ClaimVerdict(claim, ok ? .reproduced : .notReproduced,
                        "last decoder layer, mean gradient norm (Post-LN-init vs Post-LN): " + parts.joined(separator: "; ") + " (need ≥ 1.2× at every depth)")
}

/// What Fig. 2's numbers show: who trains at 18L, the top-layer gradient ratio there, and the last-layer ratio by depth.
private func fig2Summary(_ r: ExperimentResults) -> String {
    guard r.isComplete, let d = depthFor18(r),
          let a = rec(r, ["method": "Post-LN-init", "depth": d]), let b = rec(r, ["method": "Post-LN", "depth": d]) else { return "" }
    let last = numericLevels(r, "depth").compactMap { dd -> String? in
        guard let x = rec(r, ["method": "Post-LN-init", "depth": dd]).flatMap({ InstrumentSummaries.meanLayerGradNorms($0, stack: "decoder").last }),
              let y = rec(r, ["method": "Post-LN", "depth": dd]).flatMap({ InstrumentSummaries.meanLayerGradNorms($0, stack: "decoder").last }), y > 0 else { return nil }
        return "\(dd) \(fv(x / y, 2))×"
    }
    let ratio = topThirdDecoderGradient(a).flatMap { x in topThirdDecoderGradient(b).map { x / $0 } }
    return "At \(d) the best validation loss is \(fv(b.metrics.bestValidLoss, 2)) for Post-LN and \(fv(a.metrics.bestValidLoss, 2)) for Post-LN-init, whose top-decoder gradient norm is \(fv(ratio, 1))× Post-LN's; last decoder layer, Post-LN-init / Post-LN: \(last.joined(separator: ", "))."
}
