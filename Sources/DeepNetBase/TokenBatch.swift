// The batch type the data layer produces and the engine consumes. It lives below both so that neither
// depends on the other (DeepNetData builds batches without knowing the model; the engine trains on them
// without knowing where they came from).

/// A batch of token ids, row-major, right-padded with the pad index (fairseq layout).
/// Encoder-decoder: source [B,S], prevOutput [B,T], target [B,T] (prevOutput = target shifted right, EOS first).
/// Decoder-only: prevOutput [B,T], target [B,T] (source ignored).
/// Encoder-only (masked LM): source [B,S], target [B,S]; loss where target != pad.
public struct TokenBatch: Sendable {
    public var batchSize: Int
    public var sourceLength: Int
    public var targetLength: Int
    public var source: [Int32]
    public var prevOutput: [Int32]
    public var target: [Int32]
    public init(batchSize: Int, sourceLength: Int, targetLength: Int, source: [Int32], prevOutput: [Int32], target: [Int32]) {
        self.batchSize = batchSize; self.sourceLength = sourceLength; self.targetLength = targetLength
        self.source = source; self.prevOutput = prevOutput; self.target = target
    }
}
