import DeepNetData
import DeepNetEngine
import DeepNetHarness
import Foundation
import XCTest

/// The engine's DecoderSession driven through the StepDecoder adapter.
final class EngineAdapterTests: XCTestCase {
    func tinyModel() throws -> TransformerModel {
        let c = ModelConfig(encoderLayers: 1, decoderLayers: 1, embedDim: 16, ffnDim: 32, heads: 2, vocabSize: 24)
        return try TransformerModel(config: c, seed: 7)
    }

    func testAdapterSearch() throws {
        let model = try tinyModel()
        let sources: [[Int32]] = [[5, 6, 7], [8], [9, 10, 11, 12, 13], [14, 15]]
        let dec = try EngineStepDecoder(model: model, sources: sources)
        XCTAssertEqual(dec.rows, 4)
        XCTAssertEqual(dec.vocabSize, 24)
        let lp = try dec.step(lastTokens: [2, 2, 2, 2])
        XCTAssertEqual(lp.count, 4 * 24)
        for r in 0..<4 {
            let z = lp[(r * 24)..<((r + 1) * 24)].map { exp(Double($0)) }.reduce(0, +)
            XCTAssertEqual(z, 1, accuracy: 1e-3)
        }
        var o = SearchOptions(beamSize: 1, lenPenalty: 1, maxLenA: 1, maxLenB: 3)
        let lens = sources.map { $0.count + 1 }
        let g = try SequenceSearch.greedy(try EngineStepDecoder(model: model, sources: sources), sourceLengths: lens, options: o)
        let b1 = try SequenceSearch.beamSearch(try EngineStepDecoder(model: model, sources: sources), sourceLengths: lens, options: o)
        for i in 0..<4 {
            XCTAssertEqual(g[i].tokens, b1[i][0].tokens)
            XCTAssertEqual(g[i].score, b1[i][0].score, accuracy: 1e-4)
        }
        // Batched beam search equals one-sentence-at-a-time beam search; Translator keeps the input order.
        o.beamSize = 4
        let batched = try SequenceSearch.beamSearch(try EngineStepDecoder(model: model, sources: sources), sourceLengths: lens, options: o)
        let viaTranslator = try Translator.translate(model: model, sources: sources, options: o, batchSentences: 3)
        for i in 0..<4 {
            let single = try SequenceSearch.beamSearch(try EngineStepDecoder(model: model, sources: [sources[i]]), sourceLengths: [lens[i]], options: o)
            XCTAssertEqual(single[0][0].tokens, batched[i][0].tokens, "sentence \(i)")
            XCTAssertEqual(single[0][0].score, batched[i][0].score, accuracy: 1e-3)
            XCTAssertEqual(viaTranslator[i].tokens, batched[i][0].tokens)
        }
    }
}
