// Instruments: scalar summaries of recorded instrument data, shared by the verdicts and the report figures.
import Foundation
import DeepNetEngine

public enum InstrumentSummaries {
    public static func arr(_ rec: RunRecord, _ k: MeasurementKind, _ n: String) -> DiagnosticArray? {
        InstrumentDiagnostics.array(rec, k, n)
    }

    /// Recorded steps of a per-step instrument.
    public static func steps(_ rec: RunRecord, _ k: MeasurementKind) -> [Double] {
        arr(rec, k, "steps")?.values ?? []
    }

    /// ‖ΔF‖ per recorded step (the decoder's, or the encoder's for encoder-only models).
    public static func modelUpdate(_ rec: RunRecord) -> [Double] { arr(rec, .modelUpdate, "delta_f")?.values ?? [] }

    /// Largest finite ‖ΔF‖ over the recorded early stage.
    public static func peakModelUpdate(_ rec: RunRecord) -> Double? {
        modelUpdate(rec).filter(\.isFinite).max()
    }

    /// ‖ΔF‖ at the first recorded step after step 0: the update of the first optimizer steps, before the
    /// LayerNorm-normalised output saturates (its distance from θ₀'s output is bounded by ≈ √(2d)·|γ| once the
    /// two decorrelate, so peaks of deep models all end near that ceiling and no longer show depth).
    public static func firstModelUpdate(_ rec: RunRecord) -> Double? {
        guard let steps = arr(rec, .modelUpdate, "steps")?.values else { return nil }
        let u = modelUpdate(rec)
        return zip(steps, u).first { $0.0 > 0 && $0.1.isFinite }?.1
    }

    /// ‖ΔF_pre‖ per recorded step: the model update measured before the last LayerNorm ("delta_f_pre_ln", same
    /// normalisation as `modelUpdate`); empty for records made before it existed. Unlike ‖ΔF‖ it does not saturate
    /// near √(2d).
    public static func modelUpdatePreLN(_ rec: RunRecord) -> [Double] { arr(rec, .modelUpdate, "delta_f_pre_ln")?.values ?? [] }

    /// Largest finite ‖ΔF_pre‖ over the recorded early stage.
    public static func peakModelUpdatePreLN(_ rec: RunRecord) -> Double? {
        modelUpdatePreLN(rec).filter(\.isFinite).max()
    }

    /// ‖ΔF_pre‖ at the first recorded step after step 0 (as `firstModelUpdate`).
    public static func firstModelUpdatePreLN(_ rec: RunRecord) -> Double? {
        guard let steps = arr(rec, .modelUpdate, "steps")?.values else { return nil }
        return zip(steps, modelUpdatePreLN(rec)).first { $0.0 > 0 && $0.1.isFinite }?.1
    }

    /// Cumulative Theorem 2/3 bound per recorded step.
    public static func bound(_ rec: RunRecord) -> [Double] { arr(rec, .modelUpdate, "bound.total")?.values ?? [] }

    /// Mean LN input norm of a stack per recorded step.
    public static func lnMean(_ rec: RunRecord, stack: String) -> [Double] { arr(rec, .lnInputNorm, "\(stack).mean")?.values ?? [] }

    /// Per-layer gradient norms of a stack at recorded step index `i` (default: the last).
    public static func layerGradNorms(_ rec: RunRecord, stack: String, at i: Int? = nil) -> [Double] {
        guard let a = arr(rec, .gradientNormPerLayer, "\(stack).layer") else { return [] }
        let rows = InstrumentDiagnostics.rows(a)
        guard !rows.isEmpty else { return [] }
        let idx = i ?? rows.count - 1
        return idx < rows.count ? rows[idx] : []
    }

    /// Per-layer gradient norms averaged over the recorded steps after step 0 (step 0 has no gradient yet).
    public static func meanLayerGradNorms(_ rec: RunRecord, stack: String) -> [Double] {
        guard let a = arr(rec, .gradientNormPerLayer, "\(stack).layer") else { return [] }
        let st = steps(rec, .gradientNormPerLayer)
        let rows = InstrumentDiagnostics.rows(a).enumerated().filter { $0.offset < st.count ? st[$0.offset] > 0 : true }.map(\.element)
        guard let w = rows.first?.count, w > 0 else { return [] }
        return (0..<w).map { j in
            let v = rows.map { $0[j] }.filter(\.isFinite)
            return v.isEmpty ? .nan : v.reduce(0, +) / Double(v.count)
        }
    }

    /// A surface stored under `tag` in the loss-landscape (or trajectory-pca) arrays.
    public static func surface(_ rec: RunRecord, tag: String) -> LossSurface? {
        for k in [MeasurementKind.lossLandscape2D, .trajectoryPCA] {
            if let arrays = rec.diagnostics[k.rawValue], let s = InstrumentDiagnostics.surface(from: arrays, tag: tag) { return s }
        }
        return nil
    }

    /// Headline roughness of the random-direction surface (tag "li"), else of the PCA-plane surface.
    public static func roughness(_ rec: RunRecord) -> Double? {
        (surface(rec, tag: "li") ?? surface(rec, tag: "pca"))?.roughness.roughness
    }

    /// Trajectory statistics in the PCA plane: total path length, the share of it travelled in the second half of
    /// the recorded steps (small = the run stalled early), and the loss at the last trajectory point.
    public struct TrajectoryStats: Sendable {
        public var pathLength: Double
        public var lateShare: Double
        public var finalLoss: Double?
        public var explainedVariance: [Double]
    }

    public static func trajectoryStats(_ rec: RunRecord) -> TrajectoryStats? {
        guard let c = arr(rec, .trajectoryPCA, "coordinates") else { return nil }
        let pts = InstrumentDiagnostics.rows(c)
        guard pts.count >= 2 else { return nil }
        var seg: [Double] = []
        for i in 1..<pts.count {
            var s = 0.0
            for j in 0..<pts[i].count { let d = pts[i][j] - pts[i - 1][j]; s += d * d }
            seg.append(s.squareRoot())
        }
        let total = seg.reduce(0, +)
        let late = seg[(seg.count / 2)...].reduce(0, +)
        let loss = surface(rec, tag: "pca")?.trajectoryLoss.last
        return TrajectoryStats(pathLength: total, lateShare: total > 0 ? late / total : 0, finalLoss: loss,
                               explainedVariance: arr(rec, .trajectoryPCA, "explained_variance_ratio")?.values ?? [])
    }
}
