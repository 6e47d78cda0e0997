// Parameter counts, the 6·N·D training-FLOP estimate and a wall-clock estimate for this machine, computed
// from a configuration alone (the paper profile's 1,000-layer models are never instantiated for a dry run).
import DeepNetEngine
import Foundation

public struct RunCost: Sendable, Equatable {
    /// All parameters (embeddings included).
    public var parameters: Int
    /// Parameters that cost FLOPs per token (layers + output projection; embeddings lookups are free).
    public var computeParameters: Int
    /// Target tokens seen in training (steps × batch tokens).
    public var trainTokens: Double
    /// 6·N·D.
    public var trainFLOPs: Double
    /// Training + evaluation + decoding FLOPs.
    public var totalFLOPs: Double
    public var seconds: Double
    /// The terms of the wall-clock model (`CostCalibration`).
    public var features: [Double]
}

public enum CostModel {
    /// Wall-clock model (see `CostCalibration`): seconds = secondsPerRun + F·(1 + o·L/N)/g. The built-in constants
    /// are `deepnet calibrate` fitted to the recorded wall_seconds of the committed reduced runs ;
    /// a results folder with its own `cost-calibration.json` (written by `deepnet calibrate --write`) overrides them
    /// for that folder's `list`, `--dry-run` and progress estimates.
    public static let builtIn = CostCalibration(
        coefficients: [7.180319632748184e-11, 1.3117957066228445e-06, 3.5681207938391003e-10, 7.439404785039168e-10, 0],
        secondsPerRun: ["iwslt14-mini": 0.09051648627509702, "multi30k": 0, "tatoeba": 330.43313771043466],
        source: "the 43 finished runs of results/reduced (engine-numerics-1, 2026-11), worst error 28 %")
    /// The speed the reduced plans were sized for (≤ ~3 h per experiment): the earlier `make bench` model (58 GFLOP/s in
    /// GEMMs + 47k parameter-equivalents per layer, no fixed cost). Fitted to the recorded times, the same plans take
    /// ~4× longer on the numerics-1 engine; the reduced campaign (issue 14) re-sizes its plans from `calibration`.
    public static let planningAssumption = CostCalibration(coefficients: [1 / 58e9, 47_000 / 58e9, 1 / 58e9, 1 / 58e9, 1 / 58e9],
                                                           secondsPerRun: [:], source: "the planning assumption of 2026-11-24 (make bench)")
    /// Runs `body` with another calibration in use (tests, what-if estimates).
    public static func with<T>(_ c: CostCalibration, _ body: () throws -> T) rethrows -> T {
        let old = calibration
        calibration = c
        defer { calibration = old }
        return try body()
    }
    public nonisolated(unsafe) static var calibration = builtIn
    public static var gemmFLOPsPerSecond: Double { calibration.gemmFLOPsPerSecond }
    public static var overheadParametersPerLayer: Double { calibration.overheadParametersPerLayer }
    /// Uses the calibration stored in `root` when there is one (else keeps the current one).
    public static func useCalibration(storedIn root: URL) throws {
        if let c = try CostCalibration.stored(in: root) { calibration = c }
    }
    /// The d = 64 6L-6L model (64-128-2, 2,000 shared vocabulary) used to state the calibration in words.
    public static var referenceConfig: ModelConfig {
        ModelConfig(architecture: .encoderDecoder, encoderLayers: 6, decoderLayers: 6, embedDim: 64, ffnDim: 128,
                    heads: 2, vocabSize: 2000, shareAllEmbeddings: true)
    }
    /// Predicted training throughput (target tokens/s) of a model.
    public static func targetTokensPerSecond(_ m: ModelConfig) -> Double {
        gemmFLOPsPerSecond / (6 * effectiveParameters(m))
    }
    static func layers(_ m: ModelConfig) -> Int {
        switch m.architecture {
        case .encoderDecoder: return m.encoderLayers + m.decoderLayers
        case .encoderOnly: return m.encoderLayers
        case .decoderOnly: return m.decoderLayers
        }
    }
    static func effectiveParameters(_ m: ModelConfig) -> Double {
        Double(counts(m).compute) + Double(layers(m)) * overheadParametersPerLayer
    }
    /// One line for dry runs and `deepnet list`.
    public static var calibrationNote: String {
        String(format: "%.0f GFLOP/s in GEMMs + %.1f µs per layer per target token + ≤ %.0f s per run; the d=64 6L-6L model ≈ %.1fk target tokens/s; fitted on %@",
               gemmFLOPsPerSecond / 1e9, overheadParametersPerLayer * 6 / gemmFLOPsPerSecond * 1e6, secondsPerRun,
               targetTokensPerSecond(referenceConfig) / 1000, calibration.source)
    }

    /// (total, compute) parameter counts of a model configuration (standard Transformer layers; method-specific
    /// extras such as NormFormer's additional LNs or Admin's ω are not counted).
    public static func counts(_ m: ModelConfig) -> (total: Int, compute: Int) {
        let d = m.embedDim, f = m.ffnDim, v = m.vocabSize
        let attn = 4 * d * d + 4 * d
        let ffn = 2 * d * f + f + d
        let ln = 2 * d
        let encLayer = attn + ffn + 2 * ln
        let decLayer = 2 * attn + ffn + 3 * ln
        var layers = 0
        var embeddings = 0
        var output = v * d
        switch m.architecture {
        case .encoderDecoder:
            layers = m.encoderLayers * encLayer + m.decoderLayers * decLayer
            embeddings = m.shareAllEmbeddings ? v * d : 2 * v * d
            if m.shareAllEmbeddings || m.shareDecoderInputOutputEmbed { output = 0 }
        case .encoderOnly:
            layers = m.encoderLayers * encLayer
            embeddings = v * d
            if m.shareDecoderInputOutputEmbed { output = 0 }
        case .decoderOnly:
            layers = m.decoderLayers * encLayer
            embeddings = v * d
            if m.shareDecoderInputOutputEmbed { output = 0 }
        }
        if m.positions == .learned { embeddings += m.maxPositions * d }
        let total = layers + embeddings + output
        return (total, layers + v * d)
    }

    /// The fit's features of a run: F (all its FLOPs) and F·L/N (the per-layer overhead's share).
    public static func features(_ c: RunConfig) -> [Double] { estimate(c).features }
    public static var secondsPerRun: Double { calibration.secondsPerRun.values.max() ?? 0 }

    public static func estimate(_ c: RunConfig) -> RunCost {
        let (total, compute) = counts(c.model)
        let n = Double(compute)
        let tokens = Double(c.training.steps) * Double(c.training.batchTokens)
        let train = 6 * n * tokens
        // validation: forward only (2·N per token) on evalBatches batches at every evaluation
        let evals = Double(c.training.steps / max(1, c.training.evalEvery) + 1)
        let evalBatches = Double(c.training.evalBatches == 0 ? 50 : c.training.evalBatches)
        let valid = 2 * n * evals * evalBatches * Double(c.training.batchTokens)
        // decoding: beam × sentences × ~25 tokens, recomputing the prefix (~12 positions on average)
        var decode = 0.0
        if c.task == .translation && c.decode.beam > 0 {
            let sentences = Double(c.data.evalSentences == 0 ? 3000 : c.data.evalSentences)
            decode = 2 * n * sentences * 25 * Double(c.decode.beam) * 12
        }
        // diagnostics: landscapes evaluate the loss on one batch per grid point
        var diag = 0.0
        if c.measurements.contains(.lossLandscape2D) {
            let g = Double(c.diagnostics.landscapeResolution)
            diag += 2 * n * g * g * Double(c.training.batchTokens)
        }
        if c.measurements.contains(.modelUpdate) || c.measurements.contains(.lnInputNorm) || c.measurements.contains(.gradientNormPerLayer) {
            diag += 6 * n * Double(c.training.steps / max(1, c.diagnostics.every)) * Double(c.training.batchTokens)
        }
        let totalFLOPs = train + valid + decode + diag
        let share = Double(layers(c.model)) / max(1, n)
        // A landscape along a training trajectory (PCA directions) also keeps and projects parameter snapshots.
        let pca = c.measurements.contains(.trajectoryPCA)
        let features = [train + valid, (train + valid) * share, pca ? 0 : diag, pca ? diag : 0, decode * share]
        return RunCost(parameters: total, computeParameters: compute, trainTokens: tokens, trainFLOPs: train,
                       totalFLOPs: totalFLOPs, seconds: calibration.seconds(features, dataset: c.data.dataset.rawValue), features: features)
    }

    /// "1.2 h", "3.4 d", "12 y".
    public static func duration(_ s: Double) -> String {
        if s < 90 { return String(format: "%.0f s", s) }
        if s < 5400 { return String(format: "%.1f min", s / 60) }
        if s < 172_800 { return String(format: "%.1f h", s / 3600) }
        if s < 3.15e7 * 2 { return String(format: "%.1f d", s / 86400) }
        return String(format: "%.3g y", s / 3.15e7)
    }

    /// "863M", "3.8B", "12.3k".
    public static func count(_ x: Double) -> String {
        let a = abs(x)
        if a >= 1e12 { return String(format: "%.3gT", x / 1e12) }
        if a >= 1e9 { return String(format: "%.3gB", x / 1e9) }
        if a >= 1e6 { return String(format: "%.3gM", x / 1e6) }
        if a >= 1e3 { return String(format: "%.3gk", x / 1e3) }
        return String(format: "%.0f", x)
    }

    /// "5.2e21"
    public static func flops(_ x: Double) -> String { String(format: "%.2e", x) }
}
