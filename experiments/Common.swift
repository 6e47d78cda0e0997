// Shared base configurations and level builders for the experiment files. Each experiment file states only
// what differs from these bases.
import DeepNetEngine
import DeepNetData
import DeepNetHarness

/// Engine method registry names, by the paper's labels.
enum Method {
    static let postLN = "post-ln"
    static let preLN = "pre-ln"
    static let deepNorm = "deepnorm"
    static let postLNInit = "post-ln-init"
    static let dsInit = "ds-init"
    static let admin = "admin"
    static let reZero = "rezero"
    static let rFixup = "r-fixup"
    static let tFixup = "t-fixup"
    static let dlcl = "dlcl"
    static let normFormer = "normformer"
    /// DeepNet for Pre-LN Transformers (§IV; Sub-LN with the sqrt(log 2N) init, the ICML 2023 "Magneto").
    static let subLN = "sub-ln"
    /// Table XI ablations (engine methods, Sources/DeepNetEngine/Methods/DeepNormAblations.swift).
    static let deepNormWithoutResidualScale = "deepnorm-no-alpha"
    static let deepNormWithoutInit = "deepnorm-no-init"
}

/// Level builders.
enum L {
    static func method(_ label: String, _ name: String, paperKey: String? = nil) -> Level {
        Level(label, paperKey: paperKey, [.set(\.model.method, name, as: "model.method")])
    }

    /// "NL-ML" for an encoder-decoder.
    static func depth(_ n: Int, _ m: Int? = nil, paperKey: String? = nil) -> Level {
        let m = m ?? n
        return Level("\(n)L-\(m)L", paperKey: paperKey, [
            .set(\.model.encoderLayers, n, as: "model.encoderLayers"),
            .set(\.model.decoderLayers, m, as: "model.decoderLayers"),
        ])
    }

    /// "NL" for a decoder-only model.
    static func decoderDepth(_ n: Int, paperKey: String? = nil) -> Level {
        Level("\(n)L", paperKey: paperKey, [.set(\.model.decoderLayers, n, as: "model.decoderLayers")])
    }

    /// "NL" for an encoder-only model.
    static func encoderDepth(_ n: Int, paperKey: String? = nil) -> Level {
        Level("\(n)L", paperKey: paperKey, [.set(\.model.encoderLayers, n, as: "model.encoderLayers")])
    }

    static func lr(_ x: Double, paperKey: String? = nil) -> Level {
        Level(lrLabel(x), paperKey: paperKey, [.set(\.optimizer.lr, x, as: "optimizer.lr")])
    }

    static func lrLabel(_ x: Double) -> String {
        // 0.0005 -> "5e-4", 0.0012 -> "1.2e-3"
        var e = 0
        var m = x
        while m < 1 { m *= 10; e -= 1 }
        let mr = (m * 100).rounded() / 100
        let ms = mr == mr.rounded() ? String(Int(mr)) : "\(mr)"
        return "\(ms)e\(e)"
    }

    static func custom(_ label: String, paperKey: String? = nil, _ overrides: [Override]) -> Level {
        Level(label, paperKey: paperKey, overrides)
    }
}

/// The ten models of Table I (and Fig. 6), with the paper's row labels.
enum Baselines {
    static let tableI: [Level] = [
        L.method("Vanilla Post-LN", Method.postLN),
        // The released code's exponent 1/4 (docs/preregistration.md §2): the paper ran its baselines with their code.
        L.custom("DS-Init", [.set(\.model.method, Method.dsInit, as: "model.method"),
                             .set(\.model.methodOptions, ["dsinit-exponent": 0.25], as: "model.methodOptions")]),
        L.method("Admin", Method.admin),
        L.method("ReZero", Method.reZero),
        L.method("R-Fixup", Method.rFixup),
        L.method("T-Fixup", Method.tFixup),
        L.method("Vanilla Pre-LN", Method.preLN),
        L.method("DLCL", Method.dlcl),
        L.method("NormFormer", Method.normFormer),
        L.method("DeepNet", Method.deepNorm),
    ]
    static let postLNFamily = ["Vanilla Post-LN", "DS-Init", "Admin"]
    /// Rule G7's families (the paper's LN groups).
    static let families: [String: [String]] = [
        "Post-LN": postLNFamily, "No-LN": ["ReZero", "R-Fixup", "T-Fixup"],
        "Pre-LN": ["Vanilla Pre-LN", "DLCL", "NormFormer"], "DeepNorm": ["DeepNet"],
    ]
    static let reZeroExclusion = "the paper attributes ReZero's divergence to fp16 training; the engine trains in fp32"
}

/// Base configurations per profile.
enum Base {
    // MARK: smoke — synthetic data, d = 32, seconds per run.

    static var smokeTranslation: RunConfig {
        var c = RunConfig()
        c.task = .translation
        c.model = ModelConfig(architecture: .encoderDecoder, encoderLayers: 2, decoderLayers: 2, embedDim: 32,
                              ffnDim: 64, heads: 2, vocabSize: 128, maxPositions: 64, shareAllEmbeddings: true)
        c.data.dataset = .synthetic
        c.data.maxTokensPerSentence = 24
        c.data.evalSentences = 16
        c.optimizer.lr = 1e-3
        c.optimizer.warmupUpdates = 8
        c.training.batchTokens = 256
        c.training.steps = 30
        c.training.evalEvery = 15
        c.training.evalBatches = 2
        c.training.checkpointEvery = 15
        c.decode.beam = 1
        c.diagnostics.every = 5
        c.diagnostics.landscapeResolution = 5
        return c
    }

    static var smokeCausalLM: RunConfig {
        var c = smokeTranslation
        c.task = .causalLM
        c.model.architecture = .decoderOnly
        c.model.shareAllEmbeddings = false
        c.model.shareDecoderInputOutputEmbed = true
        c.model.positions = .learned
        c.model.activation = .gelu
        c.decode.beam = 0
        return c
    }

    static var smokeMaskedLM: RunConfig {
        var c = smokeCausalLM
        c.task = .maskedLM
        c.model.architecture = .encoderOnly
        return c
    }

    // MARK: reduced — the 64-128-2 "tiny Transformer" of the paper's Figs. 4–5, real data when DEEPNET_DATA is set.

    static var reducedTranslation: RunConfig {
        var c = RunConfig()
        c.task = .translation
        c.model = ModelConfig(architecture: .encoderDecoder, encoderLayers: 6, decoderLayers: 6, embedDim: 64,
                              ffnDim: 128, heads: 2, vocabSize: 2000, maxPositions: 256, shareAllEmbeddings: true,
                              dropout: 0.1, labelSmoothing: 0.1)
        c.data.dataset = .synthetic
        c.data.maxTokensPerSentence = 64
        c.data.evalSentences = 200
        c.optimizer.lr = 1.5e-3
        c.optimizer.weightDecay = 1e-4
        c.optimizer.warmupUpdates = 100
        c.training.batchTokens = 2048
        c.training.steps = 800
        c.training.evalEvery = 100
        c.training.evalBatches = 8
        c.training.checkpointEvery = 200
        c.decode.beam = 4
        c.decode.lengthPenalty = 0.6
        return c
    }

    static var reducedCausalLM: RunConfig {
        var c = reducedTranslation
        c.task = .causalLM
        c.model.architecture = .decoderOnly
        c.model.shareAllEmbeddings = false
        c.model.shareDecoderInputOutputEmbed = true
        c.model.positions = .learned
        c.model.activation = .gelu
        c.model.labelSmoothing = 0
        c.optimizer.weightDecay = 0.01
        c.decode.beam = 0
        return c
    }

    static var reducedMaskedLM: RunConfig {
        var c = reducedCausalLM
        c.task = .maskedLM
        c.model.architecture = .encoderOnly
        return c
    }

    // MARK: paper — the paper's configuration (see `paperNotes` for the provenance of each value).

    /// WMT-17 En-De "base-size" models. The paper's appendix is not in the text; batch, schedule and
    /// regularization are the "setting used in the DeepNet paper" as re-run by the Admin authors
    /// (microsoft/admin-torch example/README.md, via docs/methods.md §15).
    static var paperWMT: RunConfig {
        var c = RunConfig()
        c.task = .translation
        c.model = ModelConfig(architecture: .encoderDecoder, encoderLayers: 6, decoderLayers: 6, embedDim: 512,
                              ffnDim: 2048, heads: 8, vocabSize: 32000, maxPositions: 1024, shareAllEmbeddings: true,
                              dropout: 0.4, labelSmoothing: 0.1)
        c.data.dataset = .wmt17EnDe
        c.data.sourceLanguage = "en"; c.data.targetLanguage = "de"
        c.data.maxTokensPerSentence = 256
        c.data.evalSentences = 0
        c.optimizer.lr = 1.5e-3
        c.optimizer.weightDecay = 1e-4
        c.optimizer.warmupUpdates = 4000
        c.optimizer.warmupInitLR = 1e-7
        c.training.batchTokens = 128 * 4096
        c.training.steps = 100_000
        c.training.evalEvery = 1000
        c.training.evalBatches = 0
        c.training.checkpointEvery = 1000
        c.decode.beam = 4
        c.decode.lengthPenalty = 0.6
        return c
    }

    static let paperWMTNotes = [
        "Paper text: base-size models (512 hidden, 2048 FFN, 8 heads), mixed precision, hyper-parameters shared by all models.",
        "Not in the text (appendix): lr 1.5e-3, inverse-sqrt schedule with 4,000 warm-up steps from 1e-7, Adam (0.9, 0.98), 100k updates of 128×4096 tokens, dropout 0.4, label smoothing 0.1, weight decay 1e-4, beam 4, length penalty 0.6 — taken from microsoft/admin-torch's re-run of \"the setting used in the DeepNet paper\" (docs/methods.md §15); 32k shared BPE vocabulary assumed.",
        "Deviation: the engine is fp32-only (the paper trained in fp16).",
    ]

    /// IWSLT-14 De-En (fairseq `transformer_iwslt_de_en`: 512 hidden, 1024 FFN, 4 heads) [assumed architecture].
    static var paperIWSLT: RunConfig {
        var c = paperWMT
        c.model.ffnDim = 1024
        c.model.heads = 4
        c.model.vocabSize = 10000
        c.model.dropout = 0.3
        c.data.dataset = .iwslt14
        c.data.sourceLanguage = "de"; c.data.targetLanguage = "en"
        c.optimizer.lr = 5e-4
        c.training.batchTokens = 4096
        c.training.steps = 8000
        c.training.evalEvery = 500
        return c
    }

    static let paperIWSLTNotes = [
        "Paper text: IWSLT-14 De-En, 8,000 training steps for the depth sweep (Fig. 6), mixed precision except ReZero.",
        "Not in the text: architecture width (fairseq transformer_iwslt_de_en 512/1024/4 assumed), lr 5e-4, 4,000 warm-up steps, 4,096 tokens per batch, dropout 0.3, 10k BPE vocabulary — fairseq's IWSLT recipe, assumed.",
        "Deviation: the engine is fp32-only.",
    ]

    /// The paper's 64-128-2 tiny Transformers (Figs. 4–5) on IWSLT-14.
    static var paperTiny: RunConfig {
        var c = paperIWSLT
        c.model.embedDim = 64
        c.model.ffnDim = 128
        c.model.heads = 2
        return c
    }
}

/// Data sets used by `reduced` when DEEPNET_DATA is set (registry names of DeepNetData).
enum RealData {
    static let iwslt = DataChoice(real: .iwslt14Mini, source: "de", target: "en",
                                  description: "IWSLT14-mini: the real IWSLT'14 De-En valid set + 4,600-pair training sample (~11.9k pairs), test on the IWSLT'14 test set")
    static let enDe = DataChoice(real: .multi30k, source: "en", target: "de",
                                 description: "Multi30k en→de (29k training pairs) as a stand-in for WMT En-De")
    static let enFr = DataChoice(real: .multi30k, source: "en", target: "fr",
                                 description: "Multi30k en→fr (29k training pairs) as a stand-in for WMT-14 En-Fr")
    static let multilingual = DataChoice(real: .tatoeba, source: "en", target: "xx",
                                         description: "the 13 English-centric Tatoeba pairs (split by the data module) as a stand-in for OPUS-100")
    static let multi30kMany = DataChoice(real: .multi30kMany, source: "xx", target: "xx",
                                         description: "Multi30k many-to-many en↔{de, fr, cs} (6 directions, 29k multi-way parallel captions × 6, target-language tags; BLEU per direction, averaged) as a small multilingual stand-in for OPUS-100")
    static let englishLM = DataChoice(real: .multi30k, source: "en", target: "en",
                                      description: "English side of Multi30k as a small language-modelling corpus")
}

/// A copy of `c` with `f` applied: `with(Base.reducedTranslation) { $0.training.steps = 1500 }`.
func with<T>(_ c: T, _ f: (inout T) -> Void) -> T {
    var c = c
    f(&c)
    return c
}

extension Base {
    /// Reduced IWSLT-style base for the analysis figures (64-128-2, IWSLT14-mini when DEEPNET_DATA is set).
    static var reducedIWSLT: RunConfig {
        with(reducedTranslation) { c in
            c.data.sourceLanguage = "de"; c.data.targetLanguage = "en"
        }
    }

    /// "Early stage of training" for the analysis figures: the first steps, diagnostics every few steps.
    static func earlyStage(_ c: RunConfig, steps: Int, every: Int) -> RunConfig {
        with(c) { c in
            c.training.steps = steps
            c.training.evalEvery = max(1, steps / 4)
            c.training.checkpointEvery = max(1, steps / 2)
            c.diagnostics.every = every
            c.diagnostics.earlySteps = steps
            c.decode.beam = 0
        }
    }
}

/// A rule judging one claim from recorded instrument data: (results, claim wording) → verdict.
typealias InstrumentRule = (ExperimentResults, String) -> ClaimVerdict

/// Verdicts of the analysis figures' claims, which can only be judged from instrument data: each claim names
/// the measurement it needs and the rule (in the experiment's own file) that judges it; a claim whose
/// measurement no run recorded stays "not run", and so does a claim without a rule.
func instrumentVerdicts(_ r: ExperimentResults, _ claims: [(String, MeasurementKind, InstrumentRule?)]) -> [ClaimVerdict] {
    claims.map { c in Verdicts.needsInstrument(r, claim: c.0, c.1, evaluate: c.2.map { f in { f($0, c.0) } }) }
}

// Helpers of the instrument rules (Fig. 1–5).
/// A number for evidence text (`Verdicts.fmt`).
func fv(_ x: Double?, _ d: Int = 3) -> String { Verdicts.fmt(x, d) }

/// Levels of `axis` sorted by numeric value.
func numericLevels(_ r: ExperimentResults, _ axis: String) -> [String] {
    r.levels(axis).sorted { Verdicts.numericValue($0) < Verdicts.numericValue($1) }
}

func rec(_ r: ExperimentResults, _ sel: [String: String]) -> RunRecord? { r.record(sel) }

func firstUpdatesByDepth(_ r: ExperimentResults, method: String) -> [(String, Double)] {
    numericLevels(r, "depth").compactMap { d in
        rec(r, ["method": method, "depth": d]).flatMap(InstrumentSummaries.firstModelUpdate).map { (d, $0) }
    }
}
func stepLabel(_ r: ExperimentResults) -> String {
    guard let x = r.entries.compactMap(\.record).first, let s = InstrumentSummaries.arr(x, .modelUpdate, "steps")?.values.first(where: { $0 > 0 }) else { return "first recorded step" }
    return "step \(Int(s))"
}


/// Every run of the experiment converged.
func allConverge(_ r: ExperimentResults, claim: String) -> ClaimVerdict {
    if let v = Verdicts.requireRuns(r, claim) { return v }
    let bad = r.entries.filter { $0.record?.status != .ok }
    if bad.isEmpty { return ClaimVerdict(claim, .reproduced, "all \(r.entries.count) runs converged") }
    return ClaimVerdict(claim, .notReproduced, bad.map { e in
        "\(e.coordinates.shortLabel): \(e.record!.status.rawValue)" + (e.record!.divergedAtStep.map { " at step \($0)" } ?? "")
    }.joined(separator: "; "))
}

// Shared by the BLEU-vs-depth experiments (Table I, Table II, Fig. 6).

/// Every listed method diverges at the deepest level of "depth".
func deepestDepthVerdict(_ r: ExperimentResults, claim: String, methods: [String], depthAxis: String = "depth") -> ClaimVerdict {
    guard let deepest = r.levels(depthAxis).max(by: { Verdicts.numericValue($0) < Verdicts.numericValue($1) }) else {
        return Verdicts.notRun(claim, "no runs")
    }
    var sel: [[String: String]] = []
    for m in methods { sel.append(["method": m, depthAxis: deepest]) }
    for s in sel { if let v = Verdicts.requireRuns(r, claim, s) { return v } }
    let recs = sel.compactMap { s in r.entry(s).map { ($0, $0.record!) } }
    let conv = recs.filter { $0.1.status != .diverged }
    let ev = recs.map { e, rec in rec.status == .diverged ? "\(e.coordinates.shortLabel): diverged at step \(rec.divergedAtStep ?? 0)" : "\(e.coordinates.shortLabel): converged (BLEU \(Verdicts.fmt(rec.metrics.bleu)))" }.joined(separator: "; ")
    return ClaimVerdict(claim, conv.isEmpty ? .reproduced : .notReproduced, ev)
}

/// `level` of "method" has the highest BLEU among converged runs at the deepest depth.
func bestAtDeepest(_ r: ExperimentResults, claim: String, level: String, depthAxis: String = "depth", fixed: [String: String] = [:]) -> ClaimVerdict {
    guard let deepest = r.levels(depthAxis).max(by: { Verdicts.numericValue($0) < Verdicts.numericValue($1) }) else {
        return Verdicts.notRun(claim, "no runs")
    }
    var sel = fixed; sel[depthAxis] = deepest
    let others = r.levels("method").filter { $0 != level }.map { m -> [String: String] in var s = sel; s["method"] = m; return s }
    var mine = sel; mine["method"] = level
    return Verdicts.better(r, claim: claim, metric: .bleu, a: mine, than: others)
}

// MARK: the pre-registered reduced campaign (docs/preregistration.md)

extension L {
    /// Training seed `s` (the base seed is 1, so seed 1 shares its runs with plans that have no seed axis).
    static func seed(_ s: Int) -> Level { Level("\(s)", [.set(\.training.seed, s, as: "training.seed")]) }
}

extension RealData {
    /// Multi30k de→en, the trainable stand-in for IWSLT-14 De-En (IWSLT14-mini's 4,600 training pairs cannot reach
    /// the BLEU bar; docs/preregistration.md G1).
    static let deEn = DataChoice(real: .multi30k, source: "de", target: "en",
                                 description: "Multi30k de→en (29k training pairs) as a stand-in for IWSLT-14 De-En")
}

/// Settings shared by the campaign's plans (docs/preregistration.md §4).
enum Campaign {
    /// `steps` updates of `batch` target tokens; warm-up 4 % of the steps (the paper's 4,000 of 100k); the whole
    /// test set decoded; validation ten times per run; a checkpoint every fifth of the run (exact resume).
    static func translation(steps: Int, batch: Int = 2048, from base: RunConfig = Base.reducedTranslation) -> RunConfig {
        with(base) { c in
            c.training.steps = steps
            c.training.batchTokens = batch
            c.optimizer.warmupUpdates = max(1, steps * 4 / 100)
            // No dropout: 64-wide models trained for a few epochs do not overfit, and dropout only slowed them
            // down in the sizing pilots (docs/preregistration.md §6).
            c.model.dropout = 0
            c.data.evalSentences = 0
            c.training.evalEvery = max(1, steps / 10)
            c.training.checkpointEvery = max(1, steps / 5)
        }
    }

    /// The multilingual stand-in (multi30k-many): joint 4,000-entry vocabulary, the first 500 test sentences of each
    /// of the six directions.
    static func multilingual(steps: Int = 2000) -> RunConfig {
        with(translation(steps: steps)) { c in
            c.model.vocabSize = 4000
            c.data.evalSentences = 3000   // split evenly over the six directions: the first 500 of each
        }
    }

    /// A language-model run of `steps` × 2,048 tokens with 4 % warm-up.
    static func languageModel(_ base: RunConfig, steps: Int) -> RunConfig {
        with(base) { c in
            c.training.steps = steps
            c.training.batchTokens = 2048
            c.optimizer.warmupUpdates = max(1, steps * 4 / 100)
            c.model.dropout = 0
            c.training.evalEvery = max(1, steps / 10)
            c.training.checkpointEvery = max(1, steps / 5)
        }
    }

    /// Table I's setting, shared by Table II and Fig. 6: one schedule (lr 1.5e-3, 80 warm-up updates, inverse square
    /// root) whose length depends on the depth (`tableIDepth`): the BLEU comparisons need long runs, which the
    /// budget allows at 6L and 18L only; failure (divergence or stall) shows in the first few hundred updates.
    static var tableI: RunConfig {
        with(translation(steps: 2000)) { c in c.optimizer.warmupUpdates = 80 }
    }

    /// Updates of 2,048 target tokens per Table I depth (docs/preregistration.md, Table I).
    static func tableISteps(_ depth: Int) -> Int {
        switch depth {
        case ..<12: return 3000      // 6L-6L: 6M tokens
        case ..<36: return 2000      // 18L-18L: 4M
        case ..<100: return 500      // 50L-50L: 1M
        default: return 250          // 100L-100L: 0.5M
        }
    }

    /// "NL-NL" with Table I's run length for that depth.
    static func tableIDepth(_ n: Int, steps: Int? = nil, paperKey: String? = nil) -> Level {
        let s = steps ?? tableISteps(n)
        var l = L.depth(n, paperKey: paperKey)
        l.overrides += [.set(\.training.steps, s, as: "training.steps"),
                        .set(\.training.evalEvery, max(1, s / 10), as: "training.evalEvery"),
                        .set(\.training.checkpointEvery, max(1, s / 5), as: "training.checkpointEvery")]
        return l
    }
}

/// The multilingual depth levels (total layers, half encoder, half decoder) shared by Table III, Fig. 8 and Table V,
/// so identical configurations are one run.
enum Multilingual {
    static func layers(_ total: Int, paperKey: String? = nil) -> Level {
        L.custom("\(total)", paperKey: paperKey, [.set(\.model.encoderLayers, total / 2, as: "model.encoderLayers"),
                                                   .set(\.model.decoderLayers, total / 2, as: "model.decoderLayers")])
    }
    static let notes = [
        "64-128-2 tiny Transformers without dropout, 2,000 updates of 2,048 target tokens (4M tokens, 80 warm-up updates), joint 4,000-entry BPE vocabulary.",
        "multi30k-many — Multi30k en↔{de, fr, cs}, six directions, 174k training pairs with a target-language tag — instead of OPUS-100; BLEU per direction on the first 500 test_2016_flickr sentences of each, averaged over X→En, En→X and all six.",
        "Bar: the reference model must reach 10 six-direction mean BLEU (docs/preregistration.md G2).",
    ]
}

// MARK: pre-registered rule helpers (docs/preregistration.md §1)

/// "lower by 6.0 %" / "higher by 41.2 %" for a relative loss gain (b − a) / b: the direction in words, never "lower by -x %".
func lossGainText(_ gain: Double) -> String {
    (gain >= 0 ? "lower" : "higher") + " by \(fv(abs(gain) * 100, 1)) %"
}

/// The BLEU bars of rule G2.
enum Bar {
    static let singleDirection = 20.0
    static let multilingual = 10.0
}

/// What would decide a claim that rule G2 leaves inconclusive (rule G8 asks for it and its compute): the compared
/// runs (`runs`, a selector) trained to about `tokens` target tokens each; `basis` says where that number comes from.
struct DecidingRuns {
    var runs: [String: String]
    var tokens: Double
    var basis: String

    /// "deciding it needs …": the compute is scaled from the recorded wall time × threads of the compared runs
    /// that finished (a run already that long counts as it is), so it tracks this machine's measured speed.
    func text(_ r: ExperimentResults) -> String {
        var cpu = 0.0, n = 0
        let all = r.entries(runs)
        for e in all {
            guard let rec = e.record, rec.metrics.trainTokens > 0 else { continue }
            let threads = Double(ReportRenderer.threadCount(rec.provenance.threads) ?? 1)
            cpu += rec.metrics.wallSeconds * threads * max(1, tokens / Double(rec.metrics.trainTokens))
            n += 1
        }
        let hours = cpu / 3600 < 10 ? String(format: "%.1f", cpu / 3600) : String(format: "%.0f", cpu / 3600)
        let which = n == all.count ? "its \(n) compared run\(n == 1 ? "" : "s")" : "the \(n) finished of its \(all.count) compared runs (the others not counted)"
        let scale = n == 0 ? "" : "; at the recorded speed of \(which) that is about \(hours) CPU-hours"
        return "deciding it needs the compared runs trained to about \(CostModel.count(tokens)) target tokens each (\(basis))\(scale)"
    }
}

/// Rule G8 for the multilingual stand-ins (Tables III–V, Fig. 8) when their reference stays under the 10-BLEU bar:
/// twice the 4M tokens of the plan is a lower bound, not a measured length — each run measures BLEU only at its end,
/// so no run here shows how many tokens reach the bar; the pre-registration names 8M as the next step up.
func multilingualDeciding(_ runs: [String: String]) -> DecidingRuns {
    DecidingRuns(runs: runs, tokens: 4_000 * 2_048,
                 basis: "at least; a lower bound, not a measured length: BLEU is measured only at the end of each 4M-token run, so no run here shows how long the reference takes to reach the bar")
}

/// The reference model as the verdicts name it: its labels in axis order ("10L-10L DeepNet"), a bare number with the
/// axis it counts ("DeepNet, 48 layers"; Fig. 8's reference is "12 layers", not "12").
func referenceName(_ reference: [String: String]) -> String {
    let sorted = reference.sorted { $0.key < $1.key }
    let named = sorted.filter { Double($0.value) == nil }.map(\.value).joined(separator: " ")
    let counted = sorted.filter { Double($0.value) != nil }.map { "\($0.value) \($0.key)" }.joined(separator: ", ")
    return [named, counted].filter { !$0.isEmpty }.joined(separator: ", ")
}

/// Rule G2: nil when the reference model (seed mean) reaches `bar`; otherwise the claim is inconclusive, and says why
/// (and, given `decidedBy`, what would decide it — rule G8).
func belowBar(_ r: ExperimentResults, claim: String, reference: [String: String], bar: Double,
              decidedBy: DecidingRuns? = nil) -> ClaimVerdict? {
    if let v = Verdicts.requireRuns(r, claim, reference) { return v }
    let name = referenceName(reference)
    let needs = decidedBy.map { "; " + $0.text(r) } ?? ""
    guard let s = r.meanValue(.bleu, matching: reference), s.count > 0, s.mean.isFinite else {
        return ClaimVerdict(claim, .inconclusive, "the reference model (\(name)) has no BLEU (it did not train), so no BLEU comparison counts" + needs)
    }
    if s.mean >= bar { return nil }
    return ClaimVerdict(claim, .inconclusive,
                        "the reference model (\(name)) reached \(fv(s.mean, 2)) BLEU, below the pre-registered bar of \(fv(bar, 0)): models this little trained do not support BLEU comparisons" + needs)
}

/// Rule G3 for the run at `selector`: the reference is the run with `referenceAxis` = `referenceLevel` and the same
/// other coordinates (the same-depth DeepNet, same seed); without a usable one, the lowest best validation loss
/// among the runs that share every coordinate but `referenceAxis`.
func outcome(_ r: ExperimentResults, _ selector: [String: String], referenceAxis: String = "method",
             referenceLevel: String = "DeepNet") -> (RunOutcome, String)? {
    guard let e = r.entry(selector), let rec = e.record else { return nil }
    let ref = RunOutcome.reference(in: r, for: e.coordinates.dictionary, axis: referenceAxis, level: referenceLevel)
    return (RunOutcome.classify(rec, reference: ref.best), ref.name)
}

/// "not run" while the stall reference of a run matching `selector` (G3: the run with `axis` = `level` and the same
/// other coordinates) is planned but not finished: judged against the fallback (the best run of the group) such a
/// claim would be decided on a provisional reference, and could flip when the reference arrives.
func requireStallReferences(_ r: ExperimentResults, claim: String, _ selector: [String: String], axis: String,
                            level: String) -> ClaimVerdict? {
    for e in r.entries(selector) {
        var ref = e.coordinates.dictionary
        ref[axis] = level
        guard ref != e.coordinates.dictionary, let x = r.entry(ref), x.record == nil else { continue }
        return ClaimVerdict(claim, .notRun, "the stall reference (G3) of \(e.coordinates.shortLabel), \(x.coordinates.shortLabel), is not run yet")
    }
    return nil
}

/// "failed" (diverged or stalled) for every run matching `selector` (all seeds).
func failsEverywhere(_ r: ExperimentResults, claim: String, _ selector: [String: String], referenceAxis: String = "method",
                     referenceLevel: String = "DeepNet") -> ClaimVerdict {
    if let v = Verdicts.requireRuns(r, claim, selector) { return v }
    if let v = requireStallReferences(r, claim: claim, selector, axis: referenceAxis, level: referenceLevel) { return v }
    var ok = true, parts: [String] = []
    for e in r.entries(selector) {
        guard let (o, refName) = outcome(r, e.coordinates.dictionary, referenceAxis: referenceAxis, referenceLevel: referenceLevel) else { continue }
        if !o.failedToTrain { ok = false }
        parts.append("\(e.coordinates.shortLabel): \(o.text(reference: refName))")
    }
    return ClaimVerdict(claim, ok ? .reproduced : .notReproduced, parts.joined(separator: "; ") + " (need every run diverged or stalled)")
}

/// No run matching `selector` failed (diverged or stalled).
func trainsEverywhere(_ r: ExperimentResults, claim: String, _ selector: [String: String], referenceAxis: String = "method",
                      referenceLevel: String = "DeepNet") -> ClaimVerdict {
    if let v = Verdicts.requireRuns(r, claim, selector) { return v }
    if let v = requireStallReferences(r, claim: claim, selector, axis: referenceAxis, level: referenceLevel) { return v }
    var ok = true, parts: [String] = []
    for e in r.entries(selector) {
        guard let (o, refName) = outcome(r, e.coordinates.dictionary, referenceAxis: referenceAxis, referenceLevel: referenceLevel) else { continue }
        if o.failedToTrain { ok = false }
        parts.append("\(e.coordinates.shortLabel): \(o.text(reference: refName))")
    }
    return ClaimVerdict(claim, ok ? .reproduced : .notReproduced, parts.joined(separator: "; ") + " (need no run diverged or stalled)")
}

/// Several paired-bootstrap comparisons (rule G4) that must all come out as `expect`: reproduced when every one does,
/// not reproduced when one does not, inconclusive when one cannot be decided (both sides diverged, no statistics).
func allComparisons(_ r: ExperimentResults, claim: String, a: [String: String], than bs: [[String: String]],
                    expect: Set<BLEUComparisonOutcome>) -> ClaimVerdict {
    Verdicts.allOf(claim, bs.map { Verdicts.bleuComparison(r, claim: claim, a: a, b: $0, expect: expect) })
}

/// The largest learning rate (numeric value of the "lr" level) at which no run matching `selector` failed, with the
/// reference of rule G3 being the lowest best validation loss of the runs matching `group` (the whole sweep at that
/// depth and seed). nil when every learning rate failed.
func largestStableLR(_ r: ExperimentResults, _ selector: [String: String], group: [String: String]) -> (lr: Double?, text: String) {
    let ref = RunOutcome.referenceBest(in: r, matching: group)
    var best: Double?, parts: [String] = []
    for lr in r.levels("lr") {
        var s = selector; s["lr"] = lr
        guard let rec = r.record(s) else { continue }
        let o = RunOutcome.classify(rec, reference: ref)
        parts.append("\(lr): \(o.text(reference: "the sweep's best"))")
        if !o.failedToTrain { best = max(best ?? 0, Verdicts.numericValue(lr)) }
    }
    return (best, parts.joined(separator: ", "))
}

/// Seed-mean of `metric` at `selector`, relative difference of `a` against `b` (positive = `a` lower).
func relativeLossGain(_ r: ExperimentResults, _ metric: Metric, a: [String: String], b: [String: String]) -> (gain: Double, text: String)? {
    guard let x = r.meanValue(metric, matching: a), let y = r.meanValue(metric, matching: b), x.count > 0, y.count > 0 else { return nil }
    return ((y.mean - x.mean) / y.mean, "\(x.text(digits: 3)) vs \(y.text(digits: 3))")
}

// MARK: summary sentences (Experiment.summary: what the numbers show, computed from the records, never typed in)

/// A run's result in a summary sentence: BLEU to one decimal (the seed mean where there are several seeds), or
/// "stalled (its BLEU)" / "diverged at step k" by rule G3 against the run with `referenceAxis` = `referenceLevel`;
/// nil while not run.
func resultText(_ r: ExperimentResults, _ sel: [String: String], referenceAxis: String = "method",
                referenceLevel: String = "DeepNet") -> String? {
    guard let (o, _) = outcome(r, sel, referenceAxis: referenceAxis, referenceLevel: referenceLevel) else { return nil }
    switch o {
    case .converged: return r.meanValue(.bleu, matching: sel).map { fv($0.mean, 1) } ?? "trained"
    case .stalled: return "stalled" + (r.meanValue(.bleu, matching: sel).map { " (\(fv($0.mean, 1)))" } ?? "")
    case .diverged(let s): return s.map { "diverged at step \($0)" } ?? "diverged"
    case .failed: return "failed"
    }
}

/// The best-BLEU level of `axis` other than `excluding` among the runs at `fixed` that train (rule G3): "T-Fixup 24.5",
/// "none trains", or "no other method run".
func bestTrainingOther(_ r: ExperimentResults, axis: String = "method", excluding: String = "DeepNet", fixed: [String: String]) -> String {
    let others = r.levels(axis).filter { $0 != excluding }.map { m in (m, fixed.merging([axis: m]) { a, _ in a }) }
        .filter { !r.entries($0.1).isEmpty }
    // Fig. 6 runs only DeepNet at 100L-100L: "none trains" would claim the baselines failed there.
    guard !others.isEmpty else { return "no other method run" }
    let best = others.compactMap { m, sel -> (String, Double)? in
        guard let (o, _) = outcome(r, sel, referenceAxis: axis, referenceLevel: excluding), o == .converged,
              let s = r.meanValue(.bleu, matching: sel), s.count > 0 else { return nil }
        return (m, s.mean)
    }.max { $0.1 < $1.1 }
    return best.map { "\($0.0) \(fv($0.1, 1))" } ?? "none trains"
}

/// "DeepNet at 6L-6L / 18L-18L: 21.6 / 20.0 BLEU; the best other method that trains: T-Fixup 24.5 / R-Fixup 25.4".
func depthRowSummary(_ r: ExperimentResults, fixed: [String: String] = [:], depthAxis: String = "depth") -> String {
    let ds = r.levels(depthAxis)
    let dn = ds.map { resultText(r, fixed.merging(["method": "DeepNet", depthAxis: $0]) { a, _ in a }) ?? "not run" }
    let best = ds.map { bestTrainingOther(r, fixed: fixed.merging([depthAxis: $0]) { a, _ in a }) }
    return "DeepNet at \(ds.joined(separator: " / ")): \(dn.joined(separator: " / ")) BLEU; the best other method that trains: \(best.joined(separator: " / "))"
}

/// A multilingual run's result in a summary sentence: seed-mean BLEU with its two direction groups,
/// "24.1 (X→En 26.0, En→X 22.2)", and how many seeds diverged; nil while a seed is not run.
func multilingualText(_ r: ExperimentResults, _ sel: [String: String]) -> String? {
    let all = r.entries(sel).map(\.record)
    guard !all.isEmpty, all.allSatisfy({ $0 != nil }) else { return nil }
    let ok = all.compactMap { $0 }.filter { $0.status == .ok }
    func m(_ v: [Double?]) -> String {
        let x = v.compactMap { $0 }.filter(\.isFinite)
        return x.isEmpty ? "n/a" : fv(x.reduce(0, +) / Double(x.count), 1)
    }
    let failed = all.count - ok.count
    guard !ok.isEmpty else { return "failed in every seed" }
    return "\(m(ok.map(\.metrics.bleu))) (X→En \(m(ok.map(\.metrics.bleuToEnglish))), En→X \(m(ok.map(\.metrics.bleuFromEnglish))))"
        + (failed > 0 ? ", \(failed) of \(all.count) seeds failed" : "")
}
