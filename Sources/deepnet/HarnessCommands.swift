// Harness commands: list, run, report, train (and the hidden worker entry point run-one).
import ArgumentParser
import DeepNetData
import DeepNetEngine
import DeepNetHarness
import Experiments
import Foundation
#if canImport(Glibc)
import Glibc
#endif

let harnessCommands: [ParsableCommand.Type] = [
    HarnessList.self, HarnessRun.self, HarnessReport.self, HarnessTrain.self, CompareResults.self, HarnessStatus.self, HarnessRunOne.self,
    Calibrate.self,
]

extension Profile: ExpressibleByArgument {}

func registryOrExit() throws -> ExperimentRegistry {
    do { return try experimentRegistry() } catch { throw ValidationError("\(error)") }
}

func lookup(_ ids: [String], all: Bool, registry: ExperimentRegistry) throws -> [Experiment] {
    if all { return registry.experiments }
    if ids.isEmpty { throw ValidationError("give an experiment id or --all; known experiments: \(registry.ids.joined(separator: ", "))") }
    return try ids.map { id in
        do { return try registry.experiment(id) } catch { throw ValidationError("\(error)") }
    }
}

func defaultResults(_ profile: Profile) -> URL { URL(fileURLWithPath: "results").appendingPathComponent(profile.rawValue) }

func selfExecutable() -> URL {
    if let p = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") { return URL(fileURLWithPath: p) }
    return URL(fileURLWithPath: CommandLine.arguments[0])
}

struct HarnessList: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List the experiments (one per table/figure of the paper).")

    @Option(help: "Show the number of runs at this profile.") var profile: Profile = .reduced

    func run() throws {
        let reg = try registryOrExit()
        let env = HarnessEnvironment(dataRoot: nil, fingerprint: { s, _ in "list:" + s.dataset.rawValue })
        print("id        paper         runs  est.time  title")
        for e in reg.experiments {
            let runs = (try? Expansion.expand(e, profile: profile, environment: env)) ?? []
            var seen = Set<String>(), secs = 0.0
            for r in runs where seen.insert(r.runID).inserted { secs += CostModel.estimate(r.config).seconds }
            let n = e.plan(profile).notRunReason == nil ? "\(seen.count)" : "—"
            let t = e.plan(profile).notRunReason == nil ? CostModel.duration(secs) : "n/a"
            print("\(e.id.padding(toLength: 9, withPad: " ", startingAt: 0)) \(e.artifact.description.padding(toLength: 13, withPad: " ", startingAt: 0)) \(n.padding(toLength: 5, withPad: " ", startingAt: 0)) \(t.padding(toLength: 9, withPad: " ", startingAt: 0)) \(e.title)")
        }
        print("\nprofile \(profile.rawValue); estimated times: \(CostModel.calibrationNote).")
    }
}

struct HarnessRun: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "run", abstract: "Run an experiment's runs at a profile (finished runs are never recomputed).")

    @Argument(help: "Experiment ids (see `deepnet list`).") var ids: [String] = []
    @Flag(help: "Run every experiment.") var all = false
    @Option(help: "smoke (CI, synthetic, seconds), reduced (this project's reproduction), paper (the paper's configuration).") var profile: Profile = .reduced
    // Default: one single-threaded worker per core. Measured 2026-12-01 on 2 cores (two runs each, sequential at
    // 2 engine threads vs side by side at 1): 64-128-2 6L-6L 92.6 s vs 69.5 s, 128-512-4 6L-6L 120.2 s vs 103.5 s,
    // the smoke table1 sweep 18.4 s vs 6.7 s. The stored numbers do not depend on it (GEMM.swift).
    @Option(name: [.customShort("j"), .customLong("jobs")], help: "Independent runs in parallel worker processes (1...64; default: one per core, each on one engine thread).") var jobs = max(1, min(64, ProcessInfo.processInfo.activeProcessorCount))
    @Flag(help: "Print the plan (parameters, tokens, 6·N·D FLOPs, estimated time) without running.") var dryRun = false
    @Option(help: "Results folder (default results/<profile>).") var results: String?
    @Flag(help: "Refuse instead of waiting when another runner holds the results folder.") var noWait = false
    @Flag(help: "Run in this process instead of worker processes (no crash isolation).") var inProcess = false
    @Option(help: "local: worker processes on this machine; slurm: one Slurm job array, one task per run (SlurmCommands.swift).") var executor: ExecutorKind = .local
    @Flag(help: "Keep every trained model: <results>/models/<run id>.h5, the engine's HDF5 checkpoint with the run's vocabulary (about 4 bytes per parameter plus the vocabulary: ≈ 4 MB for a 64-128-2 6L-6L model with an 8k vocabulary, ≈ 190 MB for 512-2048-8 6L-6L). Runs that are already finished are not retrained for it. Does not change run ids.") var keepModels = false
    @Flag(help: "With --keep-models: also keep each run's lowest-validation-loss model as <run id>.best.h5.") var saveBest = false
    @Option(help: ArgumentHelp("Wall-clock budget, e.g. 2.5h, 90m, 1h30m, 600s: no run starts in its last 2 minutes, and when it is used every running run checkpoints and stops; the same command later resumes them exactly.", valueName: "duration")) var budget: WallClockBudget?
    @OptionGroup(title: "Slurm (--executor slurm)") var slurm: SlurmFlags

    func validate() throws {
        guard (1...64).contains(jobs) else { throw ValidationError("invalid value \(jobs) for '--jobs': allowed 1...64") }
        if budget != nil && executor == .slurm { throw ValidationError("--budget is for the local executor; with --executor slurm use --time") }
        try requireNonEmptyPath(results, flag: "results")
        if saveBest && !keepModels { throw ValidationError("--save-best needs --keep-models") }
        try slurm.validate(executor: executor)
    }

    func run() throws {
        let reg = try registryOrExit()
        let exps = try lookup(ids, all: all, registry: reg)
        let store = ResultStore(root: results.map { URL(fileURLWithPath: $0) } ?? defaultResults(profile))
        // Estimates (dry run, progress) from the folder's own calibration when `deepnet calibrate --write` made one.
        try CostModel.useCalibration(storedIn: store.root)
        var opts = RunnerOptions()
        opts.jobs = jobs
        opts.worker = inProcess ? .inProcess : .subprocess(selfExecutable())
        opts.lockMode = noWait ? .fail : .wait
        opts.deadline = budget.map { Date().addingTimeInterval($0.seconds) }
        opts.keepModels = keepModels
        opts.keepBestModels = saveBest
        let runner = Runner(store: store, environment: .fromProcess(), options: opts)
        if dryRun {
            print(try runner.dryRun(exps, profile: profile), terminator: "")
            if executor == .slurm { print(try slurmDryRunSummary(runner, exps), terminator: "") }
            return
        }
        do {
            if executor == .slurm { try runOnSlurm(exps, store: ResultStore(root: absolutePath(store.root.path)), options: opts); return }
            let s = try runner.run(exps, profile: profile)
            FileHandle.standardError.write(Data("\(s)\n".utf8))
            if s.failed > 0 || s.refused > 0 { throw ExitCode(1) }
        } catch let e as ResultsLock.Busy {
            // A busy folder (--no-wait) is not a mistake in the command line: no usage text.
            throw PlainError(e.description)
        } catch let e as ExpansionError {
            throw PlainError(e.description)
        }
    }
}

struct HarnessRunOne: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "run-one", abstract: "Worker: execute one run from a spec file.", shouldDisplay: false)
    @Argument(help: "Path of the run spec (JSON).") var spec: String

    func run() throws {
        if SlurmTask.isTask { try runSlurmTask(specPath: spec); return }
        // The local runner's budget (`deepnet run --budget`) stops workers with SIGUSR1: checkpoint, then exit.
        StopRequest.install()
        let data = try Data(contentsOf: URL(fileURLWithPath: spec))
        let s = try JSONValue.parse(data).decode(RunSpec.self)
        setvbuf(stdout, nil, _IOLBF, 0)
        let rec: RunRecord
        do {
            rec = try RunExecutor(spec: s) { ev in print(ev.line); fflush(stdout) }.run()
        } catch let e as AdmissionError {
            // Told to the runner on stdout (it records no failed run); the log file gets it on stderr.
            print(RunExecutor.refusedPrefix + "\(e)"); fflush(stdout)
            FileHandle.standardError.write(Data("run \(s.runID) refused: \(e)\n".utf8))
            throw ExitCode(admissionExitCode)
        } catch is RunExecutor.Interrupted {
            FileHandle.standardError.write(Data("run \(s.runID) stopped at a checkpoint on request (signal \(StopRequest.receivedSignal ?? 0)); the next `deepnet run` resumes it\n".utf8))
            throw ExitCode(budgetStopExitCode)
        }
        if rec.status == .failed { FileHandle.standardError.write(Data("run \(s.runID) failed: \(rec.message ?? "")\n".utf8)) }
    }
}

struct HarnessReport: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "report", abstract: "Render reports/<id>.md (and SVG figures) from results only.")

    @Argument(help: "Experiment ids.") var ids: [String] = []
    @Flag(help: "Every experiment, plus the README index.") var all = false
    @Option(help: "Profile whose default results folder to read (results/<profile>).") var profile: Profile = .reduced
    @Option(help: "Results folder (default results/<profile>).") var results: String?
    @Option(help: "Output folder (default reports).") var out: String = "reports"

    func validate() throws {
        try requireNonEmptyPath(results, flag: "results")
        try requireNonEmptyPath(out, flag: "out")
    }

    func run() throws {
        let reg = try registryOrExit()
        let exps = try lookup(ids, all: all, registry: reg)
        let store = ResultStore(root: results.map { URL(fileURLWithPath: $0) } ?? defaultResults(profile))
        // A mistyped or absent results folder would otherwise render every report as "not run" over the
        // committed ones.
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: store.root.path, isDirectory: &isDir), isDir.boolValue else {
            throw PlainError("results folder '\(store.root.relativePath)' does not exist\(FileManager.default.fileExists(atPath: store.root.path) ? " as a folder" : ""); nothing was written (run `deepnet run` first, or pass --results)")
        }
        let outDir = URL(fileURLWithPath: out)
        StaleTempFiles.remove(in: [outDir, outDir.appendingPathComponent("figures")])
        // Every experiment is loaded before anything is written: a corrupt index fails the command with reports/
        // untouched rather than half-updated.
        var loaded: [ExperimentResults] = []
        let env = HarnessEnvironment.fromProcess()
        for e in exps {
            let (r, rebuilt) = try store.load(e, rebuildingMissingIndexAt: profile, environment: env)
            if rebuilt {
                FileHandle.standardError.write(Data("note: \(store.indexFile(e.id).relativePath) is missing; rebuilt in memory from the \(profile.rawValue) plan and the result files in \(store.runsDir.relativePath) (`deepnet run \(e.id)` writes it again without recomputing finished runs)\n".utf8))
            }
            loaded.append(r)
        }
        var reports: [RenderedReport] = []
        for r in loaded {
            let rep = ReportRenderer.render(r)
            try ReportWriter.write(rep, to: outDir)
            reports.append(rep)
            print("\(outDir.appendingPathComponent("\(r.experiment.id).md").relativePath): \(ReportRenderer.overallStatus(rep.verdicts)) (\(r.hasAny ? r.progressText : "no results"))")
        }
        if all {
            let idx = ReportRenderer.index(reports, experiments: exps, results: loaded)
            try AtomicFile.write(Data(idx.utf8), to: outDir.appendingPathComponent("README.md"))
            print("\(outDir.appendingPathComponent("README.md").relativePath): index of \(exps.count) experiments")
        }
    }
}

struct HarnessTrain: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "train", abstract: "One ad-hoc training run through the harness executor (prints BLEU, writes hypotheses).")

    @Option(help: "Method (engine registry name).") var method = "deepnorm"
    @Option(help: "Task: translation, causal-lm, masked-lm.") var task = "translation"
    @Option(help: "Encoder layers.") var encoderLayers = 6
    @Option(help: "Decoder layers.") var decoderLayers = 6
    @Option(help: "Hidden size.") var embedDim = 64
    @Option(help: "FFN size.") var ffnDim = 128
    @Option(help: "Attention heads.") var heads = 2
    @Option(help: "Vocabulary size (BPE target).") var vocab = 1000
    @Option(help: ArgumentHelp("Data set (DeepNetData registry name: \(DataSetRegistry.specs.map(\.name.rawValue).joined(separator: ", ")); `deepnet data list`).")) var dataset = "synthetic"
    @Option(help: "Source language.") var src = "src"
    @Option(help: "Target language.") var tgt = "tgt"
    @Option(help: "Peak learning rate.", transform: finiteDouble) var lr: Double = 1e-3
    @Option(help: "Warm-up updates.") var warmup = 100
    @Option(help: "Target tokens per step.") var batchTokens = 1024
    @Option(help: "Training steps.") var steps = 200
    @Option(help: "Validation every N steps.") var evalEvery = 50
    @Option(help: "Beam size (1 = greedy, 0 = no BLEU).") var beam = 1
    @Option(help: "Test sentences to decode (0 = all).") var evalSentences = 100
    @Option(help: "Length penalty (fairseq --lenpen).", transform: finiteDouble) var lenpen: Double = 0.6
    @Option(help: "Label smoothing.", transform: finiteDouble) var labelSmoothing: Double = 0.1
    @Option(help: "Dropout.", transform: finiteDouble) var dropout: Double = 0.0
    @Option(help: "Seed.") var seed = 1
    @Option(help: "Results folder for this run.") var results = "results/scratch"
    @Option(help: "Write the decoded hypotheses here.") var hypotheses: String?
    @Option(help: "Write the final model here (HDF5 checkpoint with the run's vocabulary and provenance; about 4 bytes per parameter, written atomically). `deepnet translate --model PATH` uses it.") var saveModel: String?
    @Flag(help: "With --save-model: also write the lowest-validation-loss model, as PATH with .best before the extension.") var saveBest = false

    func validate() throws {
        try requireNonEmptyPath(results, flag: "results")
        try requireNonEmptyPath(hypotheses, flag: "hypotheses")
        try requireNonEmptyPath(saveModel, flag: "save-model")
        if saveBest && saveModel == nil { throw ValidationError("--save-best needs --save-model PATH") }
    }

    func run() throws {
        var c = RunConfig()
        let t: TrainingTask
        do { t = try TrainingTask(parsing: task, what: "--task") } catch { throw ValidationError("\(error)") }
        c.task = t
        c.model = ModelConfig(architecture: t == .translation ? .encoderDecoder : t == .causalLM ? .decoderOnly : .encoderOnly,
                              encoderLayers: encoderLayers, decoderLayers: decoderLayers, embedDim: embedDim, ffnDim: ffnDim,
                              heads: heads, vocabSize: vocab, shareAllEmbeddings: t == .translation,
                              shareDecoderInputOutputEmbed: t != .translation, dropout: dropout, labelSmoothing: labelSmoothing, method: method)
        c.data.dataset = try DataSetName(parsing: dataset); c.data.sourceLanguage = src; c.data.targetLanguage = tgt; c.data.evalSentences = evalSentences
        c.optimizer.lr = lr; c.optimizer.warmupUpdates = warmup
        c.training.batchTokens = batchTokens; c.training.steps = steps; c.training.evalEvery = evalEvery; c.training.seed = seed
        c.training.checkpointEvery = max(50, steps / 4)
        c.decode.beam = beam; c.decode.lengthPenalty = lenpen
        // Score as the data registry declares for this data set (iwslt14-mini: tokenized BLEU on its lower-cased,
        // Moses-tokenized references), as the experiments do; sacreBLEU 13a would score different text.
        c.decode.bleuTokenize = DataGlue.bleuTokenize(for: c.data.dataset)
        do { try c.validate() } catch { throw ValidationError("\(error)") }
        let env = HarnessEnvironment.fromProcess()
        let fp = try env.fingerprint(c.data, env.dataRoot)
        let id = RunIdentity.compute(config: c, dataFingerprint: fp)
        let store = ResultStore(root: URL(fileURLWithPath: results))
        let git = Provenance.git()
        var spec = RunSpec(runID: id, label: "train \(method) \(c.depthLabel)", config: c, dataFingerprint: fp,
                           resultsRoot: store.root.path, dataRoot: env.dataRoot?.path,
                           gitCommit: git.0, gitDirty: git.1)
        if let m = saveModel {
            guard t == .translation else { throw ValidationError("--save-model keeps translation models only (--task translation)") }
            // A finished run is returned from its result file without training, so there would be no model to keep.
            if let done = try? store.read(id), done.status != .failed, done.config == c {
                throw PlainError("run \(id.prefix(12)) is already finished in \(store.root.relativePath) (\(store.runFile(id).relativePath)), so it would not be trained again and no model would be written; remove that result file or pass another --results")
            }
            let path = URL(fileURLWithPath: m).standardizedFileURL.path
            spec.models = ModelOutput(final: path, best: saveBest ? ModelOutput.bestPath(for: path) : nil)
        }
        let tty = isatty(2) == 1
        var lastPrinted = 0
        let rec: RunRecord
        do { rec = try RunExecutor(spec: spec) { ev in
            if ev.phase != "train" || ev.step - lastPrinted >= max(1, ev.total / 20) || ev.step == ev.total {
                lastPrinted = ev.step
                let line = "step \(ev.step)/\(ev.total) loss \(String(format: "%.4f", ev.loss)) [\(ev.phase)]"
                FileHandle.standardError.write(Data((tty ? "\r\u{1B}[2K" + line : line + "\n").utf8))
            }
        }.run() } catch let e as AdmissionError {
            if tty { FileHandle.standardError.write(Data("\n".utf8)) }
            FileHandle.standardError.write(Data("error: \(e)\n".utf8))
            throw ExitCode(admissionExitCode)
        }
        if tty { FileHandle.standardError.write(Data("\n".utf8)) }
        print("run \(id.prefix(12)): \(rec.status.rawValue)" + (rec.divergedAtStep.map { " at step \($0)" } ?? "") + (rec.message.map { " (\($0))" } ?? ""))
        if let v = rec.metrics.validLoss { print(String(format: "valid nll %.4f (ppl %.2f)", v, exp(v))) }
        if let b = rec.metrics.bleu { print(String(format: "BLEU %.2f  %@", b, rec.metrics.bleuSignature ?? "")) }
        if let s = rec.metrics.decodeSeconds, !rec.hypotheses.isEmpty {
            print(String(format: "decoding: %d sentences in %.1f s (%.1f sentences/s, beam %d)", rec.hypotheses.count, s,
                         Double(rec.hypotheses.count) / max(1e-9, s), c.decode.beam))
        }
        if let est = rec.metrics.memoryEstimateBytes, let peak = rec.metrics.peakRSSBytes {
            print(String(format: "memory: estimated peak %@, measured peak RSS %@ (VmHWM; estimate/measured %.2f)",
                         MemoryEstimate.format(est), MemoryEstimate.format(peak), est / peak))
        }
        if rec.metrics.testSentencesTruncated > 0 {
            print("test sentences truncated to the model's \(rec.config.model.maxPositions) positions: \(rec.metrics.testSentencesTruncated)")
        }
        print(String(format: "wall: %.1f s, %d steps, %d target tokens", rec.metrics.wallSeconds, rec.metrics.stepsCompleted, rec.metrics.trainTokens))
        if let h = hypotheses {
            try AtomicFile.write(Data((rec.hypotheses.joined(separator: "\n") + (rec.hypotheses.isEmpty ? "" : "\n")).utf8), to: URL(fileURLWithPath: h))
            print("hypotheses: \(h) (\(rec.hypotheses.count) lines)")
        }
        if let m = spec.models, rec.status == .ok {
            print("model: \(saveModel!)" + (m.best.map { " (best-validation model: \($0))" } ?? ""))
        }
        print("result: \(store.runFile(id).path)")
        if rec.status == .failed { throw ExitCode(1) }
    }
}

/// `--budget` values: a number with a unit, or several (`2.5h`, `90m`, `1h30m`, `600s`).
struct WallClockBudget: ExpressibleByArgument {
    let seconds: Double
    init?(argument: String) {
        let units: [Character: Double] = ["h": 3600, "m": 60, "s": 1]
        var total = 0.0, number = ""
        for ch in argument.lowercased() {
            if ch.isNumber || ch == "." { number.append(ch); continue }
            guard let u = units[ch], let x = Double(number), x >= 0 else { return nil }
            total += x * u
            number = ""
        }
        guard number.isEmpty, total > 0 else { return nil }
        seconds = total
    }
    static var defaultCompletionKind: CompletionKind { .default }
}
