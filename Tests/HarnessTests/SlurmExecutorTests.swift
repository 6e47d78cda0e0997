import DeepNetEngine
import DeepNetHarness
import Experiments
import Foundation
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// The Slurm executor without a cluster: fake `sbatch`/`squeue` scripts on a private PATH stand in for Slurm's
/// client commands (the real thing is `make slurm-test`). Checked: the batch script, a missing sbatch, an sbatch
/// rejection, claims and idempotent resubmission (live claims skipped, dead ones recovered, a run executing
/// elsewhere skipped), status rows, and the stop request (USR1) checkpointing at a step boundary and resuming
/// exactly.
final class SlurmExecutorTests: XCTestCase {
    var dir: URL!
    var bin: URL!
    override func setUpWithError() throws {
        dir = tempDir("slurm")
        bin = dir.appendingPathComponent("bin")
        try FileManager.default.createDirectory(at: bin, withIntermediateDirectories: true)
    }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    /// A fake client command: a shell script in the test's bin folder.
    func fake(_ name: String, _ body: String) throws {
        let u = bin.appendingPathComponent(name)
        try Data("#!/bin/sh\n\(body)\n".utf8).write(to: u)
        chmod(u.path, 0o755)
    }

    /// An executor over `tinyExperiment` (2 runs) whose tools see only the fake bin folder.
    func executor(_ results: URL, output: @escaping @Sendable (String) -> Void = { _ in }) -> SlurmExecutor {
        var o = RunnerOptions()
        o.output = output
        o.interactive = false
        return SlurmExecutor(store: ResultStore(root: results), environment: testEnv, job: SlurmJobOptions(), options: o,
                             executable: URL(fileURLWithPath: "/opt/deepnet/bin/deepnet"), tools: SlurmTools(searchPath: bin.path))
    }

    func testBatchScriptIsValidBashAndAsksForSignalAndRequeue() throws {
        var o = SlurmJobOptions()
        o.partition = "gpu"; o.time = "02:00:00"; o.cpusPerTask = 4; o.mem = "8G"; o.account = "lab"
        o.extraArguments = ["--qos=long"]; o.maxParallel = 3; o.signalSeconds = 300
        let text = SlurmBatchScript.render(specs: ["/r/.work/a/spec.json", "/r/it's here/spec.json"], labels: ["a", "b"], options: o,
                                           executable: "/opt/deep net/deepnet", slurmDir: "/r/.slurm", resultsDir: "/r")
        for line in ["#SBATCH --array=0-1%3", "#SBATCH --signal=USR1@300", "#SBATCH --requeue", "#SBATCH --partition=gpu",
                     "#SBATCH --time=02:00:00", "#SBATCH --cpus-per-task=4", "#SBATCH --mem=8G", "#SBATCH --account=lab",
                     "#SBATCH --qos=long", "#SBATCH --output=/r/.slurm/%A_%a.log", "#SBATCH --open-mode=append"] {
            XCTAssertTrue(text.contains(line + "\n"), "missing \(line) in\n\(text)")
        }
        XCTAssertTrue(text.contains("exec srun --ntasks=1 --cpus-per-task=${SLURM_CPUS_PER_TASK:-1} '/opt/deep net/deepnet' run-one \"$spec\""), text)
        XCTAssertTrue(text.contains("export \(SlurmBatchScript.taskMarker)=1"))
        // Every #SBATCH line comes before the first command (sbatch stops reading them there).
        let lines = text.split(separator: "\n")
        let lastDirective = lines.lastIndex { $0.hasPrefix("#SBATCH") }!
        let firstCommand = lines.firstIndex { !$0.hasPrefix("#") && !$0.isEmpty }!
        XCTAssertLessThan(lastDirective, firstCommand)
        // bash parses it, and task 1 gets the quoted path back intact.
        let script = dir.appendingPathComponent("job.sh")
        try Data(text.replacingOccurrences(of: "exec srun", with: "echo \"$spec\" #").utf8).write(to: script)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/bash")
        p.arguments = [script.path]
        p.environment = ["SLURM_ARRAY_TASK_ID": "1", "SLURM_ARRAY_JOB_ID": "7", "PATH": "/usr/bin:/bin"]
        let out = Pipe()
        p.standardOutput = out
        try p.run(); p.waitUntilExit()
        XCTAssertEqual(p.terminationStatus, 0)
        let printed = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        XCTAssertTrue(printed.hasSuffix("/r/it's here/spec.json\n"), printed)
    }

    func testMissingSbatchNamesWhatToInstallAndWritesNothing() throws {
        let results = dir.appendingPathComponent("results")
        XCTAssertThrowsError(try executor(results).submit([tinyExperiment()], profile: .smoke)) { e in
            let m = "\(e)"
            XCTAssertTrue(m.contains("`sbatch` not found on PATH"), m)
            XCTAssertTrue(m.contains("slurm-client"), m)
            XCTAssertTrue(m.contains("--executor local"), m)
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: results.path))
    }

    func testSbatchRejectionIsShownVerbatimAndNothingIsClaimed() throws {
        try fake("sbatch", "echo 'sbatch: error: invalid partition specified: nosuch' >&2\necho 'sbatch: error: Batch job submission failed: Invalid partition name specified' >&2\nexit 1")
        let results = dir.appendingPathComponent("results")
        XCTAssertThrowsError(try executor(results).submit([tinyExperiment()], profile: .smoke)) { e in
            XCTAssertEqual("\(e)", "sbatch rejected the job array (exit 1); nothing was submitted:\n"
                           + "sbatch: error: invalid partition specified: nosuch\nsbatch: error: Batch job submission failed: Invalid partition name specified")
        }
        let store = ResultStore(root: results)
        XCTAssertFalse(FileManager.default.fileExists(atPath: RunLocks.claimsDir(store).path))
        let left = (try? FileManager.default.contentsOfDirectory(atPath: RunLocks.slurmDir(store).path)) ?? []
        XCTAssertEqual(left, [], "the submission script is removed when sbatch refuses it")
    }

    func testSubmissionClaimsRunsAndResubmissionSkipsLiveAndRecoversDead() throws {
        let calls = dir.appendingPathComponent("sbatch-calls")
        let nextID = dir.appendingPathComponent("next-id")
        try Data("4242".utf8).write(to: nextID)
        // sbatch: records its script, prints the next job id; squeue: prints the file `queue` (empty: no jobs).
        try fake("sbatch", "echo \"$@\" >> '\(calls.path)'\ncat '\(nextID.path)'")
        let queue = dir.appendingPathComponent("queue")
        try Data().write(to: queue)
        try fake("squeue", "cat '\(queue.path)'")
        let results = dir.appendingPathComponent("results")
        let store = ResultStore(root: results)
        let exp = tinyExperiment()

        let first = try executor(results).submit([exp], profile: .smoke)
        XCTAssertEqual(first.jobID, "4242")
        XCTAssertEqual(first.tasks.count, 2)
        let script = try String(contentsOf: RunLocks.slurmDir(store).appendingPathComponent("4242.sh"), encoding: .utf8)
        XCTAssertTrue(script.contains("#SBATCH --array=0-1\n"), script)
        for (i, r) in first.tasks.enumerated() {
            let c = try XCTUnwrap(RunLocks.readClaim(store, r.runID))
            XCTAssertEqual(c.taskName, "4242_\(i)")
            XCTAssertTrue(script.contains(store.workDir(r.runID).appendingPathComponent("spec.json").path))
            XCTAssertTrue(FileManager.default.fileExists(atPath: store.workDir(r.runID).appendingPathComponent("spec.json").path))
        }
        XCTAssertNotNil(try? store.readIndex(exp.id), "the index is written so that status and report see the plan")

        // Both tasks still in the queue: nothing is submitted again.
        try Data("4242_0|RUNNING|None|node1\n4242_1|PENDING|Priority|\n".utf8).write(to: queue)
        try Data("4243".utf8).write(to: nextID)
        let second = try executor(results).submit([exp], profile: .smoke)
        XCTAssertNil(second.jobID)
        XCTAssertEqual(second.alreadyTaken.count, 2)
        XCTAssertEqual(try String(contentsOf: calls, encoding: .utf8).split(separator: "\n").count, 1)

        // Status rows from the same queue.
        let view = SlurmStatusView(store: store, tools: SlurmTools(searchPath: bin.path))
        let log = RunLocks.slurmDir(store).appendingPathComponent("4242_0.log")
        let t = 1_800_000_000.0
        try Data(("[header] task 4242_0\n" + SlurmProgress.line(ProgressEvent.parse("@@progress 2 12 3.5 train")!, at: Date(timeIntervalSince1970: t)) + "\n"
                  + SlurmProgress.line(ProgressEvent.parse("@@progress 6 12 3.25 train")!, at: Date(timeIntervalSince1970: t + 8)) + "\n").utf8).write(to: log)
        let running = view.describe(first.tasks[0].runID, base: ("not-started", nil))
        XCTAssertEqual(running.0, "running")
        XCTAssertEqual(running.1, "Slurm task 4242_0 on node1: step 6/12 loss 3.250, ETA 12 s")   // 4 steps / 8 s, 6 to go
        XCTAssertEqual(view.describe(first.tasks[1].runID, base: ("not-started", nil)).0, "queued")
        XCTAssertEqual(view.describe(first.tasks[1].runID, base: ("not-started", nil)).1, "Slurm task 4242_1, pending (Priority)")

        // Task 0 left the queue without a result (cancelled; a dead job), task 1 still pending: only run 0 is
        // submitted again, as a new array of one.
        try Data("4242_1|PENDING|Priority|\n".utf8).write(to: queue)
        let dead = SlurmStatusView(store: store, tools: SlurmTools(searchPath: bin.path)).describe(first.tasks[0].runID, base: ("not-started", nil))
        XCTAssertEqual(dead.0, "failed")
        XCTAssertEqual(dead.1, "Slurm task 4242_0 ended without a result; log .slurm/4242_0.log")
        let third = try executor(results).submit([exp], profile: .smoke)
        XCTAssertEqual(third.jobID, "4243")
        XCTAssertEqual(third.tasks.map(\.runID), [first.tasks[0].runID])
        XCTAssertEqual(RunLocks.readClaim(store, first.tasks[0].runID)?.taskName, "4243_0")
        XCTAssertEqual(RunLocks.readClaim(store, first.tasks[1].runID)?.taskName, "4242_1")

        // Nothing queued and run 1 executing elsewhere (its executor lock held): only run 0 is submitted.
        try Data().write(to: queue)
        try Data("4244".utf8).write(to: nextID)
        let held = try ResultsLock(store.workDir.appendingPathComponent("\(first.tasks[1].runID).lock"), mode: .fail)
        let fourth = try executor(results).submit([exp], profile: .smoke)
        held.release()
        XCTAssertEqual(fourth.tasks.map(\.runID), [first.tasks[0].runID])
        XCTAssertEqual(fourth.alreadyTaken.map(\.by), ["a worker (pid \(getpid())) executing it now"])
    }

    func testFinishedRunsAreNotSubmitted() throws {
        try fake("sbatch", "echo 1")
        let results = dir.appendingPathComponent("results")
        let exp = tinyExperiment(steps: 4)
        try quietRunner(results).run([exp], profile: .smoke)
        let sub = try executor(results).submit([exp], profile: .smoke)
        XCTAssertNil(sub.jobID)
        XCTAssertEqual(sub.cached, 2)
        XCTAssertFalse(FileManager.default.fileExists(atPath: RunLocks.slurmDir(ResultStore(root: results)).path))
    }

    func testSqueueFailureIsAnErrorNotAGuess() throws {
        try fake("sbatch", "echo 9")
        try fake("squeue", "echo 'squeue: error: Unable to contact slurm controller (connect failure)' >&2; exit 1")
        let results = dir.appendingPathComponent("results")
        _ = try executor(results).submit([tinyExperiment()], profile: .smoke)   // no claims yet: squeue not needed
        XCTAssertThrowsError(try executor(results).submit([tinyExperiment()], profile: .smoke)) { e in
            XCTAssertTrue("\(e)".contains("Unable to contact slurm controller"), "\(e)")
        }
    }

    /// SIGUSR1 (the Slurm task's preemption signal) stops the run at the next step boundary with a checkpoint and
    /// no result; the run started again resumes from it and writes the uninterrupted run's result.
    func testUSR1CheckpointsAtStepBoundaryAndResumesExactly() throws {
        let runs = try Expansion.expand(tinyExperiment(steps: 10), profile: .smoke, environment: testEnv)
        var config = runs[1].config
        config.training.checkpointEvery = 0   // no periodic checkpoint: the only one is the stop request's
        func spec(_ d: URL) -> RunSpec {
            RunSpec(runID: "r", label: "usr1", config: config, dataFingerprint: runs[1].dataFingerprint, resultsRoot: d.path, dataRoot: nil)
        }
        let root = dir.appendingPathComponent("stopped"), ref = dir.appendingPathComponent("clean")
        StopRequest.install()
        defer { StopRequest.restoreDefaults() }
        var signalled = false
        let stopped = RunExecutor(spec: spec(root)) { ev in
            if ev.step == 3 && !signalled { signalled = true; raise(SIGUSR1) }
        }
        XCTAssertThrowsError(try stopped.run()) { e in XCTAssertTrue(e is RunExecutor.Interrupted, "\(e)") }
        XCTAssertEqual(StopRequest.receivedSignal, SIGUSR1)
        let store = ResultStore(root: root)
        XCTAssertFalse(FileManager.default.fileExists(atPath: store.runFile("r").path), "a stopped run writes no result")
        let log = try String(contentsOf: store.logFile("r"), encoding: .utf8)
        XCTAssertTrue(log.contains("stopped at step 4 by signal \(SIGUSR1); checkpoint written"), log)
        StopRequest.reset()
        let resumed = try RunExecutor(spec: spec(root)).run()
        XCTAssertEqual(resumed.provenance.resumedCount, 1)
        XCTAssertEqual(resumed.metrics.stepsCompleted, 10)
        let clean = try RunExecutor(spec: spec(ref)).run()
        XCTAssertEqual(try ResultComparison.differences(store.runFile("r"), ResultStore(root: ref).runFile("r")), [])
        XCTAssertEqual(clean.provenance.resumedCount, 0)
    }

    func testQueueAndProgressParsing() throws {
        let q = SlurmQueue.parse("12_0|RUNNING|None|n1\n12_1|PENDING|BeginTime|\n\n13|COMPLETING|None|n2\n")
        XCTAssertEqual(q.tasks.count, 3)
        XCTAssertEqual(q.tasks["12_1"]?.reason, "BeginTime")
        // A requeued task starts over in its log: the rate is measured after the restart only.
        let log = dir.appendingPathComponent("t.log")
        try Data(("@@progress 8 10 1.0 train 100.0\n@@progress 9 10 1.0 train 101.0\n[restart]\n"
                  + "@@progress 5 10 1.0 train 200.0\n@@progress 7 10 1.0 train 210.0\n").utf8).write(to: log)
        let r = try XCTUnwrap(SlurmProgress.last(in: log))
        XCTAssertEqual(r.event.step, 7)
        XCTAssertEqual(try XCTUnwrap(r.stepsPerSecond), 0.2, accuracy: 1e-12)
        XCTAssertEqual(try XCTUnwrap(r.etaSeconds), 15, accuracy: 1e-9)
    }
}

/// The command line: `--executor` is an enum, Slurm flags need `--executor slurm`, a missing sbatch is a plain error.
final class SlurmCLITests: XCTestCase {
    var dir: URL!
    override func setUpWithError() throws { dir = tempDir("slurm-cli") }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    func run(_ args: [String], path: String) throws -> (status: Int32, out: String) {
        let products = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        guard let exe = [products, products.deletingLastPathComponent()].map({ $0.appendingPathComponent("deepnet") })
            .first(where: { FileManager.default.isExecutableFile(atPath: $0.path) }) else {
            throw XCTSkip("deepnet executable not found next to the test bundle")
        }
        let p = Process()
        p.executableURL = exe
        p.arguments = args
        p.environment = ["PATH": path, "HOME": dir.path]
        p.currentDirectoryURL = dir
        let out = Pipe()
        p.standardOutput = out; p.standardError = out
        try p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    func testExecutorIsAnEnum() throws {
        let r = try run(["run", "table11", "--profile", "smoke", "--executor", "pbs", "--results", "r"], path: "/usr/bin:/bin")
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.out.contains("pbs") && r.out.contains("local") && r.out.contains("slurm"), r.out)
    }

    func testSlurmFlagsNeedTheSlurmExecutor() throws {
        let r = try run(["run", "table11", "--profile", "smoke", "--partition", "debug", "--wait", "--results", "r"], path: "/usr/bin:/bin")
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.out.contains("--partition, --wait only apply with --executor slurm"), r.out)
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir.appendingPathComponent("r").path))
    }

    func testMissingSbatchIsAPlainErrorNamingTheFix() throws {
        let empty = dir.appendingPathComponent("empty-bin")
        try FileManager.default.createDirectory(at: empty, withIntermediateDirectories: true)
        let r = try run(["run", "table11", "--profile", "smoke", "--executor", "slurm", "--results", "r"], path: empty.path)
        XCTAssertEqual(r.status, 1, r.out)
        XCTAssertTrue(r.out.contains("Error: `sbatch` not found on PATH"), r.out)
        XCTAssertTrue(r.out.contains("apt-get install slurm-client") && r.out.contains("--executor local"), r.out)
        XCTAssertFalse(r.out.contains("USAGE"), "not a command-line mistake: no usage text\n\(r.out)")
    }

    func testSbatchRejectionExitsNonZeroWithItsMessage() throws {
        let bin = dir.appendingPathComponent("bin")
        try FileManager.default.createDirectory(at: bin, withIntermediateDirectories: true)
        let sbatch = bin.appendingPathComponent("sbatch")
        try Data("#!/bin/sh\necho 'sbatch: error: Invalid --time specification' >&2\nexit 255\n".utf8).write(to: sbatch)
        chmod(sbatch.path, 0o755)
        let r = try run(["run", "table11", "--profile", "smoke", "--executor", "slurm", "--time", "1:2:3:4", "--results", "r"],
                        path: bin.path + ":/usr/bin:/bin")
        XCTAssertEqual(r.status, 1, r.out)
        XCTAssertTrue(r.out.contains("sbatch rejected the job array (exit 255); nothing was submitted:\nsbatch: error: Invalid --time specification"), r.out)
    }

    func testDryRunPrintsArraySizeAndCPUHours() throws {
        let r = try run(["run", "table11", "--profile", "smoke", "--executor", "slurm", "--dry-run", "--cpus-per-task", "2", "--results", "r"],
                        path: "/usr/bin:/bin")
        XCTAssertEqual(r.status, 0, r.out)
        XCTAssertTrue(r.out.contains("Slurm: one job array of 3 tasks (one per run still to execute), --cpus-per-task 2; estimated "), r.out)
        XCTAssertTrue(r.out.contains("CPU-hours"), r.out)
    }
}
