// Tests of the engine-independent instruments: directions, PCA, eigen-solver, scaling-law fit, roughness,
// landscape evaluation. Public API only.
import XCTest
import Foundation
import DeepNetHarness
import Experiments

final class InstrumentDirectionTests: XCTestCase {
    /// A Transformer-like layout: embeddings, Linear weights [out, in], biases and LayerNorm γ/β.
    func makeLayout() -> ParameterLayout {
        ParameterLayout(packing: [
            (name: "encoder.embed_tokens.weight", shape: [11, 8]),
            (name: "encoder.layers.0.self_attn.q_proj.weight", shape: [8, 8]),
            (name: "encoder.layers.0.self_attn.q_proj.bias", shape: [8]),
            (name: "encoder.layers.0.fc1.weight", shape: [16, 8]),
            (name: "encoder.layers.0.fc1.bias", shape: [16]),
            (name: "encoder.layers.0.fc2.weight", shape: [8, 16]),
            (name: "encoder.layers.0.final_layer_norm.weight", shape: [8]),
            (name: "encoder.layers.0.final_layer_norm.bias", shape: [8]),
            (name: "scalar", shape: []),
        ])
    }

    func makeWeights(_ n: Int, seed: UInt64) -> [Float] {
        var rng = InstrumentRNG(seed: seed)
        // rows of very different norms so that a wrong normalization cannot pass by accident
        return (0..<n).map { i in Float(rng.nextNormal() * (0.01 + Double(i % 7))) }
    }

    func testEveryRowNormMatchesWeightRowNormAndOneDimensionalIsZero() {
        let layout = makeLayout()
        let w = makeWeights(layout.totalCount, seed: 7)
        let dirs = FilterNormalizedDirections.random(count: 2, seed: 123, layout: layout, weights: w)
        XCTAssertEqual(dirs.count, 2)
        for d in dirs {
            XCTAssertEqual(d.count, w.count)
            for t in layout.tensors {
                if t.shape.count <= 1 {
                    for i in t.offset..<(t.offset + t.count) { XCTAssertEqual(d[i], 0, "\(t.name) must be zero") }
                    continue
                }
                for r in 0..<t.rows {
                    let s = t.offset + r * t.rowLength
                    var dn = 0.0, wn = 0.0
                    for i in s..<(s + t.rowLength) { dn += Double(d[i] * d[i]); wn += Double(w[i] * w[i]) }
                    XCTAssertEqual(dn.squareRoot(), wn.squareRoot(), accuracy: 1e-5 * max(1, wn.squareRoot()),
                                   "\(t.name) row \(r)")
                }
            }
        }
        // the two axes are different and nearly orthogonal
        XCTAssertNotEqual(dirs[0], dirs[1])
        XCTAssertLessThan(abs(FilterNormalizedDirections.cosine(dirs[0], dirs[1])), 0.35)
    }

    func testSeedDeterminesDirections() {
        let layout = makeLayout()
        let w = makeWeights(layout.totalCount, seed: 1)
        let a = FilterNormalizedDirections.random(count: 2, seed: 99, layout: layout, weights: w)
        let b = FilterNormalizedDirections.random(count: 2, seed: 99, layout: layout, weights: w)
        let c = FilterNormalizedDirections.random(count: 2, seed: 100, layout: layout, weights: w)
        XCTAssertEqual(a, b)
        XCTAssertNotEqual(a[0], c[0])
    }

    func testLayerAndCopyModes() {
        let layout = makeLayout()
        let w = makeWeights(layout.totalCount, seed: 3)
        let opts = DirectionOptions(normalization: .layer, oneDimensional: .copyWeights)
        let d = FilterNormalizedDirections.random(count: 1, seed: 5, layout: layout, weights: w, options: opts)[0]
        for t in layout.tensors {
            let r = t.offset..<(t.offset + t.count)
            if t.shape.count <= 1 {
                XCTAssertEqual(Array(d[r]), Array(w[r]))
            } else {
                let dn = FilterNormalizedDirections.norm(Array(d[r])), wn = FilterNormalizedDirections.norm(Array(w[r]))
                XCTAssertEqual(dn, wn, accuracy: 1e-5 * wn)
            }
        }
    }

    func testGaussianMoments() {
        var rng = InstrumentRNG(seed: 42)
        let n = 200_000
        var s = 0.0, s2 = 0.0
        for _ in 0..<n { let x = rng.nextNormal(); s += x; s2 += x * x }
        XCTAssertEqual(s / Double(n), 0, accuracy: 0.01)
        XCTAssertEqual(s2 / Double(n), 1, accuracy: 0.01)
    }
}

final class InstrumentPCATests: XCTestCase {
    func testJacobiOnKnownMatrix() {
        // A = Q diag(5, 2, -1) Qᵀ with Q a rotation: eigenvalues must come back sorted, vectors orthonormal.
        let c = cos(0.3), s = sin(0.3)
        let q: [[Double]] = [[c, -s, 0], [s, c, 0], [0, 0, 1]]
        let lam: [Double] = [2, 5, -1]
        var a = [Double](repeating: 0, count: 9)
        for i in 0..<3 { for j in 0..<3 { for k in 0..<3 { a[i * 3 + j] += q[i][k] * lam[k] * q[j][k] } } }
        let r = SymmetricEigen.jacobi(a, n: 3)
        XCTAssertEqual(r.values[0], 5, accuracy: 1e-12)
        XCTAssertEqual(r.values[1], 2, accuracy: 1e-12)
        XCTAssertEqual(r.values[2], -1, accuracy: 1e-12)
        // A v = λ v
        for (idx, v) in r.vectors.enumerated() {
            for i in 0..<3 {
                var av = 0.0
                for j in 0..<3 { av += a[i * 3 + j] * v[j] }
                XCTAssertEqual(av, r.values[idx] * v[i], accuracy: 1e-12)
            }
        }
        // eigenvector of 5 is the 2nd column of Q up to sign
        let dot = r.vectors[0][0] * q[0][1] + r.vectors[0][1] * q[1][1] + r.vectors[0][2] * q[2][1]
        XCTAssertEqual(abs(dot), 1, accuracy: 1e-12)
    }

    func testJacobiRandomSymmetric() {
        var rng = InstrumentRNG(seed: 11)
        let n = 30
        var a = [Double](repeating: 0, count: n * n)
        for i in 0..<n { for j in i..<n { let x = rng.nextNormal(); a[i * n + j] = x; a[j * n + i] = x } }
        let r = SymmetricEigen.jacobi(a, n: n)
        var trace = 0.0
        for i in 0..<n { trace += a[i * n + i] }
        XCTAssertEqual(r.values.reduce(0, +), trace, accuracy: 1e-10)
        for i in 0..<n { for j in 0..<n {
            var d = 0.0
            for k in 0..<n { d += r.vectors[i][k] * r.vectors[j][k] }
            XCTAssertEqual(d, i == j ? 1 : 0, accuracy: 1e-10)
        } }
        for i in 1..<n { XCTAssertGreaterThanOrEqual(r.values[i - 1], r.values[i]) }
    }

    /// Checkpoints θ_i = θ_n + a_i·u + b_i·v + small noise with known orthonormal u, v, var(a) ≫ var(b) and
    /// zero sample covariance between a and b (a even, b odd on a symmetric grid), so the principal axes are u and v:
    /// the PCA must return them (up to sign) as the first and second axes, and the right coordinates.
    func testPCARecoversKnownDirections() {
        let dim = 5000, k = 30
        var rng = InstrumentRNG(seed: 2024)
        var u = (0..<dim).map { _ in rng.nextNormal() }
        var v = (0..<dim).map { _ in rng.nextNormal() }
        func normalize(_ x: inout [Double]) { let n = x.reduce(0) { $0 + $1 * $1 }.squareRoot(); for i in x.indices { x[i] /= n } }
        normalize(&u)
        let uv = zip(u, v).reduce(0) { $0 + $1.0 * $1.1 }
        for i in 0..<dim { v[i] -= uv * u[i] }
        normalize(&v)
        let final = (0..<dim).map { _ in Float(rng.nextNormal()) }
        var cps: [[Float]] = [], truth: [(Double, Double)] = []
        for i in 0..<k {
            let t = 2 * Double(i) / Double(k - 1) - 1
            let a = 10 * t * t + 0.5, b = 2 * t
            truth.append((a, b))
            cps.append((0..<dim).map { j in final[j] + Float(a * u[j] + b * v[j] + 1e-4 * rng.nextNormal()) })
        }
        let r = TrajectoryPCA.fit(checkpoints: cps, final: final)
        XCTAssertEqual(r.directions.count, 2)
        func cosine(_ x: [Float], _ y: [Double]) -> Double {
            var d = 0.0, n = 0.0
            for i in 0..<dim { d += Double(x[i]) * y[i]; n += Double(x[i]) * Double(x[i]) }
            return d / n.squareRoot()
        }
        XCTAssertGreaterThan(abs(cosine(r.directions[0], u)), 0.999)
        XCTAssertGreaterThan(abs(cosine(r.directions[1], v)), 0.99)
        XCTAssertGreaterThan(r.explainedVarianceRatio[0], r.explainedVarianceRatio[1])
        XCTAssertEqual(r.explainedVarianceRatio[0] + r.explainedVarianceRatio[1], 1, accuracy: 1e-3)
        let su = cosine(r.directions[0], u) > 0 ? 1.0 : -1.0
        let sv = cosine(r.directions[1], v) > 0 ? 1.0 : -1.0
        for i in 0..<k {
            XCTAssertEqual(r.coordinates[i][0] * su, truth[i].0, accuracy: 1e-2)
            XCTAssertEqual(r.coordinates[i][1] * sv, truth[i].1, accuracy: 1e-2)
        }
        XCTAssertTrue(r.axisLabels[0].hasPrefix("1st PC: "))
        // a checkpoint equal to the final one lands at the origin
        let r2 = TrajectoryPCA.fit(checkpoints: cps + [final], final: final)
        XCTAssertEqual(r2.coordinates.last![0], 0, accuracy: 1e-9)
        XCTAssertEqual(r2.coordinates.last![1], 0, accuracy: 1e-9)
    }

    func testOneDimensionalTensorsIgnored() {
        let layout = ParameterLayout(packing: [(name: "w", shape: [2, 2]), (name: "b", shape: [2])])
        let final: [Float] = [0, 0, 0, 0, 0, 0]
        let cps: [[Float]] = [[1, 0, 0, 0, 100, 100], [2, 0, 0, 0, -50, 3], [3, 0, 0, 0, 7, -9]]
        let r = TrajectoryPCA.fit(checkpoints: cps, final: final, layout: layout)
        XCTAssertEqual(r.directions[0][4], 0); XCTAssertEqual(r.directions[0][5], 0)
        XCTAssertEqual(abs(r.directions[0][0]), 1, accuracy: 1e-6)
    }
}

final class InstrumentScalingLawTests: XCTestCase {
    func testRecoversKnownCoefficientsWithinStandardErrors() throws {
        let trueA = 1.75, trueB = 12.0
        var rng = InstrumentRNG(seed: 8)
        let depths: [Double] = [6, 12, 20, 36, 50, 100, 200, 400, 1000, 6, 12, 20, 36, 50, 100, 200, 400, 1000]
        let y = depths.map { trueA * log($0) + trueB + 0.3 * rng.nextNormal() }
        let f = try ScalingLaw.fit(depths: depths, values: y, bootstrapSamples: 2000, seed: 1)
        XCTAssertEqual(f.a, trueA, accuracy: 4 * f.standardErrorA)
        XCTAssertEqual(f.b, trueB, accuracy: 4 * f.standardErrorB)
        XCTAssertLessThan(f.standardErrorA, 0.2)
        XCTAssertGreaterThan(f.rSquared, 0.95)
        XCTAssertEqual(f.residualStandardDeviation, 0.3, accuracy: 0.15)
        XCTAssertEqual(f.bootstrapSamples, 2000)
        XCTAssertLessThan(f.bootstrapIntervalA[0], f.a); XCTAssertGreaterThan(f.bootstrapIntervalA[1], f.a)
        XCTAssertLessThan(f.tIntervalA[0], trueA); XCTAssertGreaterThan(f.tIntervalA[1], trueA)
        // bootstrap width comparable to the t interval
        let wb = f.bootstrapIntervalA[1] - f.bootstrapIntervalA[0], wt = f.tIntervalA[1] - f.tIntervalA[0]
        XCTAssertEqual(wb / wt, 1, accuracy: 0.5)
        // deterministic for a seed
        let g = try ScalingLaw.fit(depths: depths, values: y, bootstrapSamples: 2000, seed: 1)
        XCTAssertEqual(f, g)
        XCTAssertEqual(f.predict(depth: 100), trueA * log(100) + trueB, accuracy: 0.5)
    }

    func testExactLineAndLogBase() throws {
        let d: [Double] = [10, 100, 1000]
        let f = try ScalingLaw.fit(depths: d, values: [1, 2, 3], logBase: 10, bootstrapSamples: 0)
        XCTAssertEqual(f.a, 1, accuracy: 1e-12); XCTAssertEqual(f.b, 0, accuracy: 1e-12)
        XCTAssertEqual(f.rSquared, 1, accuracy: 1e-12)
        XCTAssertEqual(f.standardErrorA, 0, accuracy: 1e-9)
    }

    func testStudentT() {
        XCTAssertEqual(ScalingLaw.studentTQuantile(p: 0.975, df: 1), 12.706, accuracy: 1e-3)
        XCTAssertEqual(ScalingLaw.studentTQuantile(p: 0.975, df: 3), 3.182, accuracy: 1e-3)
        XCTAssertEqual(ScalingLaw.studentTQuantile(p: 0.975, df: 30), 2.042, accuracy: 1e-3)
    }

    func testErrors() {
        XCTAssertThrowsError(try ScalingLaw.fit(depths: [1], values: [1]))
        XCTAssertThrowsError(try ScalingLaw.fit(depths: [0, 1], values: [1, 2]))
        XCTAssertThrowsError(try ScalingLaw.fit(depths: [5, 5, 5], values: [1, 2, 3]))
    }

    /// The paper's Table III: the two DeepNet points (200, 1000 layers) and the baseline points, as data.
    func testPaperTableThreeData() throws {
        XCTAssertEqual(PaperScalingData.figure8Depths, [12, 20, 100, 200, 1000])
        let t = PaperScalingData.table3
        XCTAssertEqual(t.count, 5)
        for r in t { XCTAssertEqual((r.xToEn + r.enToX) / 2, r.average, accuracy: 0.051) }
        let deep = t.filter { $0.model == "DeepNet" }
        let f = try ScalingLaw.fit(depths: deep.map(\.layers), values: deep.map(\.average))
        // two points: the line through them; slope (32.1 − 31.1) / ln 5
        XCTAssertEqual(f.a, 1.0 / log(5.0), accuracy: 1e-9)
        XCTAssertTrue(f.standardErrorA.isNaN)
        let all = try ScalingLaw.fit(depths: t.map(\.layers), values: t.map(\.average), bootstrapSamples: 500, seed: 3)
        XCTAssertGreaterThan(all.a, 0)
        XCTAssertGreaterThan(all.rSquared, 0.9)
    }
}

final class InstrumentRoughnessTests: XCTestCase {
    func testPlaneParabolaNoise() {
        let ax = LandscapeAxis(-1, 1, 51)
        let xs = ax.values
        let plane = xs.map { x in xs.map { y in 3 * x - 2 * y + 1 } }
        XCTAssertEqual(SurfaceRoughness.of(grid: plane, spacingX: ax.spacing, spacingY: ax.spacing).roughness, 0, accuracy: 1e-12)
        let parab = xs.map { x in [x * x] }.map { $0[0] }
        let rp = SurfaceRoughness.of(curve: parab, spacing: ax.spacing)
        XCTAssertEqual(rp.roughness, 2 * ax.spacing * ax.spacing, accuracy: 1e-9)
        XCTAssertEqual(rp.curvatureScale, 2, accuracy: 1e-9)
        var rng = InstrumentRNG(seed: 4)
        let noisy = xs.map { x in xs.map { y in x * x + y * y + 0.2 * rng.nextNormal() } }
        let smooth = xs.map { x in xs.map { y in x * x + y * y } }
        let rn = SurfaceRoughness.of(grid: noisy), rs = SurfaceRoughness.of(grid: smooth)
        XCTAssertGreaterThan(rn.roughness, 10 * rs.roughness)
        // shift/scale invariance
        let scaled = smooth.map { $0.map { 7 * $0 + 100 } }
        XCTAssertEqual(SurfaceRoughness.of(grid: scaled).roughness, rs.roughness, accuracy: 1e-12)
    }

    func testNonFiniteHandling() {
        let r = SurfaceRoughness.of(curve: [1, 2, .nan, 4, 5, 6])
        XCTAssertEqual(r.nonFinite, 1)
        XCTAssertEqual(r.roughness, 0, accuracy: 1e-12)
        let c = SurfaceRoughness.of(curve: [1, 2, .infinity, 4], clip: 10)
        XCTAssertEqual(c.maxLoss, 10)
    }
}

final class InstrumentLandscapeTests: XCTestCase {
    func testSurfaceOnAnalyticLossAndWorkerIndependence() {
        // L(θ) = Σ θ_i², centre c, axes e0 and e1 ⇒ L(a, b) = |c|² + 2a c0 + a² + 2b c1 + b².
        let c: [Float] = [0.5, -0.25, 1, 2]
        let dx: [Float] = [1, 0, 0, 0], dy: [Float] = [0, 1, 0, 0]
        func mk() -> LandscapeEvaluator { ClosureLandscapeEvaluator { t in t.reduce(0) { $0 + Double($1 * $1) } } }
        let ax = LandscapeAxis(-1, 1, 7)
        let s1 = LossLandscape.surface(center: c, x: dx, y: dy, xAxis: ax, yAxis: ax, workers: [mk()],
                                       protocolName: .liRandomFilterNormalized)
        let s2 = LossLandscape.surface(center: c, x: dx, y: dy, xAxis: ax, yAxis: ax, workers: [mk(), mk()],
                                       protocolName: .liRandomFilterNormalized)
        XCTAssertEqual(s1.values, s2.values)
        let xs = ax.values
        for i in 0..<7 { for j in 0..<7 {
            let a = xs[i], b = xs[j]
            let expect = 0.25 + 0.0625 + 1 + 4 + 2 * a * 0.5 + a * a + 2 * b * -0.25 + b * b
            XCTAssertEqual(s1.values[i][j], expect, accuracy: 1e-5)
        } }
        XCTAssertEqual(s1.axisCosine, 0)
        let curve = LossLandscape.curve(center: c, direction: dx, axis: ax, workers: [mk()], protocolName: .interpolation)
        XCTAssertEqual(curve.curve.count, 7)
        XCTAssertEqual(curve.curve[3], 5.3125, accuracy: 1e-5)
    }

    func testHaoCoordinates() {
        let t0: [Float] = [0, 0, 0], d1: [Float] = [2, 0, 0]
        XCTAssertEqual(LossLandscape.haoCoordinates(theta: [2, 0, 0], initial: t0, delta1: d1), [1, 0])
        let c = LossLandscape.haoCoordinates(theta: [1, 1, 0], initial: t0, delta1: d1)
        XCTAssertEqual(c[0], 0.5, accuracy: 1e-12); XCTAssertEqual(c[1], 0.5, accuracy: 1e-12)
    }
}
