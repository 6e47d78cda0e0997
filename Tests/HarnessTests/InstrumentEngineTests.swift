// Tests of the instruments on real engine models: directions on the engine's size table, landscape evaluation
// (1 vs 2 workers bit-for-bit, centre = direct forward), the RunInstruments recorder end to end, and HDF5 round trips.
import XCTest
import Foundation
import DeepNetEngine
import DeepNetHarness
import HDF5Store

final class InstrumentEngineTests: XCTestCase {
    static let vocab = 32

    func config(method: String = "post-ln", layers: Int = 2, share: Bool = true) -> ModelConfig {
        ModelConfig(architecture: .encoderDecoder, encoderLayers: layers, decoderLayers: layers, embedDim: 16, ffnDim: 32,
                    heads: 2, vocabSize: Self.vocab, shareAllEmbeddings: share, dropout: 0.1, method: method)
    }

    func batch(seed: UInt64, b: Int = 4, s: Int = 6, t: Int = 6) -> TokenBatch {
        var rng = InstrumentRNG(seed: seed)
        var src = [Int32](repeating: 1, count: b * s), prev = [Int32](repeating: 1, count: b * t), tgt = prev
        for i in 0..<b {
            let len = 2 + rng.nextIndex(s - 2)
            for j in 0..<len { src[i * s + j] = Int32(4 + rng.nextIndex(Self.vocab - 4)) }
            prev[i * t] = 2
            for j in 0..<min(len, t - 1) { tgt[i * t + j] = src[i * s + j]; prev[i * t + j + 1] = src[i * s + j] }
            tgt[i * t + min(len, t - 1)] = 2
        }
        return TokenBatch(batchSize: b, sourceLength: s, targetLength: t, source: src, prevOutput: prev, target: tgt)
    }

    func testDirectionsOnEngineLayout() throws {
        let model = try TransformerModel(config: config(method: "deepnorm"), seed: 3)
        let layout = ParameterLayout(store: model.parameters)
        XCTAssertEqual(layout.totalCount, model.parameters.count)
        let w = model.parameters.values
        let d = FilterNormalizedDirections.random(count: 1, seed: 123, layout: layout, weights: w)[0]
        var checkedRows = 0
        for t in layout.tensors {
            if t.shape.count <= 1 {
                XCTAssertTrue(d[t.offset..<(t.offset + t.count)].allSatisfy { $0 == 0 }, t.name)
                continue
            }
            for r in 0..<t.rows {
                let s = t.offset + r * t.rowLength
                let dn = FilterNormalizedDirections.norm(Array(d[s..<(s + t.rowLength)]))
                let wn = FilterNormalizedDirections.norm(Array(w[s..<(s + t.rowLength)]))
                XCTAssertEqual(dn, wn, accuracy: 1e-5 * max(wn, 1e-3), "\(t.name) row \(r)")
                checkedRows += 1
            }
        }
        XCTAssertGreaterThan(checkedRows, 100)
        // the tied embedding is one tensor (one direction)
        XCTAssertNil(layout.tensor(named: "decoder.embed_tokens.weight"))
        XCTAssertNotNil(layout.tensor(named: "encoder.embed_tokens.weight"))
    }

    func testLandscapeIsDeterministicAcrossWorkersAndCentredOnTheModel() throws {
        let cfg = config()
        let model = try TransformerModel(config: cfg, seed: 5)
        let batches = [batch(seed: 1), batch(seed: 2)]
        let layout = ParameterLayout(store: model.parameters)
        let axis = LandscapeAxis(-1, 1, 7)
        let one = try EngineLandscapeEvaluator.workers(config: cfg, batches: batches, count: 1)
        let two = try EngineLandscapeEvaluator.workers(config: cfg, batches: batches, count: 2)
        let s1 = LossLandscape.liRandomSurface(center: model.parameters.values, layout: layout, seed: 123,
                                               xAxis: axis, yAxis: axis, workers: one)
        let s2 = LossLandscape.withWorkerThreading(workers: 2) {
            LossLandscape.liRandomSurface(center: model.parameters.values, layout: layout, seed: 123, xAxis: axis, yAxis: axis, workers: two)
        }
        XCTAssertEqual(s1.values, s2.values, "1 and 2 workers must give the same surface")
        XCTAssertEqual(s1.values.count, 7); XCTAssertEqual(s1.values[0].count, 7)
        // centre (index 3, 3) = direct eval loss of the model on the same batches
        var sum = 0.0, tok = 0
        for b in batches { let s = try model.forward(b); sum += s.nllLoss * Double(s.tokens); tok += s.tokens }
        XCTAssertEqual(s1.values[3][3], sum / Double(tok), accuracy: 1e-6)
        XCTAssertTrue(s1.values.joined().allSatisfy { $0.isFinite })
        XCTAssertGreaterThan(s1.roughness.lossRange, 0)
        XCTAssertLessThan(abs(s1.axisCosine ?? 1), 0.2)
    }

    func testRunInstrumentsEndToEnd() throws {
        var rc = RunConfig()
        rc.model = config(layers: 2)
        rc.measurements = [.trainLoss, .gradientNormPerLayer, .modelUpdate, .lnInputNorm, .lossLandscape2D, .trajectoryPCA]
        rc.diagnostics.every = 2
        rc.diagnostics.earlySteps = 8
        rc.diagnostics.landscapeResolution = 5
        let model = try TransformerModel(config: rc.model, seed: 2)
        let inst = try XCTUnwrap(RunInstruments.make(config: rc, model: model, probeBatch: batch(seed: 77),
                                                     landscapeBatches: [batch(seed: 78)]))
        let trainer = Trainer(model: model, optimizer: OptimizerConfig(lr: 1e-3, warmupUpdates: 2), seed: 1)
        for k in 1...10 {
            _ = try trainer.step(batch(seed: UInt64(k)))
            try inst.afterStep(k, model: model)
        }
        XCTAssertEqual(inst.series.steps, [0, 2, 4, 6, 8])
        XCTAssertEqual(inst.series.records[0].modelUpdate, 0)
        XCTAssertEqual(inst.series.bounds[0]?.total, 0)
        XCTAssertGreaterThan(inst.series.bounds[4]!.total, 0)
        let d = try inst.finish(model: model)
        let gn = try XCTUnwrap(d[MeasurementKind.gradientNormPerLayer.rawValue])
        XCTAssertEqual(gn.first { $0.name == "decoder.encoder_attn" }?.shape, [5, 2])
        let mu = try XCTUnwrap(d[MeasurementKind.modelUpdate.rawValue])
        XCTAssertEqual(mu.first { $0.name == "delta_f" }?.values.first, 0)
        // the update before the last LayerNorm: its own array beside delta_f, same steps, read by the summaries
        let pre = try XCTUnwrap(mu.first { $0.name == "delta_f_pre_ln" })
        XCTAssertEqual(pre.shape, [5]); XCTAssertEqual(pre.values.first, 0)
        XCTAssertTrue(pre.values.allSatisfy { $0.isFinite })
        XCTAssertEqual(pre.values, inst.series.records.map { $0.decoder!.preLNOutputUpdate! })
        XCTAssertNotNil(mu.first { $0.name == "encoder.delta_f_pre_ln_frobenius" })
        let rec = RunRecord(runID: "x", config: rc, dataFingerprint: "", engineNumericsVersion: "", status: .ok, diagnostics: d)
        XCTAssertEqual(InstrumentSummaries.modelUpdatePreLN(rec), pre.values)
        XCTAssertEqual(InstrumentSummaries.firstModelUpdatePreLN(rec), pre.values[1])
        XCTAssertGreaterThan(InstrumentSummaries.firstModelUpdatePreLN(rec)!, 0)
        XCTAssertEqual(InstrumentSummaries.modelUpdate(rec), mu.first { $0.name == "delta_f" }!.values)
        // F_pre(x, θ_0) is saved with the measurement state, so a resumed run keeps measuring it
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("instr-state-\(UUID().uuidString).h5")
        defer { try? FileManager.default.removeItem(at: url) }
        let f = try HDF5File.create(url)
        try inst.save(into: f, group: "/instruments")
        f.close()
        let g = try HDF5File.open(url)
        let saved = try RunInstruments.load(from: g, group: "/instruments")
        g.close()
        XCTAssertEqual(saved.initialPreLNOutputs, try XCTUnwrap(inst.probes).initialPreLNOutputs)
        XCTAssertEqual(Set(saved.initialPreLNOutputs.keys), [.encoder, .decoder])
        XCTAssertEqual(mu.first { $0.name == "bound.terms" }?.shape, [5, 2 * 2 + 3 * 2])
        let ln = try XCTUnwrap(d[MeasurementKind.lnInputNorm.rawValue])
        XCTAssertEqual(ln.first { $0.name == "encoder" }?.shape, [5, 4])
        let land = try XCTUnwrap(d[MeasurementKind.lossLandscape2D.rawValue])
        let li = try XCTUnwrap(InstrumentDiagnostics.surface(from: land, tag: "li"))
        XCTAssertEqual(li.values.count, 5)
        XCTAssertEqual(li.directionSeed, 123)
        let pca = try XCTUnwrap(InstrumentDiagnostics.surface(from: land, tag: "pca"))
        XCTAssertEqual(pca.trajectory.count, 6)              // steps 0,2,4,6,8 and the final step 10
        XCTAssertEqual(pca.trajectorySteps.last, 10)
        XCTAssertEqual(pca.trajectory.last![0], 0, accuracy: 1e-9)
        let tp = try XCTUnwrap(d[MeasurementKind.trajectoryPCA.rawValue])
        XCTAssertEqual(tp.first { $0.name == "coordinates" }?.shape, [6, 2])
        // zero cost when no instrument is requested
        var plain = rc; plain.measurements = [.trainLoss, .validLoss]
        XCTAssertNil(try RunInstruments.make(config: plain, model: model, probeBatch: batch(seed: 1), landscapeBatches: []))
    }

    func testHDF5RoundTrips() throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("instr-\(UUID().uuidString).h5")
        defer { try? FileManager.default.removeItem(at: url) }
        let ax = LandscapeAxis(-1, 1, 5)
        let ev = ClosureLandscapeEvaluator { t in Double(t[0] * t[0] + 2 * t[1] * t[1]) }
        var s = LossLandscape.surface(center: [0.1, 0.2, 0.3], x: [1, 0, 0], y: [0, 1, 0], xAxis: ax, yAxis: ax, workers: [ev],
                                      protocolName: .liRandomFilterNormalized, seed: 9)
        s.trajectory = [[0.5, 0.25], [0, 0]]; s.trajectorySteps = [0, 4]; s.trajectoryLoss = [1, 2]
        let fit = try ScalingLaw.fit(depths: [12, 24, 48, 200, 1000], values: [24.5, 26.2, 27.7, 31.1, 32.1], bootstrapSamples: 200, seed: 4)
        let pca = TrajectoryPCA.fit(checkpoints: [[1, 0, 0], [0, 2, 0], [0, 0, 3]], final: [0, 0, 0])
        let f = try HDF5File.create(url)
        try s.write(to: f, group: "/landscape/li")
        try fit.write(to: f, group: "/fit", depths: [12, 24, 48, 200, 1000], values: [24.5, 26.2, 27.7, 31.1, 32.1], metric: "BLEU")
        try pca.write(to: f, group: "/pca", steps: [0, 1, 2])
        f.close()
        let g = try HDF5File.open(url)
        defer { g.close() }
        let s2 = try XCTUnwrap(LossSurface.read(from: g, group: "/landscape/li"))
        XCTAssertEqual(s2.values, s.values); XCTAssertEqual(s2.xAxis, s.xAxis); XCTAssertEqual(s2.yAxis, s.yAxis)
        XCTAssertEqual(s2.directionSeed, 9); XCTAssertEqual(s2.trajectory, s.trajectory); XCTAssertEqual(s2.trajectorySteps, [0, 4])
        XCTAssertEqual(s2.roughness, s.roughness)
        XCTAssertEqual(try ScalingLawFit.read(from: g, group: "/fit"), fit)
        let (p2, steps) = try TrajectoryPCAResult.read(from: g, group: "/pca")
        XCTAssertEqual(steps, [0, 1, 2]); XCTAssertEqual(p2.coordinates, pca.coordinates); XCTAssertEqual(p2.directions, pca.directions)
    }
}
