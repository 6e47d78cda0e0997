// Several 2-D surfaces side by side at one colour scale (Fig. 1 / Fig. 5: DeepNet and Post-LN beside each other):
// every panel fills its grid cells by the same value → colour map, draws iso-lines at the same levels, and one
// colour bar states the shared range. Deterministic like the rest of the SVG emitter.
import Foundation

/// One surface: grid[row][col] with row ↔ y and col ↔ x, over data ranges `xRange` × `yRange`.
public struct SurfacePanel: Sendable {
    public var title: String
    public var xLabel: String
    public var yLabel: String
    public var grid: [[Double]]
    public var xRange: (Double, Double)
    public var yRange: (Double, Double)
    /// An optional trajectory in data coordinates.
    public var path: [(Double, Double)]
    public init(title: String, xLabel: String, yLabel: String, grid: [[Double]], xRange: (Double, Double), yRange: (Double, Double),
                path: [(Double, Double)] = []) {
        self.title = title; self.xLabel = xLabel; self.yLabel = yLabel; self.grid = grid
        self.xRange = xRange; self.yRange = yRange; self.path = path
    }
}

public struct SurfacePanels: Sendable {
    public var title: String
    public var panels: [SurfacePanel]
    /// The shared colour range: values ≤ lo get the first colour, ≥ hi the last.
    public var scale: (lo: Double, hi: Double)
    /// Iso-line values, shared by every panel.
    public var levels: [Double]
    public var panelWidth = 340
    public var height = 400

    public init(title: String, panels: [SurfacePanel], scale: (lo: Double, hi: Double)? = nil) {
        self.title = title; self.panels = panels
        let s = scale ?? SurfacePanels.sharedScale(panels.map(\.grid))
        self.scale = s
        self.levels = s.hi > s.lo ? (1...10).map { s.lo + (s.hi - s.lo) * Double($0) / 11 } : []
    }

    /// One range for all grids: from the smallest value to min(largest, smallest + 3·(median − smallest)) of the
    /// pooled finite values, so that a few exploding points do not wash the pictures out (they show as the top colour).
    public static func sharedScale(_ grids: [[[Double]]]) -> (lo: Double, hi: Double) {
        let vals = grids.flatMap { $0.flatMap { $0 } }.filter(\.isFinite).sorted()
        guard let lo = vals.first, let top = vals.last else { return (0, 1) }
        let med = vals[vals.count / 2]
        let hi = min(top, lo + 3 * max(med - lo, 1e-9))
        return (lo, hi > lo ? hi : lo + 1)
    }

    /// Colour of a value on the shared scale.
    public func color(_ v: Double) -> String {
        guard v.isFinite else { return "#dddddd" }
        return heatColor(scale.hi > scale.lo ? (v - scale.lo) / (scale.hi - scale.lo) : 0.5)
    }

    public func render() -> String {
        let ml = 52.0, gap = 30.0, mt = 50.0, mb = 48.0, barArea = 90.0
        let pw = Double(panelWidth) - ml, ph = Double(height) - mt - mb
        let width = Int(Double(panels.count) * (pw + ml) + gap * Double(max(0, panels.count - 1)) + barArea)
        var out = SVG.header(width, height)
        out += SVG.text(Double(width) / 2, 18, title, size: 13, weight: "bold")
        for (k, p) in panels.enumerated() {
            let x0 = Double(k) * (pw + ml + gap) + ml
            out += "<g id=\"panel-\(k)\">\n"
            out += SVG.text(x0 + pw / 2, mt - 8, p.title, size: 11)
            let rows = p.grid.count, cols = p.grid.first?.count ?? 0
            if rows > 1 && cols > 1 {
                let cw = pw / Double(cols), ch = ph / Double(rows)
                // row 0 is the lowest y: drawn at the bottom
                for r in 0..<rows {
                    for c in 0..<cols where c < p.grid[r].count {
                        out += "<rect x=\"\(SVG.f(x0 + Double(c) * cw))\" y=\"\(SVG.f(mt + ph - Double(r + 1) * ch))\" width=\"\(SVG.f(cw + 0.3))\" height=\"\(SVG.f(ch + 0.3))\" fill=\"\(color(p.grid[r][c]))\"/>\n"
                    }
                }
                func gx(_ c: Double) -> Double { x0 + (c + 0.5) * cw }
                func gy(_ r: Double) -> Double { mt + ph - (r + 0.5) * ch }
                for level in levels {
                    let segs = MarchingSquares.segments(p.grid, level: level)
                    if segs.isEmpty { continue }
                    let d = segs.map { "M\(SVG.f(gx($0.a.0))) \(SVG.f(gy($0.a.1)))L\(SVG.f(gx($0.b.0))) \(SVG.f(gy($0.b.1)))" }.joined()
                    out += "<path d=\"\(d)\" fill=\"none\" stroke=\"#333333\" stroke-opacity=\"0.55\" stroke-width=\"0.8\"/>\n"
                }
                // data coordinates: the range's ends sit at the centres of the first and last cells
                let xs = p.xRange.1 - p.xRange.0, ys = p.yRange.1 - p.yRange.0
                func dx(_ x: Double) -> Double { gx(xs != 0 ? (x - p.xRange.0) / xs * Double(cols - 1) : 0) }
                func dy(_ y: Double) -> Double { gy(ys != 0 ? (y - p.yRange.0) / ys * Double(rows - 1) : 0) }
                if p.path.count > 1 {
                    let d = p.path.map { "\(SVG.f(dx($0.0))),\(SVG.f(dy($0.1)))" }.joined(separator: " ")
                    out += "<polyline fill=\"none\" stroke=\"#e15759\" stroke-width=\"1.5\" points=\"\(d)\"/>\n"
                }
                for t in SVG.linearTicks(p.xRange.0, p.xRange.1) { out += SVG.text(dx(t), mt + ph + 16, SVG.tickLabel(t), size: 10) }
                for t in SVG.linearTicks(p.yRange.0, p.yRange.1) { out += SVG.text(x0 - 6, dy(t) + 4, SVG.tickLabel(t), anchor: "end", size: 10) }
            } else {
                out += SVG.text(x0 + pw / 2, mt + ph / 2, "no data")
            }
            out += "<rect x=\"\(SVG.f(x0))\" y=\"\(SVG.f(mt))\" width=\"\(SVG.f(pw))\" height=\"\(SVG.f(ph))\" fill=\"none\" stroke=\"#333333\"/>\n"
            out += SVG.text(x0 + pw / 2, Double(height) - 10, p.xLabel)
            out += SVG.text(x0 - 38, mt + ph / 2, p.yLabel, rotate: true)
            out += "</g>\n"
        }
        // the one colour bar
        let bx = Double(width) - barArea + 16
        out += "<g id=\"colorbar\" data-min=\"\(SVG.tickLabel(scale.lo))\" data-max=\"\(SVG.tickLabel(scale.hi))\">\n"
        let steps = 20
        for k in 0..<steps {
            let y = mt + ph - Double(k + 1) * ph / Double(steps)
            out += "<rect x=\"\(SVG.f(bx))\" y=\"\(SVG.f(y))\" width=\"14\" height=\"\(SVG.f(ph / Double(steps) + 0.3))\" fill=\"\(heatColor((Double(k) + 0.5) / Double(steps)))\"/>\n"
        }
        out += "<rect x=\"\(SVG.f(bx))\" y=\"\(SVG.f(mt))\" width=\"14\" height=\"\(SVG.f(ph))\" fill=\"none\" stroke=\"#333333\"/>\n"
        for (t, v) in SurfacePanels.barTicks(scale.lo, scale.hi) {
            let y = mt + ph - t * ph
            out += "<line x1=\"\(SVG.f(bx + 14))\" y1=\"\(SVG.f(y))\" x2=\"\(SVG.f(bx + 18))\" y2=\"\(SVG.f(y))\" stroke=\"#333333\"/>\n"
            out += SVG.text(bx + 20, y + 4, SVG.tickLabel(v), anchor: "start", size: 9)
        }
        out += SVG.text(bx + 7, mt - 8, "loss", size: 10)
        out += "</g>\n"
        return out + "</svg>\n"
    }

    /// Colour-bar labels: both ends and the round values between them, as (fraction of the bar, value).
    static func barTicks(_ lo: Double, _ hi: Double) -> [(Double, Double)] {
        guard hi > lo else { return [(0, lo)] }
        let inner = SVG.linearTicks(lo, hi, target: 4).filter { ($0 - lo) / (hi - lo) > 0.08 && (hi - $0) / (hi - lo) > 0.08 }
        return [(0, lo)] + inner.map { (($0 - lo) / (hi - lo), $0) } + [(1, hi)]
    }
}
