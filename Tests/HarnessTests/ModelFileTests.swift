// Models in and out (issue 15): a kept model file holds parameters + vocabulary + provenance; loading it gives the
// same logits and translations; unusable files fail with messages, not traps; `--keep-models` never changes run ids.
import DeepNetData
import DeepNetEngine
import DeepNetHarness
import Experiments
import Foundation
import HDF5Store
import XCTest

/// The synthetic data of the tiny experiment's first run and a model of its vocabulary size.
func tinyModelAndData(seed: UInt64 = 5) throws -> (TransformerModel, RunData, RunConfig) {
    let run = try Expansion.expand(tinyExperiment(), profile: .smoke, environment: testEnv)[1]
    let data = try DataFactory.make(run.config, dataRoot: nil)
    var mc = run.config.model
    mc.vocabSize = data.vocabSize
    return (try TransformerModel(config: mc, seed: seed), data, run.config)
}

func saveTinyModel(_ m: TransformerModel, _ codec: TextCodec, _ c: RunConfig, to url: URL) throws {
    try ModelFile.save(m, codec: codec, to: url, kind: "final", runID: "abc123", config: c, gitCommit: "deadbeef",
                       gitDirty: false, dataFingerprint: "fp", step: 7, validLoss: 3.5)
}

final class ModelFileTests: XCTestCase {
    var dir: URL!
    override func setUpWithError() throws { dir = tempDir("models") }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    func testSaveLoadRoundTripGivesIdenticalLogitsAndTranslations() throws {
        let (model, data, c) = try tinyModelAndData()
        let url = dir.appendingPathComponent("m.h5")
        try saveTinyModel(model, data.codec!, c, to: url)
        let (loaded, codec, info) = try ModelFile.load(url)
        XCTAssertEqual(codec, data.codec!)
        XCTAssertEqual(loaded.config, model.config)
        XCTAssertEqual(loaded.parameters.values, model.parameters.values)
        XCTAssertEqual(info.runID, "abc123")
        XCTAssertEqual(info.gitCommit, "deadbeef")
        XCTAssertEqual(info.step, 7)
        XCTAssertEqual(info.beam, c.decode.beam)
        XCTAssertEqual(try JSONValue.parse(Data(info.runConfigJSON!.utf8)).decode(RunConfig.self), c)
        let batch = data.validBatches()[0]
        let a = try model.forward(batch), la = model.logits()
        let b = try loaded.forward(batch), lb = loaded.logits()
        XCTAssertEqual(a.loss, b.loss)
        XCTAssertEqual(la, lb)   // bit for bit
        // The codec encodes raw text as the run encoded its test set, and both models translate it identically.
        let raw = Array(try DataSetRegistry.standard.load(.synthetic, options: DataSetOptions(seed: 1)).split("test").sources.prefix(6))
        let encoded = try raw.map { try codec.encodeSource($0) }
        XCTAssertEqual(encoded, Array(data.testSources.prefix(6)))
        let opts = ModelFile.searchOptions(info: info, model: loaded.config, beam: 2, lenpen: 0.6)
        let h1 = try Translator.translate(model: model, sources: encoded, options: opts).map { codec.detokenize($0.tokensWithoutEOS) }
        let h2 = try Translator.translate(model: loaded, sources: encoded, options: opts).map { data.detokenize($0.tokensWithoutEOS) }
        XCTAssertEqual(h1, h2)
    }

    func testLoadErrorsNameTheProblem() throws {
        let (model, data, c) = try tinyModelAndData()
        // A checkpoint without vocabulary.
        let bare = dir.appendingPathComponent("bare.h5")
        try Checkpoint.save(model, to: bare)
        XCTAssertThrowsError(try ModelFile.load(bare)) { e in
            XCTAssertTrue("\(e)".contains("has no vocabulary"), "\(e)")
        }
        // A vocabulary of another size than the embedding.
        var mc = model.config
        mc.vocabSize += 8
        let other = try TransformerModel(config: mc, seed: 1)
        let wrong = dir.appendingPathComponent("wrong.h5")
        try Checkpoint.save(other, to: wrong) { f in try ModelFile.write(data.codec!, to: f) }
        XCTAssertThrowsError(try ModelFile.load(wrong)) { e in
            XCTAssertTrue("\(e)".contains("vocabulary mismatch"), "\(e)")
            XCTAssertTrue("\(e)".contains("\(mc.vocabSize) rows"), "\(e)")
        }
        // Saving refuses a codec that does not fit, and leaves no file.
        let refused = dir.appendingPathComponent("refused.h5")
        XCTAssertThrowsError(try saveTinyModel(other, data.codec!, c, to: refused))
        XCTAssertFalse(FileManager.default.fileExists(atPath: refused.path))
        // The engine still loads a model file as a plain checkpoint (the vocab group is not a parameter).
        let good = dir.appendingPathComponent("good.h5")
        try saveTinyModel(model, data.codec!, c, to: good)
        let (m2, _) = try Checkpoint.loadModel(from: good)
        XCTAssertEqual(m2.parameters.values, model.parameters.values)
    }

    func testKeepModelsLeavesRunIDsUnchangedAndWritesModels() throws {
        let e = tinyExperiment(steps: 8)
        let plain = try Expansion.expand(e, profile: .smoke, environment: testEnv).map(\.runID)
        var o = RunnerOptions()
        o.output = { _ in }
        o.interactive = false
        o.keepModels = true
        o.keepBestModels = true
        let store = ResultStore(root: dir)
        let runner = Runner(store: store, environment: testEnv, options: o)
        let s = try runner.run([e], profile: .smoke)
        XCTAssertEqual(s.ok, 2)
        XCTAssertEqual(Set(store.runFileIDs()), Set(plain))
        for id in plain {
            XCTAssertEqual(try store.read(id).runID, id)
            let (m, codec, info) = try ModelFile.load(store.modelFile(id))
            XCTAssertEqual(info.runID, id)
            XCTAssertEqual(info.kind, "final")
            XCTAssertEqual(m.config.vocabSize, codec.targetVocabulary.count)
            let best = try ModelFile.load(store.modelFile(id, best: true)).info
            XCTAssertEqual(best.kind, "best-valid")
            XCTAssertEqual(best.validLoss, try store.read(id).metrics.bestValidLoss)
        }
        // Without the option nothing is kept.
        XCTAssertNil(RunnerOptions().models("x", store))
        let plainStore = ResultStore(root: dir.appendingPathComponent("plain"))
        var p = o
        p.keepModels = false
        _ = try Runner(store: plainStore, environment: testEnv, options: p).run([e], profile: .smoke)
        XCTAssertEqual(Set(plainStore.runFileIDs()), Set(plain))
        XCTAssertFalse(FileManager.default.fileExists(atPath: plainStore.modelsDir.path))
        // Asking for models of finished runs retrains nothing and says so.
        final class Sink: @unchecked Sendable { var text = ""; let lock = NSLock()
            func add(_ s: String) { lock.lock(); text += s; lock.unlock() } }
        let sink = Sink()
        var k = o
        k.output = { s in sink.add(s) }
        let again = try Runner(store: plainStore, environment: testEnv, options: k).run([e], profile: .smoke)
        XCTAssertEqual(again.executed, 0)
        XCTAssertTrue(sink.text.contains("2 finished run(s) have no kept model"), sink.text)
    }
}

/// `deepnet translate` / `deepnet inspect` / completion scripts through the built executable (skipped when it is not
/// next to the test bundle).
final class ModelCLITests: XCTestCase {
    var dir: URL!
    override func setUpWithError() throws { dir = tempDir("model-cli") }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    func deepnet() throws -> URL { try builtDeepnetExecutable() }

    /// Runs `deepnet args < stdinFile`; returns status, whether a signal ended it, stdout, stderr.
    func run(_ args: [String], stdin: URL? = nil) throws -> (status: Int32, signaled: Bool, out: String, err: String) {
        let p = Process()
        p.executableURL = try deepnet()
        p.arguments = args
        p.currentDirectoryURL = dir
        let out = dir.appendingPathComponent("stdout-\(UUID().uuidString)"), err = dir.appendingPathComponent("stderr-\(UUID().uuidString)")
        FileManager.default.createFile(atPath: out.path, contents: nil)
        FileManager.default.createFile(atPath: err.path, contents: nil)
        p.standardOutput = try FileHandle(forWritingTo: out)
        p.standardError = try FileHandle(forWritingTo: err)
        p.standardInput = try stdin.map { try FileHandle(forReadingFrom: $0) } ?? FileHandle.nullDevice
        try p.run()
        p.waitUntilExit()
        return (p.terminationStatus, p.terminationReason == .uncaughtSignal,
                try String(contentsOf: out, encoding: .utf8), try String(contentsOf: err, encoding: .utf8))
    }

    func write(_ s: String, _ name: String) throws -> URL {
        let u = dir.appendingPathComponent(name)
        try Data(s.utf8).write(to: u)
        return u
    }

    func testTranslateInspectAndTheirErrors() throws {
        _ = try deepnet()
        let (model, data, c) = try tinyModelAndData()
        let good = dir.appendingPathComponent("model.h5")
        try saveTinyModel(model, data.codec!, c, to: good)
        let raw = Array(try DataSetRegistry.standard.load(.synthetic, options: DataSetOptions(seed: 1)).split("test").sources.prefix(5))
        let input = try write(raw.joined(separator: "\n") + "\n", "in.txt")

        // Translations equal the in-process search on the same model (greedy, the run's beam = 1).
        let r = try run(["translate", "--model", good.path], stdin: input)
        XCTAssertEqual(r.status, 0, r.err)
        let opts = ModelFile.searchOptions(info: try ModelFile.load(good).info, model: model.config, beam: nil, lenpen: nil)
        let expected = try Translator.translate(model: model, sources: Array(data.testSources.prefix(5)), options: opts, greedy: true)
            .map { data.detokenize($0.tokensWithoutEOS) }
        XCTAssertEqual(r.out, expected.joined(separator: "\n") + "\n")
        // --ref prints the BLEU line on stderr; translating the references against themselves is not needed: any file works.
        let refs = try write(expected.joined(separator: "\n") + "\n", "ref.txt")
        let scored = try run(["translate", "--model", good.path, "--ref", refs.path], stdin: input)
        XCTAssertEqual(scored.status, 0, scored.err)
        // (An untrained model's one-word outputs scored against themselves: unigram precision 100, no longer n-grams.)
        XCTAssertTrue(scored.err.hasPrefix("BLEU|nrefs:1|case:mixed|eff:no|tok:13a|smooth:exp|version:2.6.0 = "), scored.err)
        XCTAssertTrue(scored.err.contains(" 100.0/"), scored.err)
        XCTAssertTrue(scored.err.contains("(5 sentences, greedy)"), scored.err)
        XCTAssertEqual(scored.out, r.out)

        // Errors: exit 1 with a message, never a trap.
        let bare = dir.appendingPathComponent("bare.h5")
        try Checkpoint.save(model, to: bare)
        var mc = model.config
        mc.vocabSize += 8
        let wrong = dir.appendingPathComponent("wrong.h5")
        try Checkpoint.save(try TransformerModel(config: mc, seed: 1), to: wrong) { f in try ModelFile.write(data.codec!, to: f) }
        let empty = try write("", "empty.txt")
        for (args, stdin, message) in [(["translate", "--model", bare.path], input, "has no vocabulary"),
                                       (["translate", "--model", wrong.path], input, "vocabulary mismatch"),
                                       (["translate", "--model", good.path], empty, "empty input"),
                                       (["translate", "--model", good.path, "--ref", empty.path], input, "has 0 lines but the input has 5"),
                                       (["translate", "--model", dir.appendingPathComponent("missing.h5").path], input, "missing.h5")] {
            let e = try run(args, stdin: stdin)
            XCTAssertEqual(e.status, 1, "\(args): \(e.err)")
            XCTAssertFalse(e.signaled)
            XCTAssertTrue(e.err.contains(message), "\(args): \(e.err)")
            XCTAssertEqual(e.out, "")
        }

        // inspect: a model file, a plain checkpoint, a run result.
        let i = try run(["inspect", good.path])
        XCTAssertEqual(i.status, 0, i.err)
        for s in ["model (final), with vocabulary", " \(model.parameterCount) (", "run id", "abc123", "deadbeef", "run config", "\"steps\":12"] {
            XCTAssertTrue(i.out.contains(s), "missing '\(s)' in:\n\(i.out)")
        }
        let lines = i.out.split(separator: "\n").map { $0.split(separator: " ").joined(separator: " ") }
        XCTAssertTrue(lines.contains("encoder_layers 1"), i.out)
        XCTAssertTrue(lines.contains("parameters \(model.parameterCount) (\(model.parameterCount * 4) bytes as float32)"), i.out)
        XCTAssertTrue(lines.contains("share_decoder_input_output_embed 0"), i.out)
        let ib = try run(["inspect", bare.path])
        XCTAssertEqual(ib.status, 0, ib.err)
        XCTAssertTrue(ib.out.contains("checkpoint (parameters)"), ib.out)
        XCTAssertFalse(ib.out.contains("provenance:"), ib.out)
    }

    func testInspectRunFileAndCompletionScripts() throws {
        _ = try deepnet()
        let e = tinyExperiment(steps: 4)
        var o = RunnerOptions(); o.output = { _ in }; o.interactive = false
        let store = ResultStore(root: dir.appendingPathComponent("results"))
        _ = try Runner(store: store, environment: testEnv, options: o).run([e], profile: .smoke)
        let id = store.runFileIDs().sorted()[0]
        let r = try run(["inspect", store.runFile(id).path])
        XCTAssertEqual(r.status, 0, r.err)
        XCTAssertTrue(r.out.contains("run result"), r.out)
        XCTAssertTrue(r.out.contains(id), r.out)
        XCTAssertTrue(r.out.contains("git commit"), r.out)
        for shell in ["bash", "zsh", "fish"] {
            let c = try run(["--generate-completion-script", shell])
            XCTAssertEqual(c.status, 0, "\(shell): \(c.err)")
            for word in ["translate", "inspect", "keep-models", "save-model", "lenpen"] {
                XCTAssertTrue(c.out.contains(word), "\(shell) completion lacks '\(word)'")
            }
        }
    }
}
