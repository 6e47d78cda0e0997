// Multilingual runs (`tatoeba`, `multi30k-many`): BLEU per direction against that direction's references, the
// run's BLEU = their mean, test sentences selected per direction, and the per-direction scores in the result file.
import DeepNetData
import DeepNetEngine
import DeepNetHarness
import Foundation
import HDF5Store
import XCTest

final class MultilingualTests: XCTestCase {
    /// A tiny fake: three directions, hypotheses of varying quality, directions interleaved in the lists.
    func testPerDirectionBLEUIsTheCorpusBLEUOfEachDirectionsSubset() throws {
        let refs = ["the cat sits on the mat .", "ein Hund läuft im Park .", "un chat dort sur le lit .",
                    "a dog runs in the park today .", "die Katze schläft auf dem Bett .", "le chien court dans le parc .",
                    "two men are playing football .", "zwei Frauen sitzen auf einer Bank ."]
        let hyps = ["the cat sits on a mat .", "ein Hund läuft im Garten .", "un chat dort sur le lit .",
                    "a dog is running in the park today .", "die Katze schläft auf dem Sofa .", "le chien court dans le jardin .",
                    "two men play football .", "zwei Frauen sitzen auf der Bank ."]
        let dirs = ["de-en", "en-de", "en-fr", "de-en", "en-de", "en-fr", "fr-en", "en-de"]
        let ml = try MultilingualBLEU.score(hypotheses: hyps, references: refs, directions: dirs, options: BLEUOptions())
        XCTAssertEqual(Set(ml.byDirection.keys), ["de-en", "en-de", "en-fr", "fr-en"])
        for d in Set(dirs) {
            let ix = dirs.indices.filter { dirs[$0] == d }
            let expected = try SacreBLEU(BLEUOptions()).corpusScore(hypotheses: ix.map { hyps[$0] }, references: [ix.map { refs[$0] }]).score
            XCTAssertEqual(ml.byDirection[d]!, expected, accuracy: 1e-12, d)
        }
        let v = ml.byDirection
        XCTAssertEqual(ml.mean, (v["de-en"]! + v["en-de"]! + v["en-fr"]! + v["fr-en"]!) / 4, accuracy: 1e-12)
        XCTAssertEqual(ml.toEnglish!, (v["de-en"]! + v["fr-en"]!) / 2, accuracy: 1e-12)
        XCTAssertEqual(ml.fromEnglish!, (v["en-de"]! + v["en-fr"]!) / 2, accuracy: 1e-12)
        // Not the pooled corpus BLEU.
        let pooled = try SacreBLEU(BLEUOptions()).corpusScore(hypotheses: hyps, references: [refs]).score
        XCTAssertNotEqual(ml.mean, pooled)
        // Tatoeba's English is "eng"; with no language shared by every direction there are no English means.
        let t = try MultilingualBLEU.score(hypotheses: ["a b c d", "a b c d"], references: ["a b c d", "a b c e"],
                                           directions: ["deu-eng", "eng-ita"], options: BLEUOptions())
        XCTAssertEqual(t.toEnglish, t.byDirection["deu-eng"])
        XCTAssertEqual(t.fromEnglish, t.byDirection["eng-ita"])
        let none = try MultilingualBLEU.score(hypotheses: ["a b c d", "a b c d"], references: ["a b c d", "a b c e"],
                                              directions: ["de-fr", "cs-it"], options: BLEUOptions())
        XCTAssertNil(none.toEnglish); XCTAssertNil(none.fromEnglish)
    }

    /// evalSentences = n is split evenly over the directions (the first of each), not the first n overall.
    func testTestSentencesAreSelectedPerDirection() {
        // 3 directions listed one after the other, 5 sentences each.
        let di = Array(repeating: 0, count: 5) + Array(repeating: 1, count: 5) + Array(repeating: 2, count: 5)
        XCTAssertEqual(DataFactory.testSelection(directionIndex: di, directions: 3, evalSentences: 7, multilingual: true),
                       [0, 1, 2, 5, 6, 10, 11])
        XCTAssertEqual(DataFactory.testSelection(directionIndex: di, directions: 3, evalSentences: 6, multilingual: true),
                       [0, 1, 5, 6, 10, 11])
        XCTAssertEqual(DataFactory.testSelection(directionIndex: di, directions: 3, evalSentences: 100, multilingual: true), Array(0..<15))
        XCTAssertEqual(DataFactory.testSelection(directionIndex: di, directions: 3, evalSentences: 0, multilingual: true), Array(0..<15))
        XCTAssertEqual(DataFactory.testSelection(directionIndex: di, directions: 3, evalSentences: 4, multilingual: false), [0, 1, 2, 3])
        // Validation: round-robin over the directions, each direction's order kept.
        XCTAssertEqual(DataFactory.roundRobin([0, 1, 2, 5, 6, 10], directionOf: di), [0, 5, 10, 1, 6, 2])
    }

    /// Per-direction BLEU and its means are stored in the HDF5 result file and read back; a file without them (a
    /// single-direction run, or one written before they existed) reads as empty / nil.
    func testBLEUByDirectionRoundTripsThroughTheResultFile() throws {
        let root = tempDir("bleu-by-direction")
        defer { try? FileManager.default.removeItem(at: root) }
        let store = ResultStore(root: root)
        try store.prepare()
        var rec = RunRecord(runID: "multi", config: RunConfig(), dataFingerprint: "t", engineNumericsVersion: "t", status: .ok)
        rec.metrics.bleuByDirection = ["de-en": 31.25, "en-de": 24.5, "cs-en": 27.0, "en-cs": 19.75]
        rec.metrics.bleu = (31.25 + 24.5 + 27.0 + 19.75) / 4
        rec.metrics.bleuToEnglish = (31.25 + 27.0) / 2
        rec.metrics.bleuFromEnglish = (24.5 + 19.75) / 2
        try store.write(rec)
        let back = try store.read("multi")
        XCTAssertEqual(back.metrics, rec.metrics)
        let f = try HDF5File.open(store.runFile("multi"))
        XCTAssertEqual(try f.doubleAttribute("de-en", on: "metrics/bleu_by_direction"), 31.25)
        f.close()

        let single = RunRecord(runID: "single", config: RunConfig(), dataFingerprint: "t", engineNumericsVersion: "t", status: .ok)
        try store.write(single)
        let s = try store.read("single")
        XCTAssertEqual(s.metrics.bleuByDirection, [:]); XCTAssertNil(s.metrics.bleuToEnglish); XCTAssertNil(s.metrics.bleuFromEnglish)
        // A committed result file (written before per-direction BLEU) still reads.
        let committed = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("results/reduced/runs")
        if let name = try? FileManager.default.contentsOfDirectory(atPath: committed.path).filter({ $0.hasSuffix(".h5") }).sorted().first {
            let old = try ResultStore(root: committed.deletingLastPathComponent()).read(String(name.dropLast(3)))
            XCTAssertEqual(old.metrics.bleuByDirection, [:])
        }
    }

    /// A tiny run on the real multi30k-many (skipped without DEEPNET_DATA): 12 test sentences = 2 per direction,
    /// BLEU recorded for each of the six directions, the run's BLEU their mean.
    func testAMulti30kManyRunRecordsBLEUPerDirection() throws {
        guard let data = ProcessInfo.processInfo.environment["DEEPNET_DATA"], !data.isEmpty else {
            throw XCTSkip("DEEPNET_DATA is not set; skipping a run on the real corpora")
        }
        let root = tempDir("multi30k-many-run")
        defer { try? FileManager.default.removeItem(at: root) }
        var c = RunConfig()
        c.model = ModelConfig(encoderLayers: 1, decoderLayers: 1, embedDim: 16, ffnDim: 32, heads: 2, vocabSize: 400, maxPositions: 64,
                              positions: .learned, shareAllEmbeddings: true)
        c.data.dataset = .multi30kMany; c.data.sourceLanguage = "xx"; c.data.targetLanguage = "xx"
        c.data.trainSentences = 600; c.data.evalSentences = 12; c.data.maxTokensPerSentence = 60
        c.training.batchTokens = 512; c.training.steps = 2; c.training.evalEvery = 2; c.training.evalBatches = 1
        c.training.checkpointEvery = 0
        c.optimizer.warmupUpdates = 1
        c.decode.beam = 1
        c.decode.bleuTokenize = DataGlue.bleuTokenize(for: c.data.dataset)
        try c.validate()
        let fp = try DataGlue.fingerprint(c.data)
        XCTAssertTrue(fp.hasPrefix("multi30k-many-"), fp)
        let spec = RunSpec(runID: "m30k-many", label: "many", config: c, dataFingerprint: fp, resultsRoot: root.path, dataRoot: data)
        let rec = try RunExecutor(spec: spec).run()
        XCTAssertEqual(rec.status, .ok, rec.message ?? "")
        XCTAssertEqual(rec.hypotheses.count, 12)
        XCTAssertEqual(Set(rec.metrics.bleuByDirection.keys), ["de-en", "en-de", "fr-en", "en-fr", "cs-en", "en-cs"])
        let v = rec.metrics.bleuByDirection.values
        XCTAssertEqual(rec.metrics.bleu!, v.reduce(0, +) / 6, accuracy: 1e-9)
        XCTAssertNotNil(rec.metrics.bleuToEnglish); XCTAssertNotNil(rec.metrics.bleuFromEnglish)
        XCTAssertTrue(rec.metrics.bleuSignature!.hasSuffix("|avg:mean-of-6-directions"), rec.metrics.bleuSignature!)
        XCTAssertEqual(try ResultStore(root: root).read("m30k-many").metrics, rec.metrics)
        // Each sentence's direction is stored, so the statistics re-score to the direction mean (not to the pooled
        // corpus BLEU) and to the X→En / En→X means.
        XCTAssertEqual(rec.bleuSentenceDirections.count, 12)
        XCTAssertEqual(Dictionary(grouping: rec.bleuSentenceDirections, by: { $0 }).mapValues(\.count).values.sorted(), [2, 2, 2, 2, 2, 2])
        XCTAssertEqual(try ResultStore(root: root).read("m30k-many").bleuSentenceDirections, rec.bleuSentenceDirections)
        XCTAssertEqual(rec.rescoredBLEU()!, rec.metrics.bleu!, accuracy: 1e-9)
        let tok = rec.config.decode.bleuTokenize
        XCTAssertEqual(try BLEUStrata.of(rec, .intoEnglish).score(rec.bleuSentenceStats, tokenize: tok), rec.metrics.bleuToEnglish!, accuracy: 1e-9)
        XCTAssertEqual(try BLEUStrata.of(rec, .outOfEnglish).score(rec.bleuSentenceStats, tokenize: tok), rec.metrics.bleuFromEnglish!, accuracy: 1e-9)
    }
}
