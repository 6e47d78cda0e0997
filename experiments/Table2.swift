// Table II: BLEU on WMT-14 En-De and WMT-14 En-Fr at 6L-6L and 18L-18L.
import DeepNetData
import DeepNetHarness

private let tableIIMethods: [Level] = [
    L.method("T-Fixup", Method.tFixup),
    L.method("Vanilla Post-LN", Method.postLN),
    L.method("Admin", Method.admin),
    L.method("Vanilla Pre-LN", Method.preLN),
    L.method("NormFormer", Method.normFormer),
    L.method("DeepNet", Method.deepNorm),
]

private func pairLevels(enDeData: DataSetName?, enFrData: DataSetName?, paper: Bool) -> [Level] {
    var de: [Override] = [.set(\.data.sourceLanguage, "en", as: "data.sourceLanguage"), .set(\.data.targetLanguage, "de", as: "data.targetLanguage")]
    var fr: [Override] = [.set(\.data.sourceLanguage, "en", as: "data.sourceLanguage"), .set(\.data.targetLanguage, "fr", as: "data.targetLanguage")]
    if let d = enDeData { de.append(.set(\.data.dataset, d, as: "data.dataset")) }
    if let f = enFrData { fr.append(.set(\.data.dataset, f, as: "data.dataset")) }
    return [Level("En-De", paperKey: "WMT14 En-De", de), Level("En-Fr", paperKey: "WMT14 En-Fr", fr)]
}

let table2 = Experiment(
    id: "table2",
    title: "BLEU on WMT-14 En-De and WMT-14 En-Fr for different models with varying depth",
    artifact: .table(2),
    claim: "At 18L-18L vanilla Post-LN diverges while DeepNet trains and reaches the best BLEU on both WMT-14 En-De (28.7) and En-Fr (42.4, tied with Admin).",
    paper: PaperNumbers(
        tables: [PaperTable(
            caption: "TABLE II — BLEU scores on the WMT14 En-De and WMT14 En-Fr test sets",
            columns: ["WMT14 En-De 6L-6L", "WMT14 En-De 18L-18L", "WMT14 En-Fr 6L-6L", "WMT14 En-Fr 18L-18L"],
            rows: [
                PaperRow("T-Fixup", [v(26.4), v(28.0), v(39.8), v(41.9)]),
                PaperRow("Vanilla Post-LN", [v(27.4), diverged, v(39.6), diverged]),
                PaperRow("Admin", [v(27.4), v(28.4), v(39.4), v(42.4)]),
                PaperRow("Vanilla Pre-LN", [v(26.6), v(27.8), v(39.6), v(41.8)]),
                PaperRow("NormFormer", [v(27.2), v(27.9), v(39.7), v(42.1)]),
                PaperRow("DeepNet", [v(27.3), v(28.7), v(39.9), v(42.4)]),
            ],
            notes: ["LN: T-Fixup No-LN; Vanilla Post-LN and Admin Post-LN; Vanilla Pre-LN and NormFormer Pre-LN; DeepNet DeepNorm."])],
        statements: []),
    paperSetup: "WMT-14 En-De and WMT-14 En-Fr, base-size models, same hyper-parameters for all models.",
    measured: "Test BLEU after training, or the step at which training diverged.",
    measurements: [.bleu, .validLoss],
    renders: [
        .table(rows: "method", columns: "depth", metric: .bleu),
        .bars(.bleu, groups: "method", series: "depth", panels: "pair"),
    ],
    profiles: [
        .smoke: .runs(RunGrid(base: Base.smokeTranslation,
                              axes: [Axis("pair", pairLevels(enDeData: nil, enFrData: nil, paper: false)),
                                     Axis("method", tableIIMethods), Axis("depth", [L.depth(1), L.depth(3)])],
                              include: { $0["pair"] == "En-De" }),
                      notes: ["Synthetic data, d = 32, En-De axis only, 1L-1L and 3L-3L."]),
        // Pre-registered (docs/preregistration.md, Table II): the En-De cells are Table I's runs (same configurations).
        .reduced: .runs(RunGrid(base: Campaign.tableI,
                                axes: [Axis("pair", pairLevels(enDeData: nil, enFrData: nil, paper: false)),
                                       Axis("method", tableIIMethods),
                                       Axis("depth", [Campaign.tableIDepth(6, paperKey: "6L-6L"), Campaign.tableIDepth(18, paperKey: "18L-18L")])]),
                        data: RealData.enDe,
                        notes: ["64-128-2 tiny Transformers at the paper's two depths (6L-6L, 18L-18L) in Table I's setting (3,000 updates of 2,048 target tokens at 6L-6L, 2,000 at 18L-18L; 80 warm-up; no dropout); the En-De runs are Table I's.",
                                "Multi30k en→de and en→fr (29k training pairs each; test_2016_flickr) instead of WMT-14 (4.5M and 36M pairs).",
                                "One seed; a second one is added by rule G5 where a verdict rests on a BLEU difference under 1.0."]),
        .paper: .runs(RunGrid(base: Base.paperWMT,
                              axes: [Axis("pair", pairLevels(enDeData: .wmt14EnDe, enFrData: .wmt14EnFr, paper: true)),
                                     Axis("method", tableIIMethods),
                                     Axis("depth", [L.depth(6), L.depth(18)])]),
                      notes: Base.paperWMTNotes),
    ],
    cellOutcome: { r, e in tableICell(r, e) },
    summary: { r, _ in table2Summary(r) },
    verdict: { r in
        var out: [ClaimVerdict] = []
        for pair in r.levels("pair") {
            out.append(failsEverywhere(r, claim: "\(pair): vanilla Post-LN fails (diverges or stalls) at 18L-18L.",
                                       ["pair": pair, "method": "Vanilla Post-LN", "depth": "18L-18L"]))
            let claim = "\(pair): DeepNet is the best or tied-best model at 18L-18L."
            let me = ["pair": pair, "method": "DeepNet", "depth": "18L-18L"]
            if let v = belowBar(r, claim: claim, reference: ["pair": pair, "method": "DeepNet", "depth": "18L-18L"], bar: Bar.singleDirection) {
                out.append(v)
            } else {
                let others = r.levels("method").filter { $0 != "DeepNet" }.map { ["pair": pair, "method": $0, "depth": "18L-18L"] }
                out.append(allComparisons(r, claim: claim, a: me, than: others, expect: [.better, .tied]))
            }
        }
        if out.isEmpty { out.append(Verdicts.notRun("DeepNet trains where vanilla Post-LN fails.", "no runs")) }
        out.append(Verdicts.failurePatternMatches(r, claim: "The paper's diverged/trained pattern: at least 80 % of the compared cells agree (failed = diverged or stalled).",
                                                  table: r.experiment.paper.tables[0], rows: "method", families: Baselines.families))
        return out
    }
)

/// What Table II's numbers show, per language pair: DeepNet's row, the best trained baseline per depth, and
/// Vanilla Post-LN at the deepest depth.
private func table2Summary(_ r: ExperimentResults) -> String {
    guard r.isComplete, let deepest = r.levels("depth").last else { return "" }
    return r.levels("pair").map { p in
        "\(p): " + depthRowSummary(r, fixed: ["pair": p])
            + ", Vanilla Post-LN at \(deepest) \(resultText(r, ["pair": p, "method": "Vanilla Post-LN", "depth": deepest]) ?? "not run")"
    }.joined(separator: "; ") + "."
}
