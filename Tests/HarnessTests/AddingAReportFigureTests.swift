// The README's "Adding a report figure" recipe: the example function compiles here exactly as printed there (the
// test compares the texts), and an experiment that lists it renders its text and figure into the report.
import DeepNetHarness
import Foundation
import XCTest

// README-EXAMPLE-BEGIN
/// The best validation loss of every run, as bars.
let bestValidLoss = ReportFigure("best validation loss") { r, figureBase in
    let runs = r.entries.compactMap { e in e.record.map { (e.coordinates.shortLabel, $0.metrics.validLoss) } }
    let chart = BarChart(title: "Best validation loss", yLabel: "loss", groups: runs.map(\.0), series: ["ours"],
                         values: runs.map { [$0.1] }, annotations: runs.map { [$0.1.map { String(format: "%.2f", $0) } ?? "—"] })
    return ("Best validation loss of each run (lower is better).\n\n", [("\(figureBase).svg", chart.render())])
}
// README-EXAMPLE-END

final class AddingAReportFigureTests: XCTestCase {
    func testReadmeExampleIsTheCompiledOne() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let me = try String(contentsOf: URL(fileURLWithPath: #filePath), encoding: .utf8)
        let example = me.components(separatedBy: "// README-EXAMPLE-BEGIN\n")[1].components(separatedBy: "// README-EXAMPLE-END")[0]
        let readme = try String(contentsOf: root.appendingPathComponent("README.md"), encoding: .utf8)
        let section = try XCTUnwrap(readme.components(separatedBy: "### Adding a report figure").dropFirst().first)
        let block = try XCTUnwrap(section.components(separatedBy: "```swift\n").dropFirst().first?.components(separatedBy: "```").first)
        XCTAssertEqual(block, example)
    }

    func testAnExperimentListingTheFigureRendersIt() {
        let e = Experiment(id: "custom-figure-test", title: "t", artifact: .figure(4), claim: "", paper: PaperNumbers(), paperSetup: "",
                           measured: "", measurements: [.validLoss], renders: [.custom(bestValidLoss)], profiles: [:], verdict: { _ in [] })
        func entry(_ label: String, _ loss: Double) -> ResultEntry {
            var m = FinalMetrics(); m.validLoss = loss
            let rec = RunRecord(runID: label, config: RunConfig(), dataFingerprint: "", engineNumericsVersion: "", status: .ok, metrics: m)
            return ResultEntry(coordinates: Coordinates(axes: ["method"], labels: [label]), paperKeys: [:], runID: label, record: rec)
        }
        let r = ExperimentResults(experiment: e, profile: .smoke, axes: ["method"], entries: [entry("A", 4.25), entry("B", 3.5)])
        let report = ReportRenderer.render(r)
        XCTAssertTrue(report.markdown.contains("Best validation loss of each run (lower is better)."), report.markdown)
        XCTAssertEqual(report.figures.map(\.0), ["custom-figure-test-0.svg"])
        XCTAssertTrue(report.markdown.contains("![custom-figure-test figure](figures/custom-figure-test-0.svg)"))
        // bars labelled with their values (one decimal)
        XCTAssertTrue(report.figures[0].1.contains("Best validation loss") && report.figures[0].1.contains(">3.5<"), report.figures[0].1)
    }
}
