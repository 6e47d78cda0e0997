import DeepNetBase

/// How examples become a batch: translation pairs, decoder-only LM on the targets, or encoder-only masked LM
/// on the targets (with the vocabulary's first content id and the id used as the mask).
public enum BatchLayout: Sendable, Equatable {
    case translation
    case causalLM
    case maskedLM(vocabularySize: Int, firstContent: Int32, mask: Int32)
}

/// Token-budget batching with length bucketing (fairseq conventions).
///
/// - Each example becomes: source = tokens + [eos]; target = tokens + [eos];
///   prevOutput = [eos] + tokens (EOS is the start symbol); rows right-padded with pad = 1.
/// - Budget: a batch of n examples costs n × max over its examples of max(|source|+1, |target|+1)
///   (padded positions count); it never exceeds `maxTokens`, nor `maxSentences` rows.
/// - Training order (`shuffle: true`): for epoch e, a random permutation from
///   `SplitMix64.derive(seed, e)`, stably sorted by padded length (so equal lengths stay randomly
///   ordered), packed greedily into batches, and the batch order shuffled with the same stream.
///   Same (seed, epoch) → same batches, on every machine.
/// - Evaluation order (`shuffle: false`): sorted by length, no randomness; use `batchIndices` to map
///   outputs back to the original example order.
public struct Batcher: Sendable {
    public let sources: [[Int32]]
    public let targets: [[Int32]]
    public let maxTokens: Int
    public let maxSentences: Int
    public let seed: UInt64
    public let shuffle: Bool
    public let pad: Int32
    public let eos: Int32

    /// Throws `DataError.exampleTooLong` if a single example exceeds the budget.
    public init(split: EncodedSplit, maxTokens: Int, maxSentences: Int = Int.max, seed: UInt64 = 1, shuffle: Bool = true,
                pad: Int32 = Vocabulary.padIndex, eos: Int32 = Vocabulary.eosIndex) throws {
        try self.init(sources: split.source, targets: split.target, maxTokens: maxTokens, maxSentences: maxSentences,
                      seed: seed, shuffle: shuffle, pad: pad, eos: eos)
    }

    public init(sources: [[Int32]], targets: [[Int32]], maxTokens: Int, maxSentences: Int = Int.max, seed: UInt64 = 1,
                shuffle: Bool = true, pad: Int32 = Vocabulary.padIndex, eos: Int32 = Vocabulary.eosIndex) throws {
        guard sources.count == targets.count else {
            throw DataError.invalidArgument("batcher: \(sources.count) sources but \(targets.count) targets")
        }
        guard maxTokens > 0, maxSentences > 0 else { throw DataError.invalidArgument("batcher: maxTokens and maxSentences must be positive") }
        self.sources = sources; self.targets = targets; self.maxTokens = maxTokens; self.maxSentences = maxSentences
        self.seed = seed; self.shuffle = shuffle; self.pad = pad; self.eos = eos
        for i in 0..<sources.count where size(i) > maxTokens {
            throw DataError.exampleTooLong(index: i, tokens: size(i), maxTokens: maxTokens)
        }
    }

    public var count: Int { sources.count }

    /// Padded length of example i: max(|source|+1, |target|+1).
    @inline(__always) public func size(_ i: Int) -> Int { max(sources[i].count, targets[i].count) + 1 }

    /// Example indices of every batch of `epoch` (epochs count from 1 like fairseq; any value works).
    public func batchIndices(epoch: Int = 1) -> [[Int]] {
        var rng = SplitMix64.derive(seed: seed, stream: UInt64(bitPattern: Int64(epoch)))
        var order = shuffle ? rng.permutation(count) : Array(0..<count)
        // Stable sort by (padded length, source length, target length).
        let keyed = order.enumerated().map { (pos: $0.offset, i: $0.element) }
        order = keyed.sorted { a, b in
            let ka = (size(a.i), sources[a.i].count, targets[a.i].count), kb = (size(b.i), sources[b.i].count, targets[b.i].count)
            return ka != kb ? ka < kb : a.pos < b.pos
        }.map(\.i)
        var batches: [[Int]] = []
        var cur: [Int] = []
        var curMax = 0
        for i in order {
            let m = max(curMax, size(i))
            if !cur.isEmpty && ((cur.count + 1) * m > maxTokens || cur.count + 1 > maxSentences) {
                batches.append(cur); cur = []; curMax = 0
            }
            cur.append(i)
            curMax = max(curMax, size(i))
        }
        if !cur.isEmpty { batches.append(cur) }
        if shuffle { rng.shuffle(&batches) }
        return batches
    }

    /// Builds one batch in `layout` from example indices; `maskSeed` drives the masked-LM choices (one seed per
    /// batch, so a batch is a function of its indices and seed alone).
    public func makeBatch(_ indices: [Int], layout: BatchLayout, maskSeed: UInt64 = 0) -> TokenBatch {
        switch layout {
        case .translation: return makeBatch(indices)
        case .causalLM: return Batcher.makeCausalBatch(indices.map { targets[$0] }, pad: pad, eos: eos)
        case .maskedLM(let vocabularySize, let firstContent, let mask):
            var rng = SplitMix64(seed: maskSeed)
            return Batcher.makeMaskedBatch(indices.map { targets[$0] }, vocabularySize: vocabularySize, firstContent: firstContent,
                                           mask: mask, pad: pad, rng: &rng)
        }
    }

    /// Decoder-only language modelling: target = t + [eos], prevOutput = [eos] + t, no source (sourceLength 0).
    public static func makeCausalBatch(_ targets: [[Int32]], pad: Int32 = Vocabulary.padIndex, eos: Int32 = Vocabulary.eosIndex) -> TokenBatch {
        let full = makeBatch(sources: targets.map { _ in [] }, targets: targets, pad: pad, eos: eos)
        return TokenBatch(batchSize: full.batchSize, sourceLength: 0, targetLength: full.targetLength, source: [],
                          prevOutput: full.prevOutput, target: full.target)
    }

    /// Encoder-only masked language modelling (BERT's recipe): each position is predicted with probability 0.15
    /// (at least the last one per row); a predicted position's input becomes `mask` 80 % of the time, a random
    /// content token 10 %, and stays 10 %. source [B,S] = the corrupted sequence, target [B,S] = the original at
    /// predicted positions, pad elsewhere (the loss ignores pad).
    public static func makeMaskedBatch(_ seqs: [[Int32]], vocabularySize: Int, firstContent: Int32, mask: Int32,
                                       pad: Int32 = Vocabulary.padIndex, rng: inout SplitMix64) -> TokenBatch {
        let b = seqs.count, s = max(1, seqs.map(\.count).max() ?? 1)
        var src = [Int32](repeating: pad, count: b * s), tgt = src
        let contentCount = max(1, vocabularySize - Int(firstContent))
        for (i, x) in seqs.enumerated() {
            var any = false
            for (j, v) in x.enumerated() {
                src[i * s + j] = v
                if rng.nextUnit() < 0.15 || (!any && j == x.count - 1) {
                    any = true
                    tgt[i * s + j] = v
                    let r = rng.nextInt(below: 10)
                    if r < 8 { src[i * s + j] = mask } else if r == 8 { src[i * s + j] = firstContent + Int32(rng.nextInt(below: contentCount)) }
                }
            }
        }
        return TokenBatch(batchSize: b, sourceLength: s, targetLength: s, source: src, prevOutput: [], target: tgt)
    }

    /// The batches of `epoch` as the engine's `TokenBatch`.
    public func batches(epoch: Int = 1) -> [TokenBatch] {
        batchIndices(epoch: epoch).map { makeBatch($0) }
    }

    /// Builds one `TokenBatch` from example indices (in the given row order).
    public func makeBatch(_ indices: [Int]) -> TokenBatch {
        Batcher.makeBatch(sources: indices.map { sources[$0] }, targets: indices.map { targets[$0] }, pad: pad, eos: eos)
    }

    /// Builds a batch: source = s + [eos], target = t + [eos], prevOutput = [eos] + t, right-padded.
    public static func makeBatch(sources: [[Int32]], targets: [[Int32]], pad: Int32 = Vocabulary.padIndex,
                                 eos: Int32 = Vocabulary.eosIndex) -> TokenBatch {
        let b = sources.count
        let s = (sources.map(\.count).max() ?? 0) + 1
        let t = (targets.map(\.count).max() ?? 0) + 1
        var src = [Int32](repeating: pad, count: b * s)
        var prev = [Int32](repeating: pad, count: b * t)
        var tgt = [Int32](repeating: pad, count: b * t)
        for r in 0..<b {
            for (k, x) in sources[r].enumerated() { src[r * s + k] = x }
            src[r * s + sources[r].count] = eos
            prev[r * t] = eos
            for (k, x) in targets[r].enumerated() { prev[r * t + k + 1] = x; tgt[r * t + k] = x }
            tgt[r * t + targets[r].count] = eos
        }
        return TokenBatch(batchSize: b, sourceLength: s, targetLength: t, source: src, prevOutput: prev, target: tgt)
    }

    /// Source-only batch for decoding: source = s + [eos], right-padded; returns ids [B×S] and lengths.
    public static func makeSourceBatch(_ sources: [[Int32]], pad: Int32 = Vocabulary.padIndex, eos: Int32 = Vocabulary.eosIndex)
        -> (ids: [Int32], batchSize: Int, sourceLength: Int, lengths: [Int]) {
        let b = sources.count
        let s = (sources.map(\.count).max() ?? 0) + 1
        var src = [Int32](repeating: pad, count: b * s)
        for r in 0..<b {
            for (k, x) in sources[r].enumerated() { src[r * s + k] = x }
            src[r * s + sources[r].count] = eos
        }
        return (src, b, s, sources.map { $0.count + 1 })
    }
}
