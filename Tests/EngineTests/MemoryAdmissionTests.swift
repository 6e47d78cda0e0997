// Admission before allocation: the memory estimate counts exactly the parameters the model would allocate, an
// oversized configuration is refused with the estimate and the memory available WITHOUT allocating it, and a
// checkpoint whose attributes contradict its tensors is rejected before a model is built from them.
import DeepNetEngine
import Foundation
import HDF5Store
import XCTest

final class MemoryAdmissionTests: XCTestCase {
    /// The structural count (one layer enumerated through the method's hooks, times the depth; DLCL's quadratic
    /// history extrapolated) equals the parameters the model really allocates, for every registered method.
    func testParameterCountMatchesTheBuiltModelForEveryMethod() throws {
        let shapes: [ModelConfig] = [
            ModelConfig(architecture: .encoderDecoder, encoderLayers: 3, decoderLayers: 2, embedDim: 16, ffnDim: 24, heads: 4, vocabSize: 50),
            ModelConfig(architecture: .encoderDecoder, encoderLayers: 5, decoderLayers: 4, embedDim: 8, ffnDim: 12, heads: 2, vocabSize: 30,
                        maxPositions: 20, positions: .learned, shareAllEmbeddings: true),
            ModelConfig(architecture: .decoderOnly, encoderLayers: 0, decoderLayers: 4, embedDim: 8, ffnDim: 16, heads: 2, vocabSize: 40,
                        shareDecoderInputOutputEmbed: true),
            ModelConfig(architecture: .encoderOnly, encoderLayers: 3, decoderLayers: 0, embedDim: 8, ffnDim: 16, heads: 2, vocabSize: 40),
        ]
        for method in MethodRegistry.names {
            for var c in shapes {
                c.method = method
                let model = try TransformerModel(config: c, seed: 1)
                let e = try MemoryEstimate.estimate(c, MemoryWorkload())
                XCTAssertEqual(e.parameterCount, Double(model.parameterCount), "\(method) \(c.architecture) \(c.encoderLayers)L-\(c.decoderLayers)L")
            }
        }
    }

    /// The 10000L-10000L d=512 model (~73 billion parameters) is refused by the model's initializer with
    /// the setting, the estimate and the memory available — and nothing of its size is allocated (peak RSS of this
    /// process grows by far less than one layer stack would need).
    func testOversizedModelIsRefusedWithoutAllocating() throws {
        let c = ModelConfig(encoderLayers: 10_000, decoderLayers: 10_000, embedDim: 512, ffnDim: 2048, heads: 8, vocabSize: 1000)
        let before = MemoryBudget.peakRSS() ?? 0
        XCTAssertThrowsError(try TransformerModel(config: c, seed: 1)) { error in
            guard let e = error as? AdmissionError else { return XCTFail("expected AdmissionError, got \(error)") }
            let m = e.description
            for part in ["needs an estimated", "is available", "encoderLayers=10000", "decoderLayers=10000", "parameters", "reduce it"] {
                XCTAssertTrue(m.contains(part), "'\(part)' missing from: \(m)")
            }
            XCTAssertGreaterThan(e.estimate.parameterCount, 7e10)
            XCTAssertGreaterThan(e.estimate.total, e.budget.bytes)
        }
        let after = MemoryBudget.peakRSS() ?? 0
        XCTAssertLessThan(after - before, 200e6, "the refusal allocated \(MemoryEstimate.format(after - before))")
        // The same configuration estimates in microseconds-to-milliseconds at a million layers (no per-layer work).
        var huge = c
        huge.encoderLayers = 1_000_000
        let t0 = Date()
        let e = try MemoryEstimate.estimate(huge, MemoryWorkload(batch: BatchShape(batchSize: 8, sourceLength: 10, targetLength: 10)))
        XCTAssertLessThan(Date().timeIntervalSince(t0), 1)
        XCTAssertGreaterThan(e.total, 1e13)
    }

    /// The terms grow with the setting they name: logits with batch × vocabulary, attention with length², decoding
    /// caches with beam × output length; and the largest term names its settings in the refusal.
    func testEstimateTermsFollowTheirSettings() throws {
        let c = ModelConfig(encoderLayers: 2, decoderLayers: 2, embedDim: 16, ffnDim: 32, heads: 2, vocabSize: 1_000_000)
        let w = MemoryWorkload(batch: BatchShape(batchSize: 100_000, sourceLength: 20, targetLength: 20), optimizerBuffers: 2)
        let e = try MemoryEstimate.estimate(c, w)
        XCTAssertEqual(e.largest.name, "logits")
        XCTAssertEqual(e.terms.first { $0.name == "logits" }!.bytes, 100_000 * 20 * 1_000_000 * 2 * 4 * 1.2, accuracy: 1e6)   // logits + their gradient, float32, allocator slack
        XCTAssertThrowsError(try MemoryAdmission.check("test", c, w, budget: MemoryBudget(bytes: 1e9, source: "test budget"))) { error in
            let m = "\(error)"
            XCTAssertTrue(m.contains("vocabSize=1000000") && m.contains("batch 100000×20") && m.contains("1.0 GB (test budget)"), m)
        }
        let small = ModelConfig(encoderLayers: 2, decoderLayers: 2, embedDim: 16, ffnDim: 32, heads: 2, vocabSize: 100)
        func decode(_ beam: Int, _ out: Int) throws -> Double {
            try MemoryEstimate.estimate(small, MemoryWorkload(decode: DecodeShape(sentences: 32, beam: beam, sourceLength: 30, maxOutputLength: out)))
                .terms.first { $0.name == "decoding" }!.bytes
        }
        XCTAssertGreaterThan(try decode(8, 100), try decode(4, 100) * 1.5)
        XCTAssertGreaterThan(try decode(4, 1000), try decode(4, 100) * 4)
        func attention(_ len: Int) throws -> Double {
            try MemoryEstimate.estimate(small, MemoryWorkload(batch: BatchShape(batchSize: 1, sourceLength: len, targetLength: 2)))
                .terms.first { $0.name == "activations" }!.bytes
        }
        XCTAssertGreaterThan(try attention(2000), try attention(1000) * 3)   // B·heads·S² dominates
    }

    /// The budget is the smallest of MemAvailable, the cgroup limit and DEEPNET_MEMORY_LIMIT, and says which.
    func testBudgetIsTheSmallestLimitAndNamesIt() throws {
        let meminfo = try String(contentsOfFile: "/proc/meminfo", encoding: .utf8)
        let avail = meminfo.split(separator: "\n").first { $0.hasPrefix("MemAvailable:") }!
            .split(separator: " ").dropFirst().first.flatMap { Double($0) }! * 1024
        let b = MemoryBudget.current(environment: [:])
        XCTAssertLessThanOrEqual(b.bytes, avail * 1.05 + 64e6)   // MemAvailable moves a little between the two reads
        let capped = MemoryBudget.current(environment: ["DEEPNET_MEMORY_LIMIT": "64M"])
        XCTAssertEqual(capped.bytes, 64 * 1024 * 1024)
        XCTAssertEqual(capped.source, "DEEPNET_MEMORY_LIMIT=64M")
        XCTAssertEqual(MemoryBudget.parseBytes("2G"), 2 * 1024 * 1024 * 1024)
        XCTAssertEqual(MemoryBudget.parseBytes("1500"), 1500)
        XCTAssertEqual(MemoryBudget.parseBytes("3kb"), 3072)
        XCTAssertNil(MemoryBudget.parseBytes("lots"))
    }

    /// A checkpoint whose attributes claim a million encoder layers (it holds 2) or a 4096-wide embedding (it
    /// holds 16) is rejected naming the attribute, the tensor and what the file holds — before any model is built.
    func testCheckpointAttributesAreCheckedAgainstTensorsBeforeAllocating() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("admission-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let c = ModelConfig(encoderLayers: 2, decoderLayers: 2, embedDim: 16, ffnDim: 32, heads: 4, vocabSize: 40)
        let url = dir.appendingPathComponent("ck.h5")
        try Checkpoint.save(try TransformerModel(config: c, seed: 1), to: url)
        func tampered(_ name: String, _ attrs: [String: HDF5AttributeValue]) throws -> URL {
            let u = dir.appendingPathComponent(name)
            try FileManager.default.copyItem(at: url, to: u)
            let f = try HDF5File.open(u, mode: .readWrite)
            for (k, v) in attrs { try f.setAttribute(k, v) }
            f.close()
            return u
        }
        let deep = try tampered("deep.h5", ["encoder_layers": .int(1_000_000)])
        let before = MemoryBudget.peakRSS() ?? 0
        XCTAssertThrowsError(try Checkpoint.loadModel(from: deep)) { error in
            guard let e = error as? CheckpointError else { return XCTFail("\(error)") }
            XCTAssertEqual(e.kind, .missingTensor)
            XCTAssertEqual(e.tensor, "encoder.layers.2.self_attn.k_proj.weight")
            XCTAssertTrue(e.description.contains("deep.h5") && e.description.contains("encoder_layers is 1000000 but the file holds encoder layers 0…1 only"), e.description)
        }
        XCTAssertLessThan((MemoryBudget.peakRSS() ?? 0) - before, 100e6)
        let wide = try tampered("wide.h5", ["embed_dim": .int(4096)])
        XCTAssertThrowsError(try Checkpoint.loadModel(from: wide)) { error in
            guard let e = error as? CheckpointError else { return XCTFail("\(error)") }
            XCTAssertEqual(e.kind, .shapeMismatch)
            XCTAssertTrue(e.description.contains("tensor 'encoder.embed_tokens.weight' has shape [40, 16], expected [40, 4096] (vocab_size = 40, embed_dim = 4096)"), e.description)
        }
        let ffn = try tampered("ffn.h5", ["ffn_dim": .int(64)])
        XCTAssertThrowsError(try Checkpoint.loadModel(from: ffn)) { error in
            XCTAssertTrue("\(error)".contains("tensor 'encoder.layers.0.ffn.fc1.weight' has shape [32, 16], expected [64, 16]"), "\(error)")
        }
        // The untampered file still loads.
        XCTAssertNoThrow(try Checkpoint.loadModel(from: url))
    }
}
