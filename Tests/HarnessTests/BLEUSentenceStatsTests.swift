import DeepNetData
import DeepNetHarness
import Foundation
import HDF5Store
import XCTest

final class BLEUSentenceStatsTests: XCTestCase {
    static let hyps = [
        "the cat sat on the mat .",
        "a dog runs in the park",
        "he reads a book , she writes a letter .",
        "it is raining",
        "we went home early because it was cold .",
        "completely unrelated words here",
    ]
    static let refs = [
        "the cat sat on the mat .",
        "a dog is running in the park .",
        "he reads a book and she writes a letter .",
        "it rains",
        "we went home early since it was cold .",
        "the weather is nice today",
    ]

    /// The summed per-sentence statistics score to exactly the corpus BLEU the run records (both tokenizations;
    /// the second case has no 4-gram match at all, so the smoothing the stored statistics are re-scored with matters).
    func testSummedSentenceStatisticsGiveCorpusBLEU() throws {
        for tok in [BLEUTokenization.mteval13a, .tokenized] {
            for (h, r) in [(Self.hyps, Self.refs), (["a b c d", "x y", "e f g"], ["a b c e", "x z", "e f h"])] {
                let stats = TestSetBLEU.sentenceStatistics(hypotheses: h, references: r, tokenize: tok)
                XCTAssertEqual(stats.count, h.count)
                XCTAssertTrue(stats.allSatisfy { $0.correct.count == 4 && $0.total.count == 4 })
                let corpus = try SacreBLEU(tok.scoringOptions).corpusScore(hypotheses: h, references: [r]).score
                if h == Self.hyps { XCTAssertGreaterThan(corpus, 10) }
                XCTAssertEqual(TestSetBLEU.corpusBLEU(stats, tokenize: tok), corpus, "\(tok)")
                // A resample that repeats every index twice has the same precisions and brevity penalty (when no
                // order needs smoothing: exp smoothing depends on the totals).
                if h == Self.hyps { XCTAssertEqual(TestSetBLEU.corpusBLEU(stats, indices: Array(h.indices) + Array(h.indices), tokenize: tok), corpus, accuracy: 1e-9) }
            }
        }
        // Smoothing matters for the second corpus: 13a (exp smoothing) and tokenized (none) differ.
        let h = ["a b c d", "x y", "e f g"], r = ["a b c e", "x z", "e f h"]
        let exp = TestSetBLEU.corpusBLEU(TestSetBLEU.sentenceStatistics(hypotheses: h, references: r, tokenize: .mteval13a), tokenize: .mteval13a)
        let none = TestSetBLEU.corpusBLEU(TestSetBLEU.sentenceStatistics(hypotheses: h, references: r, tokenize: .tokenized), tokenize: .tokenized)
        XCTAssertGreaterThan(exp, 1)
        XCTAssertLessThan(none, 1e-6)
    }

    /// HDF5 round trip: the statistics come back row for row; a record without them (and so a file written before
    /// they were recorded, which has no such dataset) reads as empty.
    func testSentenceStatisticsRoundTripAndOldFilesReadEmpty() throws {
        let root = tempDir("bleu-stats")
        defer { try? FileManager.default.removeItem(at: root) }
        let store = ResultStore(root: root)
        try store.prepare()
        var rec = RunRecord(runID: "with", config: RunConfig(), dataFingerprint: "fp", engineNumericsVersion: "e", status: .ok)
        rec.hypotheses = Self.hyps
        rec.bleuSentenceStats = TestSetBLEU.sentenceStatistics(hypotheses: Self.hyps, references: Self.refs, tokenize: .mteval13a)
        rec.metrics.bleu = try SacreBLEU().corpusScore(hypotheses: Self.hyps, references: [Self.refs]).score
        try store.write(rec)
        let back = try store.read("with")
        XCTAssertEqual(back.bleuSentenceStats, rec.bleuSentenceStats)
        XCTAssertEqual(back.corpusBLEU(), rec.metrics.bleu)
        let f = try HDF5File.open(store.runFile("with"))
        XCTAssertEqual(try f.shape(of: "bleu_sentence_stats"), [Self.hyps.count, 10])
        XCTAssertEqual(try f.stringAttribute("columns", on: "bleu_sentence_stats"),
                       "hyp_len ref_len correct_1 correct_2 correct_3 correct_4 total_1 total_2 total_3 total_4")
        let row0 = try f.readInt64s(at: "bleu_sentence_stats").values.prefix(10)
        XCTAssertEqual(Array(row0), [7, 7, 7, 6, 5, 4, 7, 6, 5, 4])   // "the cat sat on the mat ." against itself
        f.close()

        let old = RunRecord(runID: "old", config: RunConfig(), dataFingerprint: "fp", engineNumericsVersion: "e", status: .ok)
        try store.write(old)
        let f2 = try HDF5File.open(store.runFile("old"))
        XCTAssertFalse(f2.exists("bleu_sentence_stats"))
        f2.close()
        XCTAssertEqual(try store.read("old").bleuSentenceStats, [])
        XCTAssertNil(try store.read("old").corpusBLEU())
    }

    /// End to end: every translation run stores one row per decoded test sentence, and the stored rows re-score to
    /// the run's `metrics.bleu` exactly.
    func testRunsStoreSentenceStatisticsThatRescoreToTheirBLEU() throws {
        let root = tempDir("bleu-stats-e2e")
        defer { try? FileManager.default.removeItem(at: root) }
        let e = tinyExperiment(id: "tiny-bleu-stats", steps: 8)
        _ = try quietRunner(root).run([e], profile: .smoke)
        let res = try ResultStore(root: root).load(e)
        XCTAssertTrue(res.isComplete)
        var checked = 0
        for entry in res.entries {
            guard let rec = entry.record, rec.status == .ok, let bleu = rec.metrics.bleu else { continue }
            XCTAssertEqual(rec.bleuSentenceStats.count, rec.hypotheses.count)
            XCTAssertGreaterThan(rec.bleuSentenceStats.count, 0)
            XCTAssertEqual(rec.corpusBLEU(), bleu)
            checked += 1
        }
        XCTAssertGreaterThan(checked, 0)
    }
}
