// Pre-registered rule: is one system's test BLEU better than another's, given that the test set is a sample?
// Paired bootstrap over test sentences (Koehn 2004) on the per-sentence BLEU statistics every run stores
// (`RunRecord.bleuSentenceStats`), so it needs no reference files at report time.
import DeepNetBase
import DeepNetData

public enum BLEUComparisonOutcome: String, Sendable, Equatable {
    case better, worse, tied
}

public struct BLEUComparisonError: Error, Equatable, CustomStringConvertible {
    public var description: String
    public init(_ d: String) { description = d }
}

/// Which directions of a multilingual test set a comparison scores.
public enum BLEUDirections: String, Sendable, Equatable {
    case all = "all directions"
    case intoEnglish = "X→En"
    case outOfEnglish = "En→X"
}

/// The test set's strata: the sentence indices of each direction.
///
/// Why: a multilingual run's BLEU (`metrics.bleu`) is the mean of its per-direction corpus BLEUs (the paper's
/// OPUS-100 "Avg"), not one corpus BLEU over the pooled sentences, which would weight the directions by their
/// n-gram counts. A comparison of such runs must bootstrap that same statistic: resample within each direction
/// (every resample keeps each direction's size, as the test design does) and average the per-direction scores.
/// The strata also let a comparison score a subset of directions (X→En, En→X). A single-direction run has one
/// stratum holding every sentence in order, which reproduces the plain paired bootstrap draw for draw.
public struct BLEUStrata: Sendable, Equatable {
    /// Direction of each stratum ("" for a single-direction run), in first-appearance order.
    public var names: [String]
    /// Sentence indices of each stratum, in test-set order.
    public var members: [[Int]]

    /// One stratum of every sentence.
    public static func single(_ sentences: Int) -> BLEUStrata { BLEUStrata(names: [""], members: [Array(0..<sentences)]) }

    /// The strata of a run's test set, restricted to `directions`. Throws for a multilingual run whose file has no
    /// per-sentence directions (written before they were recorded), and for a subset of directions the run does
    /// not have (a single-direction run, or no English side).
    public static func of(_ r: RunRecord, _ directions: BLEUDirections = .all) throws -> BLEUStrata {
        let n = r.bleuSentenceStats.count
        if r.bleuSentenceDirections.isEmpty {
            if !r.metrics.bleuByDirection.isEmpty {
                throw BLEUComparisonError("run \(r.runID) is multilingual but its result file has no per-sentence directions (written before they were recorded), so its direction-mean BLEU cannot be resampled")
            }
            guard directions == .all else {
                throw BLEUComparisonError("run \(r.runID) has a single direction: no \(directions.rawValue) subset to compare")
            }
            return .single(n)
        }
        guard r.bleuSentenceDirections.count == n else {
            throw BLEUComparisonError("run \(r.runID) has \(r.bleuSentenceDirections.count) sentence directions for \(n) sentence statistics")
        }
        var names: [String] = [], members: [String: [Int]] = [:]
        for (i, d) in r.bleuSentenceDirections.enumerated() {
            if members[d] == nil { names.append(d) }
            members[d, default: []].append(i)
        }
        if directions != .all {
            guard let groups = MultilingualBLEU.englishGroups(names) else {
                throw BLEUComparisonError("run \(r.runID): no language is on one side of every direction (\(names.joined(separator: ", "))), so there is no \(directions.rawValue) subset")
            }
            let keep = Set(directions == .intoEnglish ? groups.intoEnglish : groups.outOfEnglish)
            names = names.filter { keep.contains($0) }
            guard !names.isEmpty else { throw BLEUComparisonError("run \(r.runID) has no \(directions.rawValue) direction") }
        }
        return BLEUStrata(names: names, members: names.map { members[$0]! })
    }

    /// The mean over strata of each stratum's corpus BLEU (for one stratum: the corpus BLEU).
    public func score(_ sentences: [BLEUStats], tokenize: BLEUTokenization) -> Double {
        members.map { TestSetBLEU.corpusBLEU(sentences, indices: $0, tokenize: tokenize) }.reduce(0, +) / Double(members.count)
    }

    /// "" for all sentences of a single-direction run, else "mean of 6 directions: " or e.g. "X→En (3 directions): ".
    func label(_ directions: BLEUDirections) -> String {
        let n = "\(names.count) direction\(names.count == 1 ? "" : "s")"
        return names == [""] ? "" : (directions == .all ? "mean of \(n): " : "\(directions.rawValue) (\(n)): ")
    }
}

/// A paired bootstrap comparison of two runs' test BLEU: `a` against `b`.
///
/// The rule: resample the test sentences with replacement (`resamples` times, the same indices for both systems,
/// since both decoded the same sentences in the same order), re-score each system's corpus BLEU from the summed
/// statistics of the resample, and take the 95 % percentile interval of BLEU(a) − BLEU(b). `.better` when the
/// whole interval is above 0, `.worse` when it is below 0, `.tied` otherwise.
///
/// Why: a test set of a few hundred sentences is itself a sample. Two systems that differ by a point can swap
/// places on another draw of the same size; the interval says how large a difference this test set can resolve.
/// Pairing (same resampled sentences for both) removes the sentence-difficulty variance both systems share, which
/// is most of it, so real differences of a fraction of a point are still resolved on a large test set. The
/// percentile interval needs no normality assumption (corpus BLEU is a ratio of sums, not a mean). What it does
/// not cover is training noise (another seed): see `SeededBLEUComparison`.
public struct BLEUComparison: Sendable, Equatable {
    public static let defaultSeed: UInt64 = 0xB1E0_B007
    public static let confidence = 0.95

    /// Corpus BLEU of each run on the whole test set (from its statistics; equal to `metrics.bleu`).
    public var bleuA: Double
    public var bleuB: Double
    public var difference: Double { bleuA - bleuB }
    /// Percentile interval of BLEU(a) − BLEU(b) over the resamples.
    public var lower: Double
    public var upper: Double
    public var sentences: Int
    public var resamples: Int
    public var seed: UInt64

    public var outcome: BLEUComparisonOutcome { BLEUComparison.outcome(lower: lower, upper: upper) }
    /// Half the interval's width: the resolution of this test set for this pair.
    public var halfWidth: Double { (upper - lower) / 2 }

    /// The decision on an interval of a − b: better when it lies above 0, worse when below, tied when it holds 0.
    public static func outcome(lower: Double, upper: Double) -> BLEUComparisonOutcome {
        lower > 0 ? .better : (upper < 0 ? .worse : .tied)
    }

    /// "BLEU 28.90 vs 28.10: Δ +0.80, 95 % CI [+0.21, +1.39] (200 sentences, 1000 resamples) → better"
    public var text: String {
        "BLEU \(Verdicts.fmt(bleuA)) vs \(Verdicts.fmt(bleuB)): Δ \(signed(difference)), 95 % CI [\(signed(lower)), \(signed(upper))] "
            + "(\(sentences) sentences, \(resamples) resamples) → \(outcome.rawValue)"
    }

    /// Compares the test BLEU of two runs (see the type's comment). Throws when a run has no stored sentence
    /// statistics (not a translation run, did not decode, or a result file older than the statistics), when the
    /// runs decoded different numbers of test sentences, or when they were scored with different BLEU options.
    /// `directions` picks the directions of a multilingual test set (see `BLEUStrata`); both runs must have decoded
    /// the same sentences in the same directions.
    public static func compare(a: RunRecord, b: RunRecord, directions: BLEUDirections = .all, resamples: Int = 1000,
                               seed: UInt64 = defaultSeed) throws -> BLEUComparison {
        for r in [a, b] where r.bleuSentenceStats.isEmpty {
            throw BLEUComparisonError("run \(r.runID) has no per-sentence BLEU statistics (no test BLEU, or a result file written before they were recorded)")
        }
        guard a.config.decode.bleuTokenize == b.config.decode.bleuTokenize else {
            throw BLEUComparisonError("runs \(a.runID) and \(b.runID) are scored with different BLEU tokenizations (\(a.config.decode.bleuTokenize) vs \(b.config.decode.bleuTokenize))")
        }
        let strata = try sharedStrata([a, b], directions)
        return try compare(a.bleuSentenceStats, b.bleuSentenceStats, tokenize: a.config.decode.bleuTokenize, strata: strata,
                           names: (a.runID, b.runID), resamples: resamples, seed: seed)
    }

    /// The same on bare statistics (`names` only label the error; `strata` nil: one stratum of every sentence).
    public static func compare(_ a: [BLEUStats], _ b: [BLEUStats], tokenize: BLEUTokenization, strata: BLEUStrata? = nil,
                               names: (String, String) = ("a", "b"), resamples: Int = 1000, seed: UInt64 = defaultSeed) throws -> BLEUComparison {
        let strata = strata ?? .single(a.count)
        let diffs = try resampledDifferences([(a, b)], tokenize: tokenize, strata: strata, names: names, resamples: resamples, seed: seed)
        let (lo, hi) = percentileInterval(diffs)
        return BLEUComparison(bleuA: strata.score(a, tokenize: tokenize), bleuB: strata.score(b, tokenize: tokenize),
                              lower: lo, upper: hi, sentences: strata.members.map(\.count).reduce(0, +), resamples: resamples, seed: seed)
    }

    /// The strata of the first run, after checking that every run decoded the same sentences in the same directions.
    static func sharedStrata(_ runs: [RunRecord], _ directions: BLEUDirections) throws -> BLEUStrata {
        let strata = try BLEUStrata.of(runs[0], directions)
        for r in runs.dropFirst() where r.bleuSentenceDirections != runs[0].bleuSentenceDirections {
            // Counts differ: leave it to the sentence-count check, which says so; same count, other directions: here.
            if r.bleuSentenceStats.count == runs[0].bleuSentenceStats.count {
                throw BLEUComparisonError("runs \(runs[0].runID) and \(r.runID) decoded their test sentences in different directions; a paired comparison needs the same test set")
            }
        }
        return strata
    }

    /// For each resample (the same sentence indices for every pair), the mean over `pairs` of BLEU(a) − BLEU(b),
    /// each BLEU being `strata.score` of the resample: every stratum is resampled within itself (its size kept)
    /// and the per-stratum corpus BLEUs are averaged. Every run must have the same number of sentences.
    /// Deterministic: SplitMix64 seeded with `seed` (one stratum of every sentence draws exactly what an
    /// unstratified bootstrap draws).
    static func resampledDifferences(_ pairs: [([BLEUStats], [BLEUStats])], tokenize: BLEUTokenization, strata: BLEUStrata,
                                     names: (String, String), resamples: Int, seed: UInt64) throws -> [Double] {
        precondition(resamples > 0 && !pairs.isEmpty)
        let n = pairs[0].0.count
        for (a, b) in pairs where a.count != n || b.count != n {
            throw BLEUComparisonError("\(names.0) and \(names.1) decoded different numbers of test sentences (\(a.count) vs \(b.count)\(a.count == n && b.count == n ? "" : ", expected \(n)")); a paired comparison needs the same test set")
        }
        guard n > 0, !strata.members.isEmpty, strata.members.allSatisfy({ !$0.isEmpty }) else { throw BLEUComparisonError("no test sentences to compare") }
        guard strata.members.allSatisfy({ $0.allSatisfy { $0 >= 0 && $0 < n } }) else {
            throw BLEUComparisonError("\(names.0) and \(names.1): the sentence directions name sentences beyond the \(n) statistics")
        }
        var rng = SplitMix64(seed: seed)
        var idx = strata.members.map { [Int](repeating: 0, count: $0.count) }
        var out: [Double] = []
        out.reserveCapacity(resamples)
        for _ in 0..<resamples {
            for (g, m) in strata.members.enumerated() {
                for i in 0..<m.count { idx[g][i] = m[rng.nextInt(below: m.count)] }
            }
            var d = 0.0
            for (a, b) in pairs {
                for g in idx {
                    d += TestSetBLEU.corpusBLEU(a, indices: g, tokenize: tokenize) - TestSetBLEU.corpusBLEU(b, indices: g, tokenize: tokenize)
                }
            }
            out.append(d / Double(pairs.count * idx.count))
        }
        return out
    }

    /// The central `confidence` percentile interval (linear-interpolated quantiles, as numpy's default).
    static func percentileInterval(_ v: [Double]) -> (Double, Double) {
        let tail = (1 - confidence) / 2
        return (ScalingLaw.quantile(v, tail), ScalingLaw.quantile(v, 1 - tail))
    }
}

/// The comparison of two configurations trained with several seeds each.
///
/// The rule: compare the seed means of test BLEU. The difference counts (`.better` / `.worse`) only when its size
/// exceeds the larger of
///   * the pooled bootstrap half-width: half the 95 % percentile interval of mean BLEU(a) − mean BLEU(b) when the
///     test sentences are resampled (paired: the same indices for every run of both configurations), i.e. the
///     test-set noise of the seed-mean difference, and
///   * the seed spread: the larger of the two configurations' max − min over seeds, i.e. the training noise.
/// Otherwise `.tied`.
///
/// Why both: the bootstrap only knows about which sentences were drawn, not about which seed was drawn; on a small
/// model the seed-to-seed spread of BLEU is often the larger of the two. With two or three seeds neither a
/// standard error nor a t interval over seeds is trustworthy, so the observed range is used as the plain
/// yardstick: a difference smaller than the disagreement between runs of the same configuration is not evidence.
/// With one seed each the spread is 0 and the rule is the bootstrap alone (the half-width of a symmetric version
/// of `BLEUComparison`'s interval).
public struct SeededBLEUComparison: Sendable, Equatable {
    public var a: SeedSummary
    public var b: SeedSummary
    public var meanDifference: Double { a.mean - b.mean }
    public var bootstrapHalfWidth: Double
    public var seedSpread: Double { Swift.max(a.spread, b.spread) }
    /// What the mean difference must exceed.
    public var margin: Double { Swift.max(bootstrapHalfWidth, seedSpread) }
    public var resamples: Int
    public var seed: UInt64
    /// What was scored: "" for a single-direction test set, else e.g. "mean of 6 directions: " (`BLEUStrata`).
    public var scope: String = ""

    public var outcome: BLEUComparisonOutcome {
        meanDifference > margin ? .better : (meanDifference < -margin ? .worse : .tied)
    }

    /// "mean BLEU 28.40 (seed 1: 28.10, seed 2: 28.70; spread 0.60) vs 27.50 (…): Δ +0.90 > margin 0.60 (bootstrap ±0.35, seed spread 0.60) → better"
    public var text: String {
        let cmp = outcome == .tied ? "≤" : ">"
        return scope + "mean BLEU \(a.text()) vs \(b.text()): Δ \(signed(meanDifference)), |Δ| \(cmp) margin \(Verdicts.fmt(margin)) "
            + "(bootstrap ±\(Verdicts.fmt(bootstrapHalfWidth)), seed spread \(Verdicts.fmt(seedSpread))) → \(outcome.rawValue)"
    }

    /// Compares the seeds of `a` with the seeds of `b` (each a list of (seed label, record)); every record needs
    /// stored sentence statistics over the same test sentences and the same BLEU tokenization.
    public static func compare(a: [(label: String, record: RunRecord)], b: [(label: String, record: RunRecord)], directions: BLEUDirections = .all,
                               resamples: Int = 1000, seed: UInt64 = BLEUComparison.defaultSeed) throws -> SeededBLEUComparison {
        guard !a.isEmpty, !b.isEmpty else { throw BLEUComparisonError("a seeded comparison needs at least one run on each side") }
        let all = a + b
        for r in all where r.record.bleuSentenceStats.isEmpty {
            throw BLEUComparisonError("run \(r.record.runID) has no per-sentence BLEU statistics (no test BLEU, or a result file written before they were recorded)")
        }
        let tok = all[0].record.config.decode.bleuTokenize
        if let other = all.first(where: { $0.record.config.decode.bleuTokenize != tok }) {
            throw BLEUComparisonError("run \(other.record.runID) is scored with BLEU tokenization \(other.record.config.decode.bleuTokenize), not \(tok)")
        }
        // mean(a) − mean(b) = Σ_i Σ_j (a_i − b_j) / (|a||b|): every (a_i, b_j) pair on the same resample.
        let strata = try BLEUComparison.sharedStrata(all.map(\.record), directions)
        var pairs: [([BLEUStats], [BLEUStats])] = []
        for x in a { for y in b { pairs.append((x.record.bleuSentenceStats, y.record.bleuSentenceStats)) } }
        let diffs = try BLEUComparison.resampledDifferences(pairs, tokenize: tok, strata: strata, names: (a[0].record.runID, b[0].record.runID),
                                                            resamples: resamples, seed: seed)
        let (lo, hi) = BLEUComparison.percentileInterval(diffs)
        func summary(_ s: [(label: String, record: RunRecord)]) -> SeedSummary {
            SeedSummary(values: s.map { SeedSummary.Value(label: $0.label, value: strata.score($0.record.bleuSentenceStats, tokenize: tok)) })
        }
        return SeededBLEUComparison(a: summary(a), b: summary(b), bootstrapHalfWidth: (hi - lo) / 2, resamples: resamples, seed: seed,
                                    scope: strata.label(directions))
    }

    /// Compares the runs of `results` matching selector `a` with those matching `b` (each selector leaves the seed
    /// axis out, so it picks every seed). Throws when a side has no converged run or a run lacks statistics.
    public static func compare(_ results: ExperimentResults, a: [String: String], b: [String: String], seedAxis: String = "seed",
                               directions: BLEUDirections = .all, resamples: Int = 1000,
                               seed: UInt64 = BLEUComparison.defaultSeed) throws -> SeededBLEUComparison {
        func side(_ sel: [String: String]) throws -> [(label: String, record: RunRecord)] {
            let s = results.entries(sel).compactMap { e -> (label: String, record: RunRecord)? in
                guard let r = e.record, r.status == .ok else { return nil }
                return (e.coordinates[seedAxis] ?? e.coordinates.shortLabel, r)
            }
            if s.isEmpty { throw BLEUComparisonError("no converged run matches \(sel.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " "))") }
            return s
        }
        return try compare(a: try side(a), b: try side(b), directions: directions, resamples: resamples, seed: seed)
    }
}

extension Verdicts {
    // MARK: BLEU comparisons

    /// The claim "`a` scores `expect` against `b` on test BLEU", decided by `SeededBLEUComparison` (one seed each
    /// reduces to the paired bootstrap). `expect` lists the outcomes that reproduce the claim: `[.better]` for
    /// "better than", `[.better, .tied]` for "matches or beats", `[.tied]` for "comparable". A diverged side
    /// decides the comparison (a diverged `a` is worse, a diverged `b` is beaten); both diverged, or runs without
    /// sentence statistics, are inconclusive; missing runs are "not run". `directions` restricts a multilingual
    /// comparison to the X→En or En→X directions (`BLEUStrata`).
    public static func bleuComparison(_ r: ExperimentResults, claim: String, a: [String: String], b: [String: String],
                                      expect: Set<BLEUComparisonOutcome>, seedAxis: String = "seed", directions: BLEUDirections = .all,
                                      resamples: Int = 1000, seed: UInt64 = BLEUComparison.defaultSeed) -> ClaimVerdict {
        for s in [a, b] { if let v = requireRuns(r, claim, s) { return v } }
        func label(_ s: [String: String]) -> String { s.sorted { $0.key < $1.key }.map(\.value).joined(separator: " ") }
        let aOK = r.records(matching: a).contains { $0.status == .ok }, bOK = r.records(matching: b).contains { $0.status == .ok }
        let outcome: BLEUComparisonOutcome, ev: String
        switch (aOK, bOK) {
        case (false, false): return ClaimVerdict(claim, .inconclusive, "\(label(a)) and \(label(b)) both diverged: no BLEU to compare")
        case (false, true): outcome = .worse; ev = "\(label(a)) diverged, \(label(b)) converged"
        case (true, false): outcome = .better; ev = "\(label(a)) converged, \(label(b)) diverged"
        case (true, true):
            do {
                let c = try SeededBLEUComparison.compare(r, a: a, b: b, seedAxis: seedAxis, directions: directions, resamples: resamples, seed: seed)
                outcome = c.outcome; ev = "\(label(a)) vs \(label(b)): " + c.text
            } catch {
                return ClaimVerdict(claim, .inconclusive, "\(label(a)) vs \(label(b)): \(error)")
            }
        }
        let want = expect.map(\.rawValue).sorted().joined(separator: " or ")
        return ClaimVerdict(claim, expect.contains(outcome) ? .reproduced : .notReproduced, ev + " (claim needs \(want))")
    }
}

func signed(_ x: Double, _ digits: Int = 2) -> String { (x >= 0 ? "+" : "−") + Verdicts.fmt(abs(x), digits) }
