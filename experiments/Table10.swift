// Table X: vision tasks (BEiT pre-training, ImageNet / ADE20k fine-tuning, robustness variants).
import DeepNetData
import DeepNetHarness

let table10 = Experiment(
    id: "table10",
    title: "Results on vision tasks (masked image modelling, ViT-Base and ViT-Large)",
    artifact: .table(10),
    claim: "Pre-trained with masked image modelling, DeepNet surpasses ViT by 0.4/0.6 top-1 on ImageNet (Base/Large) and by a large margin on ImageNet-A/-R/-Sketch, and by 0.8 mIoU on ADE20k (Base).",
    paper: PaperNumbers(tables: [PaperTable(
        caption: "TABLE X — Results on vision tasks (top-1 accuracy on ImageNet and variants, mIoU on ADE20k)",
        columns: ["ADE20k", "ImageNet", "ImageNet Adversarial", "ImageNet Rendition", "ImageNet Sketch", "Avg."],
        rows: [
            PaperRow("12L ViT", [v(51.4), v(84.5), v(45.9), v(55.6), v(42.2), v(57.1)]),
            PaperRow("12L DeepNet", [v(52.2), v(84.9), v(48.9), v(57.7), v(43.9), v(58.9)]),
            PaperRow("24L ViT", [v(54.2), v(86.2), v(60.1), v(63.2), v(48.5), v(64.5)]),
            PaperRow("24L DeepNet", [v(54.6), v(86.8), v(65.4), v(67.5), v(52.0), v(67.9)]),
        ],
        notes: ["ViT-Base (12L) and ViT-Large (24L); pre-trained on ImageNet-1k for 300 epochs (BEiT v2 visual tokens)."])],
        statements: [
            PaperStatement("DeepNet surpasses the vanilla ViT by 0.4% and 0.6% for ViT-Base and ViT-Large on the validation set of ImageNet, respectively.", section: "IX"),
        ]),
    paperSetup: "BEiT-style masked image modelling on ImageNet-1k (300 epochs), fine-tuning on ImageNet-1k and ADE20k (UperNet), robustness on ImageNet-A/-R/-Sketch.",
    measured: "Stand-in: masked-token validation perplexity of an encoder-only model (Pre-LN \"ViT\" vs. Pre-LN DeepNet) at 12 and 24 layers.",
    measurements: [.perplexity, .validLoss],
    renders: [
        .table(rows: "method", columns: "depth", metric: .perplexity),
        .curves(.validLoss, series: "method", panels: "depth"),
    ],
    profiles: [
        .smoke: .runs(RunGrid(base: Base.smokeMaskedLM, axes: [
            Axis("method", [L.method("ViT (Pre-LN)", Method.preLN), L.method("DeepNet", Method.subLN)]),
            Axis("depth", [L.encoderDepth(2)]),
        ]), notes: ["Synthetic tokens, d = 32, 2 layers."]),
        .reduced: .runs(RunGrid(base: with(Base.reducedMaskedLM) { $0.training.steps = 2000 }, axes: [
            Axis("method", [L.method("ViT (Pre-LN)", Method.preLN), L.method("DeepNet", Method.subLN)]),
            Axis("depth", [L.encoderDepth(12), L.encoderDepth(24)]),
        ]), data: RealData.englishLM,
                        notes: ["Stand-in only for the pre-training half: masked-token modelling on text (English side of Multi30k, synthetic without DEEPNET_DATA), not images — there is no image data set, visual tokenizer or patch embedding here.",
                                "Pre-LN (the ViT architecture) vs. the §IV Pre-LN DeepNet at the paper's 12 and 24 layers, 64 hidden, 2,000 steps.",
                                "Fine-tuning accuracy, segmentation and robustness are not reproduced."]),
        .paper: .notRunnable("The engine has no vision path (patch embeddings, BEiT visual tokenizer, UperNet head) and ImageNet-1k/ADE20k are not available; the paper's configuration cannot be expressed as a RunConfig.",
                             notes: ["Paper text: ViT-Base (12L) and ViT-Large (24L), 300 epochs of BEiT pre-training on ImageNet-1k; hyper-parameters in the appendix (not in the text)."]),
    ],
    verdict: { r in
        [
            Verdicts.better(r, claim: "At 12 layers the Pre-LN DeepNet reaches a lower masked-modelling perplexity than Pre-LN (stand-in).",
                            metric: .perplexity, a: ["method": "DeepNet", "depth": "12L"], than: [["method": "ViT (Pre-LN)", "depth": "12L"]]),
            Verdicts.better(r, claim: "At 24 layers the Pre-LN DeepNet reaches a lower masked-modelling perplexity than Pre-LN (stand-in).",
                            metric: .perplexity, a: ["method": "DeepNet", "depth": "24L"], than: [["method": "ViT (Pre-LN)", "depth": "24L"]]),
            Verdicts.notRun("DeepNet improves ImageNet, ADE20k and robustness accuracy over ViT.", "no vision data or vision model path; see the profile notes"),
        ]
    }
)

