// Least-squares line y = a·x + b (used for the depth scaling law BLEU = A·ln(d) + B of Fig. 8).

public struct LogFit: Sendable, Equatable {
    public var a: Double
    public var b: Double
    /// Coefficient of determination.
    public var r2: Double

    /// Fits y = a·x + b to (x, y) points; nil for fewer than 3 points or constant x.
    public static func fit(_ pts: [(Double, Double)]) -> LogFit? {
        guard pts.count >= 3 else { return nil }
        let n = Double(pts.count)
        let mx = pts.map(\.0).reduce(0, +) / n, my = pts.map(\.1).reduce(0, +) / n
        var sxx = 0.0, sxy = 0.0, syy = 0.0
        for (x, y) in pts { sxx += (x - mx) * (x - mx); sxy += (x - mx) * (y - my); syy += (y - my) * (y - my) }
        guard sxx > 0 else { return nil }
        let a = sxy / sxx, b = my - a * mx
        var ssr = 0.0
        for (x, y) in pts { let e = y - (a * x + b); ssr += e * e }
        return LogFit(a: a, b: b, r2: syy > 0 ? 1 - ssr / syy : 1)
    }
}
