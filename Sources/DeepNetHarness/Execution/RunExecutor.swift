// Trains one run: engine model + trainer, batches from the run's data, periodic validation, divergence
// detection, checkpoints for resumption, BLEU at the end, and the HDF5 result file.
import DeepNetData
import DeepNetEngine
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Everything a worker process needs to execute one run (written as JSON for `deepnet run-one`).
public struct RunSpec: Codable, Sendable {
    public var runID: String
    public var label: String
    public var config: RunConfig
    public var dataFingerprint: String
    public var engineVersion: String
    public var resultsRoot: String
    public var dataRoot: String?
    public var gitCommit: String
    public var gitDirty: Bool
    /// Where to keep the trained model (`deepnet run --keep-models`, `deepnet train --save-model`); nil: not kept.
    /// Not part of the run's configuration, so it never changes a run id.
    public var models: ModelOutput? = nil

    public init(run: PlannedRun, store: ResultStore, dataRoot: URL?, git: (String, Bool), models: ModelOutput? = nil) {
        runID = run.runID; label = "\(run.experimentID) \(run.coordinates.shortLabel)"; config = run.config
        dataFingerprint = run.dataFingerprint; engineVersion = engineNumericsVersion; resultsRoot = store.root.path
        self.dataRoot = dataRoot?.path; gitCommit = git.0; gitDirty = git.1; self.models = models
    }

    public init(runID: String, label: String, config: RunConfig, dataFingerprint: String, resultsRoot: String,
                dataRoot: String?, gitCommit: String = "unknown", gitDirty: Bool = false) {
        self.runID = runID; self.label = label; self.config = config; self.dataFingerprint = dataFingerprint
        self.engineVersion = engineNumericsVersion; self.resultsRoot = resultsRoot; self.dataRoot = dataRoot
        self.gitCommit = gitCommit; self.gitDirty = gitDirty
    }
}

public struct ProgressEvent: Sendable {
    public var step: Int
    public var total: Int
    public var loss: Double
    public var phase: String
    /// Text form used between worker and runner: "@@progress <step> <total> <loss> <phase>".
    public var line: String { "@@progress \(step) \(total) \(loss) \(phase)" }
    public static func parse(_ s: String) -> ProgressEvent? {
        let p = s.split(separator: " ")
        guard p.count >= 5, p[0] == "@@progress", let a = Int(p[1]), let b = Int(p[2]), let l = Double(p[3]) else { return nil }
        return ProgressEvent(step: a, total: b, loss: l, phase: String(p[4]))
    }
}

/// The run's own state, saved inside the checkpoint (`/run/state_json`) so that a resumed run continues its curves,
/// divergence counter and timing.
struct ResumeState: Codable {
    var step: Int
    var curves: Curves
    var overThreshold: Int
    var resumedCount: Int
    var wallSeconds: Double
    var startTime: String
}

public final class RunExecutor {
    public let spec: RunSpec
    public let store: ResultStore
    let progress: (ProgressEvent) -> Void
    private var logHandle: FileHandle?
    /// Test hook: simulate a kill right after the checkpoint at this step (throws `Interrupted`, writes no result).
    public var interruptAfterCheckpoint: Int? = nil
    /// Test hook: the registry the run's data set is loaded from (a test may declare the hashes of its own files).
    public var dataRegistry: DataSetRegistry = .standard
    public struct Interrupted: Error {}
    /// Line a `run-one` worker prints on stdout when the admission check refuses its run (the runner counts it as
    /// refused instead of recording a failed run).
    public static let refusedPrefix = "@@refused "

    public init(spec: RunSpec, progress: @escaping (ProgressEvent) -> Void = { _ in }) {
        self.spec = spec
        self.store = ResultStore(root: URL(fileURLWithPath: spec.resultsRoot))
        self.progress = progress
    }

    func log(_ s: String) {
        let line = "[\(Provenance.now())] \(s)\n"
        logHandle?.write(Data(line.utf8))
    }

    /// Executes the run and writes its result file. Engine and data errors become a `failed` record;
    /// non-finite losses and the loss-threshold rule become `diverged`; a run that does not fit in memory is
    /// refused (`AdmissionError`) and writes nothing.
    @discardableResult
    public func run() throws -> RunRecord {
        try store.prepare()
        // One executor per run id at a time (an orphaned worker of a killed runner may still be running it).
        let runLock = try ResultsLock(store.workDir.appendingPathComponent("\(spec.runID).lock"), mode: .wait)
        defer { runLock.release() }
        if let done = try? store.read(spec.runID), done.status != .failed, done.config == spec.config { return done }
        openLog()
        defer { try? logHandle?.close() }
        let t0 = Date()
        var prov = Provenance.collect(gitCommit: spec.gitCommit, gitDirty: spec.gitDirty)
        var record = RunRecord(runID: spec.runID, config: spec.config, dataFingerprint: spec.dataFingerprint,
                               engineNumericsVersion: spec.engineVersion, status: .failed)
        var priorWall = 0.0
        do {
            let session = try TrainingSession(executor: self, data: try loadData(), record: &record)
            try session.resumeOrStart()
            priorWall = session.state.wallSeconds
            prov.startTime = session.state.startTime
            prov.resumedCount = session.state.resumedCount
            let diverged = try session.train(since: t0)
            try session.summarize(into: &record, diverged: diverged)
            if diverged == nil {
                try session.keepModels()
                try session.decodeAndScore(into: &record)
            }
        } catch let e as Interrupted {
            throw e
        } catch let e as AdmissionError {
            log("refused: \(e)")   // no result file: a configuration that does not fit is not a failed run
            throw e
        } catch let e as RunConfigError {
            record.status = .failed; record.message = "\(e)"
        } catch {
            record.status = .failed
            record.message = "\(error)"
            log("failed: \(error)")
        }
        return try writeResult(&record, provenance: prov, wall: priorWall + Date().timeIntervalSince(t0))
    }

    // MARK: steps of a run

    /// Appends to the run's log file (kept across resumptions) and writes its header.
    func openLog() {
        let logURL = store.logFile(spec.runID)
        if !FileManager.default.fileExists(atPath: logURL.path) { _ = FileManager.default.createFile(atPath: logURL.path, contents: nil) }
        logHandle = try? FileHandle(forWritingTo: logURL)
        _ = try? logHandle?.seekToEnd()
        log("run \(spec.runID) \(spec.label)")
        log("config \(spec.config.canonicalJSON().canonical)")
    }

    /// The run's data (DeepNetData through the harness's Data/ layer).
    func loadData() throws -> RunData {
        let data = try DataFactory.make(spec.config, dataRoot: spec.dataRoot.map { URL(fileURLWithPath: $0) }, registry: dataRegistry)
        log("data: \(data.summary)")
        return data
    }

    /// Writes the result file (finished, diverged or failed) and removes the run's work folder.
    func writeResult(_ record: inout RunRecord, provenance: Provenance, wall: Double) throws -> RunRecord {
        var prov = provenance
        record.metrics.wallSeconds = wall
        record.metrics.peakRSSBytes = MemoryBudget.peakRSS()
        prov.endTime = Provenance.now()
        record.provenance = prov
        try store.write(record)
        try? FileManager.default.removeItem(at: store.workDir(spec.runID))
        log("finished: \(record.status.rawValue) in \(String(format: "%.1f", record.metrics.wallSeconds)) s")
        return record
    }
}

/// One run's training: the admitted model and trainer, its batches, instruments and resumable state.
final class TrainingSession {
    unowned let executor: RunExecutor
    let c: RunConfig
    let data: RunData
    let modelConfig: ModelConfig
    var model: TransformerModel
    var trainer: Trainer
    let valid: [TokenBatch]
    let checkpoint: URL
    var instruments: RunInstruments?
    var state = ResumeState(step: 0, curves: Curves(), overThreshold: 0, resumedCount: 0, wallSeconds: 0, startTime: Provenance.now())

    /// Checks the memory estimate with the real data (before allocating anything of the model's size), then builds
    /// the model and trainer.
    init(executor: RunExecutor, data: RunData, record: inout RunRecord) throws {
        self.executor = executor
        c = executor.spec.config
        self.data = data
        var mc = c.model
        mc.vocabSize = data.vocabSize
        modelConfig = mc
        let admitted = try RunAdmission.check(c, model: mc, data: data, runID: executor.spec.runID)
        record.metrics.memoryEstimateBytes = admitted.total + (MemoryBudget.currentRSS() ?? 0)
        executor.log("memory: estimate \(admitted) on top of \(MemoryEstimate.format(MemoryBudget.currentRSS() ?? 0)) resident")
        model = try TransformerModel(config: mc, seed: UInt64(c.training.seed))
        trainer = Trainer(model: model, optimizer: c.optimizer, seed: UInt64(c.training.seed))
        record.metrics.parameters = model.parameterCount
        let work = executor.store.workDir(executor.spec.runID)
        try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
        checkpoint = work.appendingPathComponent("checkpoint.h5")
        valid = Array(data.validBatches().prefix(c.training.evalBatches == 0 ? Int.max : c.training.evalBatches))
    }

    /// Training-dynamics instruments (nil, i.e. no work, unless the run asks for one). Probe batch: the first
    /// validation batch; landscape batches: two fixed training batches.
    func makeInstruments(resume: RunInstruments.SavedState? = nil) throws -> RunInstruments? {
        try RunInstruments.make(config: c, model: model, probeBatch: valid.first ?? data.trainBatch(step: 1),
                                landscapeBatches: [data.trainBatch(step: 1), data.trainBatch(step: 2)], resume: resume)
    }

    /// Exact resume from the checkpoint when there is a usable one: it holds the trainer's state (parameters, moments,
    /// update count, method state), the run's curves and counters, and the instruments' measurement state, in one file.
    /// An unusable checkpoint is logged and the run starts over.
    func resumeOrStart() throws {
        if FileManager.default.fileExists(atPath: checkpoint.path) {
            do {
                var saved: ResumeState? = nil, measured: RunInstruments.SavedState? = nil
                try trainer.restore(from: checkpoint) { f in
                    saved = try JSONValue.parse(Data(try f.readString(at: "run/state_json").utf8)).decode(ResumeState.self)
                    if f.exists("run/instruments") { measured = try RunInstruments.load(from: f, group: "run/instruments") }
                }
                guard let saved, saved.step == trainer.step else {
                    throw DataUnavailable(message: "run state and trainer state disagree on the step")
                }
                if measured == nil && !Set(c.measurements).isDisjoint(with: RunInstruments.supported) {
                    throw DataUnavailable(message: "the checkpoint holds no measurement state for this run's instruments")
                }
                instruments = try makeInstruments(resume: measured)
                state = saved
                state.resumedCount += 1
                executor.log("resumed from step \(saved.step)")
                return
            } catch {
                executor.log("checkpoint unusable (\(error)); starting over")
                model = try TransformerModel(config: modelConfig, seed: UInt64(c.training.seed))
                trainer = Trainer(model: model, optimizer: c.optimizer, seed: UInt64(c.training.seed))
                state = ResumeState(step: 0, curves: Curves(), overThreshold: 0, resumedCount: 0, wallSeconds: 0, startTime: Provenance.now())
            }
        }
        instruments = try makeInstruments()
    }

    /// Mean validation NLL per target token.
    func validate() throws -> Double {
        var nll = 0.0, n = 0
        for b in valid {
            let s = try model.forward(b)
            nll += s.nllLoss * Double(s.tokens); n += s.tokens
        }
        return n > 0 ? nll / Double(n) : .nan
    }

    /// Steps from the saved step to `training.steps`: train, record, check divergence, validate, checkpoint.
    /// Returns (step, reason) when the run diverged.
    func train(since t0: Date) throws -> (Int, String)? {
        let priorWall = state.wallSeconds
        var step = state.step
        while step < c.training.steps {
            step += 1
            let stats: StepStats
            do { stats = try trainer.step(data.trainBatch(step: step)) } catch let e as NonFiniteError {
                return (step, "non-finite \(e.what) (\(e.tensor))")
            }
            state.curves.steps.append(step)
            state.curves.trainLoss.append(stats.loss)
            state.curves.lr.append(stats.lr)
            state.curves.gradNorm.append(stats.gradNorm)
            try instruments?.afterStep(step, model: model)
            if !stats.loss.isFinite { return (step, "non-finite loss") }
            state.overThreshold = stats.loss > c.divergence.lossThreshold ? state.overThreshold + 1 : 0
            if state.overThreshold >= c.divergence.patience {
                return (step, "loss above \(JSONValue.format(c.divergence.lossThreshold)) for \(c.divergence.patience) consecutive steps")
            }
            if step % c.training.evalEvery == 0 || step == c.training.steps {
                executor.progress(ProgressEvent(step: step, total: c.training.steps, loss: stats.loss, phase: "eval"))
                let vl = try validate()
                if vl.isFinite && vl < (state.curves.validLoss.filter(\.isFinite).min() ?? .infinity) { try saveBestModel(step: step, validLoss: vl) }
                state.curves.validSteps.append(step)
                state.curves.validLoss.append(vl)
                executor.log(String(format: "step %d train loss %.4f valid nll %.4f lr %.3g |g| %.3g", step, stats.loss, vl, stats.lr, stats.gradNorm))
                if !vl.isFinite { return (step, "non-finite validation loss") }
            }
            // A stop request (SIGUSR1/SIGTERM in a Slurm task, SlurmTask.swift) checkpoints at this step boundary
            // and stops without a result; the requeued task resumes from here.
            let stopRequested = StopRequest.isRequested && step < c.training.steps
            if (c.training.checkpointEvery > 0 && step % c.training.checkpointEvery == 0 && step < c.training.steps) || stopRequested {
                try saveCheckpoint(step: step, wall: priorWall + Date().timeIntervalSince(t0))
                if stopRequested {
                    executor.log("stopped at step \(step) by signal \(StopRequest.receivedSignal ?? 0); checkpoint written")
                    throw RunExecutor.Interrupted()
                }
            }
            executor.progress(ProgressEvent(step: step, total: c.training.steps, loss: stats.loss, phase: "train"))
        }
        return nil
    }

    /// The best-validation model so far, kept in the run's work folder until the run finishes (a resumed run
    /// finds it there; `keepModels` moves it into place).
    var bestModelFile: URL { executor.store.workDir(executor.spec.runID).appendingPathComponent("best-model.h5") }

    func saveModel(to url: URL, kind: String, step: Int, validLoss: Double?) throws {
        guard let codec = data.codec else {
            throw DataUnavailable(message: "the run's data has no vocabulary to store with the model")
        }
        let s = executor.spec
        try ModelFile.save(model, codec: codec, to: url, kind: kind, runID: s.runID, config: c, gitCommit: s.gitCommit,
                           gitDirty: s.gitDirty, dataFingerprint: s.dataFingerprint, step: step, validLoss: validLoss)
    }

    func saveBestModel(step: Int, validLoss: Double) throws {
        guard executor.spec.models?.best != nil, c.task == .translation else { return }
        try saveModel(to: bestModelFile, kind: "best-valid", step: step, validLoss: validLoss)
        executor.log(String(format: "best validation model so far at step %d (valid nll %.4f)", step, validLoss))
    }

    /// Writes the final model and moves the best-validation model into place, as `RunSpec.models` asks.
    func keepModels() throws {
        guard let out = executor.spec.models else { return }
        guard c.task == .translation else {
            executor.log("models are kept for translation runs only; \(c.task.rawValue) model not written")
            return
        }
        let step = state.curves.steps.last ?? 0
        try saveModel(to: URL(fileURLWithPath: out.final), kind: "final", step: step, validLoss: state.curves.validLoss.last)
        executor.log("model: \(out.final)")
        if let best = out.best, FileManager.default.fileExists(atPath: bestModelFile.path) {
            let dst = URL(fileURLWithPath: best)
            try FileManager.default.createDirectory(at: dst.deletingLastPathComponent(), withIntermediateDirectories: true)
            if rename(bestModelFile.path, dst.path) != 0 {   // another file system: copy, then rename
                let tmp = dst.deletingLastPathComponent().appendingPathComponent(".\(dst.lastPathComponent).tmp-\(getpid())-\(UUID().uuidString.prefix(8))")
                try? FileManager.default.removeItem(at: tmp)
                try FileManager.default.copyItem(at: bestModelFile, to: tmp)
                guard rename(tmp.path, dst.path) == 0 else {
                    try? FileManager.default.removeItem(at: tmp)
                    throw DataUnavailable(message: "cannot move the best-validation model to \(best): \(String(cString: strerror(errno)))")
                }
            }
            executor.log("best-validation model: \(best)")
        }
    }

    /// One atomic file: trainer state plus the run's state and the instruments' (see `resumeOrStart`).
    func saveCheckpoint(step: Int, wall: Double) throws {
        state.step = step
        state.wallSeconds = wall
        let runState = try JSONValue.from(state).canonical
        try trainer.save(to: checkpoint) { f in
            try f.createGroup("run")
            try f.writeString(runState, at: "run/state_json")
            try self.instruments?.save(into: f, group: "run/instruments")
        }
        executor.log("checkpoint at step \(step)")
        if executor.interruptAfterCheckpoint == step { throw RunExecutor.Interrupted() }
    }

    /// Curves, final metrics, the instruments' results and the run's status.
    func summarize(into record: inout RunRecord, diverged: (Int, String)?) throws {
        if let instruments { record.diagnostics = try instruments.finish(model: model) }
        record.curves = state.curves
        record.metrics.stepsCompleted = state.curves.steps.last ?? 0
        record.metrics.trainTokens = state.curves.steps.count * c.training.batchTokens
        record.metrics.finalTrainLoss = state.curves.trainLoss.last
        record.metrics.validLoss = state.curves.validLoss.last
        record.metrics.bestValidLoss = state.curves.validLoss.filter(\.isFinite).min()
        if let vl = record.metrics.validLoss, vl.isFinite { record.metrics.perplexity = exp(vl) }
        if let (s, why) = diverged {
            record.status = .diverged
            record.divergedAtStep = s
            record.message = why
            executor.log("diverged at step \(s): \(why)")
        } else {
            record.status = .ok
        }
    }

    /// BLEU on the test set (translation with a beam): DeepNetData's batched beam search over the engine's
    /// incremental decoder (cached keys/values: one position per step), fairseq semantics: lenpen on Σ log p, max
    /// length a·|src|+b; scored as the data set's definition says.
    func decodeAndScore(into record: inout RunRecord) throws {
        guard c.task == .translation && c.decode.beam > 0 && !data.testSources.isEmpty else { return }
        executor.progress(ProgressEvent(step: c.training.steps, total: c.training.steps, loss: record.metrics.finalTrainLoss ?? 0, phase: "decode"))
        let search = RunAdmission.searchOptions(c, model: model.config)
        // Sources longer than the model accepts are cut (counted in the metrics and the report), not a crash.
        let (sources, cut) = RunAdmission.decodableSources(data.testSources, model: model.config)
        record.metrics.testSentencesTruncated = cut
        if cut > 0 { executor.log("\(cut) test source(s) longer than \(RunAdmission.decoderSourceLimit(model.config)) tokens truncated for decoding") }
        let decodeStart = Date()
        let hyps = try Translator.translate(model: model, sources: sources, options: search,
                                            greedy: c.decode.beam == 1).map(\.tokensWithoutEOS)
        record.metrics.decodeSeconds = Date().timeIntervalSince(decodeStart)
        let texts = hyps.map { data.detokenize($0) }
        let opts = c.decode.bleuTokenize.scoringOptions
        var signature = "nrefs:1|case:mixed|eff:no|tok:\(c.decode.bleuTokenize.rawValue)|smooth:\(opts.smoothing.rawValue)|version:\(SacreBLEU.version)|decode:\(c.decode.beam == 1 ? "greedy" : "beam\(c.decode.beam)")"
        if data.testDirections.isEmpty {
            record.metrics.bleu = try SacreBLEU(opts).corpusScore(hypotheses: texts, references: [data.testReferences]).score
        } else {
            // Multilingual: BLEU per direction against that direction's references; the run's BLEU is their mean
            // (the paper's OPUS-100 "Avg"), not one corpus BLEU over every direction pooled.
            let ml = try MultilingualBLEU.score(hypotheses: texts, references: data.testReferences, directions: data.testDirections, options: opts)
            record.metrics.bleu = ml.mean
            record.metrics.bleuByDirection = ml.byDirection
            record.metrics.bleuToEnglish = ml.toEnglish
            record.metrics.bleuFromEnglish = ml.fromEnglish
            signature += "|avg:mean-of-\(ml.byDirection.count)-directions"
            executor.log("BLEU by direction: " + ml.byDirection.sorted { $0.key < $1.key }.map { String(format: "%@ %.2f", $0.key, $0.value) }.joined(separator: ", "))
        }
        // Per-sentence sufficient statistics, for paired bootstrap comparisons when the references are not at hand.
        record.bleuSentenceStats = TestSetBLEU.sentenceStatistics(hypotheses: texts, references: data.testReferences, tokenize: c.decode.bleuTokenize)
        record.bleuSentenceDirections = data.testDirections
        record.metrics.bleuSignature = signature
        record.hypotheses = texts
        executor.log(String(format: "BLEU %.2f on %d sentences (%@); decoding %.1f s, %.1f sentences/s", record.metrics.bleu!, texts.count,
                            signature, record.metrics.decodeSeconds!, Double(texts.count) / max(1e-9, record.metrics.decodeSeconds!)))
    }
}
