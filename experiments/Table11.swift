// Table XI: ablation of DeepNorm's residual scale and its initialization (18L-18L, WMT-14 En-Fr).
import DeepNetData
import DeepNetHarness

private let table11Paper = PaperTable(
    caption: "TABLE XI — Ablations for DeepNorm and its initialization on the WMT-14 En-Fr test set",
    columns: ["# Layers", "BLEU"],
    rows: [
        PaperRow("DeepNet", [.text("36L"), v(42.4)]),
        PaperRow("- DeepNorm", [.text("36L"), diverged]),
        PaperRow("- Initialization", [.text("36L"), v(42.2)]),
    ],
    notes: ["36L = 18-layer encoder + 18-layer decoder, 512 hidden, 100K steps."])

private let ablations: [Level] = [
    L.method("DeepNet", Method.deepNorm),
    L.method("- DeepNorm", Method.deepNormWithoutResidualScale),
    L.method("- Initialization", Method.deepNormWithoutInit),
]

let table11 = Experiment(
    id: "table11",
    title: "Ablations of DeepNorm and its initialization",
    artifact: .table(11),
    claim: "Both parts of DeepNet matter: removing the DeepNorm residual scaling makes the 18L-18L model diverge, removing its initialization costs 0.2 BLEU.",
    paper: PaperNumbers(tables: [table11Paper], statements: [
        PaperStatement("removing the initialization leads to the degradation of performance, 0.2 BLEU dropped compared with DeepNet. Besides, removing DeepNorm results in the divergence.", section: "X"),
    ]),
    paperSetup: "WMT-14 En-Fr, 18L-18L, 512 hidden, 100K steps.",
    measured: "Test BLEU or divergence; model-update norms early in training explain the divergence.",
    measurements: [.bleu, .validLoss, .modelUpdate],
    renders: [
        .table(rows: "variant", columns: "", metric: .bleu),
        .bars(.bleu, groups: "variant"),
        .curves(.trainLoss, series: "variant", logY: true),
        .diagnostic(.modelUpdate, series: "variant", logY: true),
    ],
    profiles: [
        .smoke: .runs(RunGrid(base: with(Base.smokeTranslation) { $0.model.encoderLayers = 3; $0.model.decoderLayers = 3 },
                              axes: [Axis("variant", ablations)]), notes: ["Synthetic data, d = 32, 3L-3L."]),
        .reduced: .runs(RunGrid(base: with(Base.reducedTranslation) {
            // 200 instead of 3,000 steps so the four last reduced experiments fit one 3-hour session; the same as fig9.
            $0.model.encoderLayers = 18; $0.model.decoderLayers = 18; $0.training.steps = 200
            $0.training.evalEvery = 50; $0.training.checkpointEvery = 100
            $0.data.sourceLanguage = "en"; $0.data.targetLanguage = "fr"
        }, axes: [Axis("variant", ablations)]), data: RealData.enFr,
                        notes: ["The paper's 18L-18L depth with 64-128-2 tiny Transformers, 200 steps of 2,048 target tokens (warm-up plus 100 steps at the peak rate); Multi30k en→fr instead of WMT-14 En-Fr. The DeepNet run is shared with fig9's α*, β* run.",
                                "\"- DeepNorm\" keeps DeepNet's β-scaled initialization with α = 1 (plain Post-LN residual); \"- Initialization\" keeps α with Xavier gain 1 (β = 1)."]),
        .paper: .runs(RunGrid(base: with(Base.paperWMT) {
            $0.model.encoderLayers = 18; $0.model.decoderLayers = 18
            $0.data.dataset = .wmt14EnFr; $0.data.targetLanguage = "fr"; $0.model.vocabSize = 40000
        }, axes: [Axis("variant", ablations)]), notes: Base.paperWMTNotes + ["Paper text: 18L-18L, 512 hidden, 100K steps on WMT-14 En-Fr (40k vocabulary assumed)."]),
    ],
    paperCell: { e in e.paperKeys["variant"].flatMap { table11Paper.cell(row: $0, column: "BLEU") } },
    verdict: { r in
        [
            Verdicts.diverges(r, claim: "Removing DeepNorm (α = 1) makes the model diverge.", ["variant": "- DeepNorm"]),
            Verdicts.better(r, claim: "Removing the initialization lowers BLEU.", metric: .bleu,
                            a: ["variant": "DeepNet"], than: [["variant": "- Initialization"]]),
            Verdicts.convergesEverywhere(r, claim: "DeepNet converges.", axis: "variant", level: "DeepNet"),
        ]
    }
)
