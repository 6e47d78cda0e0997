// Instruments ⇄ engine: the parameter layout of a TransformerModel, a landscape evaluator that owns a model copy,
// and the theory bound of a model against reference parameters.
import Foundation
import Dispatch
import DeepNetEngine

extension ParameterLayout {
    /// The engine's size table (owning tensors only: a tied embedding is one tensor and gets one direction).
    public init(store: ParameterStore) {
        self.init(tensors: store.entries.map { InstrumentTensor(name: $0.name, shape: $0.shape, offset: $0.offset) })
        totalCount = store.count
    }
}

/// Which per-token loss a landscape shows (recorded with the surface).
public enum LandscapeLoss: String, Sendable, Codable {
    /// plain cross-entropy (negative log-likelihood), the default
    case nll
    /// the training objective (label-smoothed cross-entropy)
    case labelSmoothed = "label-smoothed"
}

/// Evaluates the token-weighted mean loss of fixed batches in eval mode on its own copy of the model.
public final class EngineLandscapeEvaluator: LandscapeEvaluator {
    public let model: TransformerModel
    public let batches: [TokenBatch]
    public let loss: LandscapeLoss

    /// Builds a private model with the same configuration (its initial values are overwritten at every call).
    public init(config: ModelConfig, batches: [TokenBatch], loss: LandscapeLoss = .nll) throws {
        model = try TransformerModel(config: config, seed: 0)
        self.batches = batches
        self.loss = loss
    }

    public func loss(parameters theta: [Float]) -> Double {
        model.parameters.values = theta
        var sum = 0.0, tokens = 0
        for b in batches {
            guard let s = try? model.forward(b) else { return .infinity }   // non-finite loss: diverged region
            sum += (loss == .nll ? s.nllLoss : s.loss) * Double(s.tokens)
            tokens += s.tokens
        }
        return tokens > 0 ? sum / Double(tokens) : .nan
    }

    /// `count` evaluators (one per core by default) for parallel grid evaluation.
    public static func workers(config: ModelConfig, batches: [TokenBatch], loss: LandscapeLoss = .nll,
                               count: Int = ProcessInfo.processInfo.activeProcessorCount) throws -> [LandscapeEvaluator] {
        try (0..<max(1, count)).map { _ in try EngineLandscapeEvaluator(config: config, batches: batches, loss: loss) }
    }
}

extension LossLandscape {
    /// Runs `body` with OpenBLAS pinned to one thread when more than one worker evaluates in parallel (each worker
    /// then owns a core and all grid points go through the same single-threaded kernels).
    public static func withWorkerThreading<T>(workers: Int, _ body: () throws -> T) rethrows -> T {
        workers > 1 ? try ProbeBLAS.withThreads(1, body) : try body()
    }
}

extension TheoryBound {
    /// The Theorem 2/3 bound for `model` now, against reference parameters (θ_0 for the cumulative bound).
    public static func compute(model: TransformerModel, reference: [Float], estimator: VWEstimator = .xavierRMS) -> UpdateBound {
        compute(layout: ParameterLayout(store: model.parameters), current: model.parameters.values, reference: reference,
                alpha: model.residualAlphas, architecture: model.config.architecture, estimator: estimator)
    }
}
