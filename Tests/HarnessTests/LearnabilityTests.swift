import DeepNetData
import DeepNetEngine
import DeepNetHarness
import Foundation
import XCTest

/// Slow, opt-in check that the `synthetic` task is learnable by a small model: BLEU climbs from ≈0 to
/// above 90. Runs only with DEEPNET_SLOW_TESTS=1 (it trains for many minutes on two cores).
final class LearnabilityTests: XCTestCase {
    func testSyntheticIsLearnable() throws {
        let env = ProcessInfo.processInfo.environment
        guard env["DEEPNET_SLOW_TESTS"] == "1" else { throw XCTSkip("set DEEPNET_SLOW_TESTS=1 to run the synthetic learnability check") }
        let minutes = Double(env["DEEPNET_LEARN_MINUTES"] ?? "40") ?? 40
        let ds = try DataSetRegistry.load(.synthetic)
        let p = try PreparedData.prepare(ds, useCache: false)
        let v = p.sourceVocabulary.count
        let cfg = ModelConfig(encoderLayers: 2, decoderLayers: 2, embedDim: 64, ffnDim: 256, heads: 4, vocabSize: v,
                              shareAllEmbeddings: true, dropout: 0.1, labelSmoothing: 0.1, method: "pre-ln")
        let model = try TransformerModel(config: cfg, seed: 1)
        let trainer = Trainer(model: model, optimizer: OptimizerConfig(lr: 2e-3, warmupUpdates: 300, clipNorm: 1), seed: 1)
        let batcher = try Batcher(split: try p.split("train"), maxTokens: 4096, seed: 1)
        let test = try p.split("test")
        let nEval = 200
        let refs = Array(try ds.split("test").targets.prefix(nEval))
        func bleu() throws -> Double {
            let hyps = try Translator.translate(model: model, sources: Array(test.source.prefix(nEval)),
                                                options: SearchOptions(beamSize: 1, maxLenA: 1.5, maxLenB: 10), greedy: true, batchSentences: 50)
            return try SacreBLEU().corpusScore(hypotheses: hyps.map { p.detokenize($0.tokens) }, references: [refs]).score
        }
        let start = Date()
        let b0 = try bleu()
        print("learnability: vocab \(v), params \(model.parameters.count), update 0 BLEU \(PythonText.formatFixed(b0, 2))")
        var best = b0
        var epoch = 1
        var updates = 0
        outer: while Date().timeIntervalSince(start) < minutes * 60 {
            for b in batcher.batches(epoch: epoch) {
                let s = try trainer.step(b)
                updates += 1
                if updates % 250 == 0 {
                    let score = try bleu()
                    best = max(best, score)
                    print("learnability: update \(updates) epoch \(epoch) loss \(PythonText.formatFixed(s.loss, 3)) BLEU \(PythonText.formatFixed(score, 2)) (\(Int(Date().timeIntervalSince(start))) s)")
                    if score > 90 { break outer }
                }
                if Date().timeIntervalSince(start) > minutes * 60 { break outer }
            }
            epoch += 1
        }
        XCTAssertLessThan(b0, 5, "an untrained model scores near 0")
        XCTAssertGreaterThan(best, 90, "BLEU should exceed 90 within \(minutes) minutes")
    }
}
