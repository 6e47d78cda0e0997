import XCTest
import DeepNetEngine

/// Whole tiny models under every registered method: gradients vs central differences (dropout 0).
final class ModelGradientTests: XCTestCase {
    func testEveryMethodEncoderDecoder() throws {
        for m in MethodRegistry.names {
            var c = tinyConfig(m, .encoderDecoder)
            c.methodOptions = m == "branchnorm" ? ["branchnorm-steps": 10] : [:]
            let model = try TransformerModel(config: c, seed: 7)
            if m == "branchnorm" { model.updateCount = 3 }
            try checkModelGradients(model, randomBatch(c, batch: 3, source: 5, target: 4, seed: 1), label: "\(m) enc-dec")
        }
    }
    func testEveryMethodDecoderOnly() throws {
        for m in MethodRegistry.names {
            var c = tinyConfig(m, .decoderOnly, positions: .learned)
            c.shareDecoderInputOutputEmbed = true
            let model = try TransformerModel(config: c, seed: 8)
            try checkModelGradients(model, randomBatch(c, batch: 3, source: 0, target: 5, seed: 2), label: "\(m) dec-only")
        }
    }
    func testEncoderOnly() throws {
        for m in MethodRegistry.names {
            let c = tinyConfig(m, .encoderOnly, positions: .learned)
            let model = try TransformerModel(config: c, seed: 9)
            try checkModelGradients(model, randomBatch(c, batch: 3, source: 6, target: 0, seed: 3), label: "\(m) enc-only")
        }
    }
    func testSharedAllEmbeddingsReluNoPositions() throws {
        var c = tinyConfig("deepnorm", .encoderDecoder, positions: .none)
        c.shareAllEmbeddings = true; c.activation = .relu; c.scaleEmbedding = false
        let model = try TransformerModel(config: c, seed: 10)
        XCTAssertEqual(model.parameters.aliases["decoder.output_projection.weight"], "encoder.embed_tokens.weight")
        XCTAssertEqual(model.parameters.aliases["decoder.embed_tokens.weight"], "encoder.embed_tokens.weight")
        try checkModelGradients(model, randomBatch(c, batch: 2, source: 5, target: 4, seed: 4), label: "shared-all")
    }
}
