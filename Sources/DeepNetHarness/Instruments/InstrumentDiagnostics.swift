// Instruments ⇄ the results model: every instrument's output as `DiagnosticArray`s (stored by the result store at
// /diagnostics/<measurement>/<name>) and back. Array names and shapes:
//
//  grad-norm-per-layer  steps [S]; total [S]; <stack>.layer [S, L]; <stack>.<self_attn|encoder_attn|ffn> [S, L]
//  model-update         steps [S]; delta_f [S]; <stack>.delta_f [S]; <stack>.delta_f_frobenius [S];
//                       delta_f_pre_ln [S]; <stack>.delta_f_pre_ln [S]; <stack>.delta_f_pre_ln_frobenius [S]
//                       (F before the last LayerNorm; NaN where not measured, e.g. resumed from an older checkpoint);
//                       param_distance [S]; bound.total / bound.encoder_sum / bound.decoder_sum / bound.cross_factor [S];
//                       bound.terms [S, T] (attribute `labels`: "encoder.0.self_attn,…")
//  ln-input-norm        steps [S]; <stack> [S, K] (attribute `names`); <stack>.mean [S]
//  loss-landscape-2d    <tag>.values [nx, ny] (or [n] for a curve); <tag>.x [nx]; <tag>.y [ny];
//                       <tag>.trajectory [k, 2]; <tag>.trajectory_steps [k]; <tag>.trajectory_loss [k]
//                       (attributes on <tag>.values: protocol, seed, x_label, y_label, roughness, …)
//  trajectory-pca       coordinates [k, 2]; steps [k]; explained_variance_ratio [2]; explained_variance [2]
// Missing values are NaN.
import Foundation
import DeepNetEngine

/// The probe records of one run, with the theory bound at the same steps.
public struct ProbeSeries: Sendable, Equatable, Codable {
    public var records: [ProbeRecord] = []
    /// Cumulative bound (θ_i against θ_0) at each record, when computed.
    public var bounds: [UpdateBound?] = []
    public init() {}

    public mutating func append(_ r: ProbeRecord, bound: UpdateBound? = nil) {
        records.append(r); bounds.append(bound)
    }

    public var steps: [Int] { records.map(\.step) }

    static func stack(_ r: ProbeRecord, _ s: String) -> StackProbe? { s == "encoder" ? r.encoder : r.decoder }

    /// Arrays for the measurements requested (only those this series can provide).
    public func diagnostics(for kinds: Set<MeasurementKind>) -> [String: [DiagnosticArray]] {
        var out: [String: [DiagnosticArray]] = [:]
        guard !records.isEmpty else { return out }
        let s = records.count
        let stepsArr = DiagnosticArray(name: "steps", shape: [s], values: records.map { Double($0.step) })
        let stacks = ["encoder", "decoder"].filter { st in records.contains { Self.stack($0, st) != nil } }
        func matrix(_ name: String, _ rows: [[Double]], attributes: [String: String] = [:]) -> DiagnosticArray {
            let width = rows.map(\.count).max() ?? 0
            var vals: [Double] = []
            for r in rows { vals += r + [Double](repeating: .nan, count: width - r.count) }
            return DiagnosticArray(name: name, shape: [rows.count, width], values: vals, attributes: attributes)
        }
        if kinds.contains(.gradientNormPerLayer) {
            var arrs = [stepsArr, DiagnosticArray(name: "total", shape: [s], values: records.map(\.totalGradNorm))]
            for st in stacks {
                arrs.append(matrix("\(st).layer", records.map { Self.stack($0, st)?.layerGradNorm ?? [] },
                                   attributes: ["definition": "L2 norm of the gradient of all tensors under \(st).layers.<l>."]))
                let kindsHere = Set(records.flatMap { Self.stack($0, st)?.sublayerGradNorm.keys.map { $0 } ?? [] })
                for k in ["self_attn", "encoder_attn", "ffn"] where kindsHere.contains(k) {
                    arrs.append(matrix("\(st).\(k)", records.map { Self.stack($0, st)?.sublayerGradNorm[k] ?? [] },
                                       attributes: ["definition": "L2 norm of the gradient of the residual-branch tensors of \(st).layers.<l>.\(k)"]))
                }
            }
            out[MeasurementKind.gradientNormPerLayer.rawValue] = arrs
        }
        if kinds.contains(.modelUpdate) {
            var arrs = [stepsArr,
                        DiagnosticArray(name: "delta_f", shape: [s], values: records.map { $0.modelUpdate ?? .nan },
                                        attributes: ["definition": TrainingProbesDefinitions.modelUpdate]),
                        DiagnosticArray(name: "delta_f_pre_ln", shape: [s], values: records.map { $0.modelUpdatePreLN ?? .nan },
                                        attributes: ["definition": TrainingProbesDefinitions.modelUpdatePreLN]),
                        DiagnosticArray(name: "param_distance", shape: [s], values: records.map { $0.parameterDistance ?? .nan })]
            for st in stacks {
                arrs.append(DiagnosticArray(name: "\(st).delta_f", shape: [s],
                                            values: records.map { Self.stack($0, st)?.outputUpdate ?? .nan }))
                arrs.append(DiagnosticArray(name: "\(st).delta_f_frobenius", shape: [s],
                                            values: records.map { Self.stack($0, st)?.outputUpdateFrobenius ?? .nan }))
                arrs.append(DiagnosticArray(name: "\(st).delta_f_pre_ln", shape: [s],
                                            values: records.map { Self.stack($0, st)?.preLNOutputUpdate ?? .nan }))
                arrs.append(DiagnosticArray(name: "\(st).delta_f_pre_ln_frobenius", shape: [s],
                                            values: records.map { Self.stack($0, st)?.preLNOutputUpdateFrobenius ?? .nan }))
            }
            if bounds.contains(where: { $0 != nil }) {
                let est = bounds.compactMap { $0 }.first!.estimator.rawValue
                let battr = ["estimator": est, "definition": TrainingProbesDefinitions.bound]
                arrs.append(DiagnosticArray(name: "bound.total", shape: [s], values: bounds.map { $0?.total ?? .nan }, attributes: battr))
                arrs.append(DiagnosticArray(name: "bound.encoder_sum", shape: [s], values: bounds.map { $0?.encoderSum ?? .nan }))
                arrs.append(DiagnosticArray(name: "bound.decoder_sum", shape: [s], values: bounds.map { $0?.decoderSum ?? .nan }))
                arrs.append(DiagnosticArray(name: "bound.cross_factor", shape: [s], values: bounds.map { $0?.crossAttentionFactor ?? .nan }))
                let labels = bounds.compactMap { $0 }.first!.terms.map { "\($0.stack).\($0.layer).\($0.sublayer)" }
                arrs.append(matrix("bound.terms", bounds.map { b in b?.terms.map(\.term) ?? [] },
                                   attributes: ["labels": labels.joined(separator: ",")]))
                arrs.append(matrix("bound.v", bounds.map { b in b?.terms.map(\.v) ?? [] },
                                   attributes: ["labels": labels.joined(separator: ",")]))
                arrs.append(matrix("bound.w", bounds.map { b in b?.terms.map(\.w) ?? [] },
                                   attributes: ["labels": labels.joined(separator: ",")]))
            }
            out[MeasurementKind.modelUpdate.rawValue] = arrs
        }
        if kinds.contains(.lnInputNorm) {
            var arrs = [stepsArr]
            for st in stacks {
                let names = records.compactMap { Self.stack($0, st)?.lnNames }.first ?? []
                arrs.append(matrix(st, records.map { Self.stack($0, st)?.lnInputNorm ?? [] },
                                   attributes: ["names": names.joined(separator: ","),
                                                "definition": TrainingProbesDefinitions.lnInput]))
                arrs.append(DiagnosticArray(name: "\(st).mean", shape: [s],
                                            values: records.map { Self.stack($0, st)?.meanLNInputNorm ?? .nan }))
            }
            out[MeasurementKind.lnInputNorm.rawValue] = arrs
        }
        return out
    }
}

/// One-line definitions stored as attributes next to the data.
public enum TrainingProbesDefinitions {
    public static let modelUpdate =
        "mean over non-pad positions of the fixed probe batch of ||F_t(x, theta_i) - F_t(x, theta_0)||_2, F = final decoder hidden states (input of the output projection), eval mode"
    public static let modelUpdatePreLN =
        "as delta_f, with F = the decoder's top residual stream before its last LayerNorm (input of the final layer_norm for Pre-LN-like methods, x + f(x) of the top sublayer for Post-LN-like ones, F itself without LayerNorm)"
    public static let bound =
        "Theorem 3 (enc-dec) / Theorem 2: sum over sublayers of sqrt(v^2+w^2)/alpha * ||theta_i - theta_0||_F; v, w = Xavier-relative RMS of v_proj/out_proj or fc1/fc2"
    public static let lnInput = "mean over non-pad positions of the probe batch of ||x_t||_2, x = LayerNorm input, eval mode"
}

/// Reading instrument arrays back out of a run record.
public enum InstrumentDiagnostics {
    public static func array(_ record: RunRecord, _ kind: MeasurementKind, _ name: String) -> DiagnosticArray? {
        record.diagnostics[kind.rawValue]?.first { $0.name == name }
    }

    /// Row `row` of a [S, L] matrix, or the whole vector for a 1-D array.
    public static func rows(_ a: DiagnosticArray) -> [[Double]] {
        guard a.shape.count == 2 else { return [a.values] }
        let w = a.shape[1]
        return (0..<a.shape[0]).map { Array(a.values[($0 * w)..<(($0 + 1) * w)]) }
    }

    /// Column `col` of a [S, L] matrix (e.g. one layer over time).
    public static func column(_ a: DiagnosticArray, _ col: Int) -> [Double] {
        guard a.shape.count == 2, col < a.shape[1] else { return [] }
        return (0..<a.shape[0]).map { a.values[$0 * a.shape[1] + col] }
    }

    // MARK: landscapes

    public static func arrays(for s: LossSurface, tag: String) -> [DiagnosticArray] {
        var attrs: [String: String] = [
            "protocol": s.protocolName.rawValue,
            "x_label": s.xLabel, "y_label": s.yLabel,
            "roughness": fmt(s.roughness.roughness),
            "roughness_definition": SurfaceRoughness.definition,
            "mean_abs_second_difference": fmt(s.roughness.meanAbsSecondDifference),
            "second_to_first_ratio": fmt(s.roughness.secondToFirstRatio),
            "curvature_scale": fmt(s.roughness.curvatureScale),
            "loss_min": fmt(s.roughness.minLoss), "loss_max": fmt(s.roughness.maxLoss),
            "non_finite": "\(s.roughness.nonFinite)",
            "x_axis": "\(fmt(s.xAxis.lower)):\(fmt(s.xAxis.upper)):\(s.xAxis.count)",
        ]
        if let seed = s.directionSeed { attrs["seed"] = "\(seed)" }
        if let c = s.axisCosine { attrs["axis_cosine"] = fmt(c) }
        var arrs: [DiagnosticArray] = []
        if let y = s.yAxis {
            attrs["y_axis"] = "\(fmt(y.lower)):\(fmt(y.upper)):\(y.count)"
            arrs.append(DiagnosticArray(name: "\(tag).values", shape: [s.xAxis.count, y.count], values: s.values.flatMap { $0 },
                                        attributes: attrs))
            arrs.append(DiagnosticArray(name: "\(tag).y", shape: [y.count], values: y.values))
        } else {
            arrs.append(DiagnosticArray(name: "\(tag).values", shape: [s.xAxis.count], values: s.curve, attributes: attrs))
        }
        arrs.append(DiagnosticArray(name: "\(tag).x", shape: [s.xAxis.count], values: s.xAxis.values))
        if !s.trajectory.isEmpty {
            let dims = s.trajectory[0].count
            arrs.append(DiagnosticArray(name: "\(tag).trajectory", shape: [s.trajectory.count, dims],
                                        values: s.trajectory.flatMap { $0 }))
            arrs.append(DiagnosticArray(name: "\(tag).trajectory_steps", shape: [s.trajectorySteps.count],
                                        values: s.trajectorySteps.map(Double.init)))
            if !s.trajectoryLoss.isEmpty {
                arrs.append(DiagnosticArray(name: "\(tag).trajectory_loss", shape: [s.trajectoryLoss.count], values: s.trajectoryLoss))
            }
        }
        return arrs
    }

    /// Rebuilds a surface stored under `tag` (nil if absent).
    public static func surface(from arrays: [DiagnosticArray], tag: String) -> LossSurface? {
        func get(_ n: String) -> DiagnosticArray? { arrays.first { $0.name == "\(tag).\(n)" } }
        guard let v = get("values"), let x = get("x") else { return nil }
        let a = v.attributes
        func axis(_ s: String?, _ vals: [Double]) -> LandscapeAxis {
            if let s, case let p = s.split(separator: ":"), p.count == 3, let lo = Double(p[0]), let hi = Double(p[1]), let n = Int(p[2]) {
                return LandscapeAxis(lo, hi, n)
            }
            return LandscapeAxis(vals.first ?? 0, vals.last ?? 0, vals.count)
        }
        let xa = axis(a["x_axis"], x.values)
        var ya: LandscapeAxis? = nil
        var grid: [[Double]]
        if v.shape.count == 2, let y = get("y") {
            ya = axis(a["y_axis"], y.values)
            grid = rows(v)
        } else {
            grid = v.values.map { [$0] }
        }
        let rough: SurfaceRoughness = ya != nil
            ? .of(grid: grid, spacingX: xa.spacing, spacingY: ya!.spacing)
            : .of(curve: grid.map { $0[0] }, spacing: xa.spacing)
        var s = LossSurface(protocolName: LandscapeProtocol(rawValue: a["protocol"] ?? "") ?? .liRandomFilterNormalized,
                            xAxis: xa, yAxis: ya, values: grid, directionSeed: a["seed"].flatMap { UInt64($0) },
                            axisCosine: a["axis_cosine"].flatMap { Double($0) }, roughness: rough,
                            xLabel: a["x_label"] ?? "x", yLabel: a["y_label"] ?? "y",
                            trajectory: [], trajectoryLoss: [], trajectorySteps: [])
        if let t = get("trajectory") { s.trajectory = rows(t) }
        if let t = get("trajectory_steps") { s.trajectorySteps = t.values.map { Int($0) } }
        if let t = get("trajectory_loss") { s.trajectoryLoss = t.values }
        return s
    }

    public static func arrays(for p: TrajectoryPCAResult, steps: [Int]) -> [DiagnosticArray] {
        let k = p.coordinates.count, c = p.coordinates.first?.count ?? 0
        return [
            DiagnosticArray(name: "coordinates", shape: [k, c], values: p.coordinates.flatMap { $0 },
                            attributes: ["axis_labels": p.axisLabels.joined(separator: "|"),
                                         "definition": "x_i = <theta_i - theta_final, pc_j>/||pc_j||, PCA of checkpoint differences (Li et al. 2018 sec. 2, 1-D tensors ignored)"]),
            DiagnosticArray(name: "steps", shape: [steps.count], values: steps.map(Double.init)),
            DiagnosticArray(name: "explained_variance_ratio", shape: [p.explainedVarianceRatio.count], values: p.explainedVarianceRatio),
            DiagnosticArray(name: "explained_variance", shape: [p.explainedVariance.count], values: p.explainedVariance),
        ]
    }

    static func fmt(_ x: Double) -> String { x.isFinite ? String(format: "%.17g", x) : "nan" }
}
