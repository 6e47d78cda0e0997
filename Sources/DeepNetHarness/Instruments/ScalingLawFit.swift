// Instruments: the depth scaling law of Fig. 8, L(d) = A·log(d) + B (paper §VI), for any metric against depth.
//
// Ordinary least squares in x = ln d (natural log; `logBase` rescales A for other bases: A_b = A_e·ln b):
//   A = S_xy / S_xx,  B = ȳ − A x̄,  s² = SSE / (n − 2),
//   SE(A) = √(s² / S_xx),  SE(B) = √(s² (1/n + x̄² / S_xx)),  R² = 1 − SSE / SST.
// Confidence intervals: (1) Student-t, A ± t_{0.975, n−2}·SE(A); (2) a seeded case-resampling (pairs) bootstrap,
// percentile interval; resamples whose depths are all equal (S_xx = 0) are redrawn.
import Foundation

public struct ScalingLawFit: Sendable, Codable, Equatable {
    public var a: Double
    public var b: Double
    public var standardErrorA: Double
    public var standardErrorB: Double
    public var rSquared: Double
    /// √(SSE / (n − 2)), the residual standard deviation.
    public var residualStandardDeviation: Double
    public var n: Int
    /// Two-sided t interval at `confidence` (nan when n ≤ 2).
    public var tIntervalA: [Double]
    public var tIntervalB: [Double]
    /// Percentile bootstrap interval at `confidence` ([] when no bootstrap was run).
    public var bootstrapIntervalA: [Double]
    public var bootstrapIntervalB: [Double]
    public var bootstrapSamples: Int
    public var bootstrapSeed: UInt64
    public var confidence: Double
    /// Base of the logarithm the coefficients refer to (e = natural log).
    public var logBase: Double

    public func predict(depth d: Double) -> Double { a * Foundation.log(d) / Foundation.log(logBase) + b }

    /// "BLEU = 1.23·ln d + 4.56 (SE 0.12, 0.40; R² = 0.98)"
    public func formula(metric: String = "y", digits: Int = 2) -> String {
        let base = logBase == M_E ? "ln" : (logBase == 10 ? "log10" : (logBase == 2 ? "log2" : "log_\(logBase)"))
        let f = "%.\(digits)f"
        return "\(metric) = \(String(format: f, a))·\(base) d \(b < 0 ? "−" : "+") \(String(format: f, abs(b)))"
            + " (SE \(String(format: f, standardErrorA)), \(String(format: f, standardErrorB)); R² = \(String(format: "%.3f", rSquared)), n = \(n))"
    }
}

public enum ScalingLawError: Error, Equatable, CustomStringConvertible {
    case tooFewPoints(Int)
    case nonPositiveDepth(Double)
    case sizeMismatch(Int, Int)
    case allDepthsEqual
    case nonFinite
    public var description: String {
        switch self {
        case .tooFewPoints(let n): return "scaling-law fit needs at least 2 points, got \(n)"
        case .nonPositiveDepth(let d): return "depth must be > 0, got \(d)"
        case .sizeMismatch(let a, let b): return "\(a) depths but \(b) values"
        case .allDepthsEqual: return "all depths are equal: the slope is undefined"
        case .nonFinite: return "non-finite value in the data"
        }
    }
}

public enum ScalingLaw {
    /// Fits `value = A·log_base(depth) + B`.
    public static func fit(depths: [Double], values: [Double], logBase: Double = M_E, confidence: Double = 0.95,
                           bootstrapSamples: Int = 2000, seed: UInt64 = 0x5CA1E) throws -> ScalingLawFit {
        guard depths.count == values.count else { throw ScalingLawError.sizeMismatch(depths.count, values.count) }
        let n = depths.count
        guard n >= 2 else { throw ScalingLawError.tooFewPoints(n) }
        for d in depths where !(d > 0) { throw ScalingLawError.nonPositiveDepth(d) }
        guard values.allSatisfy({ $0.isFinite }), depths.allSatisfy({ $0.isFinite }) else { throw ScalingLawError.nonFinite }
        let lb = Foundation.log(logBase)
        let x = depths.map { Foundation.log($0) / lb }
        guard let core = ols(x, values) else { throw ScalingLawError.allDepthsEqual }
        var fit = ScalingLawFit(a: core.a, b: core.b, standardErrorA: .nan, standardErrorB: .nan,
                                rSquared: core.r2, residualStandardDeviation: .nan, n: n,
                                tIntervalA: [.nan, .nan], tIntervalB: [.nan, .nan],
                                bootstrapIntervalA: [], bootstrapIntervalB: [], bootstrapSamples: 0,
                                bootstrapSeed: seed, confidence: confidence, logBase: logBase)
        if n > 2 {
            let s2 = core.sse / Double(n - 2)
            fit.residualStandardDeviation = s2.squareRoot()
            fit.standardErrorA = (s2 / core.sxx).squareRoot()
            fit.standardErrorB = (s2 * (1 / Double(n) + core.xbar * core.xbar / core.sxx)).squareRoot()
            let t = studentTQuantile(p: 0.5 + confidence / 2, df: n - 2)
            fit.tIntervalA = [fit.a - t * fit.standardErrorA, fit.a + t * fit.standardErrorA]
            fit.tIntervalB = [fit.b - t * fit.standardErrorB, fit.b + t * fit.standardErrorB]
        }
        // Bootstrap needs at least two distinct depths in a resample; with n = 2 every valid resample is the
        // data itself, so it is only run for n ≥ 3.
        if bootstrapSamples > 0 && n >= 3 && Set(x).count >= 2 {
            var rng = InstrumentRNG(seed: seed)
            var as_: [Double] = [], bs: [Double] = []
            as_.reserveCapacity(bootstrapSamples); bs.reserveCapacity(bootstrapSamples)
            var xs = [Double](repeating: 0, count: n), ys = xs
            var attempts = 0
            while as_.count < bootstrapSamples && attempts < bootstrapSamples * 100 {
                attempts += 1
                for i in 0..<n { let k = rng.nextIndex(n); xs[i] = x[k]; ys[i] = values[k] }
                guard let r = ols(xs, ys) else { continue }
                as_.append(r.a); bs.append(r.b)
            }
            let lo = (1 - confidence) / 2, hi = 1 - lo
            fit.bootstrapIntervalA = [quantile(as_, lo), quantile(as_, hi)]
            fit.bootstrapIntervalB = [quantile(bs, lo), quantile(bs, hi)]
            fit.bootstrapSamples = as_.count
        }
        return fit
    }

    struct OLS { var a, b, sse, sxx, xbar, r2: Double }

    static func ols(_ x: [Double], _ y: [Double]) -> OLS? {
        let n = Double(x.count)
        let xbar = x.reduce(0, +) / n, ybar = y.reduce(0, +) / n
        var sxx = 0.0, sxy = 0.0, syy = 0.0
        for i in 0..<x.count {
            let dx = x[i] - xbar, dy = y[i] - ybar
            sxx += dx * dx; sxy += dx * dy; syy += dy * dy
        }
        guard sxx > 1e-300 else { return nil }
        let a = sxy / sxx, b = ybar - a * xbar
        var sse = 0.0
        for i in 0..<x.count { let r = y[i] - (a * x[i] + b); sse += r * r }
        let r2 = syy > 0 ? 1 - sse / syy : 1
        return OLS(a: a, b: b, sse: sse, sxx: sxx, xbar: xbar, r2: r2)
    }

    /// Linear-interpolated quantile (numpy's default, "linear") of an unsorted sample.
    public static func quantile(_ v: [Double], _ q: Double) -> Double {
        guard !v.isEmpty else { return .nan }
        let s = v.sorted()
        let pos = q * Double(s.count - 1)
        let i = Int(pos.rounded(.down)), f = pos - Double(i)
        return i + 1 < s.count ? s[i] * (1 - f) + s[i + 1] * f : s[i]
    }

    /// Quantile of Student's t with `df` degrees of freedom: bisection on the CDF, which is computed from the
    /// regularized incomplete beta function (continued fraction, Numerical Recipes §6.4). Accurate to ~1e-10.
    public static func studentTQuantile(p: Double, df: Int) -> Double {
        precondition(df >= 1 && p > 0 && p < 1)
        var lo = -1e3, hi = 1e3
        for _ in 0..<200 {
            let mid = (lo + hi) / 2
            if studentTCDF(mid, df: Double(df)) < p { lo = mid } else { hi = mid }
        }
        return (lo + hi) / 2
    }

    public static func studentTCDF(_ t: Double, df nu: Double) -> Double {
        let x = nu / (nu + t * t)
        let tail = 0.5 * regularizedIncompleteBeta(a: nu / 2, b: 0.5, x: x)
        return t >= 0 ? 1 - tail : tail
    }

    static func regularizedIncompleteBeta(a: Double, b: Double, x: Double) -> Double {
        if x <= 0 { return 0 }
        if x >= 1 { return 1 }
        let lnGammas: Double = lgamma(a + b) - lgamma(a) - lgamma(b)
        let lnPowers: Double = a * Foundation.log(x) + b * Foundation.log(1 - x)
        let lnBeta = lnGammas + lnPowers
        let front = Foundation.exp(lnBeta)
        if x < (a + 1) / (a + b + 2) { return front * betaContinuedFraction(a, b, x) / a }
        return 1 - front * betaContinuedFraction(b, a, 1 - x) / b
    }

    static func betaContinuedFraction(_ a: Double, _ b: Double, _ x: Double) -> Double {
        let tiny = 1e-300
        var c = 1.0, d = 1 - (a + b) * x / (a + 1)
        if abs(d) < tiny { d = tiny }
        d = 1 / d
        var h = d
        for m in 1...300 {
            let m = Double(m), m2 = 2 * m
            var aa = m * (b - m) * x / ((a + m2 - 1) * (a + m2))
            d = 1 + aa * d; if abs(d) < tiny { d = tiny }
            c = 1 + aa / c; if abs(c) < tiny { c = tiny }
            d = 1 / d; h *= d * c
            aa = -(a + m) * (a + b + m) * x / ((a + m2) * (a + m2 + 1))
            d = 1 + aa * d; if abs(d) < tiny { d = tiny }
            c = 1 + aa / c; if abs(c) < tiny { c = tiny }
            d = 1 / d
            let del = d * c
            h *= del
            if abs(del - 1) < 1e-15 { break }
        }
        return h
    }
}
