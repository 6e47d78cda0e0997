// Tests of the Theorem 2/3 update bound and the parameter-name placement it relies on.
import XCTest
import Foundation
import DeepNetEngine
import DeepNetHarness

final class InstrumentTheoryTests: XCTestCase {
    func testPlacementOfTorchscaleNames() {
        let q = ParameterPlacement.of("encoder.layers.3.self_attn.q_proj.weight")
        XCTAssertEqual(q.stack, .encoder); XCTAssertEqual(q.layer, 3); XCTAssertEqual(q.sublayer, .selfAttention)
        XCTAssertEqual(q.linearRole, "q_proj"); XCTAssertTrue(q.isWeightMatrix)
        let c = ParameterPlacement.of("decoder.layers.0.encoder_attn.v_proj.bias")
        XCTAssertEqual(c.sublayer, .crossAttention); XCTAssertEqual(c.leaf, "bias"); XCTAssertFalse(c.isWeightMatrix)
        let f = ParameterPlacement.of("encoder.layers.11.ffn.fc2.weight")
        XCTAssertEqual(f.layer, 11); XCTAssertEqual(f.sublayer, .feedForward); XCTAssertEqual(f.linearRole, "fc2")
        let ln = ParameterPlacement.of("decoder.layers.2.final_layer_norm.weight")
        XCTAssertNil(ln.sublayer); XCTAssertEqual(ln.layerNormOf, .feedForward)
        let ln2 = ParameterPlacement.of("encoder.layers.2.self_attn_layer_norm.bias")
        XCTAssertNil(ln2.sublayer); XCTAssertEqual(ln2.layerNormOf, .selfAttention)
        let e = ParameterPlacement.of("decoder.embed_tokens.weight")
        XCTAssertEqual(e.stack, .decoder); XCTAssertNil(e.layer)
        XCTAssertEqual(SublayerKey(stack: .decoder, layer: 2, kind: .crossAttention).modulePrefix, "decoder.layers.2.encoder_attn")
        XCTAssertLessThan(SublayerKey(stack: .encoder, layer: 5, kind: .feedForward),
                          SublayerKey(stack: .decoder, layer: 0, kind: .selfAttention))
    }

    /// A toy encoder-decoder layout (N = M = 2, d = 16, ffn = 32) initialized like xavier_normal with gain g on
    /// v/out/fc1/fc2 (gain 1 on q/k).
    func makeModel(gain: Double, seed: UInt64) -> (ParameterLayout, [Float]) {
        let d = 16, f = 32
        var entries: [(name: String, shape: [Int])] = [(name: "encoder.embed_tokens.weight", shape: [20, d])]
        func attn(_ p: String) {
            for r in ["q_proj", "k_proj", "v_proj", "out_proj"] {
                entries.append((name: "\(p).\(r).weight", shape: [d, d])); entries.append((name: "\(p).\(r).bias", shape: [d]))
            }
        }
        func ffn(_ p: String) {
            entries.append((name: "\(p).ffn.fc1.weight", shape: [f, d])); entries.append((name: "\(p).ffn.fc1.bias", shape: [f]))
            entries.append((name: "\(p).ffn.fc2.weight", shape: [d, f])); entries.append((name: "\(p).ffn.fc2.bias", shape: [d]))
        }
        for l in 0..<2 {
            attn("encoder.layers.\(l).self_attn"); ffn("encoder.layers.\(l)")
            entries.append((name: "encoder.layers.\(l).self_attn_layer_norm.weight", shape: [d]))
        }
        for l in 0..<2 { attn("decoder.layers.\(l).self_attn"); attn("decoder.layers.\(l).encoder_attn"); ffn("decoder.layers.\(l)") }
        let layout = ParameterLayout(packing: entries)
        var theta = [Float](repeating: 0, count: layout.totalCount)
        var rng = InstrumentRNG(seed: seed)
        for t in layout.tensors where t.shape.count == 2 {
            let p = ParameterPlacement.of(t.name)
            let g = ["v_proj", "out_proj", "fc1", "fc2"].contains(p.linearRole ?? "") ? gain : 1
            let std = g * (2.0 / Double(t.shape[0] + t.shape[1])).squareRoot()
            for i in t.offset..<(t.offset + t.count) { theta[i] = Float(std * rng.nextNormal()) }
        }
        return (layout, theta)
    }

    func testVWEqualGainAtInitAndBoundFormula() {
        let beta = 0.35
        let (layout, theta0) = makeModel(gain: beta, seed: 1)
        // zero update ⇒ zero bound
        let b0 = TheoryBound.compute(layout: layout, current: theta0, reference: theta0,
                                     alpha: [.encoder: 1.4, .decoder: 2.0], architecture: .encoderDecoder)
        XCTAssertEqual(b0.total, 0)
        XCTAssertEqual(b0.terms.count, 2 * 2 + 3 * 2)
        for t in b0.terms {
            XCTAssertEqual(t.v, beta, accuracy: 0.1 * beta, "\(t.stack).\(t.layer).\(t.sublayer) v")
            XCTAssertEqual(t.w, beta, accuracy: 0.1 * beta, "\(t.stack).\(t.layer).\(t.sublayer) w")
        }
        let spec = TheoryBound.compute(layout: layout, current: theta0, reference: theta0, alpha: [:],
                                       architecture: .encoderDecoder, estimator: .spectralRelative)
        for t in spec.terms { XCTAssertEqual(t.v / beta, 1, accuracy: 0.35) }
        // an update on exactly one encoder FFN bias and one decoder self-attn weight
        var theta = theta0
        let fb = layout.tensor(named: "encoder.layers.1.ffn.fc1.bias")!
        for i in fb.offset..<(fb.offset + fb.count) { theta[i] += 0.25 }          // ‖Δ‖ = 0.25·√32
        let dq = layout.tensor(named: "decoder.layers.0.self_attn.q_proj.weight")!
        theta[dq.offset] += 3                                                       // ‖Δ‖ = 3
        let b = TheoryBound.compute(layout: layout, current: theta, reference: theta0,
                                    alpha: [.encoder: 1.4, .decoder: 2.0], architecture: .encoderDecoder)
        let ef = b.terms.first { $0.stack == "encoder" && $0.layer == 1 && $0.sublayer == "ffn" }!
        XCTAssertEqual(ef.deltaNorm, 0.25 * 32.0.squareRoot(), accuracy: 1e-6)
        XCTAssertEqual(ef.term, (ef.v * ef.v + ef.w * ef.w).squareRoot() / 1.4 * ef.deltaNorm, accuracy: 1e-12)
        let ds = b.terms.first { $0.stack == "decoder" && $0.layer == 0 && $0.sublayer == "self_attn" }!
        XCTAssertEqual(ds.deltaNorm, 3, accuracy: 1e-6)
        let cross = b.terms.filter { $0.stack == "decoder" && $0.sublayer == "encoder_attn" }.reduce(0.0) { $0 + $1.v * $1.w / 2.0 }
        XCTAssertEqual(b.crossAttentionFactor, cross, accuracy: 1e-12)
        XCTAssertEqual(b.encoderSum, ef.term, accuracy: 1e-12)
        XCTAssertEqual(b.decoderSum, ds.term, accuracy: 1e-12)
        XCTAssertEqual(b.total, cross * ef.term + ds.term, accuracy: 1e-12)
        // Theorem 2 for a single stack
        let only = TheoryBound.compute(layout: layout, current: theta, reference: theta0, alpha: [.encoder: 1.4],
                                       architecture: .encoderOnly)
        XCTAssertEqual(only.total, ef.term, accuracy: 1e-12)
    }

    func testSpectralNormOfKnownMatrix() {
        // diag(3, 1) padded: [[3,0],[0,1],[0,0]] → σ_max = 3
        let w: [Float] = [3, 0, 0, 1, 0, 0]
        XCTAssertEqual(TheoryBound.spectralNorm(w, offset: 0, rows: 3, cols: 2), 3, accuracy: 1e-6)
    }
}
