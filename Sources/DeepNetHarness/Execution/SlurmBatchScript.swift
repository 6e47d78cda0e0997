// The batch script of a Slurm job array: one array task per run, each task running the same worker entry point as
// the local runner (`deepnet run-one <spec.json>`) against the shared results folder. The script is written to
// `<results>/.slurm/<job id>.sh` so that a user can read exactly what was submitted.
import Foundation

/// What a job array asks Slurm for (`deepnet run --executor slurm` flags).
public struct SlurmJobOptions: Sendable, Equatable {
    public var partition: String?
    /// Time limit per task in any form sbatch accepts (HH:MM:SS, D-HH:MM:SS, minutes). Not checked here: sbatch
    /// is the authority on its own syntax and its rejection is shown verbatim.
    public var time: String?
    public var cpusPerTask = 1
    public var mem: String?
    public var account: String?
    /// Further sbatch arguments, one `#SBATCH` line each (e.g. `--qos=long`, `--constraint=avx2`).
    public var extraArguments: [String] = []
    /// At most this many tasks of the array at once (`--array=0-N%K`); nil: as many as Slurm schedules.
    public var maxParallel: Int?
    /// Seconds before the time limit at which Slurm sends SIGUSR1 (`--signal=USR1@S`): enough for the step in
    /// progress to finish and the checkpoint to be written.
    public var signalSeconds = 120
    public var jobName = "deepnet"
    public init() {}
}

public enum SlurmBatchScript {
    /// Environment variable the batch script sets so that `run-one` knows it is a Slurm task (signal handling,
    /// self-requeue, time-stamped progress lines in the task log).
    public static let taskMarker = "DEEPNET_SLURM_TASK"

    /// Quotes a word for bash (single quotes; embedded single quotes closed and escaped).
    public static func shellQuote(_ s: String) -> String {
        if !s.isEmpty && s.allSatisfy({ $0.isLetter || $0.isNumber || "/._-=:,+@%".contains($0) }) && s.allSatisfy(\.isASCII) { return s }
        return "'" + s.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }

    /// The script text. `specs[i]` is the spec file of array task i; `labels[i]` its human-readable run label.
    public static func render(specs: [String], labels: [String], options o: SlurmJobOptions, executable: String,
                              slurmDir: String, resultsDir: String) -> String {
        precondition(!specs.isEmpty && specs.count == labels.count)
        var s = "#!/bin/bash\n"
        s += "# Submitted by `deepnet run --executor slurm`: one array task per run (\(specs.count) runs) of results folder\n"
        s += "# \(resultsDir), which must be on storage that every node sees.\n"
        s += "#SBATCH --job-name=\(o.jobName)\n"
        s += "#SBATCH --array=0-\(specs.count - 1)\(o.maxParallel.map { "%\($0)" } ?? "")\n"
        // %A = array job id, %a = task index: the file names `deepnet status` and `--wait` look for. Appended, so a
        // requeued task's log continues the preempted one.
        s += "#SBATCH --output=\(slurmDir)/%A_%a.log\n"
        s += "#SBATCH --open-mode=append\n"
        s += "#SBATCH --ntasks=1\n"
        s += "#SBATCH --cpus-per-task=\(o.cpusPerTask)\n"
        // USR1 to the job step (the worker) S seconds before the time limit; the worker checkpoints at the next step
        // boundary and requeues its own task (`scontrol requeue`), which --requeue permits.
        s += "#SBATCH --signal=USR1@\(o.signalSeconds)\n"
        s += "#SBATCH --requeue\n"
        if let p = o.partition { s += "#SBATCH --partition=\(p)\n" }
        if let t = o.time { s += "#SBATCH --time=\(t)\n" }
        if let m = o.mem { s += "#SBATCH --mem=\(m)\n" }
        if let a = o.account { s += "#SBATCH --account=\(a)\n" }
        for x in o.extraArguments { s += "#SBATCH \(x)\n" }
        s += "\n"
        s += "specs=(\n"
        for (p, l) in zip(specs, labels) { s += "  \(shellQuote(p))   # \(l.replacingOccurrences(of: "\n", with: " "))\n" }
        s += ")\n"
        s += "spec=${specs[$SLURM_ARRAY_TASK_ID]}\n"
        s += "export \(taskMarker)=1\n"
        // One engine thread per allocated CPU; OpenBLAS single-threaded (the engine splits the work itself). The
        // stored numbers do not depend on the thread count (GEMM.swift), only the speed does.
        s += "export DEEPNET_THREADS=${SLURM_CPUS_PER_TASK:-1} OPENBLAS_NUM_THREADS=1\n"
        s += "echo \"[$(date -u +%FT%TZ)] task ${SLURM_ARRAY_JOB_ID}_${SLURM_ARRAY_TASK_ID} (job $SLURM_JOB_ID, restart ${SLURM_RESTART_COUNT:-0}) on $(hostname): $spec\"\n"
        // The worker runs as a job step (srun), not in the batch shell: `--signal=USR1@S` and a plain
        // `scancel --signal=USR1 <job>` signal job steps, and the batch shell would not pass the signal on.
        // --cpus-per-task is repeated because srun does not inherit it from sbatch since Slurm 22.05.
        s += "exec srun --ntasks=1 --cpus-per-task=${SLURM_CPUS_PER_TASK:-1} \(shellQuote(executable)) run-one \"$spec\"\n"
        return s
    }
}
