import XCTest
import DeepNetEngine

final class DeepNormConstantTests: XCTestCase {
    /// docs/methods.md §14 table, 4 decimals.
    func testTable() {
        let rows: [(Int, [Double])] = [
            (6, [1.4179, 0.4970, 0.6569, 2.0598, 0.3433, 1.8612, 0.3799]),
            (12, [1.7609, 0.4002, 0.5290, 2.4495, 0.2887, 2.2134, 0.3195]),
            (18, [1.9987, 0.3526, 0.4660, 2.7108, 0.2608, 2.4495, 0.2887]),
            (50, [2.7505, 0.2562, 0.3387, 3.4996, 0.2021, 3.1623, 0.2236]),
            (100, [3.4157, 0.2063, 0.2727, 4.1618, 0.1699, 3.7606, 0.1880]),
            (200, [4.2419, 0.1661, 0.2196, 4.9492, 0.1429, 4.4721, 0.1581]),
            (500, [5.6482, 0.1248, 0.1649, 6.2233, 0.1136, 5.6234, 0.1257]),
        ]
        for (n, v) in rows {
            func r4(_ x: Double) -> Double { (x * 10000).rounded() / 10000 }
            XCTAssertEqual(r4(DeepNormConstants.alpha(.encoderDecoder, .encoder, N: n, M: n)), v[0], "N=\(n)")
            XCTAssertEqual(r4(DeepNormConstants.beta(.encoderDecoder, .encoder, N: n, M: n)), v[1], "N=\(n)")
            XCTAssertEqual(r4(DeepNormConstants.betaTorchscale(.encoderDecoder, .encoder, N: n, M: n)), v[2], "N=\(n)")
            XCTAssertEqual(r4(DeepNormConstants.alpha(.encoderDecoder, .decoder, N: n, M: n)), v[3], "N=\(n)")
            XCTAssertEqual(r4(DeepNormConstants.beta(.encoderDecoder, .decoder, N: n, M: n)), v[4], "N=\(n)")
            for arch in [Architecture.encoderOnly, .decoderOnly] {
                let s: StackKind = arch == .encoderOnly ? .encoder : .decoder
                XCTAssertEqual(r4(DeepNormConstants.alpha(arch, s, N: n, M: n)), v[5], "\(arch) N=\(n)")
                XCTAssertEqual(r4(DeepNormConstants.beta(arch, s, N: n, M: n)), v[6], "\(arch) N=\(n)")
            }
        }
    }

    func testMethodUsesConstantsAndMultipliers() throws {
        var c = ModelConfig(architecture: .encoderDecoder, encoderLayers: 6, decoderLayers: 6, method: "deepnorm")
        c.alphaMultiplier = 2; c.betaMultiplier = 0.5
        let m = try MethodRegistry.make(c)
        XCTAssertEqual(m.constants["encoder.alpha"]!, 2 * 1.4179, accuracy: 2e-4)
        XCTAssertEqual(m.constants["decoder.beta"]!, 0.5 * 0.3433, accuracy: 1e-4)
        // Asymmetric 90L-6L: encoder α = 0.81 (N⁴M)^{1/16}.
        let a = try MethodRegistry.make(ModelConfig(encoderLayers: 90, decoderLayers: 6, method: "deepnorm"))
        XCTAssertEqual(a.constants["encoder.alpha"]!, 0.81 * pow(pow(90.0, 4) * 6, 1.0 / 16), accuracy: 1e-9)
    }

    /// Paper init: xavier_normal gain β on v_proj → std β·sqrt(2/(2d)); q_proj gain 1; biases 0.
    func testDeepNormInitStatistics() throws {
        let c = ModelConfig(architecture: .decoderOnly, decoderLayers: 12, embedDim: 128, ffnDim: 256, heads: 4, method: "deepnorm")
        let model = try TransformerModel(config: c, seed: 3)
        func std(_ name: String) -> Double {
            let t = model.parameters.tensor(name)!.map(Double.init)
            let m = t.reduce(0, +) / Double(t.count)
            return (t.map { ($0 - m) * ($0 - m) }.reduce(0, +) / Double(t.count)).squareRoot()
        }
        let beta = pow(96.0, -0.25)
        XCTAssertEqual(std("decoder.layers.3.self_attn.v_proj.weight"), beta * (2.0 / 256).squareRoot(), accuracy: 0.03 * beta * (2.0 / 256).squareRoot())
        XCTAssertEqual(std("decoder.layers.3.self_attn.q_proj.weight"), (2.0 / 256).squareRoot(), accuracy: 0.003)
        XCTAssertEqual(model.parameters.tensor("decoder.layers.3.ffn.fc1.bias")!.allSatisfy { $0 == 0 }, true)
        // torchscale variant: PyTorch default / init_scale → std (1/sqrt(3·fan_in))·β, biases scaled too (non-zero).
        var ct = c; ct.method = "deepnorm-torchscale"
        let mt = try TransformerModel(config: ct, seed: 3)
        let t = mt.parameters.tensor("decoder.layers.3.self_attn.v_proj.weight")!
        let bound = Double(t.map { abs($0) }.max()!)
        XCTAssertEqual(bound, beta / 128.0.squareRoot(), accuracy: 0.02 * beta / 128.0.squareRoot())
        XCTAssert(mt.parameters.tensor("decoder.layers.3.ffn.fc1.bias")!.contains { $0 != 0 })
    }
}

final class EngineBehaviourTests: XCTestCase {
    func testStateDictNames() throws {
        var c = ModelConfig(architecture: .encoderDecoder, encoderLayers: 2, decoderLayers: 1, embedDim: 8, ffnDim: 16, heads: 2,
                            vocabSize: 11, positions: .learned, method: "pre-ln")
        c.shareDecoderInputOutputEmbed = true
        let m = try TransformerModel(config: c, seed: 1)
        let names = Set(m.parameters.stateDictNames)
        for n in ["encoder.embed_tokens.weight", "encoder.embed_positions.weight", "encoder.layers.0.self_attn.k_proj.weight",
                  "encoder.layers.0.self_attn.k_proj.bias", "encoder.layers.1.self_attn.out_proj.weight",
                  "encoder.layers.0.self_attn_layer_norm.weight", "encoder.layers.0.ffn.fc1.weight", "encoder.layers.0.ffn.fc2.bias",
                  "encoder.layers.0.final_layer_norm.weight", "encoder.layer_norm.weight", "decoder.layer_norm.bias",
                  "decoder.layers.0.encoder_attn.q_proj.weight", "decoder.layers.0.encoder_attn_layer_norm.weight",
                  "decoder.embed_tokens.weight", "decoder.output_projection.weight", "decoder.embed_positions.weight"] {
            XCTAssert(names.contains(n), "missing \(n)")
        }
        XCTAssertEqual(m.parameters.aliases, ["decoder.output_projection.weight": "decoder.embed_tokens.weight"])
        XCTAssertEqual(m.parameters.entry("encoder.embed_positions.weight")!.shape, [1024 + 1 + 1, 8])
        var p = c; p.method = "post-ln"
        XCTAssertNil(try TransformerModel(config: p, seed: 1).parameters.entry("encoder.layer_norm.weight"))
    }

    func testDeterminismSameSeed() throws {
        var c = tinyConfig("deepnorm", .encoderDecoder)
        c.dropout = 0.1; c.attentionDropout = 0.1; c.activationDropout = 0.1
        func losses() throws -> [Double] {
            let model = try TransformerModel(config: c, seed: 11)
            let t = Trainer(model: model, optimizer: OptimizerConfig(lr: 1e-3, warmupUpdates: 2, clipNorm: 1), seed: 5)
            return try (0..<4).map { try t.step(randomBatch(c, batch: 4, source: 6, target: 5, seed: UInt64($0))).loss }
        }
        let a = try losses(), b = try losses()
        XCTAssertEqual(a.map { $0.bitPattern }, b.map { $0.bitPattern }, "\(a) vs \(b)")
        XCTAssertNotEqual(a[0], a[3])
    }

    func testTrainingReducesLoss() throws {
        for m in ["post-ln", "pre-ln", "deepnorm", "deepnorm-torchscale"] {
            let c = tinyConfig(m, .encoderDecoder)
            let model = try TransformerModel(config: c, seed: 2)
            let t = Trainer(model: model, optimizer: OptimizerConfig(lr: 3e-3, warmupUpdates: 5), seed: 1)
            let batch = randomBatch(c, batch: 4, source: 6, target: 5, seed: 1)
            let first = try t.step(batch).loss
            var last = first
            for _ in 0..<40 { last = try t.step(batch).loss }
            XCTAssertLessThan(last, first * 0.7, "\(m): \(first) -> \(last)")
        }
    }

    func testBadConfigs() {
        func message(_ c: ModelConfig) -> String {
            do { try c.validate(); return "" } catch { return "\(error)" }
        }
        let unknown = message(ModelConfig(method: "deepnrom"))
        XCTAssert(unknown.contains("unknown method 'deepnrom'") && unknown.contains("deepnorm-torchscale") && unknown.contains("post-ln"), unknown)
        XCTAssert(message(ModelConfig(encoderLayers: 0)).contains("encoderLayers"))
        XCTAssert(message(ModelConfig(decoderLayers: -2)).contains("decoderLayers"))
        XCTAssert(message(ModelConfig(embedDim: 0)).contains("embedDim"))
        XCTAssert(message(ModelConfig(ffnDim: -1)).contains("ffnDim"))
        XCTAssert(message(ModelConfig(embedDim: 10, heads: 3)).contains("heads (3) must divide embedDim (10)"))
        XCTAssert(message(ModelConfig(method: "branchnorm", methodOptions: ["steps": 3])).contains("branchnorm-steps"))
        XCTAssertThrowsError(try TransformerModel(config: ModelConfig(method: "nope"), seed: 1))
        // encoder-only model ignores decoderLayers = 0
        XCTAssertEqual(message(ModelConfig(architecture: .encoderOnly, decoderLayers: 0)), "")
    }

    func testTokenOutOfRange() throws {
        let c = tinyConfig("post-ln", .encoderDecoder)
        let model = try TransformerModel(config: c, seed: 1)
        var b = randomBatch(c, batch: 2, source: 4, target: 3, seed: 1)
        b.prevOutput[4] = Int32(c.vocabSize)
        XCTAssertThrowsError(try model.forwardBackward(b, training: true, dropoutSeed: 0)) { e in
            XCTAssert("\(e)".contains("prevOutput[4] = 23"), "\(e)")
        }
        b = randomBatch(c, batch: 2, source: 4, target: 3, seed: 1)
        b.source[1] = -1
        XCTAssertThrowsError(try model.forward(b)) { e in XCTAssert("\(e)".contains("source[1] = -1"), "\(e)") }
    }

    func testNaNInjectionNamesStepAndTensor() throws {
        let c = tinyConfig("deepnorm", .encoderDecoder)
        let model = try TransformerModel(config: c, seed: 1)
        let t = Trainer(model: model, optimizer: OptimizerConfig(lr: 1e-3, warmupUpdates: 1), seed: 1)
        let batch = randomBatch(c, batch: 2, source: 4, target: 3, seed: 1)
        _ = try t.step(batch)
        _ = try t.step(batch)
        let off = model.parameters.entry("encoder.layers.1.ffn.fc1.weight")!.offset
        model.parameters.values[off + 3] = .nan
        XCTAssertThrowsError(try t.step(batch)) { e in
            guard let nf = e as? NonFiniteError else { return XCTFail("\(e)") }
            XCTAssertEqual(nf.step, 3)
            XCTAssert(nf.tensor.contains("encoder.layers.1.ffn.fc1.weight"), nf.description)
        }
    }

    /// Changing a future decoder input must not change earlier logits (causal mask), and the incremental
    /// session must reproduce the full forward's log-probabilities, also after a beam reorder.
    func testCausalityAndIncrementalDecoding() throws {
        for arch in [Architecture.encoderDecoder, .decoderOnly] {
            for m in ["deepnorm", "pre-ln", "dlcl", "sub-ln"] {
                let c = tinyConfig(m, arch, positions: arch == .decoderOnly ? .learned : .sinusoidal)
                let model = try TransformerModel(config: c, seed: 4)
                let B = 2, S = 5, T = 4
                let b = randomBatch(c, batch: B, source: S, target: T, seed: 9, padTail: false)
                _ = try model.forward(b)
                let full = model.logits()
                var b2 = b
                b2.prevOutput[T - 1] = (b2.prevOutput[T - 1] + 1) % Int32(c.vocabSize)
                if b2.prevOutput[T - 1] == Int32(c.padIndex) { b2.prevOutput[T - 1] += 1 }
                _ = try model.forward(b2)
                let changed = model.logits()
                let V = c.vocabSize
                for i in 0..<((T - 1) * V) { XCTAssertEqual(full[i], changed[i], accuracy: 1e-5, "\(m) causal leak") }
                let session = try model.makeDecoderSession(source: arch == .decoderOnly ? [] : b.source, batchSize: B,
                                                           sourceLength: arch == .decoderOnly ? 0 : S)
                for t in 0..<T {
                    let last = (0..<B).map { b.prevOutput[$0 * T + t] }
                    let lp = try session.step(lastTokens: last)
                    for r in 0..<B {
                        let z = Array(full[((r * T + t) * V)..<((r * T + t + 1) * V)])
                        let lse = log(z.map { exp(Double($0)) }.reduce(0, +))
                        for v in 0..<V { XCTAssertEqual(Double(lp[r * V + v]), Double(z[v]) - lse, accuracy: 2e-4, "\(m) \(arch) t=\(t)") }
                    }
                    if t == 1 { session.reorder([1, 0]); session.reorder([1, 0]) }
                }
                // Expand row 0 into 3 beams: every beam sees row 0's history.
                let s2 = try model.makeDecoderSession(source: arch == .decoderOnly ? [] : b.source, batchSize: B, sourceLength: arch == .decoderOnly ? 0 : S)
                _ = try s2.step(lastTokens: [b.prevOutput[0], b.prevOutput[T]])
                s2.reorder([0, 0, 0])
                XCTAssertEqual(s2.rows, 3)
                let lp = try s2.step(lastTokens: [b.prevOutput[1], b.prevOutput[1], b.prevOutput[1]])
                let z = Array(full[(1 * V)..<(2 * V)])
                let lse = log(z.map { exp(Double($0)) }.reduce(0, +))
                for r in 0..<3 { XCTAssertEqual(Double(lp[r * V + 2]), Double(z[2]) - lse, accuracy: 2e-4) }
            }
        }
    }

    func testScheduleAndOptimizers() {
        let o = OptimizerConfig(lr: 1e-3, warmupUpdates: 4, warmupInitLR: 1e-7)
        XCTAssertEqual(o.learningRate(afterUpdates: 0), 1e-7, accuracy: 1e-15)
        XCTAssertEqual(o.learningRate(afterUpdates: 2), 1e-7 + 2 * (1e-3 - 1e-7) / 4, accuracy: 1e-15)
        XCTAssertEqual(o.learningRate(afterUpdates: 4), 1e-3, accuracy: 1e-15)
        XCTAssertEqual(o.learningRate(afterUpdates: 16), 1e-3 * 0.5, accuracy: 1e-15)
    }

    func testEveryOptimizerTrains() throws {
        for kind in OptimizerKind.allCases {
            let c = tinyConfig("pre-ln", .decoderOnly)
            let model = try TransformerModel(config: c, seed: 2)
            let opt = OptimizerConfig(kind: kind, lr: kind == .sgd ? 0.5 : 3e-3, weightDecay: 0.01, momentum: 0.9, warmupUpdates: 0, clipNorm: 0.5, schedule: .constant)
            let t = Trainer(model: model, optimizer: opt, seed: 1)
            let batch = randomBatch(c, batch: 3, source: 0, target: 6, seed: 2)
            let s1 = try t.step(batch)
            XCTAssert(s1.gradNorm > 0)
            var last = s1.loss
            for _ in 0..<30 { last = try t.step(batch).loss }
            XCTAssertLessThan(last, s1.loss, "\(kind)")
        }
    }
}

/// Post-LN-init is `post-ln`'s initialization with the Linear weights of layer l divided by k = L − l + 1
/// (docs/methods.md §4): the top layer is vanilla Post-LN's bit for bit. Every Linear draws from its own stream
/// (seed ^ hash(tensor name)), so the two models' streams are the same whatever the method.
final class PostLNInitTests: XCTestCase {
    func testTopLayerIsPostLNAndLowerLayersAreDividedByK() throws {
        for arch in [Architecture.encoderDecoder, .decoderOnly] {
            var c = ModelConfig()
            c.architecture = arch
            c.encoderLayers = 3; c.decoderLayers = 3
            c.embedDim = 16; c.ffnDim = 24; c.heads = 2; c.vocabSize = 23
            c.method = "post-ln"
            let post = try TransformerModel(config: c, seed: 42)
            c.method = "post-ln-init"
            let initModel = try TransformerModel(config: c, seed: 42)
            var linears = 0
            for e in post.parameters.entries {
                let p = ParameterPlacement.of(e.name)
                let a = try XCTUnwrap(post.parameters.tensor(e.name)), b = try XCTUnwrap(initModel.parameters.tensor(e.name))
                guard let layer = p.layer, p.linearRole != nil, p.leaf == "weight" else {
                    // biases, LayerNorms, embeddings: exactly Post-LN's
                    XCTAssertEqual(a, b, "\(arch) \(e.name) differs from post-ln")
                    continue
                }
                linears += 1
                let k = Double(3 - layer)   // 0-based layer: k = 3, 2, 1
                if k == 1 {
                    XCTAssertEqual(a, b, "\(arch) top layer \(e.name) is not post-ln's init")
                } else {
                    XCTAssertEqual(a.map { Float(Double($0) / k) }, b, "\(arch) \(e.name) is not post-ln's / \(k)")
                    XCTAssertNotEqual(a, b)
                }
            }
            // q, k, v, out (+ cross-attention q, k, v, out in the decoder), fc1, fc2 per layer
            XCTAssertEqual(linears, arch == .encoderDecoder ? 3 * 6 + 3 * 10 : 3 * 6, "\(arch)")
            // biases of the layers are not zero (they are post-ln's PyTorch-default biases)
            let stack = arch == .encoderDecoder ? "encoder" : "decoder"
            XCTAssertTrue(try XCTUnwrap(initModel.parameters.tensor("\(stack).layers.0.ffn.fc1.bias")).contains { $0 != 0 })
        }
    }
}
