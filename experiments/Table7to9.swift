// Tables VII–IX: zero-, one- and four-shot results of GPT-style models at 24, 48 and 72 layers.
import DeepNetData
import DeepNetHarness

private let shotColumns = ["WGe", "WG", "SC", "HS", "Avg."]
private let div5: [PaperCell] = Array(repeating: .diverged, count: 5)

private func rows(_ r: [(String, [PaperCell])]) -> [PaperRow] { r.map { PaperRow($0.0, $0.1) } }

let table7to9 = with(table7to9Declaration) { $0.changesAfterPreregistration = [table7SecondSeedChange] }

/// Rule G5: the first seed's perplexity verdicts rested on loss differences under 2 % (24L: DeepNet 33.605 vs
/// GPT-2 32.628, 0.85 % in loss; 48L: DeepNet 38.926 vs NormFormer 40.964, 1.4 %), so the compared runs (each
/// method's best learning rate, 8e-3 for all six pairs) get seed 2. Seed 1's run ids are unchanged: `L.seed(1)`
/// sets the base's own seed, and a run's id hashes its resolved config.
let table7SecondSeedLR = "8e-3"
let table7SecondSeedChange = "Rule G5 (plan change after the first seed): both perplexity verdicts rested on loss differences under 2 % (24L: DeepNet 33.605 vs GPT-2 32.628, 0.85 % in loss; 48L: DeepNet 38.926 vs NormFormer 40.964, 1.4 %), so every method's best-lr run at each depth (lr 8e-3 for all six) gets training seed 2, and the perplexity claims compare the seed means at each method's best learning rate. The learning-rate claims stay on the pre-registered seed-1 sweep. The rule itself (DeepNet ≥ 2 % lower than both) is unchanged."

private let table7to9Declaration = Experiment(
    id: "table7",
    title: "Zero-, one- and four-shot results of causal language models (GPT-2, NormFormer, DeepNet)",
    artifact: .tables([7, 8, 9]),
    claim: "DeepNet tolerates a larger learning rate than GPT-2 and NormFormer (both diverge at 1e-3 at 24 layers; DeepNet trains at 1e-3 and 1.2e-3) and achieves the best average in-context accuracy at 24, 48 and 72 layers.",
    paper: PaperNumbers(tables: [
        PaperTable(caption: "TABLE VII — Zero-shot results (WGe: Winogrande, WG: Winograd, SC: Storycloze, HS: Hellaswag)",
                   columns: shotColumns, rows: rows([
                       ("24L GPT-2 5e-4", [v(55.2), v(65.3), v(70.8), v(44.8), v(59.0)]),
                       ("24L GPT-2 1e-3", div5),
                       ("24L Normformer 5e-4", [v(54.3), v(68.1), v(72.0), v(45.9), v(60.1)]),
                       ("24L Normformer 1e-3", div5),
                       ("24L DeepNet 1e-3", [v(54.3), v(71.9), v(72.4), v(46.9), v(61.4)]),
                       ("48L GPT-2 5e-4", [v(57.3), v(67.0), v(74.0), v(48.0), v(61.6)]),
                       ("48L Normformer 5e-4", [v(56.5), v(70.5), v(74.0), v(49.8), v(62.7)]),
                       ("48L DeepNet 1.2e-3", [v(57.0), v(73.3), v(74.7), v(51.2), v(64.1)]),
                       ("72L GPT-2 5e-4", [v(58.0), v(70.9), v(75.7), v(51.7), v(64.1)]),
                       ("72L Normformer 5e-4", [v(57.4), v(75.4), v(75.2), v(53.6), v(65.4)]),
                       ("72L DeepNet 1.2e-3", [v(57.9), v(73.7), v(76.6), v(55.1), v(65.8)]),
                   ])),
        PaperTable(caption: "TABLE VIII — One-shot results",
                   columns: shotColumns, rows: rows([
                       ("24L GPT-2 5e-4", [v(54.4), v(66.7), v(71.0), v(44.8), v(59.2)]),
                       ("24L GPT-2 1e-3", div5),
                       ("24L Normformer 5e-4", [v(54.0), v(67.4), v(72.1), v(45.6), v(59.8)]),
                       ("24L Normformer 1e-3", div5),
                       ("24L DeepNet 1e-3", [v(54.1), v(70.2), v(72.8), v(47.3), v(61.1)]),
                       ("48L GPT-2 5e-4", [v(56.0), v(69.5), v(74.2), v(48.5), v(62.1)]),
                       ("48L Normformer 5e-4", [v(54.7), v(71.2), v(74.8), v(50.6), v(62.8)]),
                       ("48L DeepNet 1.2e-3", [v(56.8), v(71.6), v(74.9), v(51.5), v(63.7)]),
                       ("72L GPT-2 5e-4", [v(56.9), v(71.2), v(76.0), v(52.2), v(64.1)]),
                       ("72L Normformer 5e-4", [v(57.8), v(69.8), v(76.8), v(54.0), v(64.6)]),
                       ("72L DeepNet 1.2e-3", [v(59.8), v(74.0), v(77.9), v(55.5), v(66.8)]),
                   ])),
        PaperTable(caption: "TABLE IX — Four-shot results",
                   columns: shotColumns, rows: rows([
                       ("24L GPT-2 5e-4", [v(54.0), v(67.7), v(69.8), v(44.6), v(59.0)]),
                       ("24L GPT-2 1e-3", div5),
                       ("24L Normformer 5e-4", [v(54.3), v(70.2), v(71.4), v(45.9), v(60.5)]),
                       ("24L Normformer 1e-3", div5),
                       ("24L DeepNet 1e-3", [v(57.6), v(74.7), v(72.8), v(47.5), v(63.2)]),
                       ("48L GPT-2 5e-4", [v(57.7), v(71.2), v(73.8), v(48.7), v(62.9)]),
                       ("48L Normformer 5e-4", [v(56.8), v(75.4), v(75.9), v(50.7), v(64.7)]),
                       ("48L DeepNet 1.2e-3", [v(57.9), v(71.9), v(76.4), v(51.9), v(64.5)]),
                       ("72L GPT-2 5e-4", [v(57.5), v(73.3), v(76.1), v(52.4), v(64.8)]),
                       ("72L Normformer 5e-4", [v(57.7), v(74.0), v(77.0), v(54.9), v(65.9)]),
                       ("72L DeepNet 1.2e-3", [v(58.3), v(74.0), v(79.0), v(55.7), v(66.8)]),
                   ])),
    ], statements: [
        PaperStatement("We start with a model that has the same configuration as GPT-3 Medium (350 M), and further scale its depth from 24 L to 48 L and 72 L.", section: "VIII"),
        PaperStatement("DeepNet tolerates a larger learning rate than the baselines, indicating that our model is more stable in optimization.", section: "VIII"),
    ]),
    paperSetup: "GPT-3 Medium configuration (1,024 hidden, 16 heads) at 24/48/72 layers, GPT-2 tokenizer, English corpus (subset of [45] + English CC100); in-context evaluation on Winogrande, Winograd, Storycloze, Hellaswag.",
    measured: "Stand-in: validation perplexity of a decoder-only causal LM and whether training diverges at each learning rate (no in-context benchmarks).",
    measurements: [.perplexity, .validLoss],
    renders: [
        .table(rows: "method", columns: "depth", metric: .perplexity),
        .curves(.trainLoss, series: "method", panels: "depth", logY: true),
    ],
    profiles: [
        .smoke: .runs(RunGrid(base: Base.smokeCausalLM, axes: [
            Axis("method", [L.method("GPT-2", Method.preLN), L.method("NormFormer", Method.normFormer), L.method("DeepNet", Method.subLN)]),
            Axis("lr", [L.lr(5e-4), L.lr(1e-3)]),
            Axis("depth", [L.decoderDepth(2)]),
        ]), notes: ["Synthetic tokens, d = 32, 2 layers."]),
        // Pre-registered (docs/preregistration.md, Tables VII–IX): a learning-rate sweep at 24 and 48 layers.
        .reduced: .runs(RunGrid(base: Campaign.languageModel(Base.reducedCausalLM, steps: 500), axes: [
            Axis("method", [L.method("GPT-2", Method.preLN), L.method("NormFormer", Method.normFormer), L.method("DeepNet", Method.subLN)]),
            Axis("lr", [5e-4, 1e-3, 2e-3, 4e-3, 8e-3].map { L.lr($0) }),
            Axis("depth", [L.decoderDepth(24), L.decoderDepth(48)]),
            Axis("seed", [L.seed(1), L.seed(2)]),
        ], include: { c in c["seed"] == "1" || c["lr"] == table7SecondSeedLR }),
                        data: RealData.englishLM,
                        notes: ["Declared stand-in for GPT-3-Medium-size causal LMs evaluated in context: decoder-only causal LM at 24 and 48 layers (the paper's 72-layer models are left out), lr ∈ {5e-4, 1e-3, 2e-3, 4e-3, 8e-3} for every model, 64 hidden / 128 FFN, 500 updates of 2,048 tokens (1M tokens, 20 warm-up), on the English side of Multi30k.",
                                "What it measures instead of in-context accuracy: the largest learning rate at which each model trains without failing, and the best validation perplexity over the sweep (no benchmark data offline, and 64-wide models have no in-context ability).",
                                "Rule G5 (added after the first seed, see the changes after pre-registration): a second seed of every method at lr \(table7SecondSeedLR), the best learning rate of all six method × depth pairs in seed 1; the perplexity claims compare seed means there.",
                                "DeepNet here is the §IV Pre-LN DeepNet (Sub-LN, torchscale's init with the √(log 2N) scale) [assumed: the experiments come from the ICML 2023 paper [25]]."]),
        .paper: .runs(RunGrid(base: with(Base.reducedCausalLM) {
            $0.model.embedDim = 1024; $0.model.ffnDim = 4096; $0.model.heads = 16; $0.model.vocabSize = 50257
            $0.model.maxPositions = 2048; $0.model.dropout = 0.1
            $0.data.dataset = .cc100En; $0.data.maxTokensPerSentence = 2048
            $0.optimizer.eps = 1e-6; $0.optimizer.warmupUpdates = 375
            $0.training.batchTokens = 2048 * 256; $0.training.steps = 572_000; $0.training.evalEvery = 1000
        }, axes: [
            Axis("method", [L.method("GPT-2", Method.preLN), L.method("NormFormer", Method.normFormer), L.method("DeepNet", Method.subLN)]),
            Axis("lr", [L.lr(5e-4), L.lr(1e-3), L.lr(1.2e-3)]),
            Axis("depth", [L.decoderDepth(24), L.decoderDepth(48), L.decoderDepth(72)]),
        ], include: { c in
            switch (c["depth"]!, c["method"]!, c["lr"]!) {
            case ("24L", "DeepNet", "1e-3"), ("24L", "GPT-2", "5e-4"), ("24L", "GPT-2", "1e-3"), ("24L", "NormFormer", "5e-4"), ("24L", "NormFormer", "1e-3"): return true
            case (_, "DeepNet", "1.2e-3"), (_, "GPT-2", "5e-4"), (_, "NormFormer", "5e-4"): return c["depth"] != "24L"
            default: return false
            }
        }), notes: ["Paper text: GPT-3 Medium configuration at 24/48/72 layers, lr as in the tables, GPT-2 tokenizer.",
                    "Not in the text (appendix Table 22): batch, steps, warm-up; GPT-3 Medium's published values assumed (0.5M tokens per batch, 300B tokens ≈ 572k steps, 375M warm-up tokens ≈ 375 steps of 1M)."]),
    ],
    summary: { r, _ in table7Summary(r) },
    verdict: { r in
        var out: [ClaimVerdict] = []
        for depth in r.levels("depth") {
            let claim = "At \(depth), DeepNet's largest stable learning rate exceeds GPT-2's and NormFormer's (the reduced form of \"both diverge at 1e-3 where DeepNet trains\")."
            if let v = Verdicts.requireRuns(r, claim, ["depth": depth]) { out.append(v); continue }
            // The pre-registered sweep is seed 1; G5's second seeds exist only at one lr and are not part of it.
            // (Results written before the seed axis existed have no seed coordinate: all of them are seed 1.)
            let group = r.axes.contains("seed") ? ["depth": depth, "seed": "1"] : ["depth": depth]
            let d = largestStableLR(r, group.merging(["method": "DeepNet"]) { a, _ in a }, group: group)
            let g = largestStableLR(r, group.merging(["method": "GPT-2"]) { a, _ in a }, group: group)
            let n = largestStableLR(r, group.merging(["method": "NormFormer"]) { a, _ in a }, group: group)
            let ok = (d.lr ?? 0) > (g.lr ?? 0) && (d.lr ?? 0) > (n.lr ?? 0)
            func lab(_ x: Double?) -> String { x.map { L.lrLabel($0) } ?? "none" }
            out.append(ClaimVerdict(claim, ok ? .reproduced : .notReproduced,
                                    "largest stable lr: DeepNet \(lab(d.lr)), GPT-2 \(lab(g.lr)), NormFormer \(lab(n.lr)); DeepNet \(d.text) | GPT-2 \(g.text) | NormFormer \(n.text)"))
        }
        for depth in r.levels("depth") {
            let claim = "Stand-in for the in-context accuracy: at \(depth), DeepNet's best validation perplexity over the learning rates is at least 2 % below GPT-2's and NormFormer's."
            if let v = Verdicts.requireRuns(r, claim, ["depth": depth]) { out.append(v); continue }
            // Rule G5: each method's best learning rate by the seed mean of its converged runs there.
            func best(_ m: String) -> (lr: String, mean: SeedSummary)? {
                r.levels("lr").compactMap { lr in
                    r.meanValue(.perplexity, matching: ["method": m, "depth": depth, "lr": lr]).flatMap { $0.count > 0 ? (lr, $0) : nil }
                }.min { $0.mean.mean < $1.mean.mean }
            }
            guard let d = best("DeepNet"), let g = best("GPT-2"), let n = best("NormFormer") else {
                out.append(ClaimVerdict(claim, .notReproduced, "a method has no converged run")); continue
            }
            let ok = d.mean.mean <= 0.98 * g.mean.mean && d.mean.mean <= 0.98 * n.mean.mean
            func lab(_ x: (lr: String, mean: SeedSummary)) -> String { "\(x.mean.text(digits: 3)) at lr \(x.lr)" }
            out.append(ClaimVerdict(claim, ok ? .reproduced : .notReproduced,
                                    "best validation perplexity (seed mean where there are two seeds): DeepNet \(lab(d)), GPT-2 \(lab(g)), NormFormer \(lab(n)) (need DeepNet ≥ 2 % lower than both)"))
        }
        return out
    }
)

/// What the causal-LM stand-in's numbers show per depth: each method's largest stable learning rate (seed-1 sweep)
/// and its best validation perplexity (seed mean at its best learning rate).
private func table7Summary(_ r: ExperimentResults) -> String {
    guard r.isComplete else { return "" }
    let methods = r.levels("method")
    return r.levels("depth").map { depth in
        let group = r.axes.contains("seed") ? ["depth": depth, "seed": "1"] : ["depth": depth]
        let lrs = methods.map { m in largestStableLR(r, group.merging(["method": m]) { a, _ in a }, group: group).lr.map { L.lrLabel($0) } ?? "none" }
        let ppl = methods.map { m in
            fv(r.levels("lr").compactMap { lr in r.meanValue(.perplexity, matching: ["method": m, "depth": depth, "lr": lr]).flatMap { $0.count > 0 ? $0.mean : nil } }.min(), 1)
        }
        return "\(depth): largest stable lr \(lrs.joined(separator: " / ")), best perplexity \(ppl.joined(separator: " / "))"
    }.joined(separator: "; ") + " (\(methods.joined(separator: " / ")))."
}
