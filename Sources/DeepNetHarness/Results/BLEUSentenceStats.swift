// Sentence-level BLEU statistics of a run's test set: what a paired bootstrap needs to re-score any resample of
// the test sentences without the reference files. Everything here goes through DeepNetData's sacreBLEU code
// (`SacreBLEU.segmentStatistics`, `SacreBLEU.compute`); there is no second BLEU implementation.
import DeepNetData

extension BLEUTokenization {
    /// The sacreBLEU options a test set with this tokenization is scored with (13a: sacreBLEU's defaults, exp
    /// smoothing; tokenized: whitespace tokens, no smoothing). The executor and the re-scoring of stored statistics
    /// both use this, so they cannot disagree.
    public var scoringOptions: BLEUOptions { self == .tokenized ? BLEUOptions.tokenizedNoSmoothing : BLEUOptions() }
}

public enum TestSetBLEU {
    /// Columns of one row of `/bleu_sentence_stats` (order 4): sacreBLEU's own layout of the sufficient statistics.
    public static func columnNames(order: Int = 4) -> [String] {
        ["hyp_len", "ref_len"] + (1...order).map { "correct_\($0)" } + (1...order).map { "total_\($0)" }
    }

    /// Per-sentence statistics of `hypotheses` against one reference stream, scored as `tokenize` says. Their sum
    /// is exactly what `SacreBLEU.corpusScore` scores (integer counts, summed in any order).
    public static func sentenceStatistics(hypotheses: [String], references: [String], tokenize: BLEUTokenization) -> [BLEUStats] {
        precondition(hypotheses.count == references.count, "BLEU statistics: \(hypotheses.count) hypotheses but \(references.count) references")
        return SacreBLEU(tokenize.scoringOptions).segmentStatistics(hypotheses: hypotheses, references: [references.map { Optional($0) }])
    }

    /// Corpus BLEU of the summed statistics of `sentences` (all of them, or the rows `indices` names, repeats
    /// counted as often as they occur: a bootstrap resample).
    public static func corpusBLEU(_ sentences: [BLEUStats], indices: [Int]? = nil, tokenize: BLEUTokenization) -> Double {
        let order = sentences.first?.correct.count ?? 4
        var sum = BLEUStats(order: order)
        if let indices { for i in indices { sum += sentences[i] } } else { for s in sentences { sum += s } }
        return SacreBLEU(tokenize.scoringOptions).compute(sum).score
    }

    /// Rows of the stored [N × (2 + 2·order)] integer array.
    public static func rows(_ stats: [BLEUStats]) -> (values: [Int64], width: Int) {
        let order = stats.first?.correct.count ?? 4
        var v: [Int64] = []
        v.reserveCapacity(stats.count * (2 + 2 * order))
        for s in stats {
            precondition(s.correct.count == order && s.total.count == order, "BLEU statistics of mixed n-gram orders")
            v.append(Int64(s.sysLen)); v.append(Int64(s.refLen))
            v.append(contentsOf: s.correct.map(Int64.init)); v.append(contentsOf: s.total.map(Int64.init))
        }
        return (v, 2 + 2 * order)
    }

    /// The inverse of `rows`; nil when the shape is not [N × (2 + 2·order)] with order ≥ 1.
    public static func stats(values: [Int64], shape: [Int]) -> [BLEUStats]? {
        guard shape.count == 2, shape[1] >= 4, shape[1] % 2 == 0, shape[0] * shape[1] == values.count else { return nil }
        let w = shape[1], order = (w - 2) / 2
        return (0..<shape[0]).map { i in
            let r = values[(i * w)..<((i + 1) * w)].map { Int($0) }
            var s = BLEUStats(order: order)
            s.sysLen = r[0]; s.refLen = r[1]
            s.correct = Array(r[2..<(2 + order)]); s.total = Array(r[(2 + order)..<w])
            return s
        }
    }
}

extension RunRecord {
    /// Corpus BLEU re-scored from the stored per-sentence statistics (all sentences, or a resample of their
    /// indices), with the scorer options of the run's `decode.bleuTokenize`; nil when none are stored.
    public func corpusBLEU(indices: [Int]? = nil) -> Double? {
        guard !bleuSentenceStats.isEmpty else { return nil }
        return TestSetBLEU.corpusBLEU(bleuSentenceStats, indices: indices, tokenize: config.decode.bleuTokenize)
    }

    /// The run's test BLEU re-scored from the stored statistics as `metrics.bleu` defines it: the corpus BLEU, or for
    /// a multilingual run the mean of its per-direction corpus BLEUs (`BLEUStrata`); nil when no statistics are
    /// stored, or a multilingual file has no per-sentence directions.
    public func rescoredBLEU() -> Double? {
        guard !bleuSentenceStats.isEmpty, let strata = try? BLEUStrata.of(self) else { return nil }
        return strata.score(bleuSentenceStats, tokenize: config.decode.bleuTokenize)
    }
}
