// The worker's side of a Slurm array task (`deepnet run-one` started by the batch script of SlurmBatchScript):
// SIGUSR1 (sent by Slurm `--signal=USR1@S` before the time limit, or by `scancel --signal=USR1`) and SIGTERM
// (preemption, scancel) ask the run to stop at the next step boundary. RunExecutor then writes its checkpoint and
// stops without a result (`RunExecutor.Interrupted`); on USR1 the task requeues itself with `scontrol requeue`, so
// Slurm starts it again and the run resumes from that checkpoint — exact resume makes the result equal to an
// uninterrupted run's. On SIGTERM it only stops (a cancelled task stays cancelled; a preempted one is requeued by
// Slurm itself when the partition's PreemptMode says so), leaving the checkpoint for the next submission.
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Stop requests from signal handlers, polled by RunExecutor at every step boundary.
public enum StopRequest {
    // Written only by the async-signal handlers below (a plain store of a word), read by the training loop.
    nonisolated(unsafe) static var signalNumber: Int32 = 0

    /// The signal that asked the run to stop (SIGUSR1 or SIGTERM), nil if none arrived.
    public static var receivedSignal: Int32? { let s = signalNumber; return s == 0 ? nil : s }
    public static var isRequested: Bool { signalNumber != 0 }

    /// Installs handlers for SIGUSR1 and SIGTERM that only record the signal (glibc's signal() restarts
    /// interrupted system calls, so the engine's I/O is not disturbed).
    public static func install() {
        signalNumber = 0   // touch the global before any handler can run
        Glibc.signal(SIGUSR1) { s in StopRequest.signalNumber = s }
        Glibc.signal(SIGTERM) { s in StopRequest.signalNumber = s }
    }

    /// Forgets a recorded signal (tests; a run started again in the same process).
    public static func reset() { signalNumber = 0 }

    /// Default dispositions for SIGUSR1 and SIGTERM again (tests).
    public static func restoreDefaults() {
        Glibc.signal(SIGUSR1, SIG_DFL)
        Glibc.signal(SIGTERM, SIG_DFL)
        signalNumber = 0
    }
}

public enum SlurmTask {
    /// Whether this process is a task of a job array submitted by `--executor slurm`.
    public static var isTask: Bool {
        let env = ProcessInfo.processInfo.environment
        return env[SlurmBatchScript.taskMarker] == "1" && env["SLURM_JOB_ID"] != nil
    }

    /// `scontrol requeue <SLURM_JOB_ID>` (this array task's own job id). Returns nil on success, else why not.
    /// Slurm then ends the task and starts it again after its requeue delay; the log file is appended to.
    public static func requeueSelf() -> String? {
        guard let id = ProcessInfo.processInfo.environment["SLURM_JOB_ID"] else { return "SLURM_JOB_ID is not set" }
        guard let scontrol = SlurmTools().locate("scontrol") else { return "scontrol not found on PATH" }
        do {
            let r = try SlurmTools.run(scontrol, ["requeue", id])
            return r.status == 0 ? nil : "scontrol requeue \(id) exited \(r.status): \((r.err + r.out).trimmingCharacters(in: .whitespacesAndNewlines))"
        } catch {
            return "scontrol requeue \(id): \(error)"
        }
    }
}
