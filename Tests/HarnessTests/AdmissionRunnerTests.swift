// Admission under the runner and the executor: a run that cannot fit is refused (no result file, never a
// `failed` record that every later `deepnet run` would retry), and a test sentence longer than the model
// accepts is truncated, counted in the result and shown in the report instead of crashing the decoder.
import DeepNetData
import DeepNetEngine
import DeepNetHarness
import Foundation
import HDF5Store
import XCTest

/// Collects runner output across threads.
final class OutputBox: @unchecked Sendable {
    private let lock = NSLock()
    private var text = ""
    func add(_ s: String) { lock.lock(); text += s; lock.unlock() }
    var value: String { lock.lock(); defer { lock.unlock() }; return text }
}

final class AdmissionRunnerTests: XCTestCase {
    func experiment(_ modify: (inout RunConfig) -> Void) -> Experiment {
        var e = tinyExperiment(id: "admission")
        var grid = e.plan(.smoke).grid!
        modify(&grid.base)
        e.profiles[.smoke] = .runs(grid)
        return e
    }

    func runner(_ root: URL, _ out: OutputBox, worker: WorkerMode = .inProcess) -> Runner {
        var o = RunnerOptions()
        o.output = { out.add($0) }
        o.interactive = false
        o.worker = worker
        return Runner(store: ResultStore(root: root), environment: testEnv, options: o)
    }

    func resultFiles(_ root: URL) -> [String] {
        let runs = root.appendingPathComponent("runs")
        return ((try? FileManager.default.contentsOfDirectory(atPath: runs.path)) ?? []).filter { $0.hasSuffix(".h5") }
    }

    /// The 10000L-10000L d=512 configuration passes `validate()` but is refused at planning time: no run is
    /// started, no result file claims a failure, and a second `run` refuses again instead of re-running a failure.
    func testOversizedRunIsRefusedAtPlanningWithoutResultFile() throws {
        let root = tempDir("admission-plan")
        defer { try? FileManager.default.removeItem(at: root) }
        let e = experiment { c in
            c.model.encoderLayers = 10_000; c.model.decoderLayers = 10_000
            c.model.embedDim = 512; c.model.ffnDim = 2048; c.model.heads = 8
        }
        for attempt in 1...2 {
            let out = OutputBox()
            let s = try runner(root, out).run([e], profile: .smoke)
            XCTAssertEqual(s.refused, 2, "attempt \(attempt): \(out.value)")
            XCTAssertEqual(s.executed, 0)
            XCTAssertEqual(s.failed, 0)
            XCTAssertTrue(s.description.contains("2 refused (not enough memory; not started, no result file)"), s.description)
            XCTAssertTrue(out.value.contains("refused: run ") && out.value.contains("needs an estimated")
                          && out.value.contains("encoderLayers=10000"), out.value)
            XCTAssertEqual(resultFiles(root), [], "attempt \(attempt)")
        }
    }

    /// Lower bound (planning) vs data-aware estimate (executor) of the tiny experiment's run.
    func bounds(_ c: RunConfig) throws -> (lower: Double, upper: Double) {
        let inf = MemoryBudget(bytes: .infinity, source: "test")
        let lower = try RunAdmission.checkPlanned(c, runID: "x", budget: inf).total
        let data = try DataFactory.make(c, dataRoot: nil)
        var mc = c.model
        mc.vocabSize = data.vocabSize
        let upper = try RunAdmission.check(c, model: mc, data: data, runID: "x", budget: inf).total
        return (lower, upper)
    }

    /// A run that passes the planning bound but not the executor's data-aware estimate (here: a memory cap between
    /// the two) is refused by the executor after loading its data — in process and in a `run-one` worker — and
    /// still leaves no result file and counts as refused, not failed.
    func testExecutorRefusalAfterDataLoadWritesNoResult() throws {
        let root = tempDir("admission-exec")
        defer { try? FileManager.default.removeItem(at: root) }
        let e = experiment { _ in }
        let runs = try Expansion.expand(e, profile: .smoke, environment: testEnv)
        let (lower, upper) = try bounds(runs[0].config)
        XCTAssertGreaterThan(upper, 1.5 * lower)
        setenv("DEEPNET_MEMORY_LIMIT", "\(Int((lower * upper).squareRoot()))", 1)
        defer { unsetenv("DEEPNET_MEMORY_LIMIT") }

        let spec = RunSpec(run: runs[0], store: ResultStore(root: root), dataRoot: nil, git: ("test", false))
        XCTAssertThrowsError(try RunExecutor(spec: spec).run()) { error in
            XCTAssertTrue(error is AdmissionError, "\(error)")
            XCTAssertTrue("\(error)".contains("DEEPNET_MEMORY_LIMIT="), "\(error)")
        }
        XCTAssertEqual(resultFiles(root), [])

        let out = OutputBox()
        let s = try runner(root, out).run([e], profile: .smoke)
        XCTAssertEqual(s.refused, 2, out.value)
        XCTAssertEqual(s.failed, 0, out.value)
        XCTAssertEqual(resultFiles(root), [])

        // The same through worker processes (`deepnet run-one`), when the executable is built.
        let products = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        guard let exe = [products, products.deletingLastPathComponent()].map({ $0.appendingPathComponent("deepnet") })
            .first(where: { FileManager.default.isExecutableFile(atPath: $0.path) }) else { return }
        let out2 = OutputBox()
        let s2 = try runner(root, out2, worker: .subprocess(exe)).run([e], profile: .smoke)
        XCTAssertEqual(s2.refused, 2, out2.value)
        XCTAssertEqual(s2.failed, 0, out2.value)
        XCTAssertTrue(out2.value.contains("refused: run "), out2.value)
        XCTAssertEqual(resultFiles(root), [])
    }

    /// A 200,000-word test sentence (the crash after training, exit 134) is cut to the model's
    /// `maxPositions`, decoded with the others, counted in the result file and named in the report.
    func testOverlongTestSentenceIsTruncatedCountedAndReported() throws {
        let root = tempDir("admission-long"), data = tempDir("admission-data")
        defer { try? FileManager.default.removeItem(at: root); try? FileManager.default.removeItem(at: data) }
        let iwslt = data.appendingPathComponent("iwslt14")
        try FileManager.default.createDirectory(at: iwslt, withIntermediateDirectories: true)
        let de = ["ich", "du", "er", "sie", "wir"], en = ["i", "you", "he", "she", "we"]
        let dn = ["hunde", "katzen", "bäume", "häuser"], enN = ["dogs", "cats", "trees", "houses"]
        var sd: [String] = [], se: [String] = []
        for i in 0..<700 { sd.append("\(de[i % 5]) sehe \(i) \(dn[i % 4])"); se.append("\(en[i % 5]) see \(i) \(enN[i % 4])") }   // distinct pairs (the loader deduplicates)
        func write(_ name: String, _ lines: [String]) throws {
            try (lines.joined(separator: "\n") + "\n").write(to: iwslt.appendingPathComponent(name), atomically: true, encoding: .utf8)
        }
        try write("train-sample.de", sd); try write("train-sample.en", se)
        try write("valid.de", Array(sd.prefix(20))); try write("valid.en", Array(se.prefix(20)))
        let long = Array(repeating: "ich sehe hunde", count: 66_667).joined(separator: " ")   // 200,001 words
        try write("test.de", ["du sehe 3 katzen", long, "wir sehe 5 bäume"])
        try write("test.en", ["you see 3 cats", "i see dogs", "we see 5 trees"])

        var c = RunConfig()
        c.model = ModelConfig(encoderLayers: 1, decoderLayers: 1, embedDim: 16, ffnDim: 32, heads: 2, vocabSize: 80, maxPositions: 64,
                              positions: .learned, shareAllEmbeddings: true)
        c.data.dataset = .iwslt14Mini; c.data.sourceLanguage = "de"; c.data.targetLanguage = "en"
        c.data.maxTokensPerSentence = 20; c.data.evalSentences = 0
        c.training.batchTokens = 64; c.training.steps = 2; c.training.evalEvery = 2; c.training.evalBatches = 1
        c.training.checkpointEvery = 0
        c.optimizer.warmupUpdates = 1
        c.decode.beam = 2
        c.decode.bleuTokenize = DataGlue.bleuTokenize(for: c.data.dataset)   // as planning sets it: iwslt14-mini is tokenized BLEU
        try c.validate()
        let spec = RunSpec(runID: "long-sentence", label: "long", config: c, dataFingerprint: "test", resultsRoot: root.path, dataRoot: data.path)
        // The made-up files are not the declared iwslt14 ones: a registry whose iwslt14-mini declares their hashes.
        var def = DataSetDefinition.iwslt14Mini
        def.files = Dictionary(uniqueKeysWithValues: try def.files.keys.map { k in
            (k, SHA256.hex(of: try Data(contentsOf: data.appendingPathComponent(k)))) })
        let executor = RunExecutor(spec: spec)
        executor.dataRegistry = DataSetRegistry(DataSetRegistry.builtIn.filter { $0.spec.name != .iwslt14Mini } + [def])
        let rec = try executor.run()
        XCTAssertEqual(rec.status, .ok, rec.message ?? "")
        XCTAssertEqual(rec.metrics.testSentencesTruncated, 1)
        XCTAssertEqual(rec.hypotheses.count, 3)
        XCTAssertNotNil(rec.metrics.bleu)
        let stored = try ResultStore(root: root).read("long-sentence")
        XCTAssertEqual(stored.metrics.testSentencesTruncated, 1)
        XCTAssertNotNil(stored.metrics.peakRSSBytes)
        XCTAssertNotNil(stored.metrics.memoryEstimateBytes)

        let e = experiment { _ in }
        let entry = ResultEntry(coordinates: Coordinates(axes: ["method"], labels: ["Post-LN"]), paperKeys: ["method": "Post-LN"],
                                runID: stored.runID, record: stored)
        let report = ReportRenderer.render(ExperimentResults(experiment: e, profile: .smoke, axes: ["method"], entries: [entry]))
        XCTAssertTrue(report.markdown.contains("Test sentences truncated to the model's position limit before decoding (BLEU is still over every sentence): Post-LN 1."),
                      report.markdown)
    }

    /// The executor's estimate grows with what the run will do: resumption copies, landscape instruments (their
    /// own evaluator model and parameter copies), beam width; the planning bound stays below it.
    func testRunWorkloadCountsResumptionInstrumentsAndBeam() throws {
        var c = RunConfig()
        c.model = ModelConfig(encoderLayers: 2, decoderLayers: 2, embedDim: 32, ffnDim: 64, heads: 2, vocabSize: 500)
        c.training.batchTokens = 1024; c.training.steps = 100; c.training.checkpointEvery = 0
        let lengths = LengthProfile(meanTarget: 12, minTarget: 3, maxSource: 30, maxTarget: 30, testSentences: 100, maxTestSource: 40)
        func total(_ modify: (inout RunConfig) -> Void) throws -> Double {
            var x = c
            modify(&x)
            return try MemoryEstimate.estimate(x.model, RunAdmission.workload(x, model: x.model, lengths: lengths)).total
        }
        let base = try total { _ in }
        let P = try MemoryEstimate.estimate(c.model, MemoryWorkload()).parameterCount * 4
        XCTAssertEqual(try total { $0.training.checkpointEvery = 10 } - base, 3 * P, accuracy: 1)   // copy + 2 moments
        XCTAssertGreaterThan(try total { $0.measurements.append(.lossLandscape2D) } - base, 6 * P)
        XCTAssertGreaterThan(try total { $0.decode.beam = 8 }, try total { $0.decode.beam = 2 })
        XCTAssertLessThan(try RunAdmission.checkPlanned(c, runID: "x", budget: MemoryBudget(bytes: .infinity, source: "")).total, base / 2)
    }

    func testDecodableSourcesCutsOnlyOverlongSources() {
        let mc = ModelConfig(maxPositions: 8)
        let (out, n) = RunAdmission.decodableSources([[4, 5], Array(repeating: 6, count: 7), Array(repeating: 7, count: 50)], model: mc)
        XCTAssertEqual(n, 1)
        XCTAssertEqual(out.map(\.count), [2, 7, 7])   // 7 tokens + EOS = maxPositions
        XCTAssertEqual(out[2], Array(repeating: 7, count: 7))
    }
}
