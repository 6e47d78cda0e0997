// Instruments: loss surfaces θ(a) = θ_c + a·δ (1-D) and θ(a, b) = θ_c + a·δ + b·η (2-D) on a grid
// (docs/landscape.md §1.5 for Li et al.; §3–§4(b) for the Hao et al. variant centred at θ0).
//
// Evaluation is delegated to `LandscapeEvaluator`s, one per worker, each owning its own model copy and a fixed
// list of batches evaluated in eval mode (the engine adapter is `EngineLandscapeEvaluator`). Grid points are
// assigned to workers round-robin and each point's parameters are formed in Float exactly the same way whatever the
// worker, so the surface does not depend on the number of workers as long as one evaluation is deterministic
// (the engine's forward is; tests check 1 vs 2 workers bit-for-bit).
import Foundation
import Dispatch

/// Computes the loss of one parameter vector. Implementations own their scratch model and are used from one
/// thread at a time.
public protocol LandscapeEvaluator: AnyObject {
    /// Mean loss over the evaluator's fixed batches at parameters `theta` (flat, the model's layout).
    func loss(parameters theta: [Float]) -> Double
}

/// A closure evaluator (tests, analytic surfaces).
public final class ClosureLandscapeEvaluator: LandscapeEvaluator {
    let body: ([Float]) -> Double
    public init(_ body: @escaping ([Float]) -> Double) { self.body = body }
    public func loss(parameters theta: [Float]) -> Double { body(theta) }
}

/// A uniform axis: `count` points from `lower` to `upper` inclusive (`--x=-1:1:51`).
public struct LandscapeAxis: Sendable, Codable, Equatable {
    public var lower: Double
    public var upper: Double
    public var count: Int
    public init(_ lower: Double, _ upper: Double, _ count: Int) {
        precondition(count >= 1)
        self.lower = lower; self.upper = upper; self.count = count
    }
    public var values: [Double] {
        count == 1 ? [lower] : (0..<count).map { lower + (upper - lower) * Double($0) / Double(count - 1) }
    }
    public var spacing: Double { count > 1 ? (upper - lower) / Double(count - 1) : 1 }
}

/// Which protocol produced a surface (stored with it).
public enum LandscapeProtocol: String, Sendable, Codable {
    /// Li et al. 2018: centre θ*, random filter-normalized directions (docs/landscape.md §1).
    case liRandomFilterNormalized = "li-random-filter"
    /// Li et al. 2018 §2: centre θ_final, the two PCA axes of the checkpoint differences.
    case liTrajectoryPCA = "li-trajectory-pca"
    /// Hao et al. 2019 [unconfirmed protocol]: centre θ0, δ1 = θ_final − θ0, δ2 filter-normalized random rescaled to ‖δ1‖.
    case haoInitCentred = "hao-init-centred"
    /// 1-D linear interpolation between two models (Goodfellow et al. 2015).
    case interpolation
}

/// One evaluated surface plus everything needed to reproduce it.
public struct LossSurface: Sendable, Codable {
    public var protocolName: LandscapeProtocol
    public var xAxis: LandscapeAxis
    /// nil for a 1-D curve.
    public var yAxis: LandscapeAxis?
    /// values[i][j] = L(x_i, y_j); a 1-D curve has values[i] = [L(x_i)].
    public var values: [[Double]]
    public var directionSeed: UInt64?
    /// cos(δ, η) of the two axes (≈ 0 for random directions in high dimension).
    public var axisCosine: Double?
    public var roughness: SurfaceRoughness
    /// Free-form labels ("1st PC: 91.20 %", "δ1 = θ_final − θ0", ...).
    public var xLabel: String
    public var yLabel: String
    /// Optional trajectory overlay in surface coordinates, with its loss when evaluated.
    public var trajectory: [[Double]]
    public var trajectoryLoss: [Double]
    public var trajectorySteps: [Int]

    public var curve: [Double] { values.map { $0[0] } }
}

public enum LossLandscape {
    /// Evaluates θ_c + Σ_k coord_k · dir_k at every point of `points` with the given workers (≥ 1), in parallel.
    /// Returns one loss per point, in order.
    public static func evaluate(center: [Float], directions: [[Float]], points: [[Double]],
                                workers: [LandscapeEvaluator]) -> [Double] {
        precondition(!workers.isEmpty, "need at least one evaluator")
        precondition(directions.allSatisfy { $0.count == center.count })
        let np = points.count, nw = min(workers.count, max(np, 1))
        var out = [Double](repeating: .nan, count: np)
        out.withUnsafeMutableBufferPointer { res in
            let resBase = res.baseAddress!
            let body: (Int) -> Void = { w in
                var theta = center
                let ev = workers[w]
                var p = w
                while p < np {
                    form(&theta, center: center, directions: directions, coords: points[p])
                    resBase[p] = ev.loss(parameters: theta)
                    p += nw
                }
            }
            if nw == 1 { body(0) } else { DispatchQueue.concurrentPerform(iterations: nw, execute: body) }
        }
        return out
    }

    /// θ = center + Σ a_k d_k, formed in Float with one rounding per term, in fixed order.
    @inline(__always)
    static func form(_ theta: inout [Float], center: [Float], directions: [[Float]], coords: [Double]) {
        let n = center.count
        theta.withUnsafeMutableBufferPointer { t in
            center.withUnsafeBufferPointer { c in
                for i in 0..<n { t[i] = c[i] }
                for (k, d) in directions.enumerated() {
                    let a = Float(coords[k])
                    if a == 0 { continue }
                    d.withUnsafeBufferPointer { dp in for i in 0..<n { t[i] += a * dp[i] } }
                }
            }
        }
    }

    /// 1-D curve L(θ_c + a·δ).
    public static func curve(center: [Float], direction: [Float], axis: LandscapeAxis,
                             workers: [LandscapeEvaluator], protocolName: LandscapeProtocol,
                             seed: UInt64? = nil, xLabel: String = "α", clip: Double? = nil) -> LossSurface {
        let xs = axis.values
        let v = evaluate(center: center, directions: [direction], points: xs.map { [$0] }, workers: workers)
        return LossSurface(protocolName: protocolName, xAxis: axis, yAxis: nil, values: v.map { [$0] },
                           directionSeed: seed, axisCosine: nil,
                           roughness: .of(curve: v, spacing: axis.spacing, clip: clip),
                           xLabel: xLabel, yLabel: "loss", trajectory: [], trajectoryLoss: [], trajectorySteps: [])
    }

    /// 2-D surface L(θ_c + a·δ + b·η), values[i][j] at (x_i, y_j).
    public static func surface(center: [Float], x: [Float], y: [Float], xAxis: LandscapeAxis, yAxis: LandscapeAxis,
                               workers: [LandscapeEvaluator], protocolName: LandscapeProtocol, seed: UInt64? = nil,
                               xLabel: String = "δ", yLabel: String = "η", clip: Double? = nil) -> LossSurface {
        let xs = xAxis.values, ys = yAxis.values
        var pts: [[Double]] = []
        pts.reserveCapacity(xs.count * ys.count)
        for a in xs { for b in ys { pts.append([a, b]) } }
        let flat = evaluate(center: center, directions: [x, y], points: pts, workers: workers)
        let grid = (0..<xs.count).map { i in Array(flat[(i * ys.count)..<((i + 1) * ys.count)]) }
        return LossSurface(protocolName: protocolName, xAxis: xAxis, yAxis: yAxis, values: grid,
                           directionSeed: seed, axisCosine: FilterNormalizedDirections.cosine(x, y),
                           roughness: .of(grid: grid, spacingX: xAxis.spacing, spacingY: yAxis.spacing, clip: clip),
                           xLabel: xLabel, yLabel: yLabel, trajectory: [], trajectoryLoss: [], trajectorySteps: [])
    }

    /// Li et al. (docs/landscape.md §1): two filter-normalized random directions from `seed` around the trained θ*.
    public static func liRandomSurface(center: [Float], layout: ParameterLayout, seed: UInt64,
                                       xAxis: LandscapeAxis, yAxis: LandscapeAxis, workers: [LandscapeEvaluator],
                                       options: DirectionOptions = .init(), clip: Double? = nil) -> LossSurface {
        let dirs = FilterNormalizedDirections.random(count: 2, seed: seed, layout: layout, weights: center, options: options)
        return surface(center: center, x: dirs[0], y: dirs[1], xAxis: xAxis, yAxis: yAxis, workers: workers,
                       protocolName: .liRandomFilterNormalized, seed: seed,
                       xLabel: "filter-normalized direction 1", yLabel: "filter-normalized direction 2", clip: clip)
    }

    /// Li et al. (docs/landscape.md §1) 1-D: one filter-normalized random direction around θ*.
    public static func liRandomCurve(center: [Float], layout: ParameterLayout, seed: UInt64, axis: LandscapeAxis,
                                     workers: [LandscapeEvaluator], options: DirectionOptions = .init(),
                                     clip: Double? = nil) -> LossSurface {
        let d = FilterNormalizedDirections.random(count: 1, seed: seed, layout: layout, weights: center, options: options)[0]
        return curve(center: center, direction: d, axis: axis, workers: workers,
                     protocolName: .liRandomFilterNormalized, seed: seed, xLabel: "filter-normalized direction", clip: clip)
    }

    /// Li et al. §2: surface on the PCA plane of the trajectory, centred at the final checkpoint, with the trajectory
    /// overlaid (and the loss evaluated at each projected point when `evaluateTrajectory`).
    public static func pcaTrajectorySurface(checkpoints: [[Float]], steps: [Int], final: [Float], layout: ParameterLayout,
                                            axisPadding: Double = 0.2, points: Int, workers: [LandscapeEvaluator],
                                            evaluateTrajectory: Bool = true,
                                            clip: Double? = nil) -> (surface: LossSurface, pca: TrajectoryPCAResult) {
        let pca = TrajectoryPCA.fit(checkpoints: checkpoints, final: final, layout: layout, components: 2)
        let xs = pca.coordinates.map { $0[0] }, ys = pca.coordinates.map { $0.count > 1 ? $0[1] : 0 }
        func axis(_ v: [Double]) -> LandscapeAxis {
            let lo = min(v.min() ?? 0, 0), hi = max(v.max() ?? 0, 0)
            let span = max(hi - lo, 1e-6)
            return LandscapeAxis(lo - axisPadding * span, hi + axisPadding * span, points)
        }
        let dy = pca.directions.count > 1 ? pca.directions[1] : [Float](repeating: 0, count: final.count)
        var s = surface(center: final, x: pca.directions[0], y: dy, xAxis: axis(xs), yAxis: axis(ys), workers: workers,
                        protocolName: .liTrajectoryPCA, seed: nil,
                        xLabel: pca.axisLabels.first ?? "PC1", yLabel: pca.axisLabels.count > 1 ? pca.axisLabels[1] : "PC2",
                        clip: clip)
        s.trajectory = pca.coordinates
        s.trajectorySteps = steps
        if evaluateTrajectory {
            s.trajectoryLoss = evaluate(center: final, directions: [pca.directions[0], dy],
                                        points: pca.coordinates.map { [$0[0], $0.count > 1 ? $0[1] : 0] }, workers: workers)
        }
        return (s, pca)
    }

    /// Hao et al. [unconfirmed, docs/landscape.md §3/§4(b)]: centre θ0, δ1 = θ_final − θ0, δ2 a filter-normalized random
    /// direction (seeded) rescaled to ‖δ1‖; each checkpoint θ_t placed at α = cos(v, δ1)·‖v‖/‖δ1‖,
    /// β = √((‖v‖/‖δ1‖)² − α²) with v = θ_t − θ0.
    public static func haoSurface(initial theta0: [Float], final thetaF: [Float], checkpoints: [[Float]], steps: [Int],
                                  layout: ParameterLayout, seed: UInt64, xAxis: LandscapeAxis, yAxis: LandscapeAxis,
                                  workers: [LandscapeEvaluator], evaluateTrajectory: Bool = true,
                                  clip: Double? = nil) -> LossSurface {
        let n = theta0.count
        var d1 = [Float](repeating: 0, count: n)
        for i in 0..<n { d1[i] = thetaF[i] - theta0[i] }
        var d2 = FilterNormalizedDirections.random(count: 1, seed: seed, layout: layout, weights: thetaF)[0]
        let n1 = FilterNormalizedDirections.norm(d1), n2 = FilterNormalizedDirections.norm(d2)
        if n2 > 0 { let s = Float(n1 / n2); for i in 0..<n { d2[i] *= s } }
        var s = surface(center: theta0, x: d1, y: d2, xAxis: xAxis, yAxis: yAxis, workers: workers,
                        protocolName: .haoInitCentred, seed: seed,
                        xLabel: "δ1 = θ_final − θ0", yLabel: "δ2 (random, ‖δ2‖ = ‖δ1‖)", clip: clip)
        s.trajectory = checkpoints.map { haoCoordinates(theta: $0, initial: theta0, delta1: d1) }
        s.trajectorySteps = steps
        if evaluateTrajectory {
            // the trajectory's own loss (at θ_t itself, not at its projection: β is an orthogonal remainder)
            let zero = [Float](repeating: 0, count: n)
            s.trajectoryLoss = checkpoints.map { cp in
                evaluate(center: cp, directions: [zero], points: [[0]], workers: [workers[0]])[0]
            }
        }
        return s
    }

    /// (α, β) of docs/landscape.md §3 for one checkpoint.
    public static func haoCoordinates(theta: [Float], initial theta0: [Float], delta1: [Float]) -> [Double] {
        var vd = 0.0, vv = 0.0, dd = 0.0
        for i in 0..<theta0.count {
            let v = Double(theta[i]) - Double(theta0[i]), d = Double(delta1[i])
            vd += v * d; vv += v * v; dd += d * d
        }
        guard dd > 0 else { return [0, 0] }
        let r = vv.squareRoot() / dd.squareRoot()
        let cos = vv > 0 ? vd / (vv * dd).squareRoot() : 0
        let a = cos * r
        return [a, max(r * r - a * a, 0).squareRoot()]
    }
}
