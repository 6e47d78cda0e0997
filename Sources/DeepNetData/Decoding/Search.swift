#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Incremental decoder interface: each `step` advances every row by one position.
/// Rows start as one per source sentence; the first `step` receives `eos` (the start symbol) per row.
public protocol StepDecoder: AnyObject {
    var vocabSize: Int { get }
    var rows: Int { get }
    /// Log-probabilities `[rows, vocabSize]` (row-major) for the next position, given each row's last token.
    func step(lastTokens: [Int32]) throws -> [Float]
    /// Beam reorder/expand/shrink: new row i continues old row `rowIndices[i]` (its whole state).
    func reorder(_ rowIndices: [Int])
}

/// Search settings (fairseq `SequenceGenerator` names and defaults).
public struct SearchOptions: Sendable, Equatable, Codable {
    public var beamSize: Int = 5
    /// Final score = Σ log p / length^lenPenalty, length counting the EOS (fairseq `--lenpen`).
    public var lenPenalty: Float = 1
    /// Maximum number of output tokens before EOS: ⌊maxLenA · |source| + maxLenB⌋, |source| including
    /// the source EOS, capped by `maxPositions − 1` when given (fairseq `--max-len-a/--max-len-b`).
    public var maxLenA: Double = 0
    public var maxLenB: Int = 200
    public var maxPositions: Int?
    /// EOS is forbidden before this many tokens (fairseq `--min-len`, default 1).
    public var minLen: Int = 1
    /// Subtracted from the `<unk>` log-probability (fairseq `--unkpen`).
    public var unkPenalty: Float = 0
    /// Hypotheses returned per sentence (≤ beamSize).
    public var nbest: Int = 1
    public var eos: Int32 = Vocabulary.eosIndex
    public var pad: Int32 = Vocabulary.padIndex
    public var unk: Int32 = Vocabulary.unkIndex

    public init(beamSize: Int = 5, lenPenalty: Float = 1, maxLenA: Double = 0, maxLenB: Int = 200, minLen: Int = 1, nbest: Int = 1) {
        self.beamSize = beamSize; self.lenPenalty = lenPenalty; self.maxLenA = maxLenA; self.maxLenB = maxLenB
        self.minLen = minLen; self.nbest = nbest
    }

    public func maxLength(sourceLength: Int) -> Int {
        var m = Int((maxLenA * Double(sourceLength)).rounded(.down)) + maxLenB
        if let p = maxPositions { m = min(m, p - 1) }
        return max(m, 0)
    }
}

/// One finished output.
public struct Hypothesis: Sendable, Equatable {
    /// Output tokens including the final EOS.
    public var tokens: [Int32]
    /// Length-normalised score (Σ log p / |tokens|^lenPenalty).
    public var score: Float
    /// Log-probability of every token (same length as `tokens`).
    public var positionalScores: [Float]
    /// Tokens without the final EOS.
    public var tokensWithoutEOS: [Int32] { tokens.last == Vocabulary.eosIndex ? Array(tokens.dropLast()) : tokens }
}

/// Greedy and beam search over a `StepDecoder`, batched over sentences, following fairseq's
/// `SequenceGenerator` + `search.BeamSearch`:
/// - step 0 expands each sentence from its single row; afterwards every sentence has ≤ beam rows;
/// - per sentence the top 2·beam (row, token) candidates by cumulative log-prob are taken (ties: lower
///   row, then lower token id); EOS candidates among the first `beam` are finalised with score
///   Σ log p / (step+1)^lenPenalty; the first `beam` non-EOS candidates continue;
/// - a sentence is done when it has `beam` finalised hypotheses or reaches its maximum length (where
///   EOS is forced); finished sentences are removed from the decoder (`reorder` with fewer rows);
/// - `<pad>` is never generated, EOS is blocked before `minLen`, `unkPenalty` is subtracted from `<unk>`.
/// Deviation: the maximum length is computed per sentence from its own source length (fairseq uses the
/// longest source in the batch), so results do not depend on how sentences are batched.
public enum SequenceSearch {
    /// Beam search. `sourceLengths[i]` is the length of source i including its EOS; the decoder must have
    /// `sourceLengths.count` rows. Returns, per sentence, up to `nbest` hypotheses, best first.
    public static func beamSearch(_ decoder: StepDecoder, sourceLengths: [Int], options o: SearchOptions) throws -> [[Hypothesis]] {
        let n = sourceLengths.count
        guard decoder.rows == n else {
            throw DataError.invalidArgument("decoder has \(decoder.rows) rows but \(n) source sentences were given")
        }
        guard o.beamSize >= 1 else { throw DataError.invalidArgument("beam size must be >= 1") }
        let v = decoder.vocabSize
        let beam = o.beamSize
        let maxLen = sourceLengths.map { o.maxLength(sourceLength: $0) }

        struct Active { var tokens: [Int32]; var scores: [Float]; var cum: Float }
        var active: [[Active]] = (0..<n).map { _ in [Active(tokens: [], scores: [], cum: 0)] }
        var finalized: [[Hypothesis]] = Array(repeating: [], count: n)
        var live = Array(0..<n)  // sentences still searching, in row order
        var step = 0
        while !live.isEmpty {
            var last: [Int32] = []
            for s in live { for h in active[s] { last.append(h.tokens.last ?? o.eos) } }
            let lp = try decoder.step(lastTokens: last)
            guard lp.count == last.count * v else {
                throw DataError.invalidArgument("decoder returned \(lp.count) log-probs for \(last.count) rows × \(v)")
            }
            var rowBase = 0
            var nextLive: [Int] = []
            var rowMap: [Int] = []
            for s in live {
                let hyps = active[s]
                let forceEOS = step >= maxLen[s]
                // Candidates: (score, row, token, tokenLogProb)
                let k = min(2 * beam, max(hyps.count * v - 1, 1))
                // The overall top k is contained in the union of every row's top k.
                var cands: [(Float, Int, Int32, Float)] = []
                cands.reserveCapacity(hyps.count * k)
                var rowCands: [(Float, Int, Int32, Float)] = []
                rowCands.reserveCapacity(v)
                for (j, h) in hyps.enumerated() {
                    let base = (rowBase + j) * v
                    rowCands.removeAll(keepingCapacity: true)
                    for t in 0..<v {
                        var l = lp[base + t]
                        if l.isNaN { l = -.infinity }
                        let tok = Int32(t)
                        if tok == o.pad { l = -.infinity }
                        if tok == o.unk { l -= o.unkPenalty }
                        if forceEOS && tok != o.eos { l = -.infinity }
                        if step < o.minLen && tok == o.eos { l = -.infinity }
                        if l == -.infinity { continue }
                        rowCands.append((h.cum + l, j, tok, l))
                    }
                    cands += topK(rowCands, k)
                }
                let top = topK(cands, k)
                // Finalise EOS among the first `beam` candidates.
                for c in top.prefix(beam) where c.2 == o.eos {
                    if finalized[s].count < beam {
                        let h = hyps[c.1]
                        let len = Float(step + 1)
                        let score = o.lenPenalty == 0 ? c.0 : c.0 / powf(len, o.lenPenalty)
                        finalized[s].append(Hypothesis(tokens: h.tokens + [o.eos], score: score, positionalScores: h.scores + [c.3]))
                    }
                }
                if finalized[s].count >= beam || step >= maxLen[s] {
                    rowBase += hyps.count
                    continue
                }
                var next: [Active] = []
                for c in top where c.2 != o.eos {
                    if next.count == beam { break }
                    let h = hyps[c.1]
                    next.append(Active(tokens: h.tokens + [c.2], scores: h.scores + [c.3], cum: c.0))
                    rowMap.append(rowBase + c.1)
                }
                if next.isEmpty {  // nothing can continue (every non-EOS token impossible)
                    rowBase += hyps.count
                    continue
                }
                active[s] = next
                nextLive.append(s)
                rowBase += hyps.count
            }
            live = nextLive
            if !live.isEmpty { decoder.reorder(rowMap) }
            step += 1
        }
        return finalized.map { f in
            // Stable sort, best first (Python `sorted(..., reverse=True)` keeps insertion order on ties).
            let sorted = f.enumerated().sorted { a, b in a.element.score != b.element.score ? a.element.score > b.element.score : a.offset < b.offset }
            return Array(sorted.prefix(max(1, o.nbest)).map(\.element))
        }
    }

    /// Greedy search (argmax each step; ties → lower token id). Same result as beam size 1.
    public static func greedy(_ decoder: StepDecoder, sourceLengths: [Int], options o: SearchOptions) throws -> [Hypothesis] {
        let n = sourceLengths.count
        guard decoder.rows == n else {
            throw DataError.invalidArgument("decoder has \(decoder.rows) rows but \(n) source sentences were given")
        }
        let v = decoder.vocabSize
        let maxLen = sourceLengths.map { o.maxLength(sourceLength: $0) }
        var tokens: [[Int32]] = Array(repeating: [], count: n)
        var scores: [[Float]] = Array(repeating: [], count: n)
        var out: [Hypothesis?] = Array(repeating: nil, count: n)
        var live = Array(0..<n)
        var step = 0
        while !live.isEmpty {
            let last = live.map { tokens[$0].last ?? o.eos }
            let lp = try decoder.step(lastTokens: last)
            guard lp.count == last.count * v else {
                throw DataError.invalidArgument("decoder returned \(lp.count) log-probs for \(last.count) rows × \(v)")
            }
            var keep: [Int] = [], nextLive: [Int] = []
            for (r, s) in live.enumerated() {
                let forceEOS = step >= maxLen[s]
                var best: Int32 = -1
                var bestL = -Float.infinity
                for t in 0..<v {
                    var l = lp[r * v + t]
                    if l.isNaN { l = -.infinity }
                    let tok = Int32(t)
                    if tok == o.pad { continue }
                    if tok == o.unk { l -= o.unkPenalty }
                    if forceEOS && tok != o.eos { continue }
                    if step < o.minLen && tok == o.eos { continue }
                    if l > bestL { bestL = l; best = tok }
                }
                if best < 0 { best = o.eos; bestL = -.infinity }
                tokens[s].append(best)
                scores[s].append(bestL)
                if best == o.eos {
                    let sum = scores[s].reduce(Float(0), +)
                    let len = Float(tokens[s].count)
                    out[s] = Hypothesis(tokens: tokens[s], score: o.lenPenalty == 0 ? sum : sum / powf(len, o.lenPenalty), positionalScores: scores[s])
                } else {
                    keep.append(r); nextLive.append(s)
                }
            }
            live = nextLive
            if !live.isEmpty && keep.count != last.count { decoder.reorder(keep) }
            step += 1
        }
        return out.map { $0! }
    }

    /// The k best candidates by score (descending); ties broken by lower row, then lower token.
    static func topK(_ c: [(Float, Int, Int32, Float)], _ k: Int) -> [(Float, Int, Int32, Float)] {
        func better(_ a: (Float, Int, Int32, Float), _ b: (Float, Int, Int32, Float)) -> Bool {
            if a.0 != b.0 { return a.0 > b.0 }
            if a.1 != b.1 { return a.1 < b.1 }
            return a.2 < b.2
        }
        if c.count <= k { return c.sorted(by: better) }
        // Partial selection: keep a sorted buffer of size k.
        var buf: [(Float, Int, Int32, Float)] = []
        buf.reserveCapacity(k + 1)
        for x in c {
            if buf.count == k, let worst = buf.last, !better(x, worst) { continue }
            var lo = 0, hi = buf.count
            while lo < hi { let m = (lo + hi) / 2; if better(buf[m], x) { lo = m + 1 } else { hi = m } }
            buf.insert(x, at: lo)
            if buf.count > k { buf.removeLast() }
        }
        return buf
    }
}
