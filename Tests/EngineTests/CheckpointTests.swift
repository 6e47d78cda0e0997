// Checkpoint save/load tests (public API only).
import DeepNetEngine
import Foundation
import HDF5Store
import XCTest

final class CheckpointTests: XCTestCase {
    var dir: URL!
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")

    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("ckpt-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    static func smallConfig(method: String = "pre-ln", shareAll: Bool = true) -> ModelConfig {
        ModelConfig(encoderLayers: 2, decoderLayers: 2, embedDim: 16, ffnDim: 32, heads: 2, vocabSize: 30,
                    maxPositions: 16, positions: .learned, shareAllEmbeddings: shareAll, labelSmoothing: 0.1, method: method)
    }

    private func expectCheckpointError(_ kind: CheckpointError.Kind, _ contains: [String], file: StaticString = #filePath,
                                       line: UInt = #line, _ body: () throws -> Void) {
        do {
            try body()
            XCTFail("expected CheckpointError.\(kind)", file: file, line: line)
        } catch let e as CheckpointError {
            XCTAssertEqual(e.kind, kind, "\(e)", file: file, line: line)
            for s in contains { XCTAssertTrue(e.description.contains(s), "'\(e)' should contain '\(s)'", file: file, line: line) }
        } catch {
            XCTFail("expected CheckpointError, got \(error)", file: file, line: line)
        }
    }

    func testSaveLoadRoundTripWithOptimizerAndStep() throws {
        let config = Self.smallConfig()
        let a = try TransformerModel(config: config, seed: 1)
        let url = dir.appendingPathComponent("model.h5")
        let n = a.parameters.count
        let opt = OptimizerState(name: "adam", step: 17, scalars: ["lr": 5e-4, "beta2": 0.98],
                                 buffers: ["exp_avg": (0..<n).map { Float($0) * 1e-3 }, "exp_avg_sq": [Float](repeating: 0.25, count: n)])
        try Checkpoint.save(a, to: url, step: 17, optimizer: opt, attributes: ["git_commit": .string("abc123")])

        let f = try HDF5File.open(url)
        let (read, from) = try Checkpoint.readConfig(f)
        XCTAssertEqual(read, config)
        XCTAssertTrue(from.isSuperset(of: ["method", "encoder_layers", "share_all_embeddings", "label_smoothing"]))
        XCTAssertEqual(try f.stringAttribute("format"), "deepnet-checkpoint")
        XCTAssertEqual(try f.stringAttribute("git_commit"), "abc123")
        XCTAssertEqual(try f.intAttribute("encoder_layers"), 2)
        XCTAssertEqual(try f.stringAttribute("method"), "pre-ln")
        // config_json uses the same snake_case names as the attributes (ModelConfig.CodingKeys), every one of them.
        let json = try XCTUnwrap(try f.stringAttribute("config_json"))
        let keys = Set(try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any]).keys)
        XCTAssertEqual(keys, Set(Checkpoint.attributeValues(config).map(\.0)))
        XCTAssertTrue(keys.contains("encoder_layers") && !keys.contains("encoderLayers"), json)
        // torch shape convention and state_dict names, tied keys readable as datasets.
        XCTAssertEqual(try f.shape(of: "encoder.layers.0.ffn.fc1.weight"), [32, 16])
        XCTAssertEqual(try f.shape(of: "decoder.layers.1.encoder_attn.v_proj.weight"), [16, 16])
        XCTAssertEqual(try f.readFloats(at: "decoder.output_projection.weight").values,
                       try f.readFloats(at: "encoder.embed_tokens.weight").values)
        XCTAssertEqual(try f.dataType(of: "encoder.layer_norm.weight"), "float32")
        f.close()

        let b = try TransformerModel(config: config, seed: 99)
        XCTAssertNotEqual(a.parameters.values, b.parameters.values)
        let contents = try Checkpoint.load(into: b, from: url)
        XCTAssertEqual(a.parameters.values, b.parameters.values)
        XCTAssertEqual(contents.step, 17)
        XCTAssertEqual(contents.optimizer, opt)
        XCTAssertEqual(contents.tensorsLoaded, a.parameters.entries.count)

        let (c, _) = try Checkpoint.loadModel(from: url)
        XCTAssertEqual(c.config, config)
        XCTAssertEqual(c.parameters.values, a.parameters.values)
    }

    func testSaveIsAtomicAndLoadableByH5dump() throws {
        let model = try TransformerModel(config: Self.smallConfig(method: "deepnorm"), seed: 3)
        let url = dir.appendingPathComponent("ck.h5")
        try Checkpoint.save(model, to: url)
        // A failing save (optimizer buffer of the wrong size) leaves the old checkpoint intact and no temp files.
        let bad = OptimizerState(name: "adam", step: 1, buffers: ["exp_avg": [1, 2, 3]])
        XCTAssertThrowsError(try Checkpoint.save(model, to: url, step: 5, optimizer: bad))
        let f = try HDF5File.open(url)
        XCTAssertNil(try f.intAttribute("step"))
        f.close()
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.path), ["ck.h5"])
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/h5dump") else { return }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/h5dump")
        p.arguments = ["-H", url.path]
        let pipe = Pipe()
        p.standardOutput = pipe
        try p.run()
        let out = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        XCTAssertEqual(p.terminationStatus, 0)
        XCTAssertTrue(out.contains("DATASET \"decoder.output_projection.weight\""))
        XCTAssertTrue(out.contains("ATTRIBUTE \"method\""))
    }

    /// The reference case: a torchscale state_dict written by h5py (all keys at the root, tied keys as copies).
    func testLoadsTorchscaleStateDictWrittenByH5py() throws {
        let url = Self.fixtures.appendingPathComponent("golden_post-ln.h5")
        let (model, contents) = try Checkpoint.loadModel(from: url)
        XCTAssertEqual(model.config.method, "post-ln")
        XCTAssertEqual(model.config.encoderLayers, 6)
        XCTAssertEqual(model.config.positions, .learned)
        XCTAssertTrue(contents.configFieldsFromFile.contains("embed_dim"))
        let f = try HDF5File.open(url)
        defer { f.close() }
        XCTAssertEqual(model.parameters.tensor("encoder.layers.3.ffn.fc2.weight"), try f.readFloats(at: "encoder.layers.3.ffn.fc2.weight").values)
        XCTAssertEqual(model.parameters.tensor("decoder.output_projection.weight"), try f.readFloats(at: "decoder.output_projection.weight").values)
    }

    /// A bare state_dict without our attributes: settings come from the caller (flags).
    func testBareStateDictUsesFallbackConfigAndReportsShapeErrors() throws {
        let src = try HDF5File.open(Self.fixtures.appendingPathComponent("golden_pre-ln.h5"))
        let bare = dir.appendingPathComponent("bare.h5")
        let nested = dir.appendingPathComponent("nested.h5")
        let g = try HDF5File.create(bare)
        let h = try HDF5File.create(nested)
        for name in try src.children() where src.kind(of: name) == .dataset {
            let (v, s) = try src.readFloats(at: name)
            try g.write(v, shape: s, at: name)
            try h.write(v, shape: s, at: name.replacingOccurrences(of: ".", with: "/"))
        }
        g.close(); h.close(); src.close()

        var flags = ModelConfig(encoderLayers: 6, decoderLayers: 6, embedDim: 16, ffnDim: 32, heads: 4, vocabSize: 48,
                                maxPositions: 16, positions: .learned, shareAllEmbeddings: true, method: "pre-ln")
        let (m1, c1) = try Checkpoint.loadModel(from: bare, fallback: flags)
        XCTAssertTrue(c1.configFieldsFromFile.isEmpty)
        let (m2, _) = try Checkpoint.loadModel(from: nested, fallback: flags)
        XCTAssertEqual(m1.parameters.values, m2.parameters.values)

        flags.ffnDim = 64
        expectCheckpointError(.shapeMismatch, ["bare.h5", "tensor 'encoder.layers.0.ffn.fc1.weight' has shape [32, 16], expected [64, 16]"]) {
            _ = try Checkpoint.loadModel(from: bare, fallback: flags)
        }
        flags.ffnDim = 32
        flags.encoderLayers = 7
        expectCheckpointError(.missingTensor, ["missing tensor 'encoder.layers.6.self_attn.k_proj.weight'", "[16, 16]"]) {
            _ = try Checkpoint.loadModel(from: bare, fallback: flags)
        }
        flags.encoderLayers = 6
        flags.method = "post-ln"   // pre-ln has encoder.layer_norm / decoder.layer_norm that post-ln lacks
        expectCheckpointError(.unexpectedTensors, ["encoder.layer_norm.bias"]) {
            _ = try Checkpoint.loadModel(from: bare, fallback: flags)
        }
        let (_, c3) = try Checkpoint.loadModel(from: bare, fallback: flags, strict: false)
        XCTAssertEqual(Set(c3.ignoredTensors), ["decoder.layer_norm.bias", "decoder.layer_norm.weight", "encoder.layer_norm.bias", "encoder.layer_norm.weight"])
        flags.method = "pre-ln"
        flags.shareAllEmbeddings = false   // untied model needs decoder.embed_tokens as its own tensor: present (copy)
        let (m4, _) = try Checkpoint.loadModel(from: bare, fallback: flags)
        XCTAssertEqual(m4.parameters.tensor("decoder.embed_tokens.weight"), m1.parameters.tensor("encoder.embed_tokens.weight"))
    }

    func testTiedTensorsThatDifferAreAnError() throws {
        let config = Self.smallConfig()
        let model = try TransformerModel(config: config, seed: 5)
        let url = dir.appendingPathComponent("tied.h5")
        try HDF5File.writeAtomically(to: url) { f in
            try Checkpoint.write(config, to: f)
            for e in model.parameters.entries {
                try f.write(model.parameters.tensor(e.name)!, shape: e.shape, at: e.name)
            }
            var other = model.parameters.tensor("encoder.embed_tokens.weight")!
            other[0] += 1
            try f.write(other, shape: [30, 16], at: "decoder.output_projection.weight")
        }
        expectCheckpointError(.tiedMismatch, ["'encoder.embed_tokens.weight' and 'decoder.output_projection.weight' are tied"]) {
            _ = try Checkpoint.loadModel(from: url)
        }
    }

    func testForeignAndMissingFiles() throws {
        let foreign = dir.appendingPathComponent("notes.h5")
        try Data("hello".utf8).write(to: foreign)
        XCTAssertThrowsError(try Checkpoint.loadModel(from: foreign)) { e in
            XCTAssertEqual((e as? HDF5Error)?.kind, .notHDF5, "\(e)")
            XCTAssertTrue("\(e)".contains("notes.h5: not an HDF5 file"), "\(e)")
        }
        XCTAssertThrowsError(try Checkpoint.loadModel(from: dir.appendingPathComponent("nope.h5"))) { e in
            XCTAssertEqual((e as? HDF5Error)?.kind, .fileNotFound, "\(e)")
        }
        // An HDF5 file holding something else entirely.
        let other = dir.appendingPathComponent("other.h5")
        try HDF5File.writeAtomically(to: other) { f in try f.write([Float(1)], shape: [1], at: "x") }
        XCTAssertThrowsError(try Checkpoint.loadModel(from: other, fallback: Self.smallConfig())) { e in
            XCTAssertEqual((e as? CheckpointError)?.kind, .missingTensor, "\(e)")
        }
        // Bad attribute values are named.
        let badAttr = dir.appendingPathComponent("badattr.h5")
        try HDF5File.writeAtomically(to: badAttr) { f in try f.setAttribute("positions", "rotary") }
        expectCheckpointError(.badAttribute, ["attribute 'positions' is 'rotary', expected one of sinusoidal, learned, none"]) {
            _ = try Checkpoint.loadModel(from: badAttr)
        }
    }

    func testResolveConfigFlagsVersusFile() throws {
        let fileConfig = Self.smallConfig(method: "deepnorm")
        let fields = Set(Checkpoint.attributeValues(fileConfig).map { $0.0 })
        var flags = ModelConfig()
        flags.labelSmoothing = 0
        flags.method = "deepnorm"
        // Non-structural flags override; structural flags that agree are fine; absent flags keep the file's value.
        let c = try Checkpoint.resolveConfig(file: (fileConfig, fields), flags: flags, explicitFlags: ["label_smoothing", "method"], fileName: "x.h5")
        XCTAssertEqual(c.labelSmoothing, 0)
        XCTAssertEqual(c.encoderLayers, 2)
        flags.method = "post-ln"
        expectCheckpointError(.configConflict, ["x.h5", "'method'", "post-ln", "deepnorm"]) {
            _ = try Checkpoint.resolveConfig(file: (fileConfig, fields), flags: flags, explicitFlags: ["method"], fileName: "x.h5")
        }
        // Fields missing from the file come from the flags.
        flags.encoderLayers = 9
        let d = try Checkpoint.resolveConfig(file: (fileConfig, fields.subtracting(["encoder_layers"])), flags: flags, explicitFlags: [], fileName: "x.h5")
        XCTAssertEqual(d.encoderLayers, 9)
        XCTAssertEqual(d.method, "deepnorm")
    }

    func testGradientsRoundTripThroughWriteTensors() throws {
        let model = try TransformerModel(config: Self.smallConfig(), seed: 2)
        let url = dir.appendingPathComponent("g.h5")
        let flat = (0..<model.parameters.count).map { Float($0) }
        try HDF5File.writeAtomically(to: url) { f in
            try Checkpoint.writeTensors(flat, layout: model.parameters, to: f, group: "grads", links: false)
        }
        let f = try HDF5File.open(url)
        defer { f.close() }
        var back = [Float](repeating: 0, count: flat.count)
        try Checkpoint.readTensors(into: &back, layout: model.parameters, from: f, group: "grads", strict: true)
        XCTAssertEqual(back, flat)
        XCTAssertFalse(f.exists("grads/decoder.output_projection.weight"))   // tied: owner only
    }

    // MARK: Batch files and forward/backward output (the library half of `deepnet forward-backward`)

    func testBatchFileValidation() throws {
        let config = ModelConfig(encoderLayers: 1, decoderLayers: 1, embedDim: 16, ffnDim: 32, heads: 2, vocabSize: 48,
                                 maxPositions: 4, positions: .learned)
        func batchFile(_ name: String, _ body: (HDF5File) throws -> Void) throws -> HDF5File {
            let url = dir.appendingPathComponent(name)
            try HDF5File.writeAtomically(to: url, body)
            return try HDF5File.open(url)
        }
        let ok = try batchFile("ok.h5") { f in
            try f.write([Int64(5), 6, 2, 7, 2, 1], shape: [2, 3], at: "src_tokens")
            try f.write([Int32(2), 7, 2, 9], shape: [2, 2], at: "prev_output_tokens")
            try f.write([Int32(7), 2, 9, 2], shape: [2, 2], at: "target")
        }
        let b = try BatchFile.read(ok, config: config)
        XCTAssertEqual(b.batchSize, 2); XCTAssertEqual(b.sourceLength, 3); XCTAssertEqual(b.targetLength, 2)
        XCTAssertEqual(b.source, [5, 6, 2, 7, 2, 1])
        ok.close()
        func expectBad(_ name: String, _ msg: String, _ body: (HDF5File) throws -> Void) throws {
            let f = try batchFile(name, body)
            defer { f.close() }
            expectCheckpointError(.badInput, [name, msg]) { _ = try BatchFile.read(f, config: config) }
        }
        try expectBad("range.h5", "target[1, 0] = 48 is outside [0, 48) (vocab_size 48)") { f in
            try f.write([Int64(5), 6, 2, 7, 2, 1], shape: [2, 3], at: "src_tokens")
            try f.write([Int64(2), 7, 2, 9], shape: [2, 2], at: "prev_output_tokens")
            try f.write([Int64(7), 2, 48, 2], shape: [2, 2], at: "target")
        }
        try expectBad("neg.h5", "src_tokens[0, 1] = -3 is outside") { f in
            try f.write([Int64(5), -3, 2], shape: [1, 3], at: "src_tokens")
            try f.write([Int64(2), 7], shape: [1, 2], at: "prev_output_tokens")
            try f.write([Int64(7), 2], shape: [1, 2], at: "target")
        }
        try expectBad("shape.h5", "dataset 'prev_output_tokens' has shape [1, 3], expected [1, 2]") { f in
            try f.write([Int64(5), 6, 2], shape: [1, 3], at: "src_tokens")
            try f.write([Int64(2), 7, 8], shape: [1, 3], at: "prev_output_tokens")
            try f.write([Int64(7), 2], shape: [1, 2], at: "target")
        }
        try expectBad("rows.h5", "dataset 'src_tokens' has 2 rows, expected 1") { f in
            try f.write([Int64(5), 6, 2, 5, 6, 2], shape: [2, 3], at: "src_tokens")
            try f.write([Int64(2), 7], shape: [1, 2], at: "prev_output_tokens")
            try f.write([Int64(7), 2], shape: [1, 2], at: "target")
        }
        try expectBad("float.h5", "has type float64, expected integer token ids") { f in
            try f.write([5.0, 6, 2], shape: [1, 3], at: "src_tokens")
            try f.write([Int64(2), 7], shape: [1, 2], at: "prev_output_tokens")
            try f.write([Int64(7), 2], shape: [1, 2], at: "target")
        }
        try expectBad("missing.h5", "missing dataset 'prev_output_tokens'") { f in
            try f.write([Int64(5), 6, 2], shape: [1, 3], at: "src_tokens")
            try f.write([Int64(7), 2], shape: [1, 2], at: "target")
        }
        try expectBad("long.h5", "sequence length 5 exceeds max_positions 4") { f in
            try f.write([Int64(5), 6, 7, 8, 2], shape: [1, 5], at: "src_tokens")
            try f.write([Int64(2), 7], shape: [1, 2], at: "prev_output_tokens")
            try f.write([Int64(7), 2], shape: [1, 2], at: "target")
        }
        try expectBad("empty.h5", "no 'target' dataset") { _ in }
    }

    func testForwardBackwardOutputMatchesFixtureReference() throws {
        let fixture = Self.fixtures.appendingPathComponent("golden_pre-ln.h5")
        let (model, _) = try Checkpoint.loadModel(from: fixture)
        let fx = try HDF5File.open(fixture)
        let batch = try BatchFile.read(fx, config: model.config)   // finds group 'batch'
        let refLoss = try fx.readDoubles(at: "reference/loss").values[0]
        fx.close()
        let stats = try model.forwardBackward(batch, training: false, dropoutSeed: 0)
        let out = dir.appendingPathComponent("fb.h5")
        try ForwardBackwardOutput.write(to: out, model: model, stats: stats, batch: batch, attributes: ["note": .string("test")])
        let f = try HDF5File.open(out)
        defer { f.close() }
        XCTAssertEqual(try f.readDoubles(at: "loss").values[0], refLoss, accuracy: 1e-5 * refLoss)
        XCTAssertEqual(try f.readInt64s(at: "ntokens").values, [Int64(stats.tokens)])
        XCTAssertEqual(try f.shape(of: "logits"), [batch.batchSize, batch.targetLength, 48])
        XCTAssertEqual(try f.children(of: "grads").count, model.parameters.entries.count)
        XCTAssertEqual(try f.shape(of: "grads/encoder.layers.0.ffn.fc1.weight"), [32, 16])
        XCTAssertEqual(try f.stringAttribute("method"), "pre-ln")
        XCTAssertEqual(try f.stringAttribute("format"), "deepnet-forward-backward")
        XCTAssertEqual(try f.stringAttribute("note"), "test")
        XCTAssertEqual(try f.attribute("tied_parameters"),
                       .strings(["decoder.embed_tokens.weight=encoder.embed_tokens.weight", "decoder.output_projection.weight=encoder.embed_tokens.weight"]))
    }

    /// Files written before the snake_case names (config_json in camelCase) still read, to the same settings.
    func testLegacyCamelCaseConfigJSONReads() throws {
        var config = ModelConfig(encoderLayers: 3, decoderLayers: 2, embedDim: 16, ffnDim: 32, heads: 2, vocabSize: 40, method: "deepnorm")
        config.methodOptions = [:]; config.betaMultiplier = 0.5
        let camel = #"{"alphaMultiplier":1,"betaMultiplier":0.5,"decoderLayers":2,"embedDim":16,"encoderLayers":3,"ffnDim":32,"heads":2,"method":"deepnorm","vocabSize":40}"#
        XCTAssertEqual(try JSONDecoder().decode(ModelConfig.self, from: Data(camel.utf8)), config)
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("legacy-\(UUID().uuidString).h5")
        defer { try? FileManager.default.removeItem(at: url) }
        try HDF5File.writeAtomically(to: url) { f in try f.setAttribute("config_json", camel) }
        let f = try HDF5File.open(url)
        defer { f.close() }
        XCTAssertEqual(try Checkpoint.readConfig(f).config, config)
    }
}
