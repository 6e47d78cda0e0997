// `deepnet run --executor slurm`: submits the runs that are not finished — and not already queued or running — as
// ONE Slurm job array (one task per run, each the local runner's worker `deepnet run-one <spec.json>`), and with
// `--wait` watches the array with the runner's progress display until every task is done. Slurm does the
// scheduling; this file only submits, watches and records.
import DeepNetEngine
import Foundation
#if canImport(Glibc)
import Glibc
#endif

public struct SlurmError: Error, CustomStringConvertible {
    public var description: String
    public init(_ d: String) { description = d }
}

/// Slurm's client commands, looked up on PATH (a test puts a fake `sbatch` first on PATH).
public struct SlurmTools: Sendable {
    public var searchPath: String

    public init(searchPath: String = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin") { self.searchPath = searchPath }

    public func locate(_ name: String) -> URL? {
        for dir in searchPath.split(separator: ":") where !dir.isEmpty {
            let p = URL(fileURLWithPath: String(dir)).appendingPathComponent(name)
            if access(p.path, X_OK) == 0 { return p }
        }
        return nil
    }

    /// The error for a missing client command, naming what to install and the alternative.
    public func require(_ name: String) throws -> URL {
        if let u = locate(name) { return u }
        throw SlurmError("`\(name)` not found on PATH (\(searchPath)): --executor slurm submits with Slurm's client commands "
                         + "(sbatch, squeue, scontrol). Run it on a login node of a Slurm cluster (`module load slurm` on some "
                         + "clusters), install them (Debian/Ubuntu: apt-get install slurm-client), or run locally with --executor local.")
    }

    /// Runs a command and returns (status, stdout, stderr).
    public static func run(_ exe: URL, _ args: [String]) throws -> (status: Int32, out: String, err: String) {
        let p = Process()
        p.executableURL = exe
        p.arguments = args
        let o = Pipe(), e = Pipe()
        p.standardOutput = o; p.standardError = e
        try p.run()
        // Read both pipes to the end before waiting: a full pipe would block the child.
        final class Box: @unchecked Sendable { var data = Data() }
        let err = Box()
        let group = DispatchGroup()
        group.enter()
        DispatchQueue.global().async { err.data = e.fileHandleForReading.readDataToEndOfFile(); group.leave() }
        let out = o.fileHandleForReading.readDataToEndOfFile()
        group.wait()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: out, as: UTF8.self), String(decoding: err.data, as: UTF8.self))
    }

    /// "JobState=FAILED Reason=NonZeroExitCode ExitCode=0:9" for a task Slurm still remembers (MinJobAge), else nil.
    public func finalState(_ task: String) -> String? {
        guard let scontrol = locate("scontrol"), let r = try? SlurmTools.run(scontrol, ["show", "job", task]), r.status == 0 else { return nil }
        let words = r.out.split(whereSeparator: { $0 == " " || $0 == "\n" })
        let keep = words.filter { $0.hasPrefix("JobState=") || $0.hasPrefix("Reason=") || $0.hasPrefix("ExitCode=") }
        return keep.isEmpty ? nil : keep.joined(separator: " ")
    }

    /// The caller's tasks in the queue (`squeue -h -r -u <user>`, array tasks one per line).
    public func queue() throws -> SlurmQueue {
        let squeue = try require("squeue")
        let user = String(cString: getpwuid(getuid())?.pointee.pw_name ?? strdup("root"))
        let r = try SlurmTools.run(squeue, ["-h", "-r", "-u", user, "-o", "%i|%T|%r|%N"])
        guard r.status == 0 else {
            throw SlurmError("squeue failed (exit \(r.status)), so which runs are queued or running is unknown:\n\(r.err.trimmingCharacters(in: .whitespacesAndNewlines))")
        }
        return SlurmQueue.parse(r.out)
    }
}

/// What one submission did.
public struct SlurmSubmission: Sendable {
    public var jobID: String?
    public var script: URL?
    /// The array's tasks in order: task i runs `tasks[i]`.
    public var tasks: [PlannedRun] = []
    public var unique = 0
    public var cached = 0
    /// Runs skipped because a live Slurm task or a running worker already has them.
    public var alreadyTaken: [(run: PlannedRun, by: String)] = []
    public var refused = 0
    /// Runs with no result on real data while DEEPNET_DATA is unset: listed, not submitted.
    public var needData = 0
    /// (inode, mtime) of result files that existed at submission (failed records about to be re-run), so that the
    /// watcher recognises a new result.
    var previousResults: [String: String] = [:]
    public var submittedAt = Date()
}

public final class SlurmExecutor {
    public let store: ResultStore
    public let environment: HarnessEnvironment
    public let job: SlurmJobOptions
    public let options: RunnerOptions
    public let tools: SlurmTools
    /// The `deepnet` executable the tasks run (it must be on storage every node sees, like the results).
    public let executable: URL
    /// Seconds between squeue polls while waiting.
    public var pollSeconds = 2.0

    public init(store: ResultStore, environment: HarnessEnvironment, job: SlurmJobOptions, options: RunnerOptions,
                executable: URL, tools: SlurmTools = SlurmTools()) {
        self.store = store; self.environment = environment; self.job = job; self.options = options
        self.executable = executable; self.tools = tools
    }

    func say(_ s: String) { options.output(s + "\n") }

    static func fileStamp(_ url: URL) -> String? {
        var st = stat()
        guard stat(url.path, &st) == 0 else { return nil }
        return "\(st.st_ino):\(st.st_mtim.tv_sec).\(st.st_mtim.tv_nsec)"
    }

    /// Submits one job array for every run of `experiments` that is not finished and not taken. Writes each
    /// experiment's index (as the local runner does) so that `deepnet status` and `deepnet report` see the plan.
    public func submit(_ experiments: [Experiment], profile: Profile) throws -> SlurmSubmission {
        let sbatch = try tools.require("sbatch")   // before anything is written
        try FileManager.default.createDirectory(at: store.root, withIntermediateDirectories: true)
        // The results lock serialises submitters (and a local runner) on this folder: two submissions at once
        // would both see a run as free and submit it twice.
        let lock = try ResultsLock(store.lockFile, mode: options.lockMode) {
            self.say("waiting for another deepnet runner to release \(self.store.root.path) …")
        }
        defer { lock.release() }
        if lock.readOnly { throw ResultStoreError(kind: .io, path: store.root.path, message: "results folder is not writable") }
        var sub = SlurmSubmission()
        var candidates: [PlannedRun] = []
        var seen = Set<String>()
        let planner = Runner(store: store, environment: environment)
        let plans = try planner.indexedRunnablePlans(experiments, profile: profile, say: say)
        var needData: [PlannedRun] = []
        for (_, runs) in plans {
            for r in runs where seen.insert(r.runID).inserted {
                sub.unique += 1
                // Same rule as the local runner: ok/diverged results are final, failed ones and unreadable files are
                // re-run; runs on real data wait for DEEPNET_DATA.
                if let rec = try? store.read(r.runID), rec.status != .failed { sub.cached += 1; continue }
                if planner.needsDataFolder(r) { needData.append(r); continue }
                do { try RunAdmission.checkPlanned(r.config, runID: r.runID) } catch let e as AdmissionError {
                    say("refused: \(e)"); sub.refused += 1; continue
                } catch {}
                candidates.append(r)
            }
        }
        if !needData.isEmpty { sub.needData = needData.count; say(Runner.needDataMessage(needData, of: sub.unique)) }
        // Taken: a live claim (queued or running in Slurm), or the executor lock held (a worker runs it right now —
        // a local runner, or a task whose claim was lost).
        let claimed = candidates.compactMap { r in RunLocks.readClaim(store, r.runID).map { (r, $0) } }
        let queue = claimed.isEmpty ? nil : try tools.queue()
        var todo: [PlannedRun] = []
        for r in candidates {
            if let c = RunLocks.readClaim(store, r.runID), let q = queue, q.isLive(c) {
                sub.alreadyTaken.append((r, "Slurm task \(c.taskName) (\(q.state(c)!.state.lowercased()))"))
            } else if let pid = RunLocks.executingPID(store, r.runID) {
                sub.alreadyTaken.append((r, "a worker (pid \(pid)) executing it now"))
            } else {
                todo.append(r)
            }
        }
        for (r, by) in sub.alreadyTaken { say("skipped \(r.experimentID) \(r.coordinates.shortLabel) (\(r.runID.prefix(12))): taken by \(by)") }
        guard !todo.isEmpty else {
            say("nothing to submit: \(sub.unique) runs, \(sub.cached) finished, \(sub.alreadyTaken.count) queued or running"
                + (sub.refused > 0 ? ", \(sub.refused) refused" : "") + (sub.needData > 0 ? ", \(sub.needData) need DEEPNET_DATA" : ""))
            return sub
        }
        try store.prepare()
        let slurmDir = RunLocks.slurmDir(store)
        try FileManager.default.createDirectory(at: slurmDir, withIntermediateDirectories: true)
        let git = Provenance.git()
        var specPaths: [String] = [], labels: [String] = []
        for r in todo {
            let spec = RunSpec(run: r, store: store, dataRoot: environment.dataRoot, git: git, models: options.models(r.runID, store))
            let dir = store.workDir(r.runID)
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
            let url = dir.appendingPathComponent("spec.json")
            try AtomicFile.write(Data(try JSONValue.from(spec).pretty.utf8), to: url)
            specPaths.append(url.path); labels.append("\(spec.label) (\(r.runID.prefix(12)))")
            if let stamp = SlurmExecutor.fileStamp(store.runFile(r.runID)) { sub.previousResults[r.runID] = stamp }
        }
        var o = job
        if o.jobName == "deepnet" { o.jobName = "deepnet-" + experiments.map(\.id).prefix(3).joined(separator: "-") + (experiments.count > 3 ? "-etc" : "") }
        let text = SlurmBatchScript.render(specs: specPaths, labels: labels, options: o, executable: executable.path,
                                           slurmDir: slurmDir.path, resultsDir: store.root.path)
        // The job id is known only after sbatch: the script is written under a submission name, submitted, then
        // renamed to <job id>.sh (Slurm keeps its own copy, so the rename does not affect the job).
        let pending = slurmDir.appendingPathComponent("submitting-\(getpid()).sh")
        try AtomicFile.write(Data(text.utf8), to: pending)
        let r = try SlurmTools.run(sbatch, ["--parsable", pending.path])
        let jobID = r.out.split(separator: "\n").last.map { String($0.split(separator: ";")[0]).trimmingCharacters(in: .whitespaces) } ?? ""
        guard r.status == 0, !jobID.isEmpty, jobID.allSatisfy(\.isNumber) else {
            try? FileManager.default.removeItem(at: pending)
            let said = (r.err + r.out).trimmingCharacters(in: .whitespacesAndNewlines)
            throw SlurmError("sbatch rejected the job array (exit \(r.status)); nothing was submitted:\n\(said.isEmpty ? "(sbatch printed nothing)" : said)")
        }
        let script = slurmDir.appendingPathComponent("\(jobID).sh")
        if rename(pending.path, script.path) != 0 {
            say("warning: could not rename \(pending.path) to \(script.lastPathComponent): \(String(cString: strerror(errno)))")
        }
        let host = ProcessInfo.processInfo.hostName
        let now = Provenance.now()
        for (i, r) in todo.enumerated() {
            try RunLocks.writeClaim(store, SlurmClaim(runID: r.runID, jobID: jobID, task: i, label: labels[i], submittedAt: now, submitHost: host))
        }
        sub.jobID = jobID
        sub.script = script
        sub.tasks = todo
        say("submitted job array \(jobID) (\(todo.count) task\(todo.count == 1 ? "" : "s"); \(sub.cached) of \(sub.unique) runs finished"
            + (sub.alreadyTaken.isEmpty ? "" : ", \(sub.alreadyTaken.count) already queued or running") + "); script \(script.path), task logs \(slurmDir.path)/\(jobID)_<task>.log")
        return sub
    }

    /// Watches the submitted array until every task has a result (or has ended without one: recorded as failed,
    /// naming its log), with the runner's progress display. Requeued tasks are simply waited for.
    public func wait(_ sub: SlurmSubmission) throws -> RunnerSummary {
        var summary = RunnerSummary()
        summary.unique = sub.unique; summary.cached = sub.cached; summary.refused = sub.refused
        guard let jobID = sub.jobID else { return summary }
        let t0 = Date()
        let n = sub.tasks.count
        let display = ProgressDisplay(total: n, estimates: sub.tasks.map { CostModel.estimate($0.config).seconds },
                                      interactive: options.interactive, output: options.output)
        var done = [Bool](repeating: false, count: n)
        var started = [Bool](repeating: false, count: n)
        var lastStep = [Int](repeating: -1, count: n)
        var goneSince = [Date?](repeating: nil, count: n)
        var queueFailures = 0
        while done.contains(false) {
            // squeue first, files second: a task that leaves the queue between the two has already written its result.
            let queue: SlurmQueue
            do { queue = try tools.queue(); queueFailures = 0 } catch {
                queueFailures += 1
                if queueFailures >= 30 { display.close(); throw error }
                if queueFailures == 1 { say("warning: \(error) — retrying") }
                Thread.sleep(forTimeInterval: pollSeconds); continue
            }
            for (i, r) in sub.tasks.enumerated() where !done[i] {
                let claim = SlurmClaim(runID: r.runID, jobID: jobID, task: i, label: "", submittedAt: "", submitHost: "")
                let runFile = store.runFile(r.runID)
                if let stamp = SlurmExecutor.fileStamp(runFile), stamp != sub.previousResults[r.runID], let rec = try? store.read(r.runID) {
                    if !started[i] { display.started(i, label: "\(r.experimentID) \(r.coordinates.shortLabel)", id: r.runID); started[i] = true }
                    display.finished(i, record: rec)
                    runner.count(rec, into: &summary)
                    done[i] = true
                    continue
                }
                let st = queue.state(claim)
                if st?.state == "RUNNING" {
                    goneSince[i] = nil
                    if !started[i] { display.started(i, label: "\(r.experimentID) \(r.coordinates.shortLabel)", id: r.runID); started[i] = true }
                    if let ev = SlurmProgress.last(in: RunLocks.taskLog(store, claim))?.event, ev.step != lastStep[i] {
                        lastStep[i] = ev.step
                        display.progress(i, ev)
                    }
                } else if st != nil {
                    goneSince[i] = nil   // pending, requeued, completing: wait
                } else {
                    // Gone from the queue without a (new) result. Two polls apart, so that a result written on
                    // another node has time to become visible here, then once more for the file itself.
                    guard let since = goneSince[i] else { goneSince[i] = Date(); continue }
                    if Date().timeIntervalSince(since) < max(5, 2 * pollSeconds) { continue }
                    let log = RunLocks.taskLog(store, claim)
                    let logText = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
                    if let line = logText.split(separator: "\n").last(where: { $0.hasPrefix(RunExecutor.refusedPrefix) }) {
                        display.refused(i, message: String(line.dropFirst(RunExecutor.refusedPrefix.count)))
                        summary.refused += 1
                    } else {
                        let rel = log.path.replacingOccurrences(of: store.root.path + "/", with: "")
                        // The task's last words, skipping the batch script's header and the progress lines.
                        let last = logText.split(separator: "\n").last(where: { !$0.hasPrefix("@@") && !$0.hasPrefix("[") && !$0.trimmingCharacters(in: .whitespaces).isEmpty })
                        let state = tools.finalState(claim.taskName).map { " (\($0))" } ?? ""
                        let rec = RunRecord(runID: r.runID, config: r.config, dataFingerprint: r.dataFingerprint,
                                            engineNumericsVersion: engineNumericsVersion, status: .failed,
                                            message: "Slurm task \(claim.taskName) ended without a result\(state)\(last.map { ": \($0)" } ?? ""); see \(rel)",
                                            provenance: Provenance.collect(gitCommit: "unknown", gitDirty: false))
                        if SlurmExecutor.fileStamp(runFile) == sub.previousResults[r.runID] { try? store.write(rec) }
                        if !started[i] { display.started(i, label: "\(r.experimentID) \(r.coordinates.shortLabel)", id: r.runID); started[i] = true }
                        display.finished(i, record: (try? store.read(r.runID)) ?? rec)
                        runner.count((try? store.read(r.runID)) ?? rec, into: &summary)
                    }
                    done[i] = true
                }
            }
            display.tick()
            if done.contains(false) { Thread.sleep(forTimeInterval: pollSeconds) }
        }
        display.close()
        summary.planned = sub.unique
        summary.seconds = Date().timeIntervalSince(t0)
        return summary
    }

    private lazy var runner = Runner(store: store, environment: environment, options: options)
}

/// The worker's progress as printed into its Slurm task log: the `@@progress` line with the time appended
/// (`@@progress <step> <total> <loss> <phase> <unix seconds>`), read back by `--wait` and `deepnet status`.
public enum SlurmProgress {
    public struct Reading: Sendable {
        public var event: ProgressEvent
        /// Steps per second over the lines read since the task last (re)started, nil with fewer than two lines.
        public var stepsPerSecond: Double?
        public var etaSeconds: Double? {
            guard let r = stepsPerSecond, r > 0 else { return nil }
            return Double(event.total - event.step) / r
        }
    }

    public static func line(_ ev: ProgressEvent, at time: Date = Date()) -> String {
        ev.line + String(format: " %.3f", time.timeIntervalSince1970)
    }

    /// The last progress line of the last 16 KiB of `log`, with a rate from the lines since the last restart.
    public static func last(in log: URL) -> Reading? {
        guard let h = try? FileHandle(forReadingFrom: log) else { return nil }
        defer { try? h.close() }
        let end = (try? h.seekToEnd()) ?? 0
        try? h.seek(toOffset: end > 16384 ? end - 16384 : 0)
        let text = String(decoding: (try? h.readToEnd()) ?? Data(), as: UTF8.self)
        var points: [(step: Int, t: Double)] = []
        var last: ProgressEvent?
        for raw in text.split(separator: "\n") {
            guard let ev = ProgressEvent.parse(String(raw)) else { continue }
            let f = raw.split(separator: " ")
            if let prev = points.last, ev.step < prev.step { points.removeAll() }   // requeued: a new segment
            if f.count >= 6, let t = Double(f[5]), ev.phase == "train" { points.append((ev.step, t)) }
            last = ev
        }
        guard let ev = last else { return nil }
        var rate: Double? = nil
        if let a = points.first, let b = points.last, b.t > a.t, b.step > a.step { rate = Double(b.step - a.step) / (b.t - a.t) }
        return Reading(event: ev, stepsPerSecond: rate)
    }
}
