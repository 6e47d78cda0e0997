// Fig. 9: BLEU of 18L-18L DeepNet on WMT-14 En-Fr for shortcut scales α and initialization scales β.
import DeepNetData
import DeepNetHarness

private let scales: [Double] = [0.25, 0.5, 1, 2, 4]
private func scaleLabel(_ s: Double) -> String { s == s.rounded() ? "\(Int(s))×" : "\(s)×" }

private func grid(_ base: RunConfig) -> RunGrid {
    RunGrid(base: with(base) { $0.model.method = Method.deepNorm }, axes: [
        Axis("alpha", scales.map { s in Level(scaleLabel(s), [.set(\.model.alphaMultiplier, s, as: "model.alphaMultiplier")]) }),
        Axis("beta", scales.map { s in Level(scaleLabel(s), [.set(\.model.betaMultiplier, s, as: "model.betaMultiplier")]) }),
    ], include: { $0["alpha"] == "1×" || $0["beta"] == "1×" })
}

let fig9 = Experiment(
    id: "fig9",
    title: "BLEU of DeepNet on WMT-14 En-Fr for different shortcut scales α and initialization scales β",
    artifact: .figure(9),
    claim: "A small shortcut scale α or a large initialization scale β makes training unstable, while a large α or a small β undermines BLEU; α*, β* of similar magnitude balance stability and performance.",
    paper: PaperNumbers(statements: [
        PaperStatement("We set the scale of shortcut as α* and vary β from {0.25, 0.5, 1, 2, 4}β*. Then we set the scale of initialization as β* and vary α from {0.25, 0.5, 1, 2, 4}α*.", section: "X"),
        PaperStatement("Fig. 9 shows that small shortcut scale and large initialization scale results in the instability of the training, while large shortcut scale and small initialization scale tends to undermine the performance.", section: "X"),
        PaperStatement("Fig. 9. BLEU scores of DeepNet on the test set of WMT-14 En-Fr data set for different scales of shortcut (Left) and initialization (Right). All models are trained with an 18-layer encoder and 18-layer decoder.", section: "caption"),
    ]),
    paperSetup: "WMT-14 En-Fr, 18L-18L, 512 hidden, 100K steps; α ∈ {0.25, 0.5, 1, 2, 4}α* at β*, β ∈ {0.25, 0.5, 1, 2, 4}β* at α*.",
    measured: "Test BLEU (or divergence) per scale.",
    measurements: [.bleu, .validLoss, .modelUpdate],
    renders: [
        .metricVsAxis(.bleu, x: "alpha", logX: true),
        .metricVsAxis(.bleu, x: "beta", logX: true),
        .heatmap(.bleu, x: "alpha", y: "beta"),
        .diagnostic(.modelUpdate, series: "alpha", panels: "beta", logY: true),
    ],
    profiles: [
        .smoke: .runs(grid(with(Base.smokeTranslation) { $0.model.encoderLayers = 3; $0.model.decoderLayers = 3 }),
                      notes: ["Synthetic data, d = 32, 3L-3L."]),
        .reduced: .runs(grid(with(Base.reducedTranslation) {
            // 200 instead of 3,000 steps so the four last reduced experiments fit one 3-hour session (the 9 runs took
            // ~2.3 h per 1,000 steps of real 1-thread time); the same as table11, so the α*, β* run is shared with it.
            $0.model.encoderLayers = 18; $0.model.decoderLayers = 18; $0.training.steps = 200
            $0.training.evalEvery = 50; $0.training.checkpointEvery = 100
            $0.data.sourceLanguage = "en"; $0.data.targetLanguage = "fr"
        }), data: RealData.enFr,
                        notes: ["18L-18L at 64 hidden (64-128-2), 200 steps of 2,048 target tokens (0.4M tokens: warm-up plus 100 steps at the peak rate), Multi30k en→fr; α ∈ {0.25, 0.5, 1, 2, 4}α* at β* and β ∈ {0.25, 0.5, 1, 2, 4}β* at α* (9 runs). The α*, β* run is shared with table11.",
                                "Instability shows early (divergence is detected from the loss), but BLEU after 200 steps is the BLEU of a barely trained model: the BLEU orderings are weak evidence either way."]),
        .paper: .runs(grid(with(Base.paperWMT) {
            $0.model.encoderLayers = 18; $0.model.decoderLayers = 18
            $0.data.dataset = .wmt14EnFr; $0.data.targetLanguage = "fr"; $0.model.vocabSize = 40000
        }), notes: Base.paperWMTNotes + ["Paper text: 18L-18L, 512 hidden, 100K steps, WMT-14 En-Fr."]),
    ],
    verdict: { r in
        [
            unstableOrWorst(r, claim: "The smallest α (0.25α*) is unstable or the worst of the α sweep.", axis: "alpha", level: "0.25×", fixed: ["beta": "1×"]),
            unstableOrWorst(r, claim: "The largest β (4β*) is unstable or the worst of the β sweep.", axis: "beta", level: "4×", fixed: ["alpha": "1×"]),
            Verdicts.better(r, claim: "α* beats 4α* (a large shortcut scale undermines BLEU).", metric: .bleu,
                            a: ["alpha": "1×", "beta": "1×"], than: [["alpha": "4×", "beta": "1×"]]),
            Verdicts.better(r, claim: "β* beats 0.25β* (a small initialization scale undermines BLEU).", metric: .bleu,
                            a: ["alpha": "1×", "beta": "1×"], than: [["alpha": "1×", "beta": "0.25×"]]),
        ]
    }
)

/// The run at `level` diverged, or has the lowest BLEU along `axis` (with `fixed` held).
func unstableOrWorst(_ r: ExperimentResults, claim: String, axis: String, level: String, fixed: [String: String]) -> ClaimVerdict {
    if let v = Verdicts.requireRuns(r, claim, fixed) { return v }
    var sel = fixed; sel[axis] = level
    guard let rec = r.record(sel) else { return Verdicts.notRun(claim, "missing run") }
    if rec.status == .diverged { return ClaimVerdict(claim, .reproduced, "\(axis) = \(level): diverged at step \(rec.divergedAtStep ?? 0)") }
    let all = r.entries(fixed).compactMap { e -> (String, Double)? in
        guard let x = e.record, x.status == .ok, let b = x.metrics.bleu else { return nil }
        return (e.coordinates[axis] ?? "", b)
    }
    guard let mine = rec.metrics.bleu else { return Verdicts.notRun(claim, "no BLEU recorded") }
    let worst = all.min { $0.1 < $1.1 }
    let ev = all.map { "\($0.0): \(Verdicts.fmt($0.1))" }.joined(separator: ", ")
    // A diverged neighbour does not decide this claim (only this level's own divergence does), so the BLEU floor
    // applies to the converged runs compared here.
    if let v = Verdicts.bleuTooLowToCompare(claim, metric: .bleu, values: all.map(\.1), evidence: "BLEU along \(axis): \(ev)") { return v }
    return ClaimVerdict(claim, worst.map { $0.1 >= mine } ?? false ? .reproduced : .notReproduced, "BLEU along \(axis): \(ev)")
}
