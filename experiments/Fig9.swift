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

let fig9 = with(fig9Declaration) { $0.changesAfterPreregistration = [AlphaBeta.selectionChange] }

private let fig9Declaration = Experiment(
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
        // Pre-registered (docs/preregistration.md, Table XI / Fig. 9): runs at the learning rate that Table XI's stage 1
        // selects.
        .reduced: AlphaBeta.selectedLR.map { lr in
            .runs(grid(with(AlphaBeta.base) { $0.optimizer.lr = lr }), data: RealData.enFr,
                  notes: ["18L-18L at 64 hidden (64-128-2), 2,000 updates of 2,048 target tokens (4M tokens, 80 warm-up, no dropout) at lr \(L.lrLabel(lr)) — the largest of {1.5e-3, 3e-3, 6e-3} at which DeepNet at α*, β* trains and reaches 20 BLEU (Table XI's stage 1); Multi30k en→fr.",
                          "α ∈ {0.25, 0.5, 1, 2, 4}α* at β* and β ∈ {0.25, 0.5, 1, 2, 4}β* at α* (9 runs), one seed (a second is added by rule G5 where a verdict rests on a BLEU difference under 1.0). The α*, β* run is shared with Table XI."])
        } ?? .notRunnable("Waits for Table XI's stage 1, which selects the learning rate of this sweep (docs/preregistration.md, Table XI / Fig. 9).",
                          notes: ["18L-18L at 64 hidden, 2,000 updates of 2,048 target tokens on Multi30k en→fr, at the largest of {1.5e-3, 3e-3, 6e-3} at which DeepNet at α*, β* trains."]),
        .paper: .runs(grid(with(Base.paperWMT) {
            $0.model.encoderLayers = 18; $0.model.decoderLayers = 18
            $0.data.dataset = .wmt14EnFr; $0.data.targetLanguage = "fr"; $0.model.vocabSize = 40000
        }), notes: Base.paperWMTNotes + ["Paper text: 18L-18L, 512 hidden, 100K steps, WMT-14 En-Fr."]),
    ],
    summary: { r, _ in fig9Summary(r) },
    verdict: { r in
        let centre = ["alpha": "1×", "beta": "1×"]
        func barred(_ claim: String, _ f: () -> ClaimVerdict) -> ClaimVerdict {
            belowBar(r, claim: claim, reference: centre, bar: Bar.singleDirection) ?? f()
        }
        let c3 = "α* beats 4α* (a large shortcut scale undermines BLEU; paired bootstrap)."
        let c4 = "β* beats 0.25β* (a small initialization scale undermines BLEU; paired bootstrap)."
        return [
            failsOrWorse(r, claim: "The smallest α (0.25α*) fails (diverges or stalls) or is worse than α*.", ["alpha": "0.25×", "beta": "1×"], centre: centre),
            failsOrWorse(r, claim: "The largest β (4β*) fails (diverges or stalls) or is worse than β*.", ["alpha": "1×", "beta": "4×"], centre: centre),
            barred(c3) { Verdicts.bleuComparison(r, claim: c3, a: centre, b: ["alpha": "4×", "beta": "1×"], expect: [.better]) },
            barred(c4) { Verdicts.bleuComparison(r, claim: c4, a: centre, b: ["alpha": "1×", "beta": "0.25×"], expect: [.better]) },
        ]
    }
)

/// Rule G3 against α*, β* with the same seed, then rule G4: the runs at `sel` fail in every seed, or α*, β* is better.
private func failsOrWorse(_ r: ExperimentResults, claim: String, _ sel: [String: String], centre: [String: String]) -> ClaimVerdict {
    if let v = Verdicts.requireRuns(r, claim, sel) ?? Verdicts.requireRuns(r, claim, centre) { return v }
    var parts: [String] = [], allFailed = true
    for e in r.entries(sel) {
        var ref = centre; if let s = e.coordinates["seed"] { ref["seed"] = s }
        let best = r.record(ref).flatMap { $0.status == .ok ? $0.metrics.bestValidLoss : nil }
        let o = RunOutcome.classify(e.record!, reference: best)
        if !o.failedToTrain { allFailed = false }
        parts.append("\(e.coordinates.shortLabel): \(o.text(reference: "α*, β*"))")
    }
    if allFailed { return ClaimVerdict(claim, .reproduced, parts.joined(separator: "; ")) }
    if let v = belowBar(r, claim: claim, reference: centre, bar: Bar.singleDirection) {
        return ClaimVerdict(claim, v.status, parts.joined(separator: "; ") + "; " + v.evidence)
    }
    let v = Verdicts.bleuComparison(r, claim: claim, a: centre, b: sel, expect: [.better])
    return ClaimVerdict(claim, v.status, parts.joined(separator: "; ") + "; " + v.evidence)
}

/// What Fig. 9's numbers show: BLEU (or the failure) along each scale at the other one's starred value.
private func fig9Summary(_ r: ExperimentResults) -> String {
    guard r.isComplete else { return "" }
    let a = r.levels("alpha").map { resultText(r, ["alpha": $0, "beta": "1×"], referenceAxis: "alpha", referenceLevel: "1×") ?? "not run" }
    let b = r.levels("beta").map { resultText(r, ["alpha": "1×", "beta": $0], referenceAxis: "beta", referenceLevel: "1×") ?? "not run" }
    return "BLEU at α = \(r.levels("alpha").joined(separator: " / ")) α* (β*): \(a.joined(separator: " / ")); at β = \(r.levels("beta").joined(separator: " / ")) β* (α*): \(b.joined(separator: " / "))."
}
