// Tests of the training-dynamics probes (TrainingProbes): ‖ΔF‖ at step 0 and against a direct recomputation,
// probes on/off give the bit-identical training trajectory, gradient norms add up, LayerNorm inputs are found,
// and a ProbeRecord round-trips through HDF5. Public API only.
import XCTest
import Foundation
import DeepNetEngine
import HDF5Store

final class ProbeTests: XCTestCase {
    static let vocab = 40

    func config(method: String = "post-ln", layers: Int = 3) -> ModelConfig {
        ModelConfig(architecture: .encoderDecoder, encoderLayers: layers, decoderLayers: layers, embedDim: 16, ffnDim: 32,
                    heads: 2, vocabSize: Self.vocab, dropout: 0.1, attentionDropout: 0.1, activationDropout: 0.0,
                    labelSmoothing: 0.1, method: method)
    }

    /// A deterministic toy translation batch: target = reversed source (mod vocab), right-padded.
    func batch(seed: UInt64, b: Int = 4, s: Int = 7, t: Int = 6) -> TokenBatch {
        var rng = SplitMix64(seed: seed)
        var src = [Int32](repeating: 1, count: b * s), prev = [Int32](repeating: 1, count: b * t), tgt = prev
        for i in 0..<b {
            let len = 3 + Int(rng.next() % UInt64(s - 3))
            let toks = (0..<len).map { _ in Int32(4 + Int(rng.next() % UInt64(Self.vocab - 4))) }
            for j in 0..<len { src[i * s + j] = toks[j] }
            let out = Array(toks.reversed().prefix(t - 1))
            prev[i * t] = 2
            for j in 0..<out.count { prev[i * t + j + 1] = out[j]; tgt[i * t + j] = out[j] }
            tgt[i * t + out.count] = 2
        }
        return TokenBatch(batchSize: b, sourceLength: s, targetLength: t, source: src, prevOutput: prev, target: tgt)
    }

    func optimizer() -> OptimizerConfig {
        OptimizerConfig(kind: .adam, lr: 2e-3, warmupUpdates: 4, warmupInitLR: 1e-4, clipNorm: 0)
    }

    func testModelUpdateIsZeroAtStepZeroAndMatchesDirectRecomputation() throws {
        let cfg = config()
        let model = try TransformerModel(config: cfg, seed: 11)
        let probe = batch(seed: 999, b: 3, s: 9, t: 8)   // a different shape from the training batches on purpose
        let probes = try TrainingProbes(model: model, probeBatch: probe, options: ProbeOptions(every: 1))
        let r0 = try probes.record(step: 0, model: model)
        XCTAssertEqual(r0.modelUpdate, 0)
        XCTAssertEqual(r0.encoder?.outputUpdate, 0)
        XCTAssertEqual(r0.parameterDistance, 0)
        let theta0 = model.parameters.values
        let trainer = Trainer(model: model, optimizer: optimizer(), seed: 5)
        for k in 0..<6 { _ = try trainer.step(batch(seed: UInt64(k))) }
        let r = try probes.record(step: 6, model: model)
        XCTAssertEqual(r.step, 6)
        let m = try XCTUnwrap(r.modelUpdate)
        XCTAssertGreaterThan(m, 0)
        // Direct recomputation on two fresh models holding θ_0 and θ_6.
        let fresh0 = try TransformerModel(config: cfg, seed: 77), fresh6 = try TransformerModel(config: cfg, seed: 78)
        fresh0.parameters.values = theta0
        fresh6.parameters.values = model.parameters.values
        let h0 = try fresh0.probeFinalHiddenStates(probe), h6 = try fresh6.probeFinalHiddenStates(probe)
        for kind in [StackKind.encoder, .decoder] {
            let a = h0[kind]!, b = h6[kind]!
            XCTAssertEqual(a.pad, b.pad)
            var sum = 0.0, sq = 0.0, n = 0
            for row in 0..<a.pad.count where a.pad[row] == 0 {
                var s = 0.0
                for j in 0..<cfg.embedDim { let x = Double(b.hidden[row * 16 + j]) - Double(a.hidden[row * 16 + j]); s += x * x }
                sum += s.squareRoot(); sq += s; n += 1
            }
            XCTAssertGreaterThan(n, 0)
            let st = kind == .encoder ? r.encoder! : r.decoder!
            XCTAssertEqual(st.outputUpdate!, sum / Double(n), accuracy: 1e-9 * max(1, sum))
            XCTAssertEqual(st.outputUpdateFrobenius!, sq.squareRoot(), accuracy: 1e-9 * max(1, sq))
        }
        XCTAssertEqual(m, r.decoder!.outputUpdate!)
        var dist = 0.0
        for i in 0..<theta0.count { let x = Double(model.parameters.values[i]) - Double(theta0[i]); dist += x * x }
        XCTAssertEqual(r.parameterDistance!, dist.squareRoot(), accuracy: 1e-9 * dist.squareRoot())
        XCTAssertEqual(probes.initialParameters, theta0)
    }

    /// The decoder hidden states are what the output projection reads: hidden · Eᵀ reproduces the logits.
    func testFinalHiddenStatesFeedTheOutputProjection() throws {
        let cfg = config(layers: 2)
        let model = try TransformerModel(config: cfg, seed: 3)
        let b = batch(seed: 1)
        let h = try model.probeFinalHiddenStates(b)[.decoder]!.hidden
        let logits = model.logits()
        let e = model.parameters.tensor("decoder.output_projection.weight")!
        let d = cfg.embedDim, V = cfg.vocabSize
        for r in [0, 5, b.batchSize * b.targetLength - 1] {
            for v in [0, 7, V - 1] {
                var s = 0.0
                for j in 0..<d { s += Double(h[r * d + j]) * Double(e[v * d + j]) }
                XCTAssertEqual(Double(logits[r * V + v]), s, accuracy: 1e-4)
            }
        }
    }

    /// Identical loss curve and final parameters with probes recording every step and without probes.
    func testProbesDoNotChangeTraining() throws {
        for method in ["post-ln", "deepnorm", "pre-ln"] {
            let cfg = config(method: method)
            func train(withProbes: Bool) throws -> ([Double], [Double], [Float]) {
                let model = try TransformerModel(config: cfg, seed: 21)
                let probes = withProbes ? try TrainingProbes(model: model, probeBatch: batch(seed: 500, b: 2, s: 11, t: 10),
                                                              options: ProbeOptions(every: 1)) : nil
                let trainer = Trainer(model: model, optimizer: optimizer(), seed: 9)
                var losses: [Double] = [], norms: [Double] = []
                if let probes { _ = try probes.record(step: 0, model: model) }
                for k in 1...8 {
                    let st = try trainer.step(batch(seed: UInt64(100 + k)))
                    losses.append(st.loss); norms.append(st.gradNorm)
                    if let probes, probes.shouldRecord(step: k) { _ = try probes.record(step: k, model: model) }
                }
                return (losses, norms, model.parameters.values)
            }
            let off = try train(withProbes: false), on = try train(withProbes: true)
            XCTAssertEqual(off.0, on.0, "\(method): loss curve differs with probes on")
            XCTAssertEqual(off.1, on.1, "\(method): grad norms differ with probes on")
            XCTAssertTrue(off.2 == on.2, "\(method): final parameters differ with probes on")
        }
    }

    func testGradientNormsAddUpAndLayerNormsAreFound() throws {
        let cfg = config(layers: 3)
        let model = try TransformerModel(config: cfg, seed: 4)
        let probes = try TrainingProbes(model: model, probeBatch: batch(seed: 7), options: ProbeOptions(every: 2, earlySteps: 4))
        let trainer = Trainer(model: model, optimizer: optimizer(), seed: 1)
        let st = try trainer.step(batch(seed: 8))
        let r = try probes.record(step: 1, model: model)
        XCTAssertEqual(r.totalGradNorm, st.gradNorm, accuracy: 1e-5 * st.gradNorm)
        let enc = try XCTUnwrap(r.encoder), dec = try XCTUnwrap(r.decoder)
        XCTAssertEqual(enc.layerGradNorm.count, 3); XCTAssertEqual(dec.layerGradNorm.count, 3)
        XCTAssertEqual(Set(enc.sublayerGradNorm.keys), ["self_attn", "ffn"])
        XCTAssertEqual(Set(dec.sublayerGradNorm.keys), ["self_attn", "encoder_attn", "ffn"])
        // per layer: branches + LayerNorms = layer total (Post-LN has no other per-layer tensors)
        var lnSq = [Double](repeating: 0, count: 3)
        for e in model.parameters.entries where e.name.hasPrefix("decoder.layers.") && e.name.contains("layer_norm") {
            let l = Int(e.name.split(separator: ".")[2])!
            for i in e.offset..<(e.offset + e.count) { lnSq[l] += Double(model.gradients[i]) * Double(model.gradients[i]) }
        }
        for l in 0..<3 {
            let branches = ["self_attn", "encoder_attn", "ffn"].reduce(0.0) { $0 + pow(dec.sublayerGradNorm[$1]![l], 2) }
            XCTAssertEqual(pow(dec.layerGradNorm[l], 2), branches + lnSq[l], accuracy: 1e-9 * max(1, branches))
            XCTAssertGreaterThan(dec.layerGradNorm[l], 0)
        }
        // Post-LN: one LN per sublayer, forward order
        XCTAssertEqual(enc.lnNames.count, 2 * 3)
        XCTAssertEqual(dec.lnNames.count, 3 * 3)
        XCTAssertEqual(enc.lnNames.first, "encoder.layers.0.self_attn_layer_norm")
        XCTAssertEqual(dec.lnNames[1], "decoder.layers.0.encoder_attn_layer_norm")
        XCTAssertEqual(dec.lnNames.last, "decoder.layers.2.final_layer_norm")
        XCTAssertTrue(enc.lnInputNorm.allSatisfy { $0.isFinite && $0 > 0 })
        XCTAssertNotNil(enc.meanLNInputNorm)
        // schedule
        XCTAssertTrue(probes.shouldRecord(step: 0)); XCTAssertFalse(probes.shouldRecord(step: 1))
        XCTAssertTrue(probes.shouldRecord(step: 4)); XCTAssertFalse(probes.shouldRecord(step: 6))
    }

    func testPreLNHasFinalLayerNormAndDeepNormAlpha() throws {
        let pre = try TransformerModel(config: config(method: "pre-ln", layers: 2), seed: 1)
        let p = try TrainingProbes(model: pre, probeBatch: batch(seed: 3), options: ProbeOptions(gradientNorms: false, modelUpdate: false))
        let r = try p.record(step: 0, model: pre)
        XCTAssertEqual(r.encoder!.lnNames.last, "encoder.layer_norm")
        XCTAssertEqual(r.encoder!.lnNames.count, 2 * 2 + 1)
        XCTAssertNil(r.modelUpdate)
        XCTAssertEqual(pre.residualAlphas[.encoder], 1)
        let deep = try TransformerModel(config: config(method: "deepnorm", layers: 2), seed: 1)
        XCTAssertEqual(deep.residualAlphas[.decoder]!, pow(6.0, 0.25), accuracy: 1e-9)
    }

    func testRecordRoundTripsThroughHDF5() throws {
        let model = try TransformerModel(config: config(layers: 2), seed: 2)
        let probes = try TrainingProbes(model: model, probeBatch: batch(seed: 3))
        let trainer = Trainer(model: model, optimizer: optimizer(), seed: 1)
        _ = try trainer.step(batch(seed: 4))
        let r = try probes.record(step: 1, model: model)
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("probe-\(UUID().uuidString).h5")
        defer { try? FileManager.default.removeItem(at: url) }
        let f = try HDF5File.create(url)
        try r.write(to: f, group: "/probes/step_1")
        f.close()
        let g = try HDF5File.open(url)
        let back = try ProbeRecord.read(from: g, group: "/probes/step_1")
        g.close()
        XCTAssertEqual(back, r)
    }

    // MARK: - model update before the last LayerNorm

    /// Per non-pad row: mean of ‖b_r − a_r‖₂ and the Frobenius norm (the probes' normalisation).
    func updateNorms(_ a: [Float], _ b: [Float], pad: [UInt8], d: Int) -> (mean: Double, frobenius: Double, rows: Int) {
        var sum = 0.0, sq = 0.0, n = 0
        for row in 0..<pad.count where pad[row] == 0 {
            var s = 0.0
            for j in 0..<d { let x = Double(b[row * d + j]) - Double(a[row * d + j]); s += x * x }
            sum += s.squareRoot(); sq += s; n += 1
        }
        return (n > 0 ? sum / Double(n) : 0, sq.squareRoot(), n)
    }

    /// F_pre is the input of the last LayerNorm: LN(F_pre) with that LayerNorm's (trained) gain and bias is F, and
    /// the recorded pre-LN update equals a direct recomputation on fresh models holding θ_0 and θ_6.
    func testPreLNModelUpdateIsTheInputOfTheLastLayerNorm() throws {
        let cases: [(method: String, lastLN: String)] = [
            ("pre-ln", "decoder.layer_norm"), ("post-ln", "decoder.layers.2.final_layer_norm"),
            ("deepnorm", "decoder.layers.2.final_layer_norm"), ("post-ln-init", "decoder.layers.2.final_layer_norm"),
            ("admin", "decoder.layers.2.final_layer_norm"), ("dlcl", "decoder.layer_norm"), ("sub-ln", "decoder.layer_norm"),
        ]
        for (method, lastLN) in cases {
            let cfg = config(method: method, layers: 3)
            let d = cfg.embedDim
            let model = try TransformerModel(config: cfg, seed: 11)
            let probe = batch(seed: 999, b: 3, s: 9, t: 8)
            let trainer = Trainer(model: model, optimizer: optimizer(), seed: 5)
            _ = try trainer.step(batch(seed: 50))   // Admin profiles on its first training batch
            let probes = try TrainingProbes(model: model, probeBatch: probe, options: ProbeOptions(every: 1))
            let r0 = try probes.record(step: 1, model: model)
            XCTAssertEqual(r0.modelUpdatePreLN, 0, method)
            let theta0 = model.parameters.values
            for k in 0..<6 { _ = try trainer.step(batch(seed: UInt64(k))) }
            let r = try probes.record(step: 7, model: model)
            let fresh0 = try TransformerModel(config: cfg, seed: 77), fresh6 = try TransformerModel(config: cfg, seed: 78)
            fresh0.parameters.values = theta0
            fresh6.parameters.values = model.parameters.values
            let pre0 = try fresh0.probePreNormHiddenStates(probe)[.decoder]!
            let pre6 = try fresh6.probePreNormHiddenStates(probe)[.decoder]!
            let f6 = try fresh6.probeFinalHiddenStates(probe)[.decoder]!
            XCTAssertEqual(pre0.pad, f6.pad)
            // F = LN(F_pre), LayerNorm ε = 1e-5 with biased variance, the trained gain and bias of `lastLN`
            let gamma = try XCTUnwrap(fresh6.parameters.tensor(lastLN + ".weight"), method)
            let beta = try XCTUnwrap(fresh6.parameters.tensor(lastLN + ".bias"), method)
            XCTAssertTrue(gamma.contains { $0 != 1 }, "\(method): \(lastLN) has not trained")
            var worst = 0.0
            for row in 0..<f6.pad.count {
                let x = (0..<d).map { Double(pre6.hidden[row * d + $0]) }
                let mu = x.reduce(0, +) / Double(d)
                let varr = x.reduce(0) { $0 + ($1 - mu) * ($1 - mu) } / Double(d)
                for j in 0..<d {
                    let y = Double(gamma[j]) * (x[j] - mu) / (varr + 1e-5).squareRoot() + Double(beta[j])
                    worst = max(worst, abs(y - Double(f6.hidden[row * d + j])))
                }
            }
            XCTAssertLessThan(worst, 1e-4, "\(method): LN(F_pre) is not F")
            let u = updateNorms(pre0.hidden, pre6.hidden, pad: pre0.pad, d: d)
            let dec = try XCTUnwrap(r.decoder)
            XCTAssertEqual(try XCTUnwrap(r.modelUpdatePreLN, method), dec.preLNOutputUpdate!)
            XCTAssertEqual(dec.preLNOutputUpdate!, u.mean, accuracy: 1e-9 * max(1, u.mean), method)
            XCTAssertEqual(dec.preLNOutputUpdateFrobenius!, u.frobenius, accuracy: 1e-9 * max(1, u.frobenius), method)
            XCTAssertGreaterThan(u.mean, 0, method)
            XCTAssertNotEqual(dec.preLNOutputUpdate, dec.outputUpdate, "\(method): the pre-LN update is the post-LN one")
        }
    }

    /// Post-LN: F is a LayerNorm output (gain 1, bias 0 at init), so ‖F_t‖ ≤ √d and ‖ΔF‖ ≤ 2√(d·tokens) whatever θ
    /// does; F_pre is not bounded. A top-layer FFN blown up ×1000 shows both.
    func testPostLNPreLNUpdateIsNotBoundedByTheLayerNorm() throws {
        let cfg = config(method: "post-ln", layers: 3)
        let d = Double(cfg.embedDim)
        let model = try TransformerModel(config: cfg, seed: 12)
        let probe = batch(seed: 998)
        let probes = try TrainingProbes(model: model, probeBatch: probe, options: ProbeOptions(gradientNorms: false, every: 1))
        for name in ["decoder.layers.2.ffn.fc2.weight", "decoder.layers.2.ffn.fc2.bias"] {
            let blownUp = model.parameters.tensor(name)!.map { $0 * 1000 }
            try model.parameters.setTensor(name, blownUp)
        }
        let r = try probes.record(step: 1, model: model)
        let dec = try XCTUnwrap(r.decoder)
        let tokens = Double(try model.probeFinalHiddenStates(probe)[.decoder]!.pad.filter { $0 == 0 }.count)
        XCTAssertLessThanOrEqual(dec.outputUpdate!, 2 * d.squareRoot() * (1 + 1e-6))
        XCTAssertLessThanOrEqual(dec.outputUpdateFrobenius!, 2 * (d * tokens).squareRoot() * (1 + 1e-6))
        XCTAssertGreaterThan(dec.preLNOutputUpdate!, 10 * 2 * d.squareRoot())
        XCTAssertGreaterThan(dec.preLNOutputUpdateFrobenius!, 10 * 2 * (d * tokens).squareRoot())
        XCTAssertEqual(r.modelUpdatePreLN, dec.preLNOutputUpdate)
    }

    /// Without a LayerNorm on the output path F_pre is F: the two updates are the same numbers, bit for bit.
    func testPreLNModelUpdateEqualsModelUpdateWithoutLayerNorm() throws {
        for method in ["rezero", "t-fixup", "r-fixup"] {
            let cfg = config(method: method, layers: 2)
            let model = try TransformerModel(config: cfg, seed: 13)
            let probes = try TrainingProbes(model: model, probeBatch: batch(seed: 997), options: ProbeOptions(gradientNorms: false, every: 1))
            let trainer = Trainer(model: model, optimizer: optimizer(), seed: 2)
            for k in 0..<4 { _ = try trainer.step(batch(seed: UInt64(200 + k))) }
            let r = try probes.record(step: 4, model: model)
            XCTAssertGreaterThan(try XCTUnwrap(r.modelUpdate, method), 0, method)
            XCTAssertEqual(r.modelUpdatePreLN, r.modelUpdate, method)
            for st in [r.encoder!, r.decoder!] {
                XCTAssertEqual(st.preLNOutputUpdate, st.outputUpdate, "\(method) \(st.stack)")
                XCTAssertEqual(st.preLNOutputUpdateFrobenius, st.outputUpdateFrobenius, "\(method) \(st.stack)")
            }
        }
    }
}
