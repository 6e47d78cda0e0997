// Trains one run: engine model + trainer, batches from the run's data, periodic validation, divergence
// detection, checkpoints for resumption, BLEU at the end, and the HDF5 result file.
import DeepNetData
import DeepNetEngine
import Foundation

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

    public init(run: PlannedRun, store: ResultStore, dataRoot: URL?, git: (String, Bool)) {
        runID = run.runID; label = "\(run.experimentID) \(run.coordinates.shortLabel)"; config = run.config
        dataFingerprint = run.dataFingerprint; engineVersion = engineNumericsVersion; resultsRoot = store.root.path
        self.dataRoot = dataRoot?.path; gitCommit = git.0; gitDirty = git.1
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
    /// non-finite losses and the loss-threshold rule become `diverged`.
    @discardableResult
    public func run() throws -> RunRecord {
        try store.prepare()
        // One executor per run id at a time (an orphaned worker of a killed runner may still be running it).
        let runLock = try ResultsLock(store.workDir.appendingPathComponent("\(spec.runID).lock"), mode: .wait)
        defer { runLock.release() }
        if let done = try? store.read(spec.runID), done.status != .failed, done.config == spec.config { return done }
        let logURL = store.logFile(spec.runID)
        if !FileManager.default.fileExists(atPath: logURL.path) { _ = FileManager.default.createFile(atPath: logURL.path, contents: nil) }
        logHandle = try? FileHandle(forWritingTo: logURL)
        _ = try? logHandle?.seekToEnd()
        defer { try? logHandle?.close() }
        HarnessMethods.register()
        let c = spec.config
        var prov = Provenance.collect(gitCommit: spec.gitCommit, gitDirty: spec.gitDirty)
        let work = store.workDir(spec.runID)
        try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
        log("run \(spec.runID) \(spec.label)")
        log("config \(c.canonicalJSON().canonical)")
        let t0 = Date()
        var state = ResumeState(step: 0, curves: Curves(), overThreshold: 0, resumedCount: 0, wallSeconds: 0, startTime: Provenance.now())
        var priorWall = 0.0
        var record = RunRecord(runID: spec.runID, config: c, dataFingerprint: spec.dataFingerprint,
                               engineNumericsVersion: spec.engineVersion, status: .failed)
        do {
            let data = try DataFactory.make(c, dataRoot: spec.dataRoot.map { URL(fileURLWithPath: $0) })
            log("data: \(data.summary)")
            var mc = c.model
            mc.vocabSize = data.vocabSize
            let admitted = try RunAdmission.check(c, model: mc, data: data, runID: spec.runID)   // before allocating
            record.metrics.memoryEstimateBytes = admitted.total + (MemoryBudget.currentRSS() ?? 0)
            log("memory: estimate \(admitted) on top of \(MemoryEstimate.format(MemoryBudget.currentRSS() ?? 0)) resident")
            var model = try TransformerModel(config: mc, seed: UInt64(c.training.seed))
            var trainer = Trainer(model: model, optimizer: c.optimizer, seed: UInt64(c.training.seed))
            record.metrics.parameters = model.parameterCount
            let ckpt = work.appendingPathComponent("checkpoint.h5")
            let valid = Array(data.validBatches().prefix(c.training.evalBatches == 0 ? Int.max : c.training.evalBatches))
            // Training-dynamics instruments (nil, i.e. no work, unless the run asks for one). Probe batch: the first
            // validation batch; landscape batches: two fixed training batches.
            let probeBatch = valid.first ?? data.trainBatch(step: 1)
            let landscapeBatches = [data.trainBatch(step: 1), data.trainBatch(step: 2)]
            var instruments: RunInstruments? = nil
            var resumed = false
            if FileManager.default.fileExists(atPath: ckpt.path) {
                // Exact resume: the checkpoint holds the trainer's state (parameters, moments, update count, method
                // state), the run's curves and counters, and the instruments' measurement state, in one file.
                do {
                    var saved: ResumeState? = nil, measured: RunInstruments.SavedState? = nil
                    try trainer.restore(from: ckpt) { f in
                        saved = try JSONValue.parse(Data(try f.readString(at: "run/state_json").utf8)).decode(ResumeState.self)
                        if f.exists("run/instruments") { measured = try RunInstruments.load(from: f, group: "run/instruments") }
                    }
                    guard let saved, saved.step == trainer.step else {
                        throw DataUnavailable(message: "run state and trainer state disagree on the step")
                    }
                    if measured == nil && !Set(c.measurements).isDisjoint(with: RunInstruments.supported) {
                        throw DataUnavailable(message: "the checkpoint holds no measurement state for this run's instruments")
                    }
                    instruments = try RunInstruments.make(config: c, model: model, probeBatch: probeBatch,
                                                          landscapeBatches: landscapeBatches, resume: measured)
                    state = saved
                    state.resumedCount += 1
                    resumed = true
                    log("resumed from step \(saved.step)")
                } catch {
                    log("checkpoint unusable (\(error)); starting over")
                    model = try TransformerModel(config: mc, seed: UInt64(c.training.seed))
                    trainer = Trainer(model: model, optimizer: c.optimizer, seed: UInt64(c.training.seed))
                    state = ResumeState(step: 0, curves: Curves(), overThreshold: 0, resumedCount: 0, wallSeconds: 0, startTime: Provenance.now())
                }
            }
            if !resumed {
                instruments = try RunInstruments.make(config: c, model: model, probeBatch: probeBatch, landscapeBatches: landscapeBatches)
            }
            priorWall = state.wallSeconds
            prov.startTime = state.startTime
            prov.resumedCount = state.resumedCount
            var diverged: (Int, String)? = nil
            var step = state.step
            func validate() throws -> Double {
                var nll = 0.0, n = 0
                for b in valid {
                    let s = try model.forward(b)
                    nll += s.nllLoss * Double(s.tokens); n += s.tokens
                }
                return n > 0 ? nll / Double(n) : .nan
            }
            while step < c.training.steps {
                step += 1
                let batch = data.trainBatch(step: step)
                let stats: StepStats
                do { stats = try trainer.step(batch) } catch let e as NonFiniteError {
                    diverged = (step, "non-finite \(e.what) (\(e.tensor))"); break
                }
                state.curves.steps.append(step)
                state.curves.trainLoss.append(stats.loss)
                state.curves.lr.append(stats.lr)
                state.curves.gradNorm.append(stats.gradNorm)
                try instruments?.afterStep(step, model: model)
                if !stats.loss.isFinite { diverged = (step, "non-finite loss"); break }
                state.overThreshold = stats.loss > c.divergence.lossThreshold ? state.overThreshold + 1 : 0
                if state.overThreshold >= c.divergence.patience {
                    diverged = (step, "loss above \(JSONValue.format(c.divergence.lossThreshold)) for \(c.divergence.patience) consecutive steps"); break
                }
                if step % c.training.evalEvery == 0 || step == c.training.steps {
                    progress(ProgressEvent(step: step, total: c.training.steps, loss: stats.loss, phase: "eval"))
                    let vl = try validate()
                    state.curves.validSteps.append(step)
                    state.curves.validLoss.append(vl)
                    log(String(format: "step %d train loss %.4f valid nll %.4f lr %.3g |g| %.3g", step, stats.loss, vl, stats.lr, stats.gradNorm))
                    if !vl.isFinite { diverged = (step, "non-finite validation loss"); break }
                }
                // A stop request (SIGUSR1/SIGTERM in a Slurm task, SlurmTask.swift) checkpoints at this step boundary
                // and stops without a result; the requeued task resumes from here.
                let stopRequested = StopRequest.isRequested && step < c.training.steps
                if (c.training.checkpointEvery > 0 && step % c.training.checkpointEvery == 0 && step < c.training.steps) || stopRequested {
                    state.step = step
                    state.wallSeconds = priorWall + Date().timeIntervalSince(t0)
                    let runState = try JSONValue.from(state).canonical
                    try trainer.save(to: ckpt) { f in
                        try f.createGroup("run")
                        try f.writeString(runState, at: "run/state_json")
                        try instruments?.save(into: f, group: "run/instruments")
                    }
                    log("checkpoint at step \(step)")
                    if interruptAfterCheckpoint == step { throw Interrupted() }
                    if stopRequested { log("stopped at step \(step) by signal \(StopRequest.receivedSignal ?? 0); checkpoint written"); throw Interrupted() }
                }
                progress(ProgressEvent(step: step, total: c.training.steps, loss: stats.loss, phase: "train"))
            }
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
                log("diverged at step \(s): \(why)")
            } else {
                record.status = .ok
                if c.task == .translation && c.decode.beam > 0 && !data.testSources.isEmpty {
                    progress(ProgressEvent(step: c.training.steps, total: c.training.steps, loss: record.metrics.finalTrainLoss ?? 0, phase: "decode"))
                    // DeepNetData's batched beam search over the engine's incremental decoder (cached keys/values:
                    // one position per step), fairseq semantics: lenpen on Σ log p, max length a·|src|+b.
                    let search = RunAdmission.searchOptions(c, model: model.config)
                    // Sources longer than the model accepts are cut (counted in the metrics and the report), not a crash.
                    let (sources, cut) = RunAdmission.decodableSources(data.testSources, model: model.config)
                    record.metrics.testSentencesTruncated = cut
                    if cut > 0 { log("\(cut) test source(s) longer than \(RunAdmission.decoderSourceLimit(model.config)) tokens truncated for decoding") }
                    let decodeStart = Date()
                    let hyps = try Translator.translate(model: model, sources: sources, options: search,
                                                        greedy: c.decode.beam == 1).map(\.tokensWithoutEOS)
                    record.metrics.decodeSeconds = Date().timeIntervalSince(decodeStart)
                    let texts = hyps.map { data.detokenize($0) }
                    let opts = c.decode.bleuTokenize == "none" ? BLEUOptions.tokenizedNoSmoothing : BLEUOptions()
                    let score = try SacreBLEU(opts).corpusScore(hypotheses: texts, references: [data.testReferences])
                    record.metrics.bleu = score.score
                    record.metrics.bleuSignature = "nrefs:1|case:mixed|eff:no|tok:\(c.decode.bleuTokenize)|smooth:\(opts.smoothing.rawValue)|version:\(SacreBLEU.version)|decode:\(c.decode.beam == 1 ? "greedy" : "beam\(c.decode.beam)")"
                    record.hypotheses = texts
                    log(String(format: "BLEU %.2f on %d sentences (%@); decoding %.1f s, %.1f sentences/s", score.score, texts.count,
                               record.metrics.bleuSignature!, record.metrics.decodeSeconds!, Double(texts.count) / max(1e-9, record.metrics.decodeSeconds!)))
                }
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
        record.metrics.wallSeconds = priorWall + Date().timeIntervalSince(t0)
        record.metrics.peakRSSBytes = MemoryBudget.peakRSS()
        prov.endTime = Provenance.now()
        record.provenance = prov
        try store.write(record)
        try? FileManager.default.removeItem(at: work)
        log("finished: \(record.status.rawValue) in \(String(format: "%.1f", record.metrics.wallSeconds)) s")
        return record
    }
}
