// `deepnet status`: what a results folder holds, run by run — finished (ok/diverged), failed (with its message),
// interrupted (a checkpoint waits in .work, with its step), or not started — per experiment from its index; runs
// submitted with `--executor slurm` also show as queued or running (step, loss, ETA) via SlurmStatusView, and a
// worker executing a run here shows as running.
// `--porcelain` prints "<run id> <state>" lines for scripts (scripts/kill_test.sh).
import ArgumentParser
import DeepNetEngine
import DeepNetHarness
import Experiments
import Foundation
import HDF5Store

struct HarnessStatus: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status", abstract: "Show which runs of a results folder are finished, failed, interrupted, queued, running or not started.")
    @Argument(help: "Experiment ids (default: every experiment with an index in the folder).") var ids: [String] = []
    @Option(help: "Results folder.") var results = "results/reduced"
    @Flag(help: "One '<run id> <state>' line per run file and interrupted run, nothing else.") var porcelain = false

    func validate() throws {
        try requireNonEmptyPath(results, flag: "results")
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: results, isDirectory: &isDir), isDir.boolValue else {
            throw ValidationError("results folder '\(results)' does not exist")
        }
    }

    /// State of one run id in `store`: "ok", "diverged", "failed", "unreadable", "interrupted@<step>", or "not-started".
    static func state(_ id: String, _ store: ResultStore) -> (String, String?) {
        do {
            let r = try store.read(id)
            return (r.status.rawValue, r.status == .failed ? r.message : r.divergedAtStep.map { "at step \($0)" })
        } catch let e as ResultStoreError where e.kind == .missing {
            let ckpt = store.workDir(id).appendingPathComponent("checkpoint.h5")
            if let f = try? HDF5File.open(ckpt, mode: .readOnly) {
                defer { f.close() }
                let step = (try? f.intAttribute("step")) ?? nil
                return ("interrupted@\(step.map(String.init) ?? "?")", nil)
            }
            return ("not-started", nil)
        } catch {
            return ("unreadable", "\(error)")
        }
    }

    func run() throws {
        let store = ResultStore(root: URL(fileURLWithPath: results))
        // Runs submitted with --executor slurm: queued/running from squeue, failed with the task's log.
        let slurm = SlurmStatusView(store: store)
        defer { if let why = slurm.queueProblem, !porcelain { print("note: \(why)") } }
        if porcelain {
            var ids = Set(store.runFileIDs())
            for n in (try? FileManager.default.contentsOfDirectory(atPath: store.workDir.path)) ?? [] where !n.hasPrefix(".") && !n.hasSuffix(".lock") {
                ids.insert(n)
            }
            ids.formUnion(slurm.claimedRunIDs)
            for id in ids.sorted() { print("\(id) \(slurm.describe(id, base: Self.state(id, store)).0)") }
            return
        }
        let registry = try registryOrExit()
        let experiments = ids.isEmpty ? registry.experiments.filter { (try? store.readIndex($0.id)) != nil } : try lookup(ids, all: false, registry: registry)
        if experiments.isEmpty { print("\(results): no experiment has an index here (nothing was run into this folder)") }
        for e in experiments {
            let r = try store.load(e)
            var counts: [String: Int] = [:]
            var lines: [String] = []
            for en in r.entries {
                let (s, detail) = slurm.describe(en.runID, base: Self.state(en.runID, store))
                counts[s.hasPrefix("interrupted") ? "interrupted" : s, default: 0] += 1
                lines.append("  \(en.runID.prefix(12))  \(en.coordinates.shortLabel.padding(toLength: 34, withPad: " ", startingAt: 0)) \(s)\(detail.map { " (\($0))" } ?? "")")
            }
            let summary = counts.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key)" }.joined(separator: ", ")
            print("\(e.id) [\(r.profile?.rawValue ?? "?")]: \(r.entries.count) runs: \(summary)")
            lines.forEach { print($0) }
        }
    }
}
