// A small deterministic SVG emitter: line plots (linear/log axes), grouped bar charts, heat maps and contour
// plots (marching squares). Same input → byte-identical text: fixed number formatting, no timestamps, no
// randomness, no external fonts.
import Foundation

public enum SVG {
    /// Tableau-10 palette.
    public static let palette = ["#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac"]

    public static func f(_ x: Double) -> String {
        let r = (x * 100).rounded() / 100
        if r == r.rounded() { return String(Int(r)) }
        return String(format: "%.2f", r)
    }

    public static func esc(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }

    static func header(_ w: Int, _ h: Int) -> String {
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(w)\" height=\"\(h)\" viewBox=\"0 0 \(w) \(h)\" font-family=\"DejaVu Sans, Arial, sans-serif\" font-size=\"11\">\n<rect width=\"\(w)\" height=\"\(h)\" fill=\"#ffffff\"/>\n"
    }

    static func text(_ x: Double, _ y: Double, _ s: String, anchor: String = "middle", size: Int? = nil, rotate: Bool = false, weight: String? = nil) -> String {
        var a = "<text x=\"\(f(x))\" y=\"\(f(y))\" text-anchor=\"\(anchor)\""
        if let s = size { a += " font-size=\"\(s)\"" }
        if let w = weight { a += " font-weight=\"\(w)\"" }
        if rotate { a += " transform=\"rotate(-90 \(f(x)) \(f(y)))\"" }
        return a + ">\(esc(s))</text>\n"
    }

    /// A tick label: integers plainly, otherwise 3 significant digits; powers of ten as 1e-3 etc.
    public static func tickLabel(_ v: Double) -> String {
        if v == 0 { return "0" }
        let a = abs(v)
        if a >= 1e5 || a < 1e-3 {
            let e = Int(floor(log10(a)))
            let m = v / pow(10, Double(e))
            return abs(m - m.rounded()) < 1e-9 ? "\(Int(m.rounded()))e\(e)" : String(format: "%.2ge%d", m, e)
        }
        if abs(v - v.rounded()) < 1e-9 * max(1, a) { return String(Int(v.rounded())) }
        var s = String(format: "%.3g", v)
        if s.contains("e") { s = String(format: "%.4f", v) }
        return s
    }

    /// "Nice" linear ticks covering [lo, hi].
    public static func linearTicks(_ lo: Double, _ hi: Double, target: Int = 5) -> [Double] {
        guard hi > lo else { return [lo] }
        let raw = (hi - lo) / Double(target)
        let mag = pow(10, floor(log10(raw)))
        let step = [1.0, 2, 5, 10].map { $0 * mag }.first { $0 >= raw } ?? 10 * mag
        var t = (lo / step).rounded(.down) * step
        var out: [Double] = []
        while t <= hi + step * 1e-9 {
            if t >= lo - step * 1e-9 { out.append(abs(t) < step * 1e-9 ? 0 : t) }
            t += step
        }
        return out
    }

    /// Candidate ticks of a log axis over [lo, hi] (lo > 0): the minimum, every decade inside, the maximum, and
    /// (when the axis spans at most 2.5 decades, or no decade falls inside) the 2× and 5× multiples; narrower than
    /// a decade, round values between the ends too. Sorted.
    public static func logTicks(_ lo: Double, _ hi: Double) -> [Double] {
        logTickPlan(lo, hi).map(\.value).sorted()
    }

    /// Tick importance on a log axis: labels of lower rank win when two would overlap.
    public enum LogTickRank: Int, Sendable, Comparable {
        case minimum = 0, decade = 1, maximum = 2, intermediate = 3
        public static func < (a: LogTickRank, b: LogTickRank) -> Bool { a.rawValue < b.rawValue }
    }

    static func logTickPlan(_ lo: Double, _ hi: Double) -> [(value: Double, rank: LogTickRank)] {
        guard lo > 0, hi >= lo, lo.isFinite, hi.isFinite else { return [] }
        let a = Int(floor(log10(lo))), b = Int(ceil(log10(hi)))
        func inside(_ v: Double) -> Bool { v >= lo * (1 - 1e-9) && v <= hi * (1 + 1e-9) }
        func same(_ u: Double, _ v: Double) -> Bool { abs(u - v) <= 1e-9 * max(abs(u), abs(v)) }
        var out: [(value: Double, rank: LogTickRank)] = [(lo, .minimum)]
        var decades: [Double] = []
        for e in a...max(a, b) {
            let v = pow(10, Double(e))
            if inside(v) { decades.append(v) }
        }
        for v in decades where !same(v, lo) { out.append((v, .decade)) }
        if !out.contains(where: { same($0.value, hi) }) { out.append((hi, .maximum)) }
        if log10(hi / lo) <= 2.5 || decades.isEmpty {
            for e in a...max(a, b) {
                for m in [2.0, 5.0] {
                    let v = m * pow(10, Double(e))
                    if inside(v) && !out.contains(where: { same($0.value, v) }) { out.append((v, .intermediate)) }
                }
            }
        }
        // less than a decade wide: round values between the ends as well (9.84 … 11.6 → 10.5, 11, 11.5)
        if hi / lo < 10 {
            for v in linearTicks(lo, hi) where v > 0 && inside(v) && !out.contains(where: { same($0.value, v) }) { out.append((v, .intermediate)) }
        }
        return out
    }

    /// A labelled log axis of `length` pixels: the axis range (the lower end may be moved down to a round value so
    /// that its label does not collide with the first decade's), the tick values, and the subset that is labelled.
    /// The minimum and every decade are always labelled; the maximum and 2×/5× multiples only where their label
    /// keeps `gap` pixels from the others. `horizontal`: labels side by side (their width counts), else stacked.
    public static func logAxis(_ lo: Double, _ hi: Double, length: Double, horizontal: Bool, fontSize: Double = 11)
        -> (lo: Double, hi: Double, ticks: [Double], labelled: [Double]) {
        var lo = lo
        func pos(_ v: Double, _ l: Double) -> Double { hi > l ? (log10(v) - log10(l)) / (log10(hi) - log10(l)) * length : 0 }
        func extent(_ v: Double) -> Double { horizontal ? Double(tickLabel(v).count) * fontSize * 0.62 : fontSize }
        func collide(_ u: Double, _ v: Double, _ l: Double) -> Bool {
            abs(pos(u, l) - pos(v, l)) < (extent(u) + extent(v)) / 2 + (horizontal ? 4 : 2)
        }
        // The minimum's label must not sit on the first decade's: move the lower end down to a round value.
        if let firstDecade = logTickPlan(lo, hi).filter({ $0.rank == .decade }).map(\.value).min(), collide(lo, firstDecade, lo) {
            let e = floor(log10(lo))
            var candidates: [Double] = []
            for k in [e, e - 1, e - 2] { for m in stride(from: 9.0, through: 1, by: -1) { candidates.append(m * pow(10, k)) } }
            if let c = candidates.first(where: { $0 < lo && !collide($0, firstDecade, $0) }) { lo = c }
        }
        let plan = logTickPlan(lo, hi).sorted { ($0.rank, $0.value) < ($1.rank, $1.value) }
        var labelled: [Double] = []
        for t in plan {
            if t.rank > .decade && labelled.contains(where: { collide($0, t.value, lo) }) { continue }
            labelled.append(t.value)
        }
        return (lo, hi, plan.map(\.value).sorted(), labelled.sorted())
    }
}

/// Axis scale.
public enum AxisScale: Sendable { case linear, log }

public struct LineSeries: Sendable {
    public var name: String
    public var x: [Double]
    public var y: [Double]
    /// Marker at each point (for sparse series such as BLEU vs depth).
    public var markers: Bool
    public var dashed: Bool
    /// false: markers only, no line through the points (several seeds at one x).
    public var connect: Bool
    public init(name: String, x: [Double], y: [Double], markers: Bool = false, dashed: Bool = false, connect: Bool = true) {
        self.name = name; self.x = x; self.y = y; self.markers = markers || !connect; self.dashed = dashed; self.connect = connect
    }
}

/// A shaded region between `lower` and `upper` at each `x` (a confidence band).
public struct Band: Sendable {
    public var x: [Double]
    public var lower: [Double]
    public var upper: [Double]
    public var color: String
    public init(x: [Double], lower: [Double], upper: [Double], color: String = SVG.palette[0]) {
        self.x = x; self.lower = lower; self.upper = upper; self.color = color
    }
}

public struct LinePlot: Sendable {
    public var title: String
    public var xLabel: String
    public var yLabel: String
    public var xScale: AxisScale = .linear
    public var yScale: AxisScale = .linear
    public var series: [LineSeries]
    /// Category labels for x (when x values are 0, 1, 2, … indices).
    public var xCategories: [String]? = nil
    /// Shaded bands (e.g. a fit's confidence band), drawn under the lines.
    public var bands: [Band] = []
    public var width = 640
    public var height = 400

    public init(title: String, xLabel: String, yLabel: String, xScale: AxisScale = .linear, yScale: AxisScale = .linear,
                series: [LineSeries], xCategories: [String]? = nil, bands: [Band] = []) {
        self.title = title; self.xLabel = xLabel; self.yLabel = yLabel; self.xScale = xScale; self.yScale = yScale
        self.series = series; self.xCategories = xCategories; self.bands = bands
    }

    public func render() -> String {
        let ml = 64.0, mr = 170.0, mt = 34.0, mb = 48.0
        let pw = Double(width) - ml - mr, ph = Double(height) - mt - mb
        func valid(_ v: Double, _ s: AxisScale) -> Bool { v.isFinite && (s == .linear || v > 0) }
        var xs: [Double] = [], ys: [Double] = []
        for s in series { for (x, y) in zip(s.x, s.y) where valid(x, xScale) && valid(y, yScale) { xs.append(x); ys.append(y) } }
        for b in bands {
            for (x, (l, u)) in zip(b.x, zip(b.lower, b.upper)) where valid(x, xScale) && valid(l, yScale) && valid(u, yScale) { ys.append(l); ys.append(u) }
        }
        var out = SVG.header(width, height)
        out += SVG.text(Double(width) / 2, 20, title, size: 13, weight: "bold")
        guard let x0 = xs.min(), let x1 = xs.max(), let y0 = ys.min(), let y1 = ys.max() else {
            out += SVG.text(Double(width) / 2, Double(height) / 2, "no data")
            return out + "</svg>\n"
        }
        func span(_ lo: Double, _ hi: Double, _ s: AxisScale) -> (Double, Double) {
            if s == .log { return lo == hi ? (lo / 2, hi * 2) : (lo, hi) }
            if lo == hi { return (lo - 1, hi + 1) }
            let pad = (hi - lo) * 0.05
            return (lo - pad, hi + pad)
        }
        var (xl, xh) = span(x0, x1, xScale)
        if xCategories != nil { xl = -0.5; xh = Double(max(0, (xCategories?.count ?? 1) - 1)) + 0.5 }
        var (yl, yh) = span(y0, y1, yScale)
        // Log axes: labelled at the minimum and every decade (the lower end may move down to a round value).
        var xLog: (ticks: [Double], labelled: [Double])? = nil, yLog: (ticks: [Double], labelled: [Double])? = nil
        if xScale == .log && xCategories == nil {
            let a = SVG.logAxis(xl, xh, length: pw, horizontal: true)
            xl = a.lo; xLog = (a.ticks, a.labelled)
        }
        if yScale == .log {
            let a = SVG.logAxis(yl, yh, length: ph, horizontal: false)
            yl = a.lo; yLog = (a.ticks, a.labelled)
        }
        func tx(_ x: Double) -> Double {
            xScale == .log ? ml + (log10(x) - log10(xl)) / (log10(xh) - log10(xl)) * pw : ml + (x - xl) / (xh - xl) * pw
        }
        func ty(_ y: Double) -> Double {
            yScale == .log ? mt + ph - (log10(y) - log10(yl)) / (log10(yh) - log10(yl)) * ph : mt + ph - (y - yl) / (yh - yl) * ph
        }
        out += "<rect x=\"\(SVG.f(ml))\" y=\"\(SVG.f(mt))\" width=\"\(SVG.f(pw))\" height=\"\(SVG.f(ph))\" fill=\"none\" stroke=\"#333333\"/>\n"
        for b in bands {
            let pts = zip(b.x, zip(b.lower, b.upper)).filter { valid($0.0, xScale) && valid($0.1.0, yScale) && valid($0.1.1, yScale) }
            if pts.count > 1 {
                let d = (pts.map { "\(SVG.f(tx($0.0))),\(SVG.f(ty(min(max($0.1.1, yl), yh))))" }
                    + pts.reversed().map { "\(SVG.f(tx($0.0))),\(SVG.f(ty(min(max($0.1.0, yl), yh))))" }).joined(separator: " ")
                out += "<polygon fill=\"\(b.color)\" fill-opacity=\"0.18\" stroke=\"none\" points=\"\(d)\"/>\n"
            }
        }
        let yt = yLog?.ticks ?? SVG.linearTicks(yl, yh)
        for t in yt {
            let y = ty(t)
            out += "<line x1=\"\(SVG.f(ml))\" y1=\"\(SVG.f(y))\" x2=\"\(SVG.f(ml + pw))\" y2=\"\(SVG.f(y))\" stroke=\"#e5e5e5\"/>\n"
            if yLog?.labelled.contains(t) ?? true { out += SVG.text(ml - 6, y + 4, SVG.tickLabel(t), anchor: "end") }
        }
        if let cats = xCategories {
            for (i, c) in cats.enumerated() { out += SVG.text(tx(Double(i)), mt + ph + 16, c) }
        } else {
            let xt = xLog?.ticks ?? SVG.linearTicks(xl, xh)
            for t in xt {
                let x = tx(t)
                out += "<line x1=\"\(SVG.f(x))\" y1=\"\(SVG.f(mt + ph))\" x2=\"\(SVG.f(x))\" y2=\"\(SVG.f(mt + ph + 4))\" stroke=\"#333333\"/>\n"
                if xLog?.labelled.contains(t) ?? true { out += SVG.text(x, mt + ph + 16, SVG.tickLabel(t)) }
            }
        }
        out += SVG.text(ml + pw / 2, Double(height) - 10, xLabel)
        out += SVG.text(16, mt + ph / 2, yLabel, rotate: true)
        for (i, s) in series.enumerated() {
            let color = SVG.palette[i % SVG.palette.count]
            let pts = zip(s.x, s.y).filter { valid($0.0, xScale) && valid($0.1, yScale) }
            if pts.count > 1 && s.connect {
                let d = pts.map { "\(SVG.f(tx($0.0))),\(SVG.f(ty($0.1)))" }.joined(separator: " ")
                out += "<polyline fill=\"none\" stroke=\"\(color)\" stroke-width=\"1.5\"\(s.dashed ? " stroke-dasharray=\"5,3\"" : "") points=\"\(d)\"/>\n"
            }
            if s.markers || pts.count == 1 {
                for p in pts { out += "<circle cx=\"\(SVG.f(tx(p.0)))\" cy=\"\(SVG.f(ty(p.1)))\" r=\"3\" fill=\"\(color)\"/>\n" }
            }
            let ly = mt + 8 + Double(i) * 16
            if s.connect {
                out += "<line x1=\"\(SVG.f(ml + pw + 10))\" y1=\"\(SVG.f(ly))\" x2=\"\(SVG.f(ml + pw + 28))\" y2=\"\(SVG.f(ly))\" stroke=\"\(color)\" stroke-width=\"2\"\(s.dashed ? " stroke-dasharray=\"5,3\"" : "")/>\n"
            } else {
                out += "<circle cx=\"\(SVG.f(ml + pw + 19))\" cy=\"\(SVG.f(ly))\" r=\"3\" fill=\"\(color)\"/>\n"
            }
            out += SVG.text(ml + pw + 32, ly + 4, s.name, anchor: "start")
        }
        return out + "</svg>\n"
    }
}

public struct BarChart: Sendable {
    public var title: String
    public var yLabel: String
    public var groups: [String]
    public var series: [String]
    /// values[group][series]; nil = no bar (its `annotations` text is shown instead, e.g. "diverged").
    public var values: [[Double?]]
    public var annotations: [[String]]
    /// points[group][series]: each seed's value, drawn as a dot on its bar (the bar is then their mean); empty = none.
    public var points: [[[Double]]]
    public var width = 640
    public var height = 400

    public init(title: String, yLabel: String, groups: [String], series: [String], values: [[Double?]], annotations: [[String]]? = nil,
                points: [[[Double]]]? = nil) {
        self.title = title; self.yLabel = yLabel; self.groups = groups; self.series = series; self.values = values
        self.annotations = annotations ?? values.map { $0.map { $0 == nil ? "n/a" : "" } }
        self.points = points ?? values.map { $0.map { _ in [] } }
    }

    public func render() -> String {
        let ml = 64.0, mr = series.count > 1 ? 150.0 : 20.0, mt = 34.0, mb = 60.0
        let pw = Double(width) - ml - mr, ph = Double(height) - mt - mb
        var out = SVG.header(width, height)
        out += SVG.text(Double(width) / 2, 20, title, size: 13, weight: "bold")
        let all = (values.flatMap { $0.compactMap { $0 } } + points.flatMap { $0.flatMap { $0 } }).filter(\.isFinite)
        let hi = max(all.max() ?? 1, 0), lo = min(all.min() ?? 0, 0)
        let top = hi == lo ? lo + 1 : hi + (hi - lo) * 0.08
        func ty(_ v: Double) -> Double { mt + ph - (v - lo) / (top - lo) * ph }
        out += "<rect x=\"\(SVG.f(ml))\" y=\"\(SVG.f(mt))\" width=\"\(SVG.f(pw))\" height=\"\(SVG.f(ph))\" fill=\"none\" stroke=\"#333333\"/>\n"
        for t in SVG.linearTicks(lo, top) {
            out += "<line x1=\"\(SVG.f(ml))\" y1=\"\(SVG.f(ty(t)))\" x2=\"\(SVG.f(ml + pw))\" y2=\"\(SVG.f(ty(t)))\" stroke=\"#e5e5e5\"/>\n"
            out += SVG.text(ml - 6, ty(t) + 4, SVG.tickLabel(t), anchor: "end")
        }
        let gw = pw / Double(max(groups.count, 1))
        let bw = gw * 0.8 / Double(max(series.count, 1))
        for (g, name) in groups.enumerated() {
            for s in 0..<series.count {
                let x = ml + Double(g) * gw + gw * 0.1 + Double(s) * bw
                if let v = values[g][s], v.isFinite {
                    let y0 = ty(max(v, 0)), y1 = ty(min(v, 0))
                    out += "<rect x=\"\(SVG.f(x))\" y=\"\(SVG.f(y0))\" width=\"\(SVG.f(bw * 0.92))\" height=\"\(SVG.f(max(0.5, y1 - y0)))\" fill=\"\(SVG.palette[s % SVG.palette.count])\"/>\n"
                    let ps = points[g][s].filter(\.isFinite)
                    for p in ps {
                        out += "<circle cx=\"\(SVG.f(x + bw * 0.46))\" cy=\"\(SVG.f(ty(p)))\" r=\"2.5\" fill=\"#222222\" stroke=\"#ffffff\" stroke-width=\"0.8\"/>\n"
                    }
                    // the value sits above the bar and above its highest dot
                    out += SVG.text(x + bw * 0.46, ty(max(v, ps.max() ?? v, 0)) - 3, SVG.tickLabel((v * 10).rounded() / 10), size: 9)
                } else {
                    out += SVG.text(x + bw * 0.46, ty(lo) - 4, annotations[g][s], size: 9, rotate: true)
                }
            }
            out += SVG.text(ml + Double(g) * gw + gw / 2, mt + ph + 16, name, size: 10)
        }
        out += SVG.text(16, mt + ph / 2, yLabel, rotate: true)
        if series.count > 1 {
            for (i, s) in series.enumerated() {
                let ly = mt + 8 + Double(i) * 16
                out += "<rect x=\"\(SVG.f(ml + pw + 10))\" y=\"\(SVG.f(ly - 6))\" width=\"12\" height=\"10\" fill=\"\(SVG.palette[i % SVG.palette.count])\"/>\n"
                out += SVG.text(ml + pw + 28, ly + 3, s, anchor: "start")
            }
        }
        return out + "</svg>\n"
    }
}

/// Sequential colour map (white → blue), t in [0, 1].
func heatColor(_ t: Double) -> String {
    let t = min(1, max(0, t))
    let r = Int((247 - t * (247 - 8)).rounded()), g = Int((251 - t * (251 - 48)).rounded()), b = Int((255 - t * (255 - 107)).rounded())
    return String(format: "#%02x%02x%02x", r, g, b)
}

public struct Heatmap: Sendable {
    public var title: String
    public var xLabel: String
    public var yLabel: String
    public var xLabels: [String]
    public var yLabels: [String]
    /// values[y][x]; nil cells are hatched grey with their annotation.
    public var values: [[Double?]]
    public var annotations: [[String]]
    public var width = 640
    public var height = 420

    public init(title: String, xLabel: String, yLabel: String, xLabels: [String], yLabels: [String], values: [[Double?]], annotations: [[String]]? = nil) {
        self.title = title; self.xLabel = xLabel; self.yLabel = yLabel; self.xLabels = xLabels; self.yLabels = yLabels
        self.values = values; self.annotations = annotations ?? values.map { $0.map { $0 == nil ? "n/a" : "" } }
    }

    public func render() -> String {
        let ml = 120.0, mr = 80.0, mt = 34.0, mb = 48.0
        let pw = Double(width) - ml - mr, ph = Double(height) - mt - mb
        var out = SVG.header(width, height)
        out += SVG.text(Double(width) / 2, 20, title, size: 13, weight: "bold")
        let all = values.flatMap { $0.compactMap { $0 } }.filter(\.isFinite)
        let lo = all.min() ?? 0, hi = all.max() ?? 1
        let cw = pw / Double(max(1, xLabels.count)), ch = ph / Double(max(1, yLabels.count))
        for (yi, row) in values.enumerated() {
            for (xi, v) in row.enumerated() {
                let x = ml + Double(xi) * cw, y = mt + Double(yi) * ch
                if let v = v, v.isFinite {
                    let t = hi > lo ? (v - lo) / (hi - lo) : 0.5
                    out += "<rect x=\"\(SVG.f(x))\" y=\"\(SVG.f(y))\" width=\"\(SVG.f(cw))\" height=\"\(SVG.f(ch))\" fill=\"\(heatColor(t))\" stroke=\"#ffffff\"/>\n"
                    out += "<text x=\"\(SVG.f(x + cw / 2))\" y=\"\(SVG.f(y + ch / 2 + 4))\" text-anchor=\"middle\" font-size=\"10\" fill=\"\(t > 0.6 ? "#ffffff" : "#000000")\">\(SVG.esc(SVG.tickLabel((v * 10).rounded() / 10)))</text>\n"
                } else {
                    out += "<rect x=\"\(SVG.f(x))\" y=\"\(SVG.f(y))\" width=\"\(SVG.f(cw))\" height=\"\(SVG.f(ch))\" fill=\"#dddddd\" stroke=\"#ffffff\"/>\n"
                    // a long note ("diverged at step 312") on two lines when one does not fit the cell
                    let a = annotations[yi][xi], words = a.split(separator: " ").map(String.init)
                    if Double(a.count) * 5.4 > cw - 4 && words.count > 1 {
                        var cut = 1, best = Int.max
                        for k in 1..<words.count {
                            let l = words[..<k].joined(separator: " ").count, rr = words[k...].joined(separator: " ").count
                            if max(l, rr) < best { best = max(l, rr); cut = k }
                        }
                        out += SVG.text(x + cw / 2, y + ch / 2 - 1, words[..<cut].joined(separator: " "), size: 9)
                        out += SVG.text(x + cw / 2, y + ch / 2 + 9, words[cut...].joined(separator: " "), size: 9)
                    } else {
                        out += SVG.text(x + cw / 2, y + ch / 2 + 4, a, size: 9)
                    }
                }
            }
        }
        for (i, l) in xLabels.enumerated() { out += SVG.text(ml + (Double(i) + 0.5) * cw, mt + ph + 16, l, size: 10) }
        for (i, l) in yLabels.enumerated() { out += SVG.text(ml - 6, mt + (Double(i) + 0.5) * ch + 4, l, anchor: "end", size: 10) }
        out += SVG.text(ml + pw / 2, Double(height) - 10, xLabel)
        // colour bar
        for k in 0..<10 {
            let y = mt + ph - Double(k + 1) * ph / 10
            out += "<rect x=\"\(SVG.f(ml + pw + 20))\" y=\"\(SVG.f(y))\" width=\"14\" height=\"\(SVG.f(ph / 10))\" fill=\"\(heatColor((Double(k) + 0.5) / 10))\"/>\n"
        }
        out += SVG.text(ml + pw + 38, mt + 8, SVG.tickLabel((hi * 100).rounded() / 100), anchor: "start", size: 9)
        out += SVG.text(ml + pw + 38, mt + ph, SVG.tickLabel((lo * 100).rounded() / 100), anchor: "start", size: 9)
        return out + "</svg>\n"
    }
}

/// Marching squares over a rectangular grid (d3-contour's 16-case table, saddles split by the centre value).
public enum MarchingSquares {
    public struct Segment: Equatable, Sendable { public var a: (Double, Double); public var b: (Double, Double)
        public static func == (l: Segment, r: Segment) -> Bool { l.a == r.a && l.b == r.b }
    }

    /// Iso-line segments of `grid[row][col]` at `level`, in grid coordinates (x = column, y = row).
    public static func segments(_ grid: [[Double]], level: Double) -> [Segment] {
        let rows = grid.count
        guard rows > 1, let cols = grid.first?.count, cols > 1 else { return [] }
        var out: [Segment] = []
        func lerp(_ v0: Double, _ v1: Double) -> Double { v1 == v0 ? 0.5 : min(1, max(0, (level - v0) / (v1 - v0))) }
        for r in 0..<(rows - 1) {
            for c in 0..<(cols - 1) {
                let tl = grid[r][c], tr = grid[r][c + 1], br = grid[r + 1][c + 1], bl = grid[r + 1][c]
                if ![tl, tr, br, bl].allSatisfy(\.isFinite) { continue }
                let idx = (tl >= level ? 8 : 0) | (tr >= level ? 4 : 0) | (br >= level ? 2 : 0) | (bl >= level ? 1 : 0)
                let x = Double(c), y = Double(r)
                let top = (x + lerp(tl, tr), y), right = (x + 1, y + lerp(tr, br))
                let bottom = (x + lerp(bl, br), y + 1), left = (x, y + lerp(tl, bl))
                func seg(_ p: (Double, Double), _ q: (Double, Double)) { out.append(Segment(a: p, b: q)) }
                switch idx {
                case 0, 15: break
                case 1, 14: seg(left, bottom)
                case 2, 13: seg(bottom, right)
                case 3, 12: seg(left, right)
                case 4, 11: seg(top, right)
                case 6, 9: seg(top, bottom)
                case 7, 8: seg(left, top)
                case 5, 10:
                    let centre = (tl + tr + br + bl) / 4
                    if (centre >= level) == (idx == 5) { seg(left, top); seg(bottom, right) } else { seg(left, bottom); seg(top, right) }
                default: break
                }
            }
        }
        return out
    }
}

public struct ContourPlot: Sendable {
    public var title: String
    public var xLabel: String
    public var yLabel: String
    /// grid[row][col]: row ↔ y, col ↔ x.
    public var grid: [[Double]]
    public var xRange: (Double, Double)
    public var yRange: (Double, Double)
    public var levels: [Double]
    /// An optional trajectory in data coordinates.
    public var path: [(Double, Double)]
    public var width = 460
    public var height = 420

    public init(title: String, xLabel: String, yLabel: String, grid: [[Double]], xRange: (Double, Double), yRange: (Double, Double),
                levels: [Double]? = nil, path: [(Double, Double)] = []) {
        self.title = title; self.xLabel = xLabel; self.yLabel = yLabel; self.grid = grid; self.xRange = xRange; self.yRange = yRange
        self.path = path
        if let l = levels { self.levels = l } else {
            let vals = grid.flatMap { $0 }.filter(\.isFinite)
            let lo = vals.min() ?? 0, hi = vals.max() ?? 1
            self.levels = hi > lo ? (1...10).map { lo + (hi - lo) * Double($0) / 11 } : [lo]
        }
    }

    public func render() -> String {
        let ml = 56.0, mr = 20.0, mt = 34.0, mb = 48.0
        let pw = Double(width) - ml - mr, ph = Double(height) - mt - mb
        var out = SVG.header(width, height)
        out += SVG.text(Double(width) / 2, 20, title, size: 13, weight: "bold")
        let rows = grid.count, cols = grid.first?.count ?? 0
        guard rows > 1, cols > 1 else { return out + SVG.text(Double(width) / 2, Double(height) / 2, "no data") + "</svg>\n" }
        func gx(_ c: Double) -> Double { ml + c / Double(cols - 1) * pw }
        func gy(_ r: Double) -> Double { mt + ph - r / Double(rows - 1) * ph }
        func dx(_ x: Double) -> Double { ml + (x - xRange.0) / (xRange.1 - xRange.0) * pw }
        func dy(_ y: Double) -> Double { mt + ph - (y - yRange.0) / (yRange.1 - yRange.0) * ph }
        out += "<rect x=\"\(SVG.f(ml))\" y=\"\(SVG.f(mt))\" width=\"\(SVG.f(pw))\" height=\"\(SVG.f(ph))\" fill=\"none\" stroke=\"#333333\"/>\n"
        let lo = levels.first ?? 0, hi = levels.last ?? 1
        for level in levels {
            let segs = MarchingSquares.segments(grid, level: level)
            if segs.isEmpty { continue }
            let t = hi > lo ? (level - lo) / (hi - lo) : 0.5
            let d = segs.map { "M\(SVG.f(gx($0.a.0))) \(SVG.f(gy($0.a.1)))L\(SVG.f(gx($0.b.0))) \(SVG.f(gy($0.b.1)))" }.joined()
            out += "<path d=\"\(d)\" fill=\"none\" stroke=\"\(heatColor(0.25 + 0.75 * t))\" stroke-width=\"1\"/>\n"
        }
        if path.count > 1 {
            let d = path.map { "\(SVG.f(dx($0.0))),\(SVG.f(dy($0.1)))" }.joined(separator: " ")
            out += "<polyline fill=\"none\" stroke=\"#e15759\" stroke-width=\"1.5\" points=\"\(d)\"/>\n"
        }
        for t in SVG.linearTicks(xRange.0, xRange.1) { out += SVG.text(dx(t), mt + ph + 16, SVG.tickLabel(t)) }
        for t in SVG.linearTicks(yRange.0, yRange.1) { out += SVG.text(ml - 6, dy(t) + 4, SVG.tickLabel(t), anchor: "end") }
        out += SVG.text(ml + pw / 2, Double(height) - 10, xLabel)
        out += SVG.text(14, mt + ph / 2, yLabel, rotate: true)
        return out + "</svg>\n"
    }
}
