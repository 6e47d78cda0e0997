// Table I: BLEU on the WMT-17 En-De test set for ten models at 6L-6L … 100L-100L.
import DeepNetData
import DeepNetHarness

let table1 = Experiment(
    id: "table1",
    title: "BLEU on WMT-17 En-De for different models with varying depth",
    artifact: .table(1),
    claim: "DeepNet trains stably up to 100L-100L where the Post-LN models diverge from 18L-18L/50L-50L on, and matches or beats every baseline at each depth (28.9 BLEU at 100L-100L).",
    paper: PaperNumbers(
        tables: [PaperTable(
            caption: "TABLE I — BLEU scores on the WMT-17 En-De test set (AL-BL: A-layer encoder, B-layer decoder)",
            columns: ["6L-6L", "18L-18L", "50L-50L", "100L-100L"],
            rows: [
                PaperRow("Vanilla Post-LN", [v(28.1), diverged, diverged, diverged]),
                PaperRow("DS-Init", [v(27.9), diverged, diverged, diverged]),
                PaperRow("Admin", [v(27.9), v(28.8), diverged, diverged]),
                PaperRow("ReZero", [v(26.9), diverged, diverged, diverged]),
                PaperRow("R-Fixup", [v(27.5), v(28.4), v(27.7), diverged]),
                PaperRow("T-Fixup", [v(27.5), v(28.4), v(27.9), diverged]),
                PaperRow("Vanilla Pre-LN", [v(27.0), v(28.1), v(28.0), v(27.4)]),
                PaperRow("DLCL", [v(27.4), v(28.2), diverged, v(27.5)]),
                PaperRow("NormFormer", [v(27.0), v(28.3), v(27.8), diverged]),
                PaperRow("DeepNet", [v(27.8), v(28.8), v(29.0), v(28.9)]),
            ],
            notes: [
                "LN groups: Post-LN (Vanilla Post-LN, DS-Init, Admin), No-LN (ReZero, R-Fixup, T-Fixup), Pre-LN (Vanilla Pre-LN, DLCL, NormFormer), DeepNorm (DeepNet).",
                "In the text extraction the Post-LN and ReZero rows print one \"diverged\" spanning several columns; the cells are read as: Post-LN and DS-Init diverge from 18L-18L on, Admin from 50L-50L on, ReZero from 18L-18L on (the text: ReZero diverges \"with 18-18 layers\").",
            ])],
        statements: [
            PaperStatement("DeepNet is more stable, and can successfully scale to 100L-100L, reaching the 28.9 BLEU on the test set. In contrast, the baselines with Post-LN lead to unstable optimization when the depth goes to 50L-50L.", section: "V"),
            PaperStatement("Pre-LN leads to a 0.5-1.0 BLEU drop compared with the converged Post-LN models.", section: "V"),
        ]),
    paperSetup: "WMT-17 En-De (fairseq setup, evaluated on newstest2014), base-size models, hyper-parameters identical across models, fairseq's built-in BLEU.",
    measured: "Test BLEU after training, or the step at which training diverged.",
    measurements: [.bleu, .validLoss],
    renders: [
        .table(rows: "method", columns: "depth", metric: .bleu),
        .metricVsAxis(.bleu, x: "depth", series: "method"),
        .curves(.validLoss, series: "method", panels: "depth"),
    ],
    profiles: [
        .smoke: .runs(RunGrid(base: Base.smokeTranslation,
                              axes: [Axis("method", Baselines.tableI), Axis("depth", [L.depth(1), L.depth(3)])]),
                      notes: ["Synthetic data, d = 32, 1L-1L and 3L-3L, 30 steps: checks the pipeline, not the claim."]),
        // Cut to fit the ~3 h budget (was 6/18/50/100L at 800 steps × 2,048 tokens, 16 h estimated): 100L-100L is
        // dropped (57 % of the cost; 50L-50L is already where all three Post-LN models diverge in the paper) and each
        // run trains 500 steps of 1,024 tokens — divergence shows within the first few hundred updates after warm-up.
        .reduced: .runs(RunGrid(base: with(Base.reducedTranslation) { $0.training.steps = 500; $0.training.batchTokens = 1024 },
                                axes: [Axis("method", Baselines.tableI),
                                       Axis("depth", [L.depth(6), L.depth(18), L.depth(50)])]),
                        data: RealData.enDe,
                        notes: ["Three of the paper's four depths (6L-6L, 18L-18L, 50L-50L; 100L-100L is not run, to fit ~3 h on 2 cores) with the 64-128-2 tiny Transformer (d = 64, FFN 128, 2 heads) instead of base size (512/2048/8); the deepest setting here is 50L-50L.",
                                "500 steps of 1,024 target tokens (0.5M tokens) at lr 1.5e-3 with 100 warm-up steps instead of 100k steps of 524k tokens.",
                                "Multi30k en→de (real data) instead of WMT-17 En-De; synthetic data when DEEPNET_DATA is unset."]),
        .paper: .runs(RunGrid(base: Base.paperWMT,
                              axes: [Axis("method", Baselines.tableI),
                                     Axis("depth", [L.depth(6), L.depth(18), L.depth(50), L.depth(100)])]),
                      notes: Base.paperWMTNotes),
    ],
    verdict: { r in
        [
            Verdicts.convergesEverywhere(r, claim: "DeepNet converges at every depth.", axis: "method", level: "DeepNet"),
            Verdicts.convergesWhereOthersDiverge(r, claim: "DeepNet converges at every depth where a Post-LN model (Vanilla Post-LN, DS-Init, Admin) diverges.",
                                                 axis: "method", level: "DeepNet", others: Baselines.postLNFamily, across: "depth"),
            deepestDepthVerdict(r, claim: "Post-LN models diverge at the deepest setting.", methods: Baselines.postLNFamily),
            Verdicts.divergencePatternMatches(r, claim: "The converged/diverged pattern matches the paper's table.",
                                              table: r.experiment.paper.tables[0], rows: "method"),
            bestAtDeepest(r, claim: "At the deepest setting DeepNet has the highest BLEU of all models.", level: "DeepNet"),
        ]
    }
)
