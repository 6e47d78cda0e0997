// The trainer's own state, saved and restored as one unit: parameters, Adam/SGD moments, the update count, and
// the method's state outside the parameters (Admin's "ω already profiled"). Data order and dropout need no state:
// batch k and the dropout masks of update k are functions of (seed, k) only (RunData.trainBatch(step:),
// Trainer.dropoutSeed(forUpdate:)), so restoring the update count restores them.
//
// File layout (one HDF5 file, written atomically by Checkpoint.save):
//   /<state_dict key>            parameters (as any checkpoint), attribute `step`
//   /optimizer/exp_avg/…         first moment (Adam/AdamW) or momentum buffer (SGD)
//   /optimizer/exp_avg_sq/…      second moment (Adam/AdamW)
//   /trainer                     attributes: optimizer, seed, update_count, method.<key> for the method state
//   (whatever `extra` adds: the harness writes /run)
import Foundation
import HDF5Store

public struct TrainerStateError: Error, CustomStringConvertible, Sendable {
    public var file: String
    public var message: String
    public var description: String { "\(file): \(message)" }
}

extension Trainer {
    /// Saves everything that determines the updates after this one into `url` (atomically). `extra` writes the
    /// caller's own state into the same file before it is renamed into place.
    public func save(to url: URL, extra: ((HDF5File) throws -> Void)? = nil) throws {
        let buffers = v.isEmpty ? ["exp_avg": m] : ["exp_avg": m, "exp_avg_sq": v]
        let opt = OptimizerState(name: optimizer.kind.rawValue, step: step, buffers: buffers)
        let kind = optimizer.kind.rawValue, seedText = String(seed), updates = step
        let methodState = model.method.trainingState
        try Checkpoint.save(model, to: url, step: step, optimizer: opt) { f in
            try f.createGroup("trainer")
            try f.setAttribute("optimizer", kind, on: "trainer")
            // The seed as text: UInt64 seeds above Int.max must survive the round trip.
            try f.setAttribute("seed", seedText, on: "trainer")
            try f.setAttribute("update_count", updates, on: "trainer")
            for (k, value) in methodState.sorted(by: { $0.key < $1.key }) {
                try f.setAttribute("method." + k, value, on: "trainer")
            }
            try extra?(f)
        }
    }

    /// Restores the state written by `save`. The file must come from the same model settings, optimizer and seed;
    /// anything else is an error naming the file and what differs. On error the trainer may be partly
    /// overwritten: callers start over from a fresh model then.
    public func restore(from url: URL, extra: ((HDF5File) throws -> Void)? = nil) throws {
        let f = try HDF5File.open(url, mode: .readOnly)
        defer { f.close() }
        func fail(_ s: String) -> TrainerStateError { TrainerStateError(file: url.path, message: s) }
        guard f.kind(of: "trainer") == .group else { throw fail("no /trainer group (not a trainer state file)") }
        let (stored, _) = try Checkpoint.readConfig(f, defaults: model.config)
        guard stored == model.config else { throw fail("model settings differ from the run's") }
        let kind = try f.stringAttribute("optimizer", on: "trainer")
        guard kind == optimizer.kind.rawValue else {
            throw fail("optimizer '\(kind ?? "none")', expected '\(optimizer.kind.rawValue)'")
        }
        guard try f.stringAttribute("seed", on: "trainer") == String(seed) else { throw fail("seed differs from \(seed)") }
        guard let updates = try f.intAttribute("update_count", on: "trainer"), updates >= 0 else {
            throw fail("missing or negative /trainer update_count")
        }
        let contents = try Checkpoint.load(into: model, from: f, strict: true)
        guard contents.step == updates, let opt = contents.optimizer, opt.step == updates else {
            throw fail("step attributes disagree with update_count \(updates)")
        }
        guard let mm = opt.buffers["exp_avg"], mm.count == m.count else { throw fail("optimizer buffer exp_avg missing") }
        if !v.isEmpty {
            guard let vv = opt.buffers["exp_avg_sq"], vv.count == v.count else { throw fail("optimizer buffer exp_avg_sq missing") }
            v = vv
        }
        m = mm
        var methodState: [String: Double] = [:]
        for a in try f.attributeNames(on: "trainer") where a.hasPrefix("method.") {
            methodState[String(a.dropFirst("method.".count))] = try f.doubleAttribute(a, on: "trainer")
        }
        try model.method.restoreTrainingState(methodState)
        model.updateCount = updates
        try extra?(f)
    }
}
