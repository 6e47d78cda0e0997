// Instruments: PCA of an optimization trajectory (docs/landscape.md §2, `plot_trajectory.py` / `projection.py`).
//
//   d_i = θ_i − θ_n for every saved checkpoint (θ_n = final), 1-D tensors zeroed (`ignore_biasbn`);
//   PCA(n_components = 2) of the rows d_i (rows centred, as sklearn does);
//   x_i = ⟨d_i, pc1⟩/‖pc1‖, y_i = ⟨d_i, pc2⟩/‖pc2‖ (`project_2D(..., 'cos')`, uncentred d_i) — final model at (0, 0).
//
// k checkpoints of dimension D ≫ k: instead of an SVD of the k × D matrix we use the Gram-matrix trick.
// With the centred rows X (k × D), G = X Xᵀ (k × k) = U Λ Uᵀ; the principal axes are v_j = Xᵀ u_j / √λ_j
// (unit norm), the explained variances λ_j / (k − 1) and the ratios λ_j / Σ λ. The k × k eigenproblem is
// solved by the cyclic Jacobi method below (exact to rounding for symmetric matrices, no dependencies).
import Foundation

/// Symmetric eigen-decomposition by cyclic Jacobi rotations (Golub & Van Loan, Alg. 8.5.3, with the
/// stable rotation formulas of Rutishauser). O(n³) per sweep; converges quadratically; n ≲ 200 intended.
public enum SymmetricEigen {
    public struct Result: Sendable {
        /// Eigenvalues in descending order.
        public var values: [Double]
        /// `vectors[j]` is the unit eigenvector of `values[j]`.
        public var vectors: [[Double]]
        public var sweeps: Int
    }

    /// `matrix` is row-major n × n and must be symmetric (only the upper triangle is trusted; it is mirrored).
    public static func jacobi(_ matrix: [Double], n: Int, tolerance: Double = 1e-14, maxSweeps: Int = 100) -> Result {
        precondition(matrix.count == n * n, "matrix is not n × n")
        var a = matrix
        for i in 0..<n { for j in (i + 1)..<max(n, i + 1) where j < n { a[j * n + i] = a[i * n + j] } }
        var v = [Double](repeating: 0, count: n * n)
        for i in 0..<n { v[i * n + i] = 1 }
        var scale = 0.0
        for x in a { scale = max(scale, abs(x)) }
        var sweeps = 0
        if n > 1 && scale > 0 {
            while sweeps < maxSweeps {
                var off = 0.0
                for p in 0..<n { for q in (p + 1)..<n { off += a[p * n + q] * a[p * n + q] } }
                if off.squareRoot() <= tolerance * scale { break }
                sweeps += 1
                for p in 0..<(n - 1) {
                    for q in (p + 1)..<n {
                        let apq = a[p * n + q]
                        if abs(apq) <= 1e-300 { continue }
                        let app = a[p * n + p], aqq = a[q * n + q]
                        let theta = (aqq - app) / (2 * apq)
                        let t = (theta >= 0 ? 1.0 : -1.0) / (abs(theta) + (theta * theta + 1).squareRoot())
                        let c = 1 / (t * t + 1).squareRoot(), s = t * c
                        // A ← Jᵀ A J on rows/columns p and q
                        for k in 0..<n {
                            let akp = a[k * n + p], akq = a[k * n + q]
                            a[k * n + p] = c * akp - s * akq
                            a[k * n + q] = s * akp + c * akq
                        }
                        for k in 0..<n {
                            let apk = a[p * n + k], aqk = a[q * n + k]
                            a[p * n + k] = c * apk - s * aqk
                            a[q * n + k] = s * apk + c * aqk
                        }
                        a[p * n + q] = 0; a[q * n + p] = 0
                        for k in 0..<n {
                            let vkp = v[k * n + p], vkq = v[k * n + q]
                            v[k * n + p] = c * vkp - s * vkq
                            v[k * n + q] = s * vkp + c * vkq
                        }
                    }
                }
            }
        }
        let order = (0..<n).sorted { a[$0 * n + $0] > a[$1 * n + $1] || (a[$0 * n + $0] == a[$1 * n + $1] && $0 < $1) }
        let values = order.map { a[$0 * n + $0] }
        let vectors = order.map { j in (0..<n).map { v[$0 * n + j] } }
        return Result(values: values, vectors: vectors, sweeps: sweeps)
    }
}

/// Result of a trajectory PCA: two unit directions in parameter space plus the projected path.
public struct TrajectoryPCAResult: Sendable {
    /// Unit-norm principal axes (length D each). Not filter-normalized (as in `plot_trajectory.py`).
    public var directions: [[Float]]
    /// sklearn `explained_variance_ratio_` of the returned components.
    public var explainedVarianceRatio: [Double]
    /// sklearn `explained_variance_` (λ / (k − 1)).
    public var explainedVariance: [Double]
    /// Coordinates of each checkpoint along each direction: `coordinates[i] = [x_i, y_i]`.
    public var coordinates: [[Double]]
    /// Labels as `plot_trajectory.py` prints them: "1st PC: 93.12 %".
    public var axisLabels: [String] {
        explainedVarianceRatio.enumerated().map { i, r in
            let ord = ["1st", "2nd", "3rd"][min(i, 2)]
            return String(format: "%@ PC: %.2f %%", ord, r * 100)
        }
    }
}

public enum TrajectoryPCA {
    /// - Parameters:
    ///   - checkpoints: θ_i, each a flat vector of the same length D (the final checkpoint may be included; its
    ///     difference is 0 and it lands at the origin).
    ///   - final: θ_n, the centre of the plot.
    ///   - layout: when given, tensors of dim ≤ 1 are zeroed in every difference (`--ignore biasbn`).
    ///   - components: number of axes (2 for the figures).
    public static func fit(checkpoints: [[Float]], final: [Float], layout: ParameterLayout? = nil,
                           components: Int = 2) -> TrajectoryPCAResult {
        let k = checkpoints.count, dim = final.count
        precondition(k >= 2, "PCA needs at least two checkpoints")
        precondition(checkpoints.allSatisfy { $0.count == dim }, "checkpoint sizes differ")
        var mask = [Bool](repeating: true, count: dim)
        if let layout {
            for t in layout.tensors where t.shape.count <= 1 {
                for i in t.offset..<min(dim, t.offset + t.count) { mask[i] = false }
            }
        }
        return core(k: k, dim: dim, components: components) { start, len, buf in
            for i in 0..<k {
                let c = checkpoints[i]
                for t in 0..<len {
                    let j = start + t
                    buf[i * len + t] = mask[j] ? Double(c[j]) - Double(final[j]) : 0
                }
            }
        }
    }

    /// PCA of already-formed difference rows (length D each, k rows).
    public static func fit(differences diffs: [[Double]], components: Int = 2) -> TrajectoryPCAResult {
        let k = diffs.count
        precondition(k >= 2, "PCA needs at least two rows")
        let dim = diffs[0].count
        return core(k: k, dim: dim, components: components) { start, len, buf in
            for i in 0..<k { for t in 0..<len { buf[i * len + t] = diffs[i][start + t] } }
        }
    }

    /// Streams the k difference rows in column chunks (`fill(start, len, buffer[k × len])`), so memory stays
    /// O(k · chunk + components · D) however large D is. Two passes: Gram matrix, then the axes and projections.
    static func core(k: Int, dim: Int, components: Int,
                     fill: (Int, Int, inout [Double]) -> Void) -> TrajectoryPCAResult {
        let chunk = 4096
        var buf = [Double](repeating: 0, count: k * chunk)
        // Pass 1: row sums (for the mean) and the uncentred Gram matrix S = D Dᵀ.
        var s = [Double](repeating: 0, count: k * k)
        var mean = [Double](repeating: 0, count: dim)
        var start = 0
        while start < dim {
            let len = min(chunk, dim - start)
            fill(start, len, &buf)
            for t in 0..<len {
                var m = 0.0
                for i in 0..<k { m += buf[i * len + t] }
                mean[start + t] = m / Double(k)
            }
            for i in 0..<k {
                for j in i..<k {
                    var acc = 0.0
                    for t in 0..<len { acc += buf[i * len + t] * buf[j * len + t] }
                    s[i * k + j] += acc
                }
            }
            start += len
        }
        for i in 0..<k { for j in i..<k { s[j * k + i] = s[i * k + j] } }
        // Centred Gram G = (I − J/k) S (I − J/k), J = 11ᵀ.
        var colMean = [Double](repeating: 0, count: k)
        var all = 0.0
        for i in 0..<k {
            var c = 0.0
            for j in 0..<k { c += s[i * k + j] }
            colMean[i] = c / Double(k); all += c
        }
        all /= Double(k * k)
        var g = [Double](repeating: 0, count: k * k)
        for i in 0..<k { for j in 0..<k { g[i * k + j] = s[i * k + j] - colMean[i] - colMean[j] + all } }
        let eig = SymmetricEigen.jacobi(g, n: k)
        let total = eig.values.reduce(0) { $0 + max($1, 0) }
        let nc = min(components, k)
        // Pass 2: v_c = Σ_i u_ci (d_i − mean).
        var axes = [[Double]](repeating: [Double](repeating: 0, count: dim), count: nc)
        let us = (0..<nc).map { eig.vectors[$0] }
        let uSum = us.map { $0.reduce(0, +) }
        start = 0
        while start < dim {
            let len = min(chunk, dim - start)
            fill(start, len, &buf)
            for c in 0..<nc {
                let u = us[c]
                for t in 0..<len {
                    var acc = 0.0
                    for i in 0..<k { acc += u[i] * buf[i * len + t] }
                    axes[c][start + t] = acc - uSum[c] * mean[start + t]
                }
            }
            start += len
        }
        var dirs: [[Float]] = []
        var ratios: [Double] = [], variances: [Double] = []
        for c in 0..<nc {
            var v = axes[c]
            var nrm = 0.0
            for t in 0..<dim { nrm += v[t] * v[t] }
            nrm = nrm.squareRoot()
            if nrm > 0 { for t in 0..<dim { v[t] /= nrm } }
            // sign convention of sklearn's svd_flip (u_based_decision=False): largest |entry| positive
            var big = 0.0
            for t in 0..<dim where abs(v[t]) > abs(big) { big = v[t] }
            if big < 0 { for t in 0..<dim { v[t] = -v[t] } }
            let lambda = max(eig.values[c], 0)
            dirs.append(v.map { Float($0) })
            ratios.append(total > 0 ? lambda / total : 0)
            variances.append(lambda / Double(k - 1))
        }
        // Pass 3: 'cos' projections of the uncentred differences onto the stored (Float) axes.
        var coords = [[Double]](repeating: [Double](repeating: 0, count: nc), count: k)
        var vv = [Double](repeating: 0, count: nc)
        for c in 0..<nc { for t in 0..<dim { vv[c] += Double(dirs[c][t]) * Double(dirs[c][t]) } }
        start = 0
        while start < dim {
            let len = min(chunk, dim - start)
            fill(start, len, &buf)
            for i in 0..<k {
                for c in 0..<nc {
                    var acc = 0.0
                    let v = dirs[c]
                    for t in 0..<len { acc += buf[i * len + t] * Double(v[start + t]) }
                    coords[i][c] += acc
                }
            }
            start += len
        }
        for i in 0..<k { for c in 0..<nc { coords[i][c] = vv[c] > 0 ? coords[i][c] / vv[c].squareRoot() : 0 } }
        return TrajectoryPCAResult(directions: dirs, explainedVarianceRatio: ratios, explainedVariance: variances,
                                   coordinates: coords)
    }

    /// Projects further points (e.g. checkpoints not used in the fit) onto given directions, 'cos' mode.
    public static func project(_ theta: [Float], final: [Float], directions: [[Float]]) -> [Double] {
        directions.map { v in
            var dot = 0.0, vv = 0.0
            for t in 0..<final.count {
                dot += (Double(theta[t]) - Double(final[t])) * Double(v[t]); vv += Double(v[t]) * Double(v[t])
            }
            return vv > 0 ? dot / vv.squareRoot() : 0
        }
    }
}
