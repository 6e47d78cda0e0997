// Fig. 1: loss surfaces of 36-layer (18L-18L) Post-LN and DeepNet early in training (IWSLT-14 De-En).
import DeepNetData
import DeepNetHarness

private let methods = [L.method("Post-LN", Method.postLN), L.method("DeepNet", Method.deepNorm)]

let fig1 = Experiment(
    id: "fig1",
    title: "Loss surface of 36-layer Post-LN and DeepNet at the early stage of training",
    artifact: .figure(1),
    claim: "The loss surface of DeepNet is much smoother than that of vanilla Post-LN at 18L-18L early in training.",
    paper: PaperNumbers(statements: [
        PaperStatement("We adopt the filter normalization [23] to visualize the loss surface of vanilla Post-LN and DeepNet on the IWSLT-14 De-En data set at the early stage of training. Fig. 1 shows that the loss surface of DeepNet is much smoother compared with vanilla Post-LN.", section: "I"),
        PaperStatement("Fig. 1. The loss surface of 36-layer vanilla Post-LN and DeepNet at the early stage of training.", section: "caption"),
    ]),
    paperSetup: "IWSLT-14 De-En, 18L-18L (36 layers), filter-normalized random directions (Li et al. 2018) around the early-stage parameters.",
    measured: "Training loss on a 2-D grid of filter-normalized directions around the parameters after the early stage (surface; roughness).",
    measurements: [.lossLandscape2D],
    renders: [.diagnostic(.lossLandscape2D, series: "method")],
    profiles: [
        .smoke: .runs(RunGrid(base: Base.earlyStage(with(Base.smokeTranslation) { $0.model.encoderLayers = 2; $0.model.decoderLayers = 2 }, steps: 10, every: 5),
                              axes: [Axis("method", methods)]), notes: ["Synthetic data, d = 32, 2L-2L, 5×5 grid."]),
        // Pre-registered (docs/preregistration.md, Fig. 1): three direction seeds, each a run with the same training.
        .reduced: .runs(RunGrid(base: Base.earlyStage(with(Base.reducedIWSLT) {
            $0.model.encoderLayers = 18; $0.model.decoderLayers = 18
            $0.diagnostics.landscapeResolution = 21; $0.training.batchTokens = 1024
        }, steps: 120, every: 20), axes: [Axis("method", methods), Axis("directions", [123, 124, 125].map { s in
            Level("seed \(s)", [.set(\.diagnostics.landscapeSeed, s, as: "diagnostics.landscapeSeed")]) })]), data: RealData.iwslt,
                        notes: ["18L-18L at 64 hidden (64-128-2) instead of 512; \"early stage\" = the first 120 steps of 1,024-token batches (warm-up 100); 21×21 grid on [-1, 1]² evaluated on two fixed training batches, for three seeds of the random directions (the same training); IWSLT14-mini."]),
        .paper: .runs(RunGrid(base: Base.earlyStage(with(Base.paperIWSLT) {
            $0.model.encoderLayers = 18; $0.model.decoderLayers = 18; $0.diagnostics.landscapeResolution = 51
        }, steps: 1000, every: 100), axes: [Axis("method", methods)]),
                      notes: Base.paperIWSLTNotes + ["Not in the text: how many steps \"early stage\" means (1,000 assumed) and the grid (51×51 on [-1, 1]², the loss-landscape code's default)."]),
    ],
    summary: { r, _ in fig1Summary(r) },
    verdict: { r in
        instrumentVerdicts(r, [("DeepNet's early-stage loss surface is much smoother than Post-LN's at 18L-18L (Post-LN's roughness ≥ 1.5× DeepNet's for every direction seed).", .lossLandscape2D, fig1Smoother)])
    }
)

// MARK: verdict rules (computed from recorded instrument data only; each states its criterion in its evidence)

private func fig1Smoother(_ r: ExperimentResults, _ claim: String) -> ClaimVerdict {
    var parts: [String] = [], ok = true, n = 0
    for e in r.entries(["method": "DeepNet"]) {
        guard let seed = e.coordinates["directions"] ?? Optional("seed 123"), let a = e.record.flatMap(InstrumentSummaries.roughness) else { continue }
        let sel = e.coordinates["directions"].map { ["method": "Post-LN", "directions": $0] } ?? ["method": "Post-LN"]
        guard let b = r.record(sel).flatMap(InstrumentSummaries.roughness) else { continue }
        n += 1
        if !(b >= 1.5 * a) { ok = false }
        parts.append("\(seed): DeepNet \(fv(a, 4)), Post-LN \(fv(b, 4)) (\(fv(b / a, 2))×)")
    }
    guard n > 0 else { return Verdicts.notRun(claim, "a surface is missing (diverged run or not recorded)") }
    return ClaimVerdict(claim, ok ? .reproduced : .notReproduced,
                        "roughness (mean |Δ²L| / loss range) per direction seed: " + parts.joined(separator: "; ") + " (need Post-LN ≥ 1.5× DeepNet for every seed)")
}

/// What Fig. 1's numbers show: Post-LN's roughness as a multiple of DeepNet's, per direction seed.
private func fig1Summary(_ r: ExperimentResults) -> String {
    guard r.isComplete else { return "" }
    let ratios = r.entries(["method": "DeepNet"]).compactMap { e -> String? in
        guard let a = e.record.flatMap(InstrumentSummaries.roughness),
              let b = r.record(e.coordinates["directions"].map { ["method": "Post-LN", "directions": $0] } ?? ["method": "Post-LN"]).flatMap(InstrumentSummaries.roughness),
              a > 0 else { return nil }
        return "\(fv(b / a, 2))×"
    }
    guard !ratios.isEmpty else { return "" }
    return "Post-LN's early loss surface is \(ratios.joined(separator: ", ")) as rough as DeepNet's (per direction seed; the claim's threshold is 1.5×)."
}
