// Who owns an unfinished run, so that no run executes twice at once and a resubmission skips what is queued or
// running:
//  * while a run executes, its executor holds flock(2) on `<results>/.work/<run id>.lock` (RunExecutor; the file
//    holds the holder's pid). The kernel (or the NFS lock manager) drops the lock when the process dies, so a
//    crashed worker never leaves a run locked.
//  * a run submitted to Slurm has a claim, `<results>/.slurm/claims/<run id>.json`, naming its array task. A queued
//    task holds no flock yet, so the claim is what marks the run as taken. A claim is live only while `squeue` still
//    lists its task; a claim whose task has left the queue without a result (cancelled, node failure, killed) is
//    dead and the run is submitted again — that is how a run held by a dead job is recovered.
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A run's Slurm array task, written by the submitter once sbatch has returned the job id.
public struct SlurmClaim: Codable, Sendable, Equatable {
    public var runID: String
    /// The array's job id (`%A`, SLURM_ARRAY_JOB_ID).
    public var jobID: String
    /// The run's index in the array (`%a`, SLURM_ARRAY_TASK_ID).
    public var task: Int
    public var label: String
    public var submittedAt: String
    public var submitHost: String

    public init(runID: String, jobID: String, task: Int, label: String, submittedAt: String, submitHost: String) {
        self.runID = runID; self.jobID = jobID; self.task = task; self.label = label
        self.submittedAt = submittedAt; self.submitHost = submitHost
    }

    /// The task as squeue and scontrol name it.
    public var taskName: String { "\(jobID)_\(task)" }
}

public enum RunLocks {
    public static func slurmDir(_ store: ResultStore) -> URL { store.root.appendingPathComponent(".slurm") }
    public static func claimsDir(_ store: ResultStore) -> URL { slurmDir(store).appendingPathComponent("claims") }
    public static func claimFile(_ store: ResultStore, _ runID: String) -> URL {
        claimsDir(store).appendingPathComponent("\(runID).json")
    }
    /// The task's log (`#SBATCH --output=<results>/.slurm/%A_%a.log`).
    public static func taskLog(_ store: ResultStore, _ claim: SlurmClaim) -> URL {
        slurmDir(store).appendingPathComponent("\(claim.taskName).log")
    }

    public static func readClaim(_ store: ResultStore, _ runID: String) -> SlurmClaim? {
        guard let d = try? Data(contentsOf: claimFile(store, runID)) else { return nil }
        return try? JSONValue.parse(d).decode(SlurmClaim.self)
    }

    public static func writeClaim(_ store: ResultStore, _ claim: SlurmClaim) throws {
        try FileManager.default.createDirectory(at: claimsDir(store), withIntermediateDirectories: true)
        try AtomicFile.write(Data(try JSONValue.from(claim).pretty.utf8), to: claimFile(store, claim.runID))
    }

    /// The pid written into the run's executor lock if some process holds it now, nil if nobody does. Probed with
    /// a non-blocking flock that is released at once (a worker starting at that instant waits a moment; harmless).
    public static func executingPID(_ store: ResultStore, _ runID: String) -> Int? {
        let url = store.workDir.appendingPathComponent("\(runID).lock")
        let fd = Glibc.open(url.path, O_RDONLY)
        guard fd >= 0 else { return nil }
        defer { Glibc.close(fd) }
        if flock(fd, LOCK_EX | LOCK_NB) == 0 { flock(fd, LOCK_UN); return nil }
        guard errno == EWOULDBLOCK else { return nil }
        var buf = [UInt8](repeating: 0, count: 32)
        let n = pread(fd, &buf, buf.count, 0)
        return Int(String(decoding: buf.prefix(max(0, n)), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)) ?? -1
    }
}

/// The tasks `squeue` lists (pending, running, suspended, completing, requeued …): one query per command, not
/// per run.
public struct SlurmQueue: Sendable {
    /// "<array job id>_<task>" (or a plain job id) → (state, reason), e.g. ("PENDING", "BeginTime").
    public var tasks: [String: (state: String, reason: String, node: String)]

    public init(tasks: [String: (state: String, reason: String, node: String)]) { self.tasks = tasks }

    /// Parses `squeue -h -r -o '%i|%T|%r|%N'`.
    public static func parse(_ text: String) -> SlurmQueue {
        var t: [String: (String, String, String)] = [:]
        for line in text.split(separator: "\n") {
            let f = line.split(separator: "|", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
            guard f.count >= 2, !f[0].isEmpty else { continue }
            t[f[0]] = (f[1], f.count > 2 ? f[2] : "", f.count > 3 ? f[3] : "")
        }
        return SlurmQueue(tasks: t)
    }

    public func isLive(_ claim: SlurmClaim) -> Bool { tasks[claim.taskName] != nil }
    public func state(_ claim: SlurmClaim) -> (state: String, reason: String, node: String)? { tasks[claim.taskName] }
}

/// `deepnet status` for runs submitted to Slurm: queued (squeue), running (step, loss and ETA from the task log),
/// or failed/interrupted with the task's log when the task left the queue without a result.
public final class SlurmStatusView {
    public let store: ResultStore
    let tools: SlurmTools
    private var asked = false
    private var cachedQueue: SlurmQueue?
    private var problem: String?

    public init(store: ResultStore, tools: SlurmTools = SlurmTools()) { self.store = store; self.tools = tools }

    /// squeue, asked once and only when a claimed run has no final result (a folder of finished runs, or one
    /// that never saw Slurm, needs no Slurm client).
    var queue: SlurmQueue? {
        if !asked {
            asked = true
            do { cachedQueue = try tools.queue() } catch { problem = "\(error)" }
        }
        return cachedQueue
    }
    /// Why the queue is unknown (squeue missing or failing), after a `describe` needed it.
    public var queueProblem: String? { problem }

    /// Run ids with a claim (for `--porcelain`).
    public var claimedRunIDs: [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: RunLocks.claimsDir(store).path)) ?? [])
            .filter { $0.hasSuffix(".json") && !$0.hasPrefix(".") }.map { String($0.dropLast(5)) }
    }

    /// The state to show for `runID`, given the state the results folder alone gives (`base`: ok, diverged,
    /// failed, interrupted@N, not-started, unreadable) and its detail.
    public func describe(_ runID: String, base: (String, String?)) -> (String, String?) {
        if base.0 == "ok" || base.0 == "diverged" { return base }
        guard let claim = RunLocks.readClaim(store, runID) else {
            if let pid = RunLocks.executingPID(store, runID) { return ("running", "worker pid \(pid)") }
            return base
        }
        let log = RunLocks.taskLog(store, claim)
        let rel = log.path.replacingOccurrences(of: store.root.path + "/", with: "")
        guard let queue else {
            return (base.0, [base.1, "Slurm task \(claim.taskName), log \(rel); queue unknown: \(queueProblem ?? "squeue not asked")"].compactMap { $0 }.joined(separator: "; "))
        }
        if let st = queue.state(claim) {
            if st.state == "RUNNING" {
                var d = "Slurm task \(claim.taskName)\(st.node.isEmpty ? "" : " on \(st.node)")"
                if let p = SlurmProgress.last(in: log) {
                    d += ": step \(p.event.step)/\(p.event.total) loss \(String(format: "%.3f", p.event.loss))"
                    if p.event.phase != "train" { d += " (\(p.event.phase))" }
                    if let eta = p.etaSeconds { d += ", ETA \(CostModel.duration(eta))" }
                } else {
                    d += ": starting"
                }
                return ("running", d)
            }
            return ("queued", "Slurm task \(claim.taskName), \(st.state.lowercased())\(st.reason.isEmpty || st.reason == "None" ? "" : " (\(st.reason))")")
        }
        // Left the queue without a (final) result.
        if base.0.hasPrefix("interrupted") {
            return (base.0, "Slurm task \(claim.taskName) ended without a result; log \(rel); the next submission resumes it")
        }
        if base.0 == "failed" {
            if base.1?.contains(rel) == true { return base }   // the watcher's record already names the log
            return ("failed", [base.1, "log \(rel)"].compactMap { $0 }.joined(separator: "; "))
        }
        return ("failed", "Slurm task \(claim.taskName) ended without a result; log \(rel)")
    }
}
