// Instruments: one number per loss surface so that a report can say "smoother" quantitatively (Fig. 1, Fig. 5).
//
// Definition (documented in the report text via `SurfaceRoughness.definition`):
//   second differences along each grid axis at every interior point,
//     Δ²_x L(i,j) = L(i+1,j) − 2 L(i,j) + L(i−1,j),   Δ²_y L(i,j) = L(i,j+1) − 2 L(i,j) + L(i,j−1);
//   meanAbsSecondDifference = mean over all of them of |Δ²L|   (loss units; 1-D surfaces use the one axis);
//   roughness (headline)    = meanAbsSecondDifference / (max L − min L)   over the finite grid values,
// i.e. the typical kink between neighbouring grid cells as a fraction of the surface's own loss range. It does
// not change when the loss is shifted or scaled, so surfaces at different loss levels compare. Reference values:
// 0 for a plane; 2h² = 8/(n−1)² for the parabola L = c·x² on n points over [−1, 1] (0.0032 at n = 51, 0.22 at n = 7);
// about 0.15–0.3 for white noise (mean |Δ²| = 2σ·√(3/π)·… against a range of several σ).
// Values are compared only between surfaces evaluated on the same grid (resolution enters through h).
// Also reported: the ratio mean|Δ²L| / mean|ΔL| (first differences), another scale-free index (≈ √3 for noise,
// → 0 for smooth surfaces as the grid is refined), and the curvature scale mean|Δ²L|/h² (loss per unit²).
// Non-finite values (diverged evaluations) are clipped to `clip` when given, otherwise counted and skipped.
import Foundation

public struct SurfaceRoughness: Sendable, Codable, Equatable {
    /// mean |Δ²L| / (max L − min L): the headline number ("smoother" = smaller).
    public var roughness: Double
    public var meanAbsSecondDifference: Double
    public var meanAbsFirstDifference: Double
    /// mean|Δ²L| / mean|ΔL|
    public var secondToFirstRatio: Double
    /// mean|Δ²L| / h² with h the grid spacing (per axis, averaged over axes)
    public var curvatureScale: Double
    public var lossRange: Double
    public var minLoss: Double
    public var maxLoss: Double
    /// Number of second differences averaged.
    public var samples: Int
    /// Grid values that were not finite (skipped or clipped).
    public var nonFinite: Int

    public static let definition =
        "roughness = mean |second difference| of the loss over interior grid points (both axes) / (max − min loss on the grid); scale- and shift-free, compare only on the same grid"

    /// 1-D surface on a uniform grid of spacing `spacing`.
    public static func of(curve: [Double], spacing: Double = 1, clip: Double? = nil) -> SurfaceRoughness {
        compute(values: curve, nx: curve.count, ny: 1, hx: spacing, hy: spacing, clip: clip)
    }

    /// 2-D surface: `grid[i][j]` is L(x_i, y_j) on a uniform grid.
    public static func of(grid: [[Double]], spacingX: Double = 1, spacingY: Double = 1,
                          clip: Double? = nil) -> SurfaceRoughness {
        let nx = grid.count, ny = grid.first?.count ?? 0
        precondition(grid.allSatisfy { $0.count == ny }, "ragged grid")
        return compute(values: grid.flatMap { $0 }, nx: nx, ny: ny, hx: spacingX, hy: spacingY, clip: clip)
    }

    static func compute(values raw: [Double], nx: Int, ny: Int, hx: Double, hy: Double,
                        clip: Double?) -> SurfaceRoughness {
        var v = raw
        var bad = 0
        var valid = [Bool](repeating: true, count: v.count)
        for i in 0..<v.count {
            if !v[i].isFinite || (clip != nil && v[i] > clip!) {
                if !v[i].isFinite { bad += 1 }
                if let c = clip { v[i] = c } else { valid[i] = false }
            }
        }
        var lo = Double.infinity, hi = -Double.infinity
        for i in 0..<v.count where valid[i] { lo = min(lo, v[i]); hi = max(hi, v[i]) }
        var s2 = 0.0, n2 = 0, s1 = 0.0, n1 = 0
        var curv = 0.0
        func at(_ i: Int, _ j: Int) -> Int { i * ny + j }
        // x axis (first index)
        if nx >= 2 {
            for j in 0..<ny {
                for i in 0..<(nx - 1) where valid[at(i, j)] && valid[at(i + 1, j)] {
                    s1 += abs(v[at(i + 1, j)] - v[at(i, j)]); n1 += 1
                }
                if nx >= 3 {
                    for i in 1..<(nx - 1) where valid[at(i - 1, j)] && valid[at(i, j)] && valid[at(i + 1, j)] {
                        let d = abs(v[at(i + 1, j)] - 2 * v[at(i, j)] + v[at(i - 1, j)])
                        s2 += d; n2 += 1; curv += d / (hx * hx)
                    }
                }
            }
        }
        // y axis (second index)
        if ny >= 2 {
            for i in 0..<nx {
                for j in 0..<(ny - 1) where valid[at(i, j)] && valid[at(i, j + 1)] {
                    s1 += abs(v[at(i, j + 1)] - v[at(i, j)]); n1 += 1
                }
                if ny >= 3 {
                    for j in 1..<(ny - 1) where valid[at(i, j - 1)] && valid[at(i, j)] && valid[at(i, j + 1)] {
                        let d = abs(v[at(i, j + 1)] - 2 * v[at(i, j)] + v[at(i, j - 1)])
                        s2 += d; n2 += 1; curv += d / (hy * hy)
                    }
                }
            }
        }
        let m2 = n2 > 0 ? s2 / Double(n2) : 0
        let m1 = n1 > 0 ? s1 / Double(n1) : 0
        let range = hi > lo ? hi - lo : 0
        return SurfaceRoughness(roughness: range > 0 ? m2 / range : 0,
                                meanAbsSecondDifference: m2,
                                meanAbsFirstDifference: m1,
                                secondToFirstRatio: m1 > 0 ? m2 / m1 : 0,
                                curvatureScale: n2 > 0 ? curv / Double(n2) : 0,
                                lossRange: range, minLoss: lo.isFinite ? lo : .nan, maxLoss: hi.isFinite ? hi : .nan,
                                samples: n2, nonFinite: bad)
    }
}
