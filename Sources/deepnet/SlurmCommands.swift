// `deepnet run --executor slurm …`: the flags, the submission (and `--wait`), the dry-run summary, and the Slurm
// side of the worker entry point `deepnet run-one` (signals, self-requeue, time-stamped progress in the task log).
import ArgumentParser
import DeepNetEngine
import DeepNetHarness
import Experiments
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Where `deepnet run` executes runs.
enum ExecutorKind: String, ExpressibleByArgument, CaseIterable {
    /// Worker processes on this machine (`-j N`).
    case local
    /// One Slurm job array, one task per run.
    case slurm
}

struct SlurmFlags: ParsableArguments {
    @Option(help: "Slurm partition (default: the cluster's default partition).") var partition: String?
    @Option(help: "Time limit per task, as sbatch takes it (HH:MM:SS, D-HH:MM:SS).") var time: String?
    @Option(help: "CPUs per task (the run's engine threads).") var cpusPerTask = 1
    @Option(help: "Memory per task, as sbatch takes it (e.g. 4G).") var mem: String?
    @Option(help: "Slurm account to charge.") var account: String?
    @Option(parsing: .unconditionalSingleValue, help: "Extra sbatch argument, one per flag (e.g. --sbatch-arg=--qos=long).") var sbatchArg: [String] = []
    @Option(help: "At most K tasks of the array at once (--array=…%K).") var maxParallel: Int?
    @Option(help: "Seconds before the time limit at which Slurm sends SIGUSR1 (checkpoint and requeue).") var signalSeconds = 120
    @Flag(help: "With --executor slurm: show progress until the array is done, then render the reports.") var wait = false
    @Option(help: "With --wait: report folder (default: reports for results/reduced, reports/<profile> for results/<profile>, else <results>/reports).") var reports: String?

    func validate(executor: ExecutorKind) throws {
        if executor == .local {
            let given = [("partition", partition != nil), ("time", time != nil), ("mem", mem != nil), ("account", account != nil),
                         ("sbatch-arg", !sbatchArg.isEmpty), ("max-parallel", maxParallel != nil), ("wait", wait), ("reports", reports != nil)]
                .filter(\.1).map { "--\($0.0)" }
            if !given.isEmpty { throw ValidationError("\(given.joined(separator: ", ")) only appl\(given.count == 1 ? "ies" : "y") with --executor slurm") }
        }
        guard (1...1024).contains(cpusPerTask) else { throw ValidationError("invalid value \(cpusPerTask) for '--cpus-per-task': allowed 1...1024") }
        if let k = maxParallel, k < 1 { throw ValidationError("invalid value \(k) for '--max-parallel': must be at least 1") }
        guard signalSeconds >= 1 else { throw ValidationError("invalid value \(signalSeconds) for '--signal-seconds': must be at least 1") }
        for (flag, v) in [("partition", partition), ("time", time), ("mem", mem), ("account", account)] {
            if let v, v.isEmpty || v.contains(where: { $0.isWhitespace }) {
                throw ValidationError("'--\(flag)' must be one word (got '\(v)')")
            }
        }
        if sbatchArg.contains(where: { $0.contains("\n") }) { throw ValidationError("'--sbatch-arg' must not contain a newline") }
        try requireNonEmptyPath(reports, flag: "reports")
    }

    var jobOptions: SlurmJobOptions {
        var o = SlurmJobOptions()
        o.partition = partition; o.time = time; o.cpusPerTask = cpusPerTask; o.mem = mem; o.account = account
        o.extraArguments = sbatchArg; o.maxParallel = maxParallel; o.signalSeconds = signalSeconds
        return o
    }
}

/// An absolute path: the batch script, specs and claims name the results folder from every node and from the
/// job's working directory.
func absolutePath(_ p: String) -> URL {
    let u = p.hasPrefix("/") ? URL(fileURLWithPath: p) : URL(fileURLWithPath: FileManager.default.currentDirectoryPath).appendingPathComponent(p)
    return u.standardizedFileURL
}

extension HarnessRun {
    /// The `--dry-run --executor slurm` lines: array size and CPU-hours of the runs still to execute.
    func slurmDryRunSummary(_ runner: Runner, _ exps: [Experiment]) throws -> String {
        var seen = Set<String>(), tasks = 0, seconds = 0.0
        for (e, runs) in try runner.plan(exps, profile: profile) where e.plan(profile).notRunReason == nil {
            for r in runs where seen.insert(r.runID).inserted {
                if let rec = try? runner.store.read(r.runID), rec.status != .failed { continue }
                tasks += 1
                seconds += CostModel.estimate(r.config).seconds
            }
        }
        // CostModel's seconds are wall time on this 2-core machine at 2 threads: 2 × seconds CPU-seconds, whatever
        // the cluster splits them into (a task with more CPUs finishes sooner, not cheaper).
        let cpuHours = seconds * 2 / 3600
        let o = slurm.jobOptions
        return "Slurm: one job array of \(tasks) task\(tasks == 1 ? "" : "s") (one per run still to execute), --cpus-per-task \(o.cpusPerTask)"
            + (o.maxParallel.map { ", at most \($0) at once" } ?? "")
            + "; estimated " + String(format: cpuHours < 1000 ? "%.1f" : "%.3g", cpuHours)
            + " CPU-hours (\(CostModel.duration(seconds)) on this machine's 2 cores: the sum of the estimates above × 2 threads)\n"
    }

    func runOnSlurm(_ exps: [Experiment], store: ResultStore, options: RunnerOptions) throws {
        let exec = SlurmExecutor(store: store, environment: .fromProcess(), job: slurm.jobOptions, options: options,
                                 executable: selfExecutable())
        let sub: SlurmSubmission
        do { sub = try exec.submit(exps, profile: profile) } catch let e as SlurmError {
            throw PlainError(e.description)
        }
        guard slurm.wait else {
            if sub.jobID != nil {
                FileHandle.standardError.write(Data("watch it with: deepnet status \(exps.map(\.id).joined(separator: " ")) --results \(store.root.path)\n".utf8))
            }
            if sub.refused > 0 { throw ExitCode(1) }
            return
        }
        let s = try exec.wait(sub)
        FileHandle.standardError.write(Data("\(s)\n".utf8))
        // The runs another submission still has queued or running are not part of this array; their reports
        // would render them as missing, so wait for them too before rendering.
        if !sub.alreadyTaken.isEmpty {
            FileHandle.standardError.write(Data("note: \(sub.alreadyTaken.count) run(s) belong to an earlier submission; the reports show them once they finish\n".utf8))
        }
        let out: String
        if let r = slurm.reports { out = r } else if results == nil { out = profile == .reduced ? "reports" : "reports/\(profile.rawValue)" } else {
            out = store.root.appendingPathComponent("reports").path
        }
        var args = all ? ["--all"] : exps.map(\.id)
        args += ["--results", store.root.path, "--out", out, "--profile", profile.rawValue]
        let report = try HarnessReport.parse(args)
        try report.run()
        if s.failed > 0 || s.refused > 0 { throw ExitCode(1) }
    }
}

/// `deepnet run-one <spec>` inside a Slurm array task: stop requests become checkpoint + requeue (USR1) or
/// checkpoint + stop (TERM); progress lines carry the time so that `deepnet status` can estimate the ETA.
func runSlurmTask(specPath: String) throws {
    StopRequest.install()
    let s = try JSONValue.parse(try Data(contentsOf: URL(fileURLWithPath: specPath))).decode(RunSpec.self)
    setvbuf(stdout, nil, _IOLBF, 0)
    var lastPrint = Date.distantPast, lastPhase = ""
    do {
        let rec = try RunExecutor(spec: s) { ev in
            // The task log is a file: one line per 2 s (and per phase change), not one per step.
            guard ev.phase != lastPhase || Date().timeIntervalSince(lastPrint) >= 2 || ev.step == ev.total else { return }
            lastPrint = Date(); lastPhase = ev.phase
            print(SlurmProgress.line(ev)); fflush(stdout)
        }.run()
        print("run \(s.runID) \(rec.status.rawValue)" + (rec.message.map { ": \($0)" } ?? ""))
        if rec.status == .failed { FileHandle.standardError.write(Data("run \(s.runID) failed: \(rec.message ?? "")\n".utf8)); throw ExitCode(1) }
    } catch let e as AdmissionError {
        print(RunExecutor.refusedPrefix + "\(e)"); fflush(stdout)
        throw ExitCode(admissionExitCode)
    } catch is RunExecutor.Interrupted {
        let sig = StopRequest.receivedSignal ?? 0
        if sig == SIGUSR1 {
            if let why = SlurmTask.requeueSelf() {
                print("run \(s.runID): checkpoint written after SIGUSR1, but the task could not requeue itself (\(why)); the next `deepnet run --executor slurm` resumes it")
                throw ExitCode(75)
            }
            print("run \(s.runID): checkpoint written after SIGUSR1; task requeued, it resumes from the checkpoint"); fflush(stdout)
            return
        }
        print("run \(s.runID): checkpoint written after signal \(sig); stopped (the next submission resumes it)")
        throw ExitCode(1)
    }
}
