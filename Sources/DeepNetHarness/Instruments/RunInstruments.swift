// Instruments: the one object a training loop talks to. Three calls, all no-ops unless the run's configuration asks
// for an instrument measurement (`RunInstruments.make` returns nil then, so a run without instruments does no work):
//
//     let instruments = try RunInstruments.make(config: config, model: model,
//                                               probeBatch: fixedBatch, landscapeBatches: fixedBatches)   // before step 1
//     ... after every optimizer step k (k = number of completed updates):
//     try instruments?.afterStep(k, model: model)
//     ... when training ends (finished or diverged):
//     record.diagnostics.merge(instruments?.finish(model: model) ?? [:]) { $1 }
//
// What is recorded, by measurement:
//   grad-norm-per-layer, model-update, ln-input-norm → `TrainingProbes` every `diagnostics.every` steps up to
//     `diagnostics.earlySteps` (0 = whole run), plus step 0; model-update also stores the Theorem 2/3 bound.
//   loss-landscape-2d → Li et al. surface around the final parameters: two filter-normalized random directions
//     (seed `diagnostics.landscapeSeed`), `landscapeResolution`² points on [−span, span]², loss = plain cross-entropy
//     on `landscapeBatches` in eval mode (tag "li").
//   trajectory-pca → θ snapshots at the probe steps; PCA of θ_i − θ_final (1-D tensors ignored), the surface on the
//     PCA plane with the trajectory and its loss (tag "pca" under loss-landscape-2d when that is also requested,
//     coordinates under trajectory-pca).
import Foundation
import DeepNetEngine
import HDF5Store

public final class RunInstruments {
    public let measurements: Set<MeasurementKind>
    public let spec: DiagnosticsSpec
    public let config: ModelConfig
    public private(set) var series = ProbeSeries()
    public let probes: TrainingProbes?
    public let landscapeBatches: [TokenBatch]
    /// (step, θ) snapshots for the trajectory.
    public private(set) var snapshots: [(step: Int, theta: [Float])] = []
    /// Loss used for landscapes.
    public var landscapeLoss: LandscapeLoss = .nll
    /// Parallel landscape evaluators (model copies); one per core by default.
    /// Both cores by default; DEEPNET_THREADS caps it (the runner's `-j N` workers must not oversubscribe the CPU).
    public var landscapeWorkers: Int = Parallel.threads
    public private(set) var lastRecordedStep: Int = -1
    /// Update count of θ_0, the model that ‖ΔF‖ and the bound measure from (stored as `reference_step`): 0 for a run
    /// that started at initialization. A resumed run restores it (and θ_0, F(x, θ_0), the series and the trajectory
    /// snapshots) from its checkpoint, so its figure data equal an uninterrupted run's.
    public private(set) var referenceStep: Int

    /// Measurements this object can record.
    public static let supported: Set<MeasurementKind> = [.gradientNormPerLayer, .modelUpdate, .lnInputNorm, .lossLandscape2D, .trajectoryPCA]

    /// nil when `config.measurements` contains none of `supported`. With `resume`, the measurement state saved by
    /// `save(into:)` in a checkpoint of this run (the model must already hold that checkpoint's parameters).
    public static func make(config: RunConfig, model: TransformerModel, probeBatch: TokenBatch,
                            landscapeBatches: [TokenBatch], resume: SavedState? = nil) throws -> RunInstruments? {
        let wanted = Set(config.measurements).intersection(supported)
        if wanted.isEmpty { return nil }
        return try RunInstruments(measurements: wanted, spec: config.diagnostics, model: model, probeBatch: probeBatch,
                                  landscapeBatches: landscapeBatches, resume: resume)
    }

    public init(measurements: Set<MeasurementKind>, spec: DiagnosticsSpec, model: TransformerModel, probeBatch: TokenBatch,
                landscapeBatches: [TokenBatch], resume: SavedState? = nil) throws {
        self.measurements = measurements
        self.spec = spec
        self.config = model.config
        self.landscapeBatches = landscapeBatches.isEmpty ? [probeBatch] : landscapeBatches
        self.referenceStep = resume?.referenceStep ?? model.updateCount
        let opts = ProbeOptions(gradientNorms: measurements.contains(.gradientNormPerLayer),
                                modelUpdate: measurements.contains(.modelUpdate),
                                lnInputs: measurements.contains(.lnInputNorm),
                                every: spec.every, earlySteps: spec.earlySteps)
        if opts.anyEnabled {
            // A resumed run measures from the θ_0 and F(x, θ_0) saved at its start, never from the checkpoint.
            let reference = try resume.map { r -> TrainingProbes.Reference in
                guard let p = r.initialParameters else { throw ProbeError(message: "the checkpoint has no saved θ_0") }
                return TrainingProbes.Reference(parameters: p, outputs: r.initialOutputs, preLNOutputs: r.initialPreLNOutputs)
            }
            probes = try TrainingProbes(model: model, probeBatch: probeBatch, options: opts, reference: reference)
        } else {
            probes = nil
        }
        if let resume {
            series = resume.series
            snapshots = resume.snapshots
            lastRecordedStep = resume.lastRecordedStep
        } else {
            try afterStep(model.updateCount, model: model)
        }
    }

    // MARK: Resume state

    /// Everything the instruments have measured or hold as reference, for a checkpoint.
    public struct SavedState {
        public var referenceStep: Int
        public var lastRecordedStep: Int
        public var series: ProbeSeries
        public var initialParameters: [Float]?
        public var initialOutputs: [StackKind: [Float]]
        /// F_pre(x, θ_0) per stack (empty in checkpoints written before the pre-LN model update existed).
        public var initialPreLNOutputs: [StackKind: [Float]] = [:]
        public var snapshots: [(step: Int, theta: [Float])]
    }

    public var savedState: SavedState {
        SavedState(referenceStep: referenceStep, lastRecordedStep: lastRecordedStep, series: series,
                   initialParameters: probes?.initialParameters, initialOutputs: probes?.initialOutputs ?? [:],
                   initialPreLNOutputs: probes?.initialPreLNOutputs ?? [:], snapshots: snapshots)
    }

    /// Writes `savedState` under `group` of a checkpoint file (series as JSON, arrays as float32 datasets).
    public func save(into f: HDF5File, group: String) throws {
        let st = savedState
        try f.createGroup(group)
        try f.setAttribute("reference_step", st.referenceStep, on: group)
        try f.setAttribute("last_recorded_step", st.lastRecordedStep, on: group)
        try f.writeString(try JSONValue.from(st.series).canonical, at: group + "/series_json")
        if let p = st.initialParameters { try f.write(p, shape: [p.count], at: group + "/initial_parameters") }
        for (k, v) in st.initialOutputs.sorted(by: { $0.key.rawValue < $1.key.rawValue }) {
            try f.write(v, shape: [v.count], at: group + "/initial_output_" + k.rawValue)
        }
        for (k, v) in st.initialPreLNOutputs.sorted(by: { $0.key.rawValue < $1.key.rawValue }) {
            try f.write(v, shape: [v.count], at: group + "/initial_output_pre_ln_" + k.rawValue)
        }
        if !st.snapshots.isEmpty {
            try f.write(st.snapshots.map { Int64($0.step) }, shape: [st.snapshots.count], at: group + "/snapshot_steps")
            let width = st.snapshots[0].theta.count
            try f.write(st.snapshots.flatMap(\.theta), shape: [st.snapshots.count, width], at: group + "/snapshots")
        }
    }

    /// Reads what `save(into:group:)` wrote; errors name the dataset that is missing or malformed.
    public static func load(from f: HDF5File, group: String) throws -> SavedState {
        guard let ref = try f.intAttribute("reference_step", on: group),
              let last = try f.intAttribute("last_recorded_step", on: group) else {
            throw ProbeError(message: "\(group): missing reference_step or last_recorded_step")
        }
        let series = try JSONValue.parse(Data(try f.readString(at: group + "/series_json").utf8)).decode(ProbeSeries.self)
        let initial = f.exists(group + "/initial_parameters") ? try f.readFloats(at: group + "/initial_parameters").values : nil
        var outputs: [StackKind: [Float]] = [:]
        for k in [StackKind.encoder, .decoder] where f.exists(group + "/initial_output_" + k.rawValue) {
            outputs[k] = try f.readFloats(at: group + "/initial_output_" + k.rawValue).values
        }
        var preLN: [StackKind: [Float]] = [:]
        for k in [StackKind.encoder, .decoder] where f.exists(group + "/initial_output_pre_ln_" + k.rawValue) {
            preLN[k] = try f.readFloats(at: group + "/initial_output_pre_ln_" + k.rawValue).values
        }
        guard f.exists(group + "/snapshot_steps") else {
            return SavedState(referenceStep: ref, lastRecordedStep: last, series: series, initialParameters: initial,
                              initialOutputs: outputs, initialPreLNOutputs: preLN, snapshots: [])
        }
        let steps = try f.readInt64s(at: group + "/snapshot_steps").values
        let (flat, shape) = try f.readFloats(at: group + "/snapshots")
        guard shape.count == 2, shape[0] == steps.count, flat.count == shape[0] * shape[1] else {
            throw ProbeError(message: "\(group)/snapshots has shape \(shape), expected [\(steps.count), P]")
        }
        let w = shape[1]
        let snaps = steps.enumerated().map { (i, s) in (step: Int(s), theta: Array(flat[(i * w)..<((i + 1) * w)])) }
        return SavedState(referenceStep: ref, lastRecordedStep: last, series: series, initialParameters: initial,
                          initialOutputs: outputs, initialPreLNOutputs: preLN, snapshots: snaps)
    }

    /// Whether step `k` is recorded (step 0 always; then every `spec.every` steps up to `spec.earlySteps`).
    public func isProbeStep(_ k: Int) -> Bool {
        if spec.earlySteps > 0 && k > spec.earlySteps { return false }
        return k % max(1, spec.every) == 0
    }

    /// Call after each optimizer step with the number of completed updates (and once at 0, done by `init`).
    public func afterStep(_ step: Int, model: TransformerModel) throws {
        guard isProbeStep(step), step != lastRecordedStep else { return }
        lastRecordedStep = step
        if let probes {
            let rec = try probes.record(step: step, model: model)
            let bound = measurements.contains(.modelUpdate)
                ? TheoryBound.compute(model: model, reference: probes.initialParameters) : nil
            series.append(rec, bound: bound)
        }
        if measurements.contains(.trajectoryPCA) { snapshots.append((step, model.parameters.values)) }
    }

    /// Landscapes and PCA at the end of training, plus the probe series; keyed by measurement raw value.
    public func finish(model: TransformerModel) throws -> [String: [DiagnosticArray]] {
        var out = series.diagnostics(for: measurements)
        for (k, arrays) in out {
            out[k] = arrays.map { a in
                var b = a
                if b.name == "steps" { b.attributes["reference_step"] = "\(referenceStep)" }
                return b
            }
        }
        let center = model.parameters.values
        guard center.allSatisfy({ $0.isFinite }) else {
            // A diverged run: no surface around non-finite parameters.
            return out
        }
        let layout = ParameterLayout(store: model.parameters)
        let wantsSurface = measurements.contains(.lossLandscape2D), wantsPCA = measurements.contains(.trajectoryPCA)
        guard wantsSurface || wantsPCA else { return out }
        let nw = max(1, landscapeWorkers)
        let workers = try EngineLandscapeEvaluator.workers(config: config, batches: landscapeBatches, loss: landscapeLoss, count: nw)
        let axis = LandscapeAxis(-spec.landscapeSpan, spec.landscapeSpan, spec.landscapeResolution)
        var landscape: [DiagnosticArray] = []
        LossLandscape.withWorkerThreading(workers: nw) {
            if wantsSurface {
                let s = LossLandscape.liRandomSurface(center: center, layout: layout, seed: UInt64(spec.landscapeSeed),
                                                      xAxis: axis, yAxis: axis, workers: workers)
                landscape += (InstrumentDiagnostics.arrays(for: s, tag: "li"))
            }
            if wantsPCA {
                var snaps = snapshots.filter { $0.theta.allSatisfy { $0.isFinite } }
                if snaps.last?.step != model.updateCount { snaps.append((model.updateCount, center)) }
                guard snaps.count >= 3 else { return }
                let (s, pca) = LossLandscape.pcaTrajectorySurface(checkpoints: snaps.map(\.theta), steps: snaps.map(\.step),
                                                                  final: center, layout: layout, points: spec.landscapeResolution,
                                                                  workers: workers)
                out[MeasurementKind.trajectoryPCA.rawValue] = InstrumentDiagnostics.arrays(for: pca, steps: snaps.map(\.step))
                    + InstrumentDiagnostics.arrays(for: s, tag: "pca")
                if wantsSurface { landscape += (InstrumentDiagnostics.arrays(for: s, tag: "pca")) }
            }
        }
        if wantsSurface {
            landscape.append(DiagnosticArray(name: "loss_kind", shape: [1], values: [landscapeLoss == .nll ? 0 : 1],
                                             attributes: ["loss": landscapeLoss.rawValue,
                                                          "batches": "\(landscapeBatches.count)",
                                                          "tokens": "\(landscapeBatches.reduce(0) { $0 + $1.target.count })",
                                                          "mode": "eval (no dropout)"]))
            out[MeasurementKind.lossLandscape2D.rawValue] = landscape
        }
        return out
    }
}
