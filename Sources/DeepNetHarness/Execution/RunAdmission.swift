// Admission of a training run before anything of its size is allocated (the engine's MemoryEstimate applied to a
// RunConfig), and the decoder's input limit for the BLEU test set.
//
// Two checks, neither of which writes a result file (a configuration that does not fit is not a failed run, and a
// `failed` record would be retried by every later `deepnet run`):
//   * at planning time (`Runner.run`, `checkPlanned`): a LOWER bound — unpadded batch of 2-token rows, the smallest
//     vocabulary the data could produce, no decoding — so a run is refused there only when it cannot fit whatever
//     its data turns out to be (10,000 layers, 10^8 tokens per batch, …);
//   * in the executor, after the data is loaded (`check`): the real vocabulary, the training and test sentence
//     lengths, resumption, instrument snapshots and beam-search decoding — an upper-ish bound.
// A refused run is reported as `refused` by the runner (exit status 1) and is checked again on the next invocation
// (memory may have been freed, or the machine may be bigger); it is never started, so it costs nothing.
import DeepNetData
import DeepNetEngine
import Foundation

/// Sentence lengths of a run's data (token ids without EOS), for the batch shapes of the admission check.
public struct LengthProfile: Sendable, Equatable {
    public var meanTarget: Double
    public var minTarget: Int
    public var maxSource: Int
    public var maxTarget: Int
    public var testSentences: Int
    public var maxTestSource: Int
    public init(meanTarget: Double, minTarget: Int, maxSource: Int, maxTarget: Int, testSentences: Int, maxTestSource: Int) {
        self.meanTarget = meanTarget; self.minTarget = minTarget; self.maxSource = maxSource; self.maxTarget = maxTarget
        self.testSentences = testSentences; self.maxTestSource = maxTestSource
    }
    /// Over training + validation pairs and the test sources.
    public init(pairs: [([Int32], [Int32])], testSources: [[Int32]]) {
        var sum = 0.0, minT = Int.max, maxS = 0, maxT = 0
        for (s, t) in pairs { sum += Double(t.count); minT = min(minT, t.count); maxS = max(maxS, s.count); maxT = max(maxT, t.count) }
        self.init(meanTarget: pairs.isEmpty ? 0 : sum / Double(pairs.count), minTarget: pairs.isEmpty ? 0 : minT, maxSource: maxS,
                  maxTarget: maxT, testSentences: testSources.count, maxTestSource: testSources.map(\.count).max() ?? 0)
    }
}

public enum RunAdmission {
    /// Sentences decoded together (Translator.translate's default chunk).
    static let decodeChunk = 32

    /// Refuses, before its data is loaded, a run that cannot fit whatever the data (lower-bound workload).
    @discardableResult
    public static func checkPlanned(_ c: RunConfig, runID: String, budget: MemoryBudget = .current()) throws -> MemoryEstimate {
        var mc = c.model
        // The data decides the vocabulary (BPE may yield fewer types than asked), except for the synthetic LM tasks.
        if !(c.data.dataset == "synthetic" && c.task != .translation) { mc.vocabSize = max(8, mc.padIndex + 1) }
        let rows = max(1, (c.training.batchTokens + 1) / 2)
        var w = MemoryWorkload(batch: BatchShape(batchSize: rows, sourceLength: 2, targetLength: 2), backward: true,
                               dropout: false, optimizerBuffers: optimizerBuffers(c))
        w.decode = nil
        return try MemoryAdmission.check("run \(runID.prefix(12)) (\(c.depthLabel), \(c.model.method); lower bound before its data is loaded)", mc, w, budget: budget)
    }

    /// The executor's check, once the data is loaded: `model` is the run's model config with the data's vocabulary.
    @discardableResult
    public static func check(_ c: RunConfig, model mc: ModelConfig, data: RunData, runID: String,
                             budget: MemoryBudget = .current()) throws -> MemoryEstimate {
        try MemoryAdmission.check("run \(runID.prefix(12)) (\(c.depthLabel), \(c.model.method), batchTokens=\(c.training.batchTokens))",
                                  mc, workload(c, model: mc, lengths: data.lengthProfile), budget: budget)
    }

    static func optimizerBuffers(_ c: RunConfig) -> Int { c.optimizer.kind == .sgd ? 1 : 2 }

    /// The largest batch, decoding and copies a run makes (see `check`).
    public static func workload(_ c: RunConfig, model mc: ModelConfig, lengths: LengthProfile?) -> MemoryWorkload {
        let bt = Double(c.training.batchTokens)
        // Without lengths: the data filter's bound (maxTokensPerSentence) and a mean of half of it.
        let maxT = lengths?.maxTarget ?? c.data.maxTokensPerSentence
        let maxS = lengths?.maxSource ?? c.data.maxTokensPerSentence
        let meanT1 = max(1, (lengths?.meanTarget ?? Double(c.data.maxTokensPerSentence) / 2) + 1)
        let minT1 = Double(max(1, (lengths?.minTarget ?? 1) + 1))
        // Examples are drawn until their target tokens (+EOS) reach batchTokens: about batchTokens / mean of them
        // (10% slack for the draw), never more than batchTokens / shortest + 1; rows are padded to the longest.
        let rows = Int(min(bt / minT1 + 1, (1.1 * bt / meanT1).rounded(.up) + 1))
        let shape: BatchShape
        switch c.task {
        case .translation: shape = BatchShape(batchSize: rows, sourceLength: maxS + 1, targetLength: maxT + 1)
        case .causalLM: shape = BatchShape(batchSize: rows, sourceLength: 0, targetLength: maxT + 1)
        case .maskedLM: shape = BatchShape(batchSize: rows, sourceLength: maxT + 1, targetLength: maxT + 1)
        }
        var w = MemoryWorkload(batch: shape, backward: true, dropout: mc.dropout > 0, optimizerBuffers: optimizerBuffers(c))
        w.checkpointLoad = c.training.checkpointEvery > 0 && c.training.checkpointEvery < c.training.steps
        let ms = Set(c.measurements)
        if ms.contains(.trajectoryPCA) {
            let last = c.diagnostics.earlySteps > 0 ? min(c.training.steps, c.diagnostics.earlySteps) : c.training.steps
            w.parameterCopies += last / max(1, c.diagnostics.every) + 1
        }
        if ms.contains(.trajectoryPCA) || ms.contains(.lossLandscape2D) {
            w.parameterCopies += 4     // centre, 2 directions, θ
            w.evaluatorModels = 1      // EngineLandscapeEvaluator runs its own copy of the model
        }
        if ms.contains(.modelUpdate) || ms.contains(.gradientNormPerLayer) || ms.contains(.lnInputNorm) {
            w.parameterCopies += 1
            w.wholeBatchForward = true    // the probes read the activations of a whole-batch forward
        }
        if c.task == .translation && c.decode.beam > 0, let l = lengths, l.testSentences > 0 {
            let src = min(l.maxTestSource, decoderSourceLimit(mc)) + 1
            w.decode = DecodeShape(sentences: min(decodeChunk, l.testSentences), beam: c.decode.beam, sourceLength: src,
                                   maxOutputLength: searchOptions(c, model: mc).maxLength(sourceLength: src))
        }
        return w
    }

    /// The search settings of a run's BLEU decoding.
    public static func searchOptions(_ c: RunConfig, model mc: ModelConfig) -> SearchOptions {
        var o = SearchOptions(beamSize: max(1, c.decode.beam), lenPenalty: Float(c.decode.lengthPenalty),
                              maxLenA: c.decode.maxLengthA, maxLenB: c.decode.maxLengthB)
        if mc.positions == .learned { o.maxPositions = mc.maxPositions }
        return o
    }

    /// Longest source (tokens without EOS) the model can encode: `maxPositions` positions including the EOS. Beyond
    /// it the learned position table has no row and the sinusoidal table built for `maxPositions` is read past its
    /// end; the cost also grows with its square (attention probabilities per encoder layer).
    public static func decoderSourceLimit(_ mc: ModelConfig) -> Int { max(1, mc.maxPositions - 1) }

    /// Test sources cut to `decoderSourceLimit` (their first tokens kept, so every reference keeps a hypothesis and
    /// BLEU stays over the same sentences), and how many were cut.
    public static func decodableSources(_ sources: [[Int32]], model mc: ModelConfig) -> (sources: [[Int32]], truncated: Int) {
        let limit = decoderSourceLimit(mc)
        var n = 0
        let out = sources.map { s -> [Int32] in
            if s.count <= limit { return s }
            n += 1
            return Array(s.prefix(limit))
        }
        return (out, n)
    }
}
