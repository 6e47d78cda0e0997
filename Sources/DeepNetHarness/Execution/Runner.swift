// Expands experiments × profile into runs, skips finished ones (cache hit by run id), resumes interrupted ones
// from their checkpoints, and executes the rest — in this process, or in up to N worker processes
// (`deepnet run-one <spec.json>`) — with a progress display and a log file per run.
import DeepNetData
import DeepNetEngine
import Foundation
#if canImport(Glibc)
import Glibc
#endif

public enum WorkerMode: Sendable {
    /// Run in this process, one at a time (tests).
    case inProcess
    /// Re-invoke `executable run-one <spec.json>` per run (crash isolation, `-j N` parallelism).
    case subprocess(URL)
}

public struct RunnerOptions: Sendable {
    public var jobs: Int = 1
    public var worker: WorkerMode = .inProcess
    public var lockMode: ResultsLock.Mode = .wait
    /// Where progress and messages go (default: stderr).
    public var output: @Sendable (String) -> Void = { s in FileHandle.standardError.write(Data(s.utf8)) }
    public var interactive: Bool = isatty(2) == 1
    /// Wall-clock budget (`deepnet run --budget`): no run starts after `deadline − minimumStartSeconds`, and at the
    /// deadline every running worker is asked to stop (SIGUSR1): it checkpoints at its next step boundary and exits
    /// without a result, so the next `deepnet run` resumes it exactly. nil: no budget.
    public var deadline: Date?
    /// A run is not started when less than this is left of the budget (its first checkpoint would not be reached).
    public var minimumStartSeconds: Double = 120
    /// `deepnet run --keep-models`: every run that trains writes its final model to `<results>/models/<run id>.h5`
    /// (and with `keepBestModels` its best-validation model to `<run id>.best.h5`). Not part of any run's
    /// configuration: run ids do not change.
    public var keepModels = false
    public var keepBestModels = false
    public init() {}

    /// Where a run's models go under these options (nil: not kept).
    public func models(_ runID: String, _ store: ResultStore) -> ModelOutput? {
        guard keepModels else { return nil }
        return ModelOutput(final: store.modelFile(runID).path, best: keepBestModels ? store.modelFile(runID, best: true).path : nil)
    }
}

public struct RunnerSummary: Sendable, CustomStringConvertible {
    public var planned = 0
    public var unique = 0
    public var cached = 0
    public var executed = 0
    public var ok = 0
    public var diverged = 0
    public var failed = 0
    public var rerunUnusable = 0
    /// Runs not started because their estimated memory exceeds what is available (no result file is written).
    public var refused = 0
    /// Runs with no result that read data files while no data folder is set (DEEPNET_DATA): listed, not run.
    public var needData = 0
    /// Runs stopped at a checkpoint because the budget was used (no result yet; the next run resumes them).
    public var stoppedByBudget = 0
    /// Runs not started because the budget was used.
    public var notStartedByBudget = 0
    public var seconds = 0.0
    public var budgetUsed: Bool { stoppedByBudget + notStartedByBudget > 0 }
    public var description: String {
        "\(planned) runs (\(unique) distinct): \(cached) cached, \(executed) executed (\(ok) ok, \(diverged) diverged, \(failed) failed)"
            + (refused > 0 ? ", \(refused) refused (not enough memory; not started, no result file)" : "")
            + (needData > 0 ? ", \(needData) not run (they need DEEPNET_DATA)" : "")
            + (budgetUsed ? "; budget used: \(stoppedByBudget) stopped at a checkpoint, \(notStartedByBudget) not started — run the same command again to continue" : "")
            + (rerunUnusable > 0 ? ", \(rerunUnusable) unusable result file(s) re-run" : "") + String(format: " in %.1f s", seconds)
    }
}

public final class Runner {
    public let store: ResultStore
    public let environment: HarnessEnvironment
    public let options: RunnerOptions

    public init(store: ResultStore, environment: HarnessEnvironment, options: RunnerOptions = RunnerOptions()) {
        self.store = store; self.environment = environment; self.options = options
    }

    func say(_ s: String) { options.output(s + "\n") }

    /// A run that reads data files (a real data set this project has) while no data folder is set: it cannot run
    /// here, and must not fall back to other data. (The paper's corpora, which no folder has, are not counted: they
    /// fail as they always did, naming the corpus.)
    public func needsDataFolder(_ r: PlannedRun) -> Bool {
        guard environment.dataRoot == nil, let def = DataSetRegistry.standard.definition(named: r.config.data.dataset.rawValue) else { return false }
        return def.spec.needsFiles && def.load != nil
    }

    /// The message for runs that need DEEPNET_DATA: what would be computed, and how to get the data.
    public static func needDataMessage(_ runs: [PlannedRun], of unique: Int) -> String {
        var s = "\(runs.count) of \(unique) runs have no result and were not run: they need DEEPNET_DATA; `make data` fetches the corpora. Would compute:\n"
        for r in runs { s += "  \(r.experimentID) \(r.coordinates.shortLabel) on \(r.config.data.dataset): \(r.runID)\n" }
        return String(s.dropLast())
    }

    /// The runs of each experiment (empty for experiments the profile cannot run).
    /// The plans of `experiments` that can run at `profile`, each with its experiment index written (what `deepnet
    /// status` and `deepnet report` read); an experiment that cannot run is reported through `say` and left out. The
    /// local runner and the Slurm executor both start here.
    public func indexedRunnablePlans(_ experiments: [Experiment], profile: Profile,
                                     say: (String) -> Void) throws -> [(Experiment, [PlannedRun])] {
        var out: [(Experiment, [PlannedRun])] = []
        for (e, runs) in try plan(experiments, profile: profile) {
            if let why = e.plan(profile).notRunReason {
                say("\(e.id): not runnable at profile \(profile.rawValue): \(why)")
                continue
            }
            let grid = e.plan(profile).grid!
            try store.writeIndex(experiment: e.id, profile: profile, axes: grid.axes.map(\.name), base: grid.base, runs: runs)
            out.append((e, runs))
        }
        return out
    }

    public func plan(_ experiments: [Experiment], profile: Profile) throws -> [(Experiment, [PlannedRun])] {
        try experiments.map { ($0, try Expansion.expand($0, profile: profile, environment: environment)) }
    }

    /// Text of `--dry-run`: every run with parameters, tokens, 6·N·D FLOPs and estimated time on this machine.
    public func dryRun(_ experiments: [Experiment], profile: Profile) throws -> String {
        var out = ""
        var grand = 0.0, grandFLOPs = 0.0
        var seenAll = Set<String>()
        for (e, runs) in try plan(experiments, profile: profile) {
            let p = e.plan(profile)
            out += "\(e.id) — \(e.artifact): \(e.title) [\(profile.rawValue)]\n"
            if let why = p.notRunReason { out += "  not runnable: \(why)\n\n"; continue }
            for n in p.notes { out += "  note: \(n)\n" }
            var total = 0.0, flops = 0.0
            var seen = Set<String>()
            for r in runs {
                let cost = CostModel.estimate(r.config)
                let dup = !seen.insert(r.runID).inserted
                let cached = (try? store.read(r.runID)).map { $0.status != .failed } ?? false
                if !dup && !cached { total += cost.seconds }
                if !dup { flops += cost.trainFLOPs }
                if seenAll.insert(r.runID).inserted && !cached { grand += cost.seconds; grandFLOPs += cost.trainFLOPs }
                out += "  \(String(r.runID.prefix(12)))  \(r.coordinates.shortLabel.padding(toLength: 34, withPad: " ", startingAt: 0)) "
                out += "N=\(CostModel.count(Double(cost.parameters))) tokens=\(CostModel.count(cost.trainTokens)) 6ND=\(CostModel.flops(cost.trainFLOPs)) est \(CostModel.duration(cost.seconds))"
                out += dup ? "  (same run as above)" : cached ? "  [cached]" : needsDataFolder(r) ? "  [needs DEEPNET_DATA]" : ""
                out += "  data=\(r.config.data.dataset)\n"
            }
            out += "  \(runs.count) runs, \(seen.count) distinct; training FLOPs \(CostModel.flops(flops)); estimated time still to run: \(CostModel.duration(total))\n\n"
        }
        out += "Total still to run: \(CostModel.duration(grand)) (6·N·D = \(CostModel.flops(grandFLOPs)) FLOPs) "
        out += "(\(CostModel.calibrationNote)).\n"
        return out
    }

    /// Runs every missing run of `experiments` under `profile`; writes each experiment's index.
    @discardableResult
    public func run(_ experiments: [Experiment], profile: Profile) throws -> RunnerSummary {
        let t0 = Date()
        // Only the folder itself is created here: subfolders wait until a run has to execute, so that an
        // all-cached run also works on a read-only results folder.
        try FileManager.default.createDirectory(at: store.root, withIntermediateDirectories: true)
        let lock = try ResultsLock(store.lockFile, mode: options.lockMode) {
            self.say("waiting for another deepnet runner to release \(self.store.root.path) …")
        }
        defer { lock.release() }
        if !lock.readOnly { removeStaleTemporaryFiles() }
        var summary = RunnerSummary()
        let plans = try indexedRunnablePlans(experiments, profile: profile, say: say)
        var todo: [PlannedRun] = []
        var seen = Set<String>()
        // Admission at planning time (a lower bound, RunAdmission.checkPlanned): a run that cannot fit whatever its
        // data is reported as refused and never started — no result file, so nothing claims a failed run.
        func admit(_ r: PlannedRun) -> Bool {
            do { try RunAdmission.checkPlanned(r.config, runID: r.runID); return true } catch let e as AdmissionError {
                say("refused: \(e)")
                summary.refused += 1
                return false
            } catch {
                return true   // an invalid configuration is the executor's to report (as a failed run)
            }
        }
        // Without a data folder, a run on real data that has no result is listed, never run (nor replaced by
        // synthetic data); `deepnet run` still exits 0 so that `make <experiment>` goes on to the report.
        var needData: [PlannedRun] = []
        func schedule(_ r: PlannedRun) {
            if needsDataFolder(r) { needData.append(r) } else if admit(r) { todo.append(r) }
        }
        var finishedWithoutModel = 0
        for (_, runs) in plans {
            summary.planned += runs.count
            for r in runs where seen.insert(r.runID).inserted {
                summary.unique += 1
                do {
                    let rec = try store.read(r.runID)
                    if rec.status == .failed { schedule(r) } else {
                        summary.cached += 1
                        if options.keepModels && rec.status == .ok && r.config.task == .translation
                            && !FileManager.default.fileExists(atPath: store.modelFile(r.runID).path) { finishedWithoutModel += 1 }
                    }
                } catch let err as ResultStoreError {
                    if err.kind != .missing {
                        say("warning: \(err.description) — re-running")
                        summary.rerunUnusable += 1
                    }
                    schedule(r)
                }
            }
        }
        if finishedWithoutModel > 0 {
            say("note: \(finishedWithoutModel) finished run(s) have no kept model in \(store.modelsDir.path); --keep-models keeps the models of runs it trains, and finished runs are not trained again")
        }
        if !needData.isEmpty {
            summary.needData = needData.count
            say(Runner.needDataMessage(needData, of: summary.unique))
        }
        if todo.isEmpty {
            summary.seconds = Date().timeIntervalSince(t0)
            say(summary.refused > 0 || summary.needData > 0
                ? "nothing to execute: \(summary.cached) cached" + (summary.refused > 0 ? ", \(summary.refused) refused" : "") + (summary.needData > 0 ? ", \(summary.needData) need DEEPNET_DATA" : "")
                : "all \(summary.unique) runs already finished (cache hit)")
            return summary
        }
        if lock.readOnly {
            throw ResultStoreError(kind: .io, path: store.root.path,
                                   message: "results folder is not writable, but \(todo.count) of \(summary.unique) runs still have to execute")
        }
        try store.prepare()
        say("\(todo.count) of \(summary.unique) runs to execute (\(summary.cached) cached), jobs: \(options.jobs)")
        let git = Provenance.git()
        let display = ProgressDisplay(total: todo.count, estimates: todo.map { CostModel.estimate($0.config).seconds },
                                      interactive: options.interactive, output: options.output)
        switch options.worker {
        case .inProcess:
            let watchdog = options.deadline.map { BudgetWatchdog(deadline: $0) }
            defer {
                watchdog?.cancel()
                // The watchdog's stop request is this call's only: a later run in the process starts clean.
                if options.deadline != nil { StopRequest.reset() }
            }
            for (i, r) in todo.enumerated() {
                if let d = options.deadline, Date() >= d.addingTimeInterval(-options.minimumStartSeconds) {
                    summary.notStartedByBudget = todo.count - i
                    break
                }
                let spec = RunSpec(run: r, store: store, dataRoot: environment.dataRoot, git: git, models: options.models(r.runID, store))
                display.started(i, label: spec.label, id: r.runID)
                do {
                    let rec = try RunExecutor(spec: spec) { ev in display.progress(i, ev) }.run()
                    display.finished(i, record: rec)
                    count(rec, into: &summary)
                } catch let e as AdmissionError {
                    display.refused(i, message: "\(e)")
                    summary.refused += 1
                } catch is RunExecutor.Interrupted {
                    summary.stoppedByBudget += 1
                    say("\(spec.label): budget used, stopped at a checkpoint")
                }
            }
        case .subprocess(let exe):
            try runSubprocesses(todo, exe: exe, git: git, display: display, summary: &summary)
        }
        display.close()
        summary.seconds = Date().timeIntervalSince(t0)
        return summary
    }

    /// Temporary files that killed writers left in the results folder (the index folders, runs/, logs/ and each
    /// unfinished run's .work/<id>/). Called with the results lock held, before any worker starts; only files
    /// whose writer process is gone are removed, so a concurrent `deepnet train` into this folder is safe.
    func removeStaleTemporaryFiles() {
        let fm = FileManager.default
        func subdirs(_ d: URL) -> [URL] {
            ((try? fm.contentsOfDirectory(at: d, includingPropertiesForKeys: [.isDirectoryKey])) ?? [])
                .filter { (try? $0.resourceValues(forKeys: [.isDirectoryKey]).isDirectory) == true }
        }
        let dirs = [store.root] + subdirs(store.root) + subdirs(store.workDir)
        let removed = StaleTempFiles.remove(in: dirs)
        if !removed.isEmpty {
            say("removed \(removed.count) temporary file(s) left by an interrupted process: "
                + removed.map { $0.path.replacingOccurrences(of: store.root.path + "/", with: "") }.sorted().joined(separator: ", "))
        }
    }

    /// The last non-empty line of a (log) file, reading at most its last 4 KiB.
    static func lastLine(of url: URL) -> String? {
        guard let h = try? FileHandle(forReadingFrom: url) else { return nil }
        defer { try? h.close() }
        let end = (try? h.seekToEnd()) ?? 0
        try? h.seek(toOffset: end > 4096 ? end - 4096 : 0)
        let text = String(decoding: (try? h.readToEnd()) ?? Data(), as: UTF8.self)
        return text.split(separator: "\n").last { !$0.trimmingCharacters(in: .whitespaces).isEmpty }.map(String.init)
    }

    func count(_ rec: RunRecord, into s: inout RunnerSummary) {
        s.executed += 1
        switch rec.status { case .ok: s.ok += 1; case .diverged: s.diverged += 1; case .failed: s.failed += 1 }
    }

    private final class Worker {
        let index: Int
        let run: PlannedRun
        let process: Process
        let pipe: Pipe
        var buffer = Data()
        /// Set when the worker reported an admission refusal ("@@refused <message>").
        var refusal: String?
        init(index: Int, run: PlannedRun, process: Process, pipe: Pipe) { self.index = index; self.run = run; self.process = process; self.pipe = pipe }
    }

    private func runSubprocesses(_ todo: [PlannedRun], exe: URL, git: (String, Bool), display: ProgressDisplay, summary: inout RunnerSummary) throws {
        var queue = Array(todo.enumerated())
        var active: [Worker] = []
        let jobs = max(1, options.jobs)
        var env = ProcessInfo.processInfo.environment
        // Parallel workers share the cores: each gets cores/jobs engine threads. The stored numbers do not depend on
        // this (GEMM.multiply and Parallel.forRanges are thread-count invariant); only the speed does.
        if env["DEEPNET_THREADS"] == nil && jobs > 1 {
            env["DEEPNET_THREADS"] = "\(max(1, ProcessInfo.processInfo.activeProcessorCount / jobs))"
        }
        if env["OPENBLAS_NUM_THREADS"] == nil && jobs > 1 { env["OPENBLAS_NUM_THREADS"] = "1" }
        var stopSent = false
        func startAllowed() -> Bool {
            guard let d = options.deadline else { return true }
            return Date() < d.addingTimeInterval(-options.minimumStartSeconds)
        }
        while (!queue.isEmpty && startAllowed()) || !active.isEmpty {
            if let d = options.deadline, !stopSent, Date() >= d {
                // The budget is used: every worker checkpoints at its next step boundary and exits (run-one turns
                // SIGUSR1 into RunExecutor.Interrupted and exit status `budgetStopExitCode`).
                stopSent = true
                for w in active where w.process.isRunning { kill(w.process.processIdentifier, SIGUSR1) }
                say("budget used: asking \(active.count) running worker(s) to checkpoint and stop")
            }
            while active.count < jobs, !queue.isEmpty, startAllowed() {
                let (i, r) = queue.removeFirst()
                let spec = RunSpec(run: r, store: store, dataRoot: environment.dataRoot, git: git, models: options.models(r.runID, store))
                let dir = store.workDir(r.runID)
                try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
                let specURL = dir.appendingPathComponent("spec.json")
                try AtomicFile.write(Data(try JSONValue.from(spec).pretty.utf8), to: specURL)
                let p = Process()
                p.executableURL = exe
                p.arguments = ["run-one", specURL.path]
                p.environment = env
                let pipe = Pipe()
                p.standardOutput = pipe
                let logURL = store.logFile(r.runID)
                if !FileManager.default.fileExists(atPath: logURL.path) { _ = FileManager.default.createFile(atPath: logURL.path, contents: nil) }
                if let h = try? FileHandle(forWritingTo: logURL) { _ = try? h.seekToEnd(); p.standardError = h }
                try p.run()
                display.started(i, label: spec.label, id: r.runID)
                active.append(Worker(index: i, run: r, process: p, pipe: pipe))
            }
            usleep(100_000)
            for w in active {
                let avail = w.pipe.fileHandleForReading.availableDataNonBlocking()
                if !avail.isEmpty {
                    w.buffer.append(avail)
                    while let nl = w.buffer.firstIndex(of: 0x0a) {
                        let line = String(decoding: w.buffer[w.buffer.startIndex..<nl], as: UTF8.self)
                        w.buffer.removeSubrange(w.buffer.startIndex...nl)
                        if let ev = ProgressEvent.parse(line) { display.progress(w.index, ev) }
                        if line.hasPrefix(RunExecutor.refusedPrefix) { w.refusal = String(line.dropFirst(RunExecutor.refusedPrefix.count)) }
                    }
                }
            }
            var still: [Worker] = []
            for w in active {
                if w.process.isRunning { still.append(w); continue }
                let rest = String(decoding: w.buffer + w.pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
                for line in rest.split(separator: "\n") where line.hasPrefix(RunExecutor.refusedPrefix) {
                    w.refusal = String(line.dropFirst(RunExecutor.refusedPrefix.count))
                }
                if stopSent && w.process.terminationReason == .exit && w.process.terminationStatus == budgetStopExitCode {
                    // Stopped by the budget at a checkpoint: no result and no failure; the next run resumes it.
                    summary.stoppedByBudget += 1
                    say("\(w.run.runID.prefix(12)): stopped at a checkpoint (budget used)")
                } else if let why = w.refusal {
                    // Refused by the worker's admission check (after loading the data): not a failed run, no record.
                    display.refused(w.index, message: why)
                    summary.refused += 1
                } else if let rec = try? store.read(w.run.runID) {
                    display.finished(w.index, record: rec)
                    count(rec, into: &summary)
                } else {
                    // The worker died without writing a result (crash, OOM kill, a write refused by a full disk or
                    // a file-size limit): record the failure, quoting the worker's last words (its error names the
                    // file it could not write).
                    let last = Runner.lastLine(of: store.logFile(w.run.runID)).map { ": \($0)" } ?? ""
                    let rec = RunRecord(runID: w.run.runID, config: w.run.config, dataFingerprint: w.run.dataFingerprint,
                                        engineNumericsVersion: engineNumericsVersion, status: .failed,
                                        message: "worker exited with status \(w.process.terminationStatus) (\(w.process.terminationReason == .uncaughtSignal ? "signal" : "exit")) without a result\(last); see logs/\(w.run.runID).log",
                                        provenance: Provenance.collect(gitCommit: git.0, gitDirty: git.1))
                    try? store.write(rec)
                    display.finished(w.index, record: rec)
                    count(rec, into: &summary)
                }
            }
            active = still
            display.tick()
        }
        summary.notStartedByBudget += queue.count
    }
}

/// Exit status of a `run-one` worker that stopped at a checkpoint on request (SIGUSR1/SIGTERM outside Slurm).
public let budgetStopExitCode: Int32 = 75

/// In-process runs: asks the running run to stop (as SIGUSR1 would) when the budget's deadline passes.
final class BudgetWatchdog: @unchecked Sendable {
    private let item: DispatchWorkItem
    init(deadline: Date) {
        item = DispatchWorkItem { StopRequest.signalNumber = SIGUSR1 }
        DispatchQueue.global().asyncAfter(deadline: .now() + max(0, deadline.timeIntervalSinceNow), execute: item)
    }
    func cancel() { item.cancel() }
}

extension FileHandle {
    /// Reads whatever is available without blocking (empty if nothing).
    func availableDataNonBlocking() -> Data {
        let fd = fileDescriptor
        let flags = fcntl(fd, F_GETFL)
        _ = fcntl(fd, F_SETFL, flags | O_NONBLOCK)
        var out = Data()
        var buf = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = Glibc.read(fd, &buf, buf.count)
            if n <= 0 { break }
            out.append(contentsOf: buf[0..<n])
        }
        _ = fcntl(fd, F_SETFL, flags)
        return out
    }
}

/// Progress bars with ETA per run and for the whole batch (TTY), or plain lines (pipes, CI logs).
final class ProgressDisplay: @unchecked Sendable {
    let total: Int
    let estimates: [Double]
    let interactive: Bool
    let output: @Sendable (String) -> Void
    let t0 = Date()
    var startedAt: [Int: Date] = [:]
    var labels: [Int: String] = [:]
    var last: [Int: ProgressEvent] = [:]
    var lastPlain: [Int: Int] = [:]
    var done = 0
    var startedCount = 0
    var doneEstimate = 0.0, doneActual = 0.0
    var drawnLines = 0
    var lastDraw = Date.distantPast
    let lock = NSLock()

    init(total: Int, estimates: [Double], interactive: Bool, output: @escaping @Sendable (String) -> Void) {
        self.total = total; self.estimates = estimates; self.interactive = interactive; self.output = output
    }

    static func fmt(_ s: Double) -> String {
        guard s.isFinite, s >= 0 else { return "?" }
        let t = Int(s.rounded())
        if t >= 3600 { return String(format: "%dh%02dm", t / 3600, (t % 3600) / 60) }
        if t >= 60 { return String(format: "%dm%02ds", t / 60, t % 60) }
        return "\(t)s"
    }

    static func bar(_ f: Double, width: Int = 20) -> String {
        let n = Int((min(1, max(0, f)) * Double(width)).rounded())
        return String(repeating: "█", count: n) + String(repeating: "░", count: width - n)
    }

    func started(_ i: Int, label: String, id: String) {
        lock.lock(); defer { lock.unlock() }
        startedAt[i] = Date(); labels[i] = label
        startedCount += 1
        if !interactive { output("start \(startedCount)/\(total): \(label) (\(id.prefix(12)))\n") }
        redraw(force: true)
    }

    func progress(_ i: Int, _ ev: ProgressEvent) {
        lock.lock(); defer { lock.unlock() }
        last[i] = ev
        if !interactive {
            let q = ev.total > 0 ? ev.step * 4 / ev.total : 0
            if q > (lastPlain[i] ?? 0) && q < 4 {
                lastPlain[i] = q
                output("  \(labels[i] ?? "") \(q * 25)% step \(ev.step)/\(ev.total) loss \(String(format: "%.3f", ev.loss))\n")
            }
        }
        redraw(force: false)
    }

    func finished(_ i: Int, record: RunRecord) {
        lock.lock(); defer { lock.unlock() }
        done += 1
        doneEstimate += estimates[i]
        doneActual += record.metrics.wallSeconds
        var what = record.status.rawValue
        if let s = record.divergedAtStep { what += " at step \(s)" }
        if let b = record.metrics.bleu { what += String(format: ", BLEU %.2f", b) }
        if let v = record.metrics.validLoss { what += String(format: ", valid nll %.3f", v) }
        if record.status == .failed, let m = record.message { what += ": \(m)" }
        let line = "[\(done)/\(total)] \(labels[i] ?? "") — \(what) (\(ProgressDisplay.fmt(record.metrics.wallSeconds)))\n"
        startedAt[i] = nil; last[i] = nil; lastPlain[i] = nil
        if interactive { clear(); output(line); redraw(force: true) } else { output(line) }
    }

    func refused(_ i: Int, message: String) {
        lock.lock(); defer { lock.unlock() }
        done += 1
        let line = "[\(done)/\(total)] \(labels[i] ?? "") — refused: \(message)\n"
        startedAt[i] = nil; last[i] = nil; lastPlain[i] = nil
        if interactive { clear(); output(line); redraw(force: true) } else { output(line) }
    }

    func tick() { lock.lock(); redraw(force: false); lock.unlock() }

    private func clear() {
        if drawnLines > 0 { output(String(repeating: "\u{1B}[1A\u{1B}[2K", count: drawnLines)); drawnLines = 0 }
    }

    private func redraw(force: Bool) {
        guard interactive else { return }
        if !force && Date().timeIntervalSince(lastDraw) < 0.25 { return }
        lastDraw = Date()
        clear()
        var lines: [String] = []
        let speed = doneEstimate > 0 ? doneActual / doneEstimate : 1
        var remaining = 0.0
        for (i, st) in startedAt.sorted(by: { $0.key < $1.key }) {
            let ev = last[i]
            let f = ev.map { Double($0.step) / Double(max(1, $0.total)) } ?? 0
            let el = Date().timeIntervalSince(st)
            let eta = f > 0.01 ? el / f - el : estimates[i] * speed
            remaining += eta
            let phase = ev.map { $0.phase == "train" ? "step \($0.step)/\($0.total) loss \(String(format: "%.3f", $0.loss))" : $0.phase } ?? "starting"
            lines.append("  \(ProgressDisplay.bar(f)) \(String(format: "%3.0f%%", f * 100)) \(labels[i] ?? "") · \(phase) · ETA \(ProgressDisplay.fmt(eta))")
        }
        let pending = total - done - startedAt.count
        if pending > 0 {
            let rest = estimates.indices.filter { startedAt[$0] == nil }.suffix(pending).map { estimates[$0] }.reduce(0, +)
            remaining += rest * speed
        }
        let frac = Double(done) / Double(max(1, total))
        lines.append("\(ProgressDisplay.bar(frac, width: 30)) \(done)/\(total) runs · elapsed \(ProgressDisplay.fmt(Date().timeIntervalSince(t0))) · ETA \(ProgressDisplay.fmt(remaining / Double(max(1, startedAt.count))))")
        output(lines.joined(separator: "\n") + "\n")
        drawnLines = lines.count
    }

    func close() {
        lock.lock(); defer { lock.unlock() }
        clear()
    }
}
