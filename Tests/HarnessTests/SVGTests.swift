import DeepNetHarness
import XCTest

final class SVGTests: XCTestCase {
    /// Golden file: a tiny line plot must render to exactly these bytes.
    func testLinePlotGolden() {
        var p = LinePlot(title: "t", xLabel: "x", yLabel: "y", series: [LineSeries(name: "a", x: [0, 1, 2], y: [1, 3, 2], markers: true)])
        p.width = 300; p.height = 200
        let expected = """
        <svg xmlns="http://www.w3.org/2000/svg" width="300" height="200" viewBox="0 0 300 200" font-family="DejaVu Sans, Arial, sans-serif" font-size="11">
        <rect width="300" height="200" fill="#ffffff"/>
        <text x="150" y="20" text-anchor="middle" font-size="13" font-weight="bold">t</text>
        <rect x="64" y="34" width="66" height="118" fill="none" stroke="#333333"/>
        <line x1="64" y1="146.64" x2="130" y2="146.64" stroke="#e5e5e5"/>
        <text x="58" y="150.64" text-anchor="end">1</text>
        <line x1="64" y1="119.82" x2="130" y2="119.82" stroke="#e5e5e5"/>
        <text x="58" y="123.82" text-anchor="end">1.5</text>
        <line x1="64" y1="93" x2="130" y2="93" stroke="#e5e5e5"/>
        <text x="58" y="97" text-anchor="end">2</text>
        <line x1="64" y1="66.18" x2="130" y2="66.18" stroke="#e5e5e5"/>
        <text x="58" y="70.18" text-anchor="end">2.5</text>
        <line x1="64" y1="39.36" x2="130" y2="39.36" stroke="#e5e5e5"/>
        <text x="58" y="43.36" text-anchor="end">3</text>
        <line x1="67" y1="152" x2="67" y2="156" stroke="#333333"/>
        <text x="67" y="168" text-anchor="middle">0</text>
        <line x1="82" y1="152" x2="82" y2="156" stroke="#333333"/>
        <text x="82" y="168" text-anchor="middle">0.5</text>
        <line x1="97" y1="152" x2="97" y2="156" stroke="#333333"/>
        <text x="97" y="168" text-anchor="middle">1</text>
        <line x1="112" y1="152" x2="112" y2="156" stroke="#333333"/>
        <text x="112" y="168" text-anchor="middle">1.5</text>
        <line x1="127" y1="152" x2="127" y2="156" stroke="#333333"/>
        <text x="127" y="168" text-anchor="middle">2</text>
        <text x="97" y="190" text-anchor="middle">x</text>
        <text x="16" y="93" text-anchor="middle" transform="rotate(-90 16 93)">y</text>
        <polyline fill="none" stroke="#4e79a7" stroke-width="1.5" points="67,146.64 97,39.36 127,93"/>
        <circle cx="67" cy="146.64" r="3" fill="#4e79a7"/>
        <circle cx="97" cy="39.36" r="3" fill="#4e79a7"/>
        <circle cx="127" cy="93" r="3" fill="#4e79a7"/>
        <line x1="140" y1="42" x2="158" y2="42" stroke="#4e79a7" stroke-width="2"/>
        <text x="162" y="46" text-anchor="start">a</text>
        </svg>

        """
        XCTAssertEqual(p.render(), expected)
    }

    func testMarchingSquaresCircle() {
        // f = x² + y² on a 21×21 grid over [-1, 1]²; the 0.25 iso-line is a circle of radius 0.5.
        let n = 21
        let grid = (0..<n).map { r in (0..<n).map { c -> Double in
            let x = -1 + 2 * Double(c) / Double(n - 1), y = -1 + 2 * Double(r) / Double(n - 1)
            return x * x + y * y } }
        let segs = MarchingSquares.segments(grid, level: 0.25)
        XCTAssertGreaterThan(segs.count, 20)
        for s in segs {
            for p in [s.a, s.b] {
                let x = -1 + 2 * p.0 / Double(n - 1), y = -1 + 2 * p.1 / Double(n - 1)
                XCTAssertEqual((x * x + y * y).squareRoot(), 0.5, accuracy: 0.03)
            }
        }
        XCTAssertTrue(MarchingSquares.segments(grid, level: 5).isEmpty)
        let svg = ContourPlot(title: "c", xLabel: "a", yLabel: "b", grid: grid, xRange: (-1, 1), yRange: (-1, 1)).render()
        XCTAssertTrue(svg.contains("<path d=\"M"))
        XCTAssertEqual(svg, ContourPlot(title: "c", xLabel: "a", yLabel: "b", grid: grid, xRange: (-1, 1), yRange: (-1, 1)).render())
    }

    func testLogAxisAndBarsAndHeatmapDeterministic() {
        let p = LinePlot(title: "log", xLabel: "d", yLabel: "u", xScale: .log, yScale: .log,
                         series: [LineSeries(name: "s", x: [12, 100, 1000], y: [0.01, 1, 30])])
        let a = p.render()
        XCTAssertTrue(a.contains(">1e-2<") || a.contains(">0.01<"))
        XCTAssertEqual(a, p.render())
        let b = BarChart(title: "b", yLabel: "BLEU", groups: ["x", "y"], series: ["6L", "18L"], values: [[27.4, nil], [28.0, 28.7]],
                         annotations: [["", "diverged"], ["", ""]]).render()
        XCTAssertTrue(b.contains("diverged"))
        let h = Heatmap(title: "h", xLabel: "a", yLabel: "b", xLabels: ["1", "2"], yLabels: ["p"], values: [[1, nil]]).render()
        XCTAssertTrue(h.contains("n/a"))
    }
}
