// The engine ↔ search seam: DeepNetData's beam and greedy search drive any `StepDecoder`; this file makes the
// engine's incremental decoder one. It lives in the harness because the data layer does not depend on the engine.
import DeepNetData
import DeepNetEngine

/// The engine's incremental decoder already has `rows`, `step(lastTokens:)` and `reorder(_:)`; this
/// adapter adds `vocabSize` (which the session does not expose) to make it a `StepDecoder`.
public final class EngineStepDecoder: StepDecoder {
    public let session: DecoderSession
    public let vocabSize: Int
    public var rows: Int { session.rows }

    public init(session: DecoderSession, vocabSize: Int) {
        self.session = session
        self.vocabSize = vocabSize
    }

    /// Runs the encoder on `sources` (token ids without EOS; EOS is appended and rows right-padded with
    /// pad = 1, as in training batches) and opens a decoding session with one row per source.
    public convenience init(model: TransformerModel, sources: [[Int32]]) throws {
        let b = Batcher.makeSourceBatch(sources, pad: Int32(model.config.padIndex), eos: Vocabulary.eosIndex)
        let s = try model.makeDecoderSession(source: b.ids, batchSize: b.batchSize, sourceLength: b.sourceLength)
        self.init(session: s, vocabSize: model.config.vocabSize)
    }

    public func step(lastTokens: [Int32]) throws -> [Float] { try session.step(lastTokens: lastTokens) }
    public func reorder(_ rowIndices: [Int]) { session.reorder(rowIndices) }
}

/// Translating token-id sources with a `TransformerModel`.
public enum Translator {
    /// Decodes `sources` (ids without EOS) in chunks of at most `batchSentences`, sorted by length for
    /// efficiency, and returns the best hypothesis per source in the original order.
    /// `beamSize` 1 with `greedy: true` uses plain argmax decoding.
    public static func translate(model: TransformerModel, sources: [[Int32]], options: SearchOptions, greedy: Bool = false,
                                 batchSentences: Int = 32) throws -> [Hypothesis] {
        var out = [Hypothesis?](repeating: nil, count: sources.count)
        let order = sources.indices.sorted { sources[$0].count != sources[$1].count ? sources[$0].count < sources[$1].count : $0 < $1 }
        var start = 0
        while start < order.count {
            let idx = Array(order[start..<min(start + max(1, batchSentences), order.count)])
            let chunk = idx.map { sources[$0] }
            let dec = try EngineStepDecoder(model: model, sources: chunk)
            let lengths = chunk.map { $0.count + 1 }
            if greedy {
                let h = try SequenceSearch.greedy(dec, sourceLengths: lengths, options: options)
                for (k, i) in idx.enumerated() { out[i] = h[k] }
            } else {
                let h = try SequenceSearch.beamSearch(dec, sourceLengths: lengths, options: options)
                for (k, i) in idx.enumerated() { out[i] = h[k][0] }
            }
            start += idx.count
        }
        return out.map { $0! }
    }
}
