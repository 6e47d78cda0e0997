// Fig. 7: WMT-17 En-De validation loss of 18L-18L DeepNet for larger learning rate, batch size and hidden size.
import DeepNetData
import DeepNetHarness

private func sweepGrid(base: RunConfig, lrs: [Double], batches: [Int], hiddens: [Int]) -> RunGrid {
    RunGrid(base: base, axes: [
        Axis("lr", lrs.map { L.lr($0) }),
        Axis("batch", batches.map { b in Level("\(b)", [.set(\.training.batchTokens, b, as: "training.batchTokens")]) }),
        Axis("hidden", hiddens.map { h in Level("\(h)", [
            .set(\.model.embedDim, h, as: "model.embedDim"), .set(\.model.ffnDim, 2 * h, as: "model.ffnDim")]) }),
    ], include: { c in
        // one hyper-parameter changed at a time from the first (base) level
        [c["lr"] != L.lrLabel(lrs[0]), c["batch"] != "\(batches[0])", c["hidden"] != "\(hiddens[0])"].filter { $0 }.count <= 1
    })
}

let fig7 = Experiment(
    id: "fig7",
    title: "Validation loss of 18L-18L DeepNet with larger learning rate, batch size and hidden dimension",
    artifact: .figure(7),
    claim: "DeepNet trains without difficulty at the largest learning rate, batch size and hidden dimension, and benefits from them with faster convergence and lower validation loss (1,024 hidden overfits after 10K steps).",
    paper: PaperNumbers(statements: [
        PaperStatement("For each experiment, we only change one hyperparameter with the others fixed. Fig. 7 reports the loss curves on the WMT-17 validation set. It shows that DeepNet can be trained without difficulty in all the largest settings. The loss of DeepNet with 1024 hidden size increases after 10K steps because of overfitting. Besides, it indicates that DeepNet can benefit from the larger settings, resulting in faster convergence and lower validation loss.", section: "V"),
        PaperStatement("Fig. 7. WMT-17 En-De validation loss curves for 18L-18L DeepNet with varying learning rate, batch size and hidden dimension.", section: "caption"),
    ]),
    paperSetup: "WMT-17 En-De, 18L-18L DeepNet; one of learning rate, batch size or hidden dimension enlarged at a time (largest hidden: 1,024).",
    measured: "Validation loss curves.",
    measurements: [.validLoss],
    renders: [
        .curves(.validLoss, series: "lr"),
        .curves(.validLoss, series: "batch"),
        .curves(.validLoss, series: "hidden"),
    ],
    profiles: [
        .smoke: .runs(sweepGrid(base: with(Base.smokeTranslation) { $0.model.method = Method.deepNorm; $0.decode.beam = 0 },
                                lrs: [5e-4, 1e-3], batches: [256, 512], hiddens: [32, 48]),
                      notes: ["Synthetic data, 2L-2L, two levels per sweep."]),
        // Pre-registered (docs/preregistration.md, Fig. 7): 2M tokens per run; batch sizes at equal tokens; Post-LN at
        // the largest lr as the contrast.
        .reduced: .runs(reducedGrid, data: RealData.enDe,
                        notes: ["18L-18L DeepNet at 64 hidden (FFN 2×hidden, 2 heads); from the centre (lr 5e-4, 2,048 tokens per batch, hidden 64) one of lr ∈ {1.5e-3, 5e-3}, batch ∈ {1,024, 4,096} tokens or hidden 128 (FFN 256, 4 heads) changes at a time; Post-LN at lr 5e-3 as the contrast. Every run sees 2M target tokens (batch 1,024: 2,000 updates; 2,048: 1,000; 4,096: 500), warm-up 4 % of its updates; Multi30k en→de stand-in.",
                                "The paper's sweep values are not in the text (only the largest hidden size, 1,024)."]),
        .paper: .runs(sweepGrid(base: with(Base.paperWMT) {
            $0.model.method = Method.deepNorm; $0.model.encoderLayers = 18; $0.model.decoderLayers = 18
            $0.optimizer.lr = 5e-4; $0.training.batchTokens = 64 * 4096; $0.decode.beam = 0; $0.training.steps = 50_000
        }, lrs: [5e-4, 1e-3, 1.5e-3], batches: [64 * 4096, 128 * 4096, 256 * 4096], hiddens: [512, 768, 1024]),
                      notes: Base.paperWMTNotes + ["Not in the text: the sweep values except the largest hidden size 1,024 (lr {5e-4, 1e-3, 1.5e-3}, batch {64, 128, 256}×4096 tokens, hidden {512, 768, 1024} assumed), and the curve length (50k steps assumed)."]),
    ],
    summary: { r, _ in fig7Summary(r) },
    verdict: { r in
        if r.axes.contains("method") { return fig7Reduced(r) }
        // smoke / paper grids (no method axis): every run trains, and the largest lr and batch lower the final loss.
        var out = [allConverge(r, claim: "DeepNet trains in every setting, including the largest.")]
        for axis in ["lr", "batch"] {
            let ls = r.levels(axis)
            guard let lo = ls.first, let hi = ls.last, lo != hi else { continue }
            var base: [String: String] = [:]
            for a in r.axes { base[a] = r.levels(a).first }
            var top = base; top[axis] = hi
            out.append(Verdicts.better(r, claim: "The largest \(axis) reaches a lower final validation loss than the base setting.",
                                       metric: .finalValidLoss, a: top, than: [base]))
        }
        return out
    }
)

/// The reduced sweep (docs/preregistration.md, Fig. 7).
private var reducedGrid: RunGrid {
    func batch(_ b: Int) -> Level {
        let steps = 2_000_000 / b
        return Level("\(b)", [.set(\.training.batchTokens, b, as: "training.batchTokens"), .set(\.training.steps, steps, as: "training.steps"),
                              .set(\.optimizer.warmupUpdates, steps * 4 / 100, as: "optimizer.warmupUpdates"),
                              .set(\.training.evalEvery, steps / 10, as: "training.evalEvery"),
                              .set(\.training.checkpointEvery, steps / 5, as: "training.checkpointEvery")])
    }
    let base = with(Campaign.translation(steps: 1000)) { c in
        c.model.method = Method.deepNorm; c.model.encoderLayers = 18; c.model.decoderLayers = 18
        c.optimizer.lr = 5e-4; c.decode.beam = 0
    }
    return RunGrid(base: base, axes: [
        Axis("method", [L.method("DeepNet", Method.deepNorm), L.method("Post-LN", Method.postLN)]),
        Axis("lr", [5e-4, 1.5e-3, 5e-3].map { L.lr($0) }),
        Axis("batch", [batch(2048), batch(1024), batch(4096)]),
        Axis("hidden", [Level("64", []), Level("128", [.set(\.model.embedDim, 128, as: "model.embedDim"), .set(\.model.ffnDim, 256, as: "model.ffnDim"),
                                                     .set(\.model.heads, 4, as: "model.heads")])]),
    ], include: { c in
        if c["method"] == "Post-LN" { return c["lr"] == "5e-3" && c["batch"] == "2048" && c["hidden"] == "64" }
        return [c["lr"] != "5e-4", c["batch"] != "2048", c["hidden"] != "64"].filter { $0 }.count <= 1
    })
}

/// The pre-registered rules (docs/preregistration.md, Fig. 7).
private func fig7Reduced(_ r: ExperimentResults) -> [ClaimVerdict] {
    let centre = ["method": "DeepNet", "lr": "5e-4", "batch": "2048", "hidden": "64"]
    func variant(_ k: String, _ v: String) -> [String: String] { var c = centre; c[k] = v; return c }
    let largest = [variant("lr", "5e-3"), variant("batch", "4096"), variant("hidden", "128")]
    let dnGroup = ["method": "DeepNet"]
    var parts: [String] = [], ok = true
    let c1 = "DeepNet trains without difficulty at the largest learning rate, batch and hidden size (neither diverges nor stalls)."
    var v1: ClaimVerdict?
    for s in largest {
        if let v = Verdicts.requireRuns(r, c1, s) { v1 = v; break }
        let o = RunOutcome.classify(r.record(s)!, reference: RunOutcome.referenceBest(in: r, matching: dnGroup))
        if o.failedToTrain { ok = false }
        parts.append("\(r.entry(s)!.coordinates.shortLabel): \(o.text(reference: "DeepNet's best"))")
    }
    var out = [v1 ?? ClaimVerdict(c1, ok ? .reproduced : .notReproduced, parts.joined(separator: "; "))]
    for (k, hi, lo, what) in [("lr", "5e-3", "5e-4", "learning rate"), ("batch", "4096", "1024", "batch (at equal tokens)"), ("hidden", "128", "64", "hidden size")] {
        let claim = "The larger \(what) converges to a lower best validation loss (≥ 2 % lower than \(k) \(lo))."
        let a = variant(k, hi), b = variant(k, lo)
        if let v = Verdicts.requireRuns(r, claim, a) ?? Verdicts.requireRuns(r, claim, b) { out.append(v); continue }
        guard let g = relativeLossGain(r, .bestValidLoss, a: a, b: b) else { out.append(ClaimVerdict(claim, .notReproduced, "no best validation loss")); continue }
        out.append(ClaimVerdict(claim, g.gain >= 0.02 ? .reproduced : .notReproduced,
                                "best validation loss \(k) \(hi) vs \(lo): \(g.text); \(lossGainText(g.gain)) (need ≥ 2 % lower)"))
    }
    out.append(failsEverywhere(r, claim: "Contrast: Post-LN fails (diverges or stalls) at the largest learning rate (5e-3).",
                               ["method": "Post-LN", "lr": "5e-3"]))
    return out
}

/// What Fig. 7's numbers show: DeepNet's best validation loss at each larger setting against the centre, and Post-LN
/// at the largest learning rate.
private func fig7Summary(_ r: ExperimentResults) -> String {
    guard r.isComplete, r.axes.contains("method") else { return "" }
    let centre = ["method": "DeepNet", "lr": "5e-4", "batch": "2048", "hidden": "64"]
    func loss(_ k: String, _ v: String) -> String {
        var s = centre; s[k] = v
        return "\(k) \(v) \(fv(r.record(s)?.metrics.bestValidLoss, 3))"
    }
    let post = outcome(r, ["method": "Post-LN", "lr": "5e-3", "batch": "2048", "hidden": "64"]).map { $0.0.text(reference: "DeepNet") } ?? "not run"
    return "DeepNet's best validation loss: \(fv(r.record(centre)?.metrics.bestValidLoss, 3)) at lr 5e-4, batch 2048, hidden 64; "
        + [loss("lr", "1.5e-3"), loss("lr", "5e-3"), loss("batch", "1024"), loss("batch", "4096"), loss("hidden", "128")].joined(separator: ", ")
        + "; Post-LN at lr 5e-3: \(post)."
}
