// The fully resolved configuration of one training run. Its canonical JSON (plus the data fingerprint and the
// engine numerics version) is the run's identity: any change to any field here is a different run.
import DeepNetData
import DeepNetEngine
import Foundation

/// How BLEU tokenizes: sacreBLEU's 13a on detokenized text, or none (fairseq's tokenized BLEU on text that is
/// already tokenized, docs/bleu.md §6). The raw values are sacreBLEU's `tokenize` names.
public enum BLEUTokenization: String, Codable, Choice, CustomStringConvertible {
    case mteval13a = "13a"
    case tokenized = "none"
    public var description: String { rawValue }
}

/// What the model is trained to do.
public enum TrainingTask: String, Codable, Choice {
    case translation
    case causalLM = "causal-lm"
    case maskedLM = "masked-lm"
}

/// Reproduction profiles. `smoke`: CI, seconds per run. `reduced`: this project's 2-core reproduction.
/// `paper`: the paper's configuration, runnable in principle (use `--dry-run` to see what it would cost).
public enum Profile: String, Codable, Choice, Comparable {
    case smoke, reduced, paper
    public static func < (a: Profile, b: Profile) -> Bool {
        allCases.firstIndex(of: a)! < allCases.firstIndex(of: b)!
    }
}

/// Measurements a run can be asked to record. The training-dynamics instruments (gradient norms per layer,
/// model update, LN input norms, landscapes, scaling-law fits) write into reserved HDF5 groups
/// (`/diagnostics/<rawValue>`) — see results/README.md.
public enum MeasurementKind: String, Codable, Choice, Comparable {
    case trainLoss = "train-loss"
    case validLoss = "valid-loss"
    case bleu
    case perplexity
    case gradientNorm = "grad-norm"
    case gradientNormPerLayer = "grad-norm-per-layer"
    case modelUpdate = "model-update"
    case lnInputNorm = "ln-input-norm"
    case lossLandscape2D = "loss-landscape-2d"
    case trajectoryPCA = "trajectory-pca"
    case scalingLawFit = "scaling-law-fit"

    public static func < (a: MeasurementKind, b: MeasurementKind) -> Bool { a.rawValue < b.rawValue }

    /// Recorded by the plain training loop (no instrument needed).
    public var isBuiltIn: Bool {
        switch self {
        case .trainLoss, .validLoss, .bleu, .perplexity, .gradientNorm: return true
        default: return false
        }
    }

    /// Computed across runs at report time rather than recorded by a run.
    public var isCrossRun: Bool { self == .scalingLawFit }
}

public struct DataSpec: Codable, Hashable, Sendable {
    /// The data set, by its checked DeepNetData registry name; `synthetic` needs no files.
    public var dataset: DataSetName = .synthetic
    public var sourceLanguage: String = "src"
    public var targetLanguage: String = "tgt"
    /// Sentences longer than this many BPE tokens are dropped from training.
    public var maxTokensPerSentence: Int = 64
    /// Use at most this many training pairs (0 = all).
    public var trainSentences: Int = 0
    /// Decode at most this many test sentences for BLEU (0 = all).
    public var evalSentences: Int = 200
    public init() {}
}

public struct TrainingSpec: Codable, Hashable, Sendable {
    /// Target tokens per optimizer step (fairseq `--max-tokens` × GPUs × `--update-freq`).
    public var batchTokens: Int = 4096
    public var steps: Int = 1000
    /// Validation loss every this many steps (and at the last step).
    public var evalEvery: Int = 200
    /// Validation batches per evaluation (0 = the whole validation split).
    public var evalBatches: Int = 8
    /// Checkpoint for resumption every this many steps (0 = never).
    public var checkpointEvery: Int = 500
    public var seed: Int = 1
    /// Arithmetic. The engine is fp32-only; the paper trained with fp16 mixed precision (recorded as a deviation).
    public var precision: String = "fp32"
    public init() {}
}

/// A run that produces a non-finite loss, or a loss above `lossThreshold` for `patience` consecutive steps,
/// is stopped and recorded as `diverged` at that step.
public struct DivergenceRule: Codable, Hashable, Sendable {
    public var lossThreshold: Double = 20
    public var patience: Int = 20
    public init() {}
}

public struct DecodeSpec: Codable, Hashable, Sendable {
    /// 0 = no decoding (no BLEU); 1 = greedy.
    public var beam: Int = 4
    public var lengthPenalty: Double = 0.6
    /// Maximum output length = a·source length + b.
    public var maxLengthA: Double = 1.2
    public var maxLengthB: Int = 10
    /// BLEU tokenization, as the data set's definition scores it (set by planning, checked by `validate`).
    public var bleuTokenize: BLEUTokenization = .mteval13a
    public init() {}
}

/// Settings for the training-dynamics instruments (only read when the matching measurement is requested).
public struct DiagnosticsSpec: Codable, Hashable, Sendable {
    /// Record per-step diagnostics (grad norm per layer, ‖ΔF‖, LN input norms) every this many steps.
    public var every: Int = 10
    /// Only during the first this many steps ("early stage of training"); 0 = whole run.
    public var earlySteps: Int = 0
    /// Loss landscape: grid points per axis and half-width of the grid in direction units.
    public var landscapeResolution: Int = 21
    public var landscapeSpan: Double = 1.0
    public var landscapeSeed: Int = 123
    public init() {}
}

public struct RunConfig: Codable, Hashable, Sendable {
    public var task: TrainingTask = .translation
    public var model: ModelConfig = ModelConfig()
    public var data: DataSpec = DataSpec()
    /// The engine's optimizer configuration (fairseq Adam, inverse-sqrt schedule, clipping).
    public var optimizer: OptimizerConfig = OptimizerConfig(warmupInitLR: 1e-7)
    public var training: TrainingSpec = TrainingSpec()
    public var divergence: DivergenceRule = DivergenceRule()
    public var decode: DecodeSpec = DecodeSpec()
    public var measurements: [MeasurementKind] = [.trainLoss, .validLoss, .gradientNorm]
    public var diagnostics: DiagnosticsSpec = DiagnosticsSpec()

    public init() {}

    /// Convenience: N encoder + M decoder layers ("NL-ML").
    public var depthLabel: String {
        switch model.architecture {
        case .encoderDecoder: return "\(model.encoderLayers)L-\(model.decoderLayers)L"
        case .encoderOnly: return "\(model.encoderLayers)L"
        case .decoderOnly: return "\(model.decoderLayers)L"
        }
    }

    /// The configuration's canonical JSON value (sorted keys; see `JSONValue.canonical`).
    public func canonicalJSON() -> JSONValue {
        var me = self
        me.measurements = Array(Set(measurements)).sorted()
        // Encoding a plain struct of codable fields cannot fail.
        return try! JSONValue.from(me)
    }
}

/// A configuration value outside its allowed range; names the field and what is allowed.
public struct RunConfigError: Error, CustomStringConvertible, Equatable {
    public var field: String
    public var value: String
    public var allowed: String
    public init(field: String, value: String, allowed: String) { self.field = field; self.value = value; self.allowed = allowed }
    public var description: String {
        value.isEmpty ? "invalid '\(field)': \(allowed)" : "invalid value \(value) for '\(field)': allowed \(allowed)"
    }
}

extension RunConfig {
    /// Checks every field against its allowed range, then lets the engine check the model.
    public func validate() throws {
        func check(_ ok: Bool, _ field: String, _ value: Any, _ allowed: String) throws {
            if !ok { throw RunConfigError(field: field, value: "\(value)", allowed: allowed) }
        }
        let m = model
        try check(m.embedDim >= 4 && m.embedDim <= 65_536, "model.embedDim", m.embedDim, "4...65536")
        try check(m.ffnDim >= 1 && m.ffnDim <= 262_144, "model.ffnDim", m.ffnDim, "1...262144")
        try check(m.heads >= 1 && m.embedDim % m.heads == 0, "model.heads", m.heads, "a divisor of model.embedDim (\(m.embedDim))")
        if m.architecture != .decoderOnly {
            try check(m.encoderLayers >= 1 && m.encoderLayers <= 10_000, "model.encoderLayers", m.encoderLayers, "1...10000")
        }
        if m.architecture != .encoderOnly {
            try check(m.decoderLayers >= 1 && m.decoderLayers <= 10_000, "model.decoderLayers", m.decoderLayers, "1...10000")
        }
        try check(m.vocabSize >= 8 && m.vocabSize <= 1_000_000, "model.vocabSize", m.vocabSize, "8...1000000")
        try check(m.alphaMultiplier > 0 && m.alphaMultiplier <= 1000, "model.alphaMultiplier", m.alphaMultiplier, "(0, 1000]")
        try check(m.betaMultiplier > 0 && m.betaMultiplier <= 1000, "model.betaMultiplier", m.betaMultiplier, "(0, 1000]")
        switch (task, m.architecture) {
        case (.translation, .encoderDecoder), (.causalLM, .decoderOnly), (.maskedLM, .encoderOnly): break
        default:
            throw RunConfigError(field: "task", value: task.rawValue,
                                 allowed: "translation with encoder-decoder, causal-lm with decoder-only, masked-lm with encoder-only (model.architecture is \(m.architecture.rawValue))")
        }
        let o = optimizer
        try check(o.betas.count == 2 && o.betas.allSatisfy { $0 >= 0 && $0 < 1 }, "optimizer.betas", o.betas, "two values in [0, 1)")
        try check(o.lr > 0 && o.lr <= 1, "optimizer.lr", o.lr, "(0, 1]")
        try check(o.eps > 0 && o.eps < 1, "optimizer.eps", o.eps, "(0, 1)")
        try check(o.weightDecay >= 0 && o.weightDecay < 1, "optimizer.weightDecay", o.weightDecay, "[0, 1)")
        try check(o.clipNorm >= 0, "optimizer.clipNorm", o.clipNorm, ">= 0 (0 = off)")
        try check(o.warmupUpdates >= 0, "optimizer.warmupUpdates", o.warmupUpdates, ">= 0")
        try check(o.warmupInitLR >= 0 && o.warmupInitLR <= o.lr, "optimizer.warmupInitLR", o.warmupInitLR, "[0, optimizer.lr]")
        let t = training
        try check(t.batchTokens >= 1 && t.batchTokens <= 100_000_000, "training.batchTokens", t.batchTokens, "1...100000000")
        try check(t.steps >= 1 && t.steps <= 100_000_000, "training.steps", t.steps, "1...100000000")
        try check(t.evalEvery >= 1, "training.evalEvery", t.evalEvery, ">= 1")
        try check(t.evalBatches >= 0, "training.evalBatches", t.evalBatches, ">= 0 (0 = whole split)")
        try check(t.checkpointEvery >= 0, "training.checkpointEvery", t.checkpointEvery, ">= 0 (0 = never)")
        try check(t.seed >= 0, "training.seed", t.seed, ">= 0")
        try check(["fp32"].contains(t.precision), "training.precision", t.precision, "fp32 (the engine has no fp16 path)")
        try check(divergence.lossThreshold > 0, "divergence.lossThreshold", divergence.lossThreshold, "> 0")
        try check(divergence.patience >= 1, "divergence.patience", divergence.patience, ">= 1")
        try check(decode.beam >= 0 && decode.beam <= 64, "decode.beam", decode.beam, "0...64 (0 = no decoding)")
        let scoring = DataGlue.bleuTokenize(for: data.dataset)
        try check(decode.bleuTokenize == scoring, "decode.bleuTokenize", decode.bleuTokenize, "\(scoring), as data set '\(data.dataset)' is scored")
        try check(data.maxTokensPerSentence >= 2, "data.maxTokensPerSentence", data.maxTokensPerSentence, ">= 2")
        try check(data.trainSentences >= 0, "data.trainSentences", data.trainSentences, ">= 0 (0 = all)")
        try check(data.evalSentences >= 0, "data.evalSentences", data.evalSentences, ">= 0 (0 = all)")
        try check(diagnostics.every >= 1, "diagnostics.every", diagnostics.every, ">= 1")
        try check(diagnostics.landscapeResolution >= 3 && diagnostics.landscapeResolution <= 201,
                  "diagnostics.landscapeResolution", diagnostics.landscapeResolution, "3...201")
        do { try model.validate() } catch let e as ConfigError {
            throw RunConfigError(field: e.message.contains("method") ? "model.method" : "model", value: "", allowed: e.message)
        }
    }
}
