// Tests of the report's figures and tables read back from their text: log-axis tick labels, the paper-like table
// cells ("ours / paper", seeds in brackets, outcome hook), Fig. 4 panels per method, the named diagnostic array,
// the Fig. 8 fit band over seed means, side-by-side landscapes at one colour scale, and the index's compute ledger.
import XCTest
import Foundation
import DeepNetEngine
import DeepNetHarness

final class ReportFigureTests: XCTestCase {
    // MARK: SVG text helpers

    struct Label { var x: Double; var y: Double; var anchor: String; var text: String }

    /// Every <text> element with its position, anchor and content (rotated ones skipped).
    func labels(_ svg: String) -> [Label] {
        let re = try! NSRegularExpression(pattern: "<text x=\"([-0-9.]+)\" y=\"([-0-9.]+)\" text-anchor=\"([a-z]+)\"([^>]*)>([^<]*)</text>")
        let ns = svg as NSString
        return re.matches(in: svg, range: NSRange(location: 0, length: ns.length)).compactMap { m in
            if ns.substring(with: m.range(at: 4)).contains("rotate") { return nil }
            return Label(x: Double(ns.substring(with: m.range(at: 1)))!, y: Double(ns.substring(with: m.range(at: 2)))!,
                         anchor: ns.substring(with: m.range(at: 3)), text: ns.substring(with: m.range(at: 5)))
        }
    }

    /// y-axis tick labels of a LinePlot (right-aligned at the left margin), bottom to top.
    func yTicks(_ svg: String) -> [Label] { labels(svg).filter { $0.anchor == "end" && $0.x == 58 }.sorted { $0.y > $1.y } }

    /// x-axis tick labels of a 640×400 LinePlot (centred just under the plot), left to right.
    func xTicks(_ svg: String) -> [Label] { labels(svg).filter { $0.anchor == "middle" && $0.y == 368 }.sorted { $0.x < $1.x } }

    func assertNoOverlap(_ ls: [Label], horizontal: Bool, file: StaticString = #filePath, line: UInt = #line) {
        for (a, b) in zip(ls, ls.dropFirst()) {
            if horizontal {
                let need = Double(a.text.count + b.text.count) * 11 * 0.62 / 2
                XCTAssertGreaterThanOrEqual(b.x - a.x, need, "\(a.text) and \(b.text) overlap", file: file, line: line)
            } else {
                XCTAssertGreaterThanOrEqual(a.y - b.y, 11, "\(a.text) and \(b.text) overlap", file: file, line: line)
            }
        }
    }

    func count(_ s: String, _ sub: String) -> Int { s.components(separatedBy: sub).count - 1 }

    // MARK: 1. log axes

    func testLogAxisLabelsTheMinimumAndEveryDecade() {
        let y = LinePlot(title: "t", xLabel: "step", yLabel: "u", yScale: .log,
                         series: [LineSeries(name: "a", x: [1, 2, 3, 4], y: [0.03, 0.5, 7, 40])]).render()
        let yl = yTicks(y).map(\.text)
        for want in ["0.03", "0.1", "1", "10"] { XCTAssertTrue(yl.contains(want), "\(want) missing from \(yl)") }
        XCTAssertEqual(yl.first, "0.03")
        assertNoOverlap(yTicks(y), horizontal: false)

        // x from 6 to 100 layers: 6, 10, 100
        let x1 = LinePlot(title: "t", xLabel: "layers", yLabel: "u", xScale: .log,
                          series: [LineSeries(name: "a", x: [6, 12, 24, 50, 100], y: [1, 2, 3, 4, 5])]).render()
        let xl1 = xTicks(x1).map(\.text)
        for want in ["6", "10", "100"] { XCTAssertTrue(xl1.contains(want), "\(want) missing from \(xl1)") }
        XCTAssertEqual(xl1.first, "6")
        assertNoOverlap(xTicks(x1), horizontal: true)

        // 12 to 96: no decade inside; both ends and the 2×/5× multiples between them
        let x2 = LinePlot(title: "t", xLabel: "layers", yLabel: "u", xScale: .log,
                          series: [LineSeries(name: "a", x: [12, 24, 48, 96], y: [1, 2, 3, 4])]).render()
        let xl2 = xTicks(x2).map(\.text)
        XCTAssertEqual(xl2.first, "12"); XCTAssertEqual(xl2.last, "96")
        XCTAssertTrue(xl2.contains("20") && xl2.contains("50"), "\(xl2)")

        // within one decade: round values between the ends too
        let y3 = LinePlot(title: "t", xLabel: "s", yLabel: "u", yScale: .log,
                          series: [LineSeries(name: "a", x: [1, 2], y: [9.84, 11.6])]).render()
        XCTAssertEqual(yTicks(y3).map(\.text), ["9.84", "10", "10.5", "11", "11.5", "11.6"])
        assertNoOverlap(yTicks(y3), horizontal: false)

        // about one decade (0.9 … 11.6): 2 and 5 between 1 and 10
        let y4 = LinePlot(title: "t", xLabel: "s", yLabel: "u", yScale: .log,
                          series: [LineSeries(name: "a", x: [1, 2, 3], y: [0.95, 3, 11.6])]).render()
        XCTAssertEqual(yTicks(y4).map(\.text), ["0.9", "1", "2", "5", "10", "11.6"])

        // a minimum just under a decade: the lower end moves to a round value so both labels fit
        let y2 = LinePlot(title: "t", xLabel: "s", yLabel: "u", yScale: .log,
                          series: [LineSeries(name: "a", x: [1, 2], y: [0.97, 5000])]).render()
        let t2 = yTicks(y2)
        XCTAssertTrue(t2.map(\.text).contains("1") && t2.map(\.text).contains("10") && t2.map(\.text).contains("1000"), "\(t2.map(\.text))")
        XCTAssertLessThanOrEqual(Double(t2.first!.text)!, 0.97)
        assertNoOverlap(t2, horizontal: false)

        // many decades on a short axis: intermediate labels are dropped, decades and the minimum stay
        let a = SVG.logAxis(0.003, 2000, length: 200, horizontal: false)
        for d in [0.01, 0.1, 1, 10, 100, 1000] { XCTAssertTrue(a.labelled.contains { abs($0 - d) < 1e-12 }, "\(d) in \(a.labelled)") }
        XCTAssertEqual(a.labelled.first, a.lo)
        XCTAssertFalse(a.labelled.contains(2000))   // the maximum would sit on 1000's label
    }

    // MARK: 2. tables

    func record(bleu: Double?, status: RunStatus = .ok, divergedAt: Int? = nil, wall: Double = 0, threads: String = "1") -> RunRecord {
        var m = FinalMetrics()
        m.bleu = bleu; m.wallSeconds = wall
        var p = Provenance()
        p.threads = threads
        return RunRecord(runID: UUID().uuidString, config: RunConfig(), dataFingerprint: "", engineNumericsVersion: "", status: status,
                         divergedAtStep: divergedAt, metrics: m, provenance: p)
    }

    func entry(_ axes: [String], _ labels: [String], _ rec: RunRecord?, runID: String? = nil) -> ResultEntry {
        ResultEntry(coordinates: Coordinates(axes: axes, labels: labels), paperKeys: Dictionary(uniqueKeysWithValues: zip(axes, labels)),
                    runID: runID ?? rec?.runID ?? UUID().uuidString, record: rec)
    }

    func experiment(_ id: String = "t1", renders: [Render], verdict: @escaping @Sendable (ExperimentResults) -> [ClaimVerdict] = { _ in [] },
                    cellOutcome: (@Sendable (ExperimentResults, ResultEntry) -> String?)? = nil) -> Experiment {
        let paper = PaperTable(caption: "BLEU", columns: ["6L-6L", "18L-18L"],
                               rows: [PaperRow("Post-LN", [.value(28.1), .diverged]), PaperRow("DeepNet", [.value(27.3), .value(28.6)])])
        return Experiment(id: id, title: "t", artifact: .table(1), claim: "c", paper: PaperNumbers(tables: [paper]), paperSetup: "s",
                          measured: "m", measurements: [.bleu], renders: renders, profiles: [:], cellOutcome: cellOutcome, verdict: verdict)
    }

    func testTableCellsOursSlashPaperWithSeedsAndOutcomeHook() {
        let axes = ["method", "depth", "seed"]
        let stalled = record(bleu: 5.9)
        let stalledID = stalled.runID
        let e = experiment(renders: [.table(rows: "method", columns: "depth", metric: .bleu)],
                           cellOutcome: { _, en in en.runID == stalledID ? "stalled (5.9 vs 3.8)" : nil })
        let r = ExperimentResults(experiment: e, profile: .smoke, axes: axes, entries: [
            entry(axes, ["Post-LN", "6L-6L", "1"], record(bleu: 28.0)),
            entry(axes, ["Post-LN", "6L-6L", "2"], record(bleu: 28.4)),
            entry(axes, ["Post-LN", "18L-18L", "1"], record(bleu: nil, status: .diverged, divergedAt: 312)),
            entry(axes, ["Post-LN", "18L-18L", "2"], record(bleu: nil, status: .diverged, divergedAt: 298)),
            entry(axes, ["DeepNet", "6L-6L", "1"], record(bleu: 26.8)),
            entry(axes, ["DeepNet", "6L-6L", "2"], record(bleu: 27.4)),
            entry(axes, ["DeepNet", "18L-18L", "1"], stalled),
            entry(axes, ["DeepNet", "18L-18L", "2"], record(bleu: 28.0)),
        ])
        let md = ReportRenderer.render(r).markdown
        XCTAssertEqual(count(md, "| method \\ depth |"), 1, "one table, not one per seed:\n\(md)")
        XCTAssertTrue(md.contains("| Post-LN | 28.2 [28.0, 28.4] / 28.1 | [diverged at step 312, diverged at step 298] / diverged |"), md)
        XCTAssertTrue(md.contains("| DeepNet | 27.1 [26.8, 27.4] / 27.3 | 28.0 over 1 of 2 seeds [stalled (5.9 vs 3.8), 28.0] / 28.6 |"), md)
        XCTAssertFalse(md.contains("diverged@"))
        XCTAssertTrue(md.contains("ours / the paper's"))

        // without seeds: one run per cell
        let axes2 = ["method", "depth"]
        let e2 = experiment(renders: [.table(rows: "method", columns: "depth", metric: .bleu)])
        let r2 = ExperimentResults(experiment: e2, profile: .smoke, axes: axes2, entries: [
            entry(axes2, ["Post-LN", "6L-6L"], record(bleu: 28.04)),
            entry(axes2, ["Post-LN", "18L-18L"], record(bleu: nil, status: .diverged, divergedAt: 312)),
            entry(axes2, ["DeepNet", "6L-6L"], nil),
        ])
        let md2 = ReportRenderer.render(r2).markdown
        XCTAssertTrue(md2.contains("| Post-LN | 28.0 / 28.1 | diverged at step 312 / diverged |"), md2)
        XCTAssertTrue(md2.contains("| DeepNet | not run / 27.3 |  |"), md2)
    }

    // MARK: 2b. bars, lines and heatmaps pool the seeds

    func testBarsLinesAndHeatmapsShowEverySeedNotSeedOneAlone() {
        // Bars: the seed mean with each seed as a dot; the slice held fixed (lr) is named in the title.
        let axes = ["variant", "lr", "seed"]
        let bars = ExperimentResults(experiment: experiment(renders: [.bars(.bleu, groups: "variant")]), profile: .smoke, axes: axes, entries: [
            entry(axes, ["A", "1e-3", "1"], record(bleu: 30.0)),
            entry(axes, ["A", "1e-3", "2"], record(bleu: 32.0)),
            entry(axes, ["A", "3e-3", "1"], record(bleu: 5.0)),
            entry(axes, ["B", "1e-3", "1"], record(bleu: 20.0)),
            entry(axes, ["B", "1e-3", "2"], record(bleu: nil, status: .diverged, divergedAt: 40)),
            entry(axes, ["C", "1e-3", "1"], record(bleu: nil, status: .diverged, divergedAt: 7)),
            entry(axes, ["C", "1e-3", "2"], record(bleu: nil, status: .diverged, divergedAt: 9)),
        ])
        let b = ReportRenderer.render(bars).figures[0].1
        let bt = labels(b).map(\.text)
        XCTAssertTrue(bt.contains("BLEU by variant — lr 1e-3; bars: mean of seeds 1, 2, dots: each seed"), "\(bt)")
        XCTAssertTrue(bt.contains("31"), "A's bar is the mean of 30 and 32 (seed 1 alone would be 30): \(bt)")
        XCTAssertEqual(count(b, "<circle"), 3, "two dots on A, one on B (its seed 2 diverged), none on C")
        XCTAssertTrue(b.contains("[diverged at step 7, diverged at step 9]"), "C has no bar; both seeds' outcomes are named")

        // Lines: one per seed, so a seed that stops early (Fig. 8's second seed) is visible.
        let la = ["layers", "seed"]
        let lines = ExperimentResults(experiment: experiment(renders: [.metricVsAxis(.bleu, x: "layers", logX: true)]), profile: .smoke, axes: la, entries: [
            entry(la, ["6", "1"], record(bleu: 5)), entry(la, ["12", "1"], record(bleu: 6)), entry(la, ["24", "1"], record(bleu: 7)),
            entry(la, ["6", "2"], record(bleu: 4)), entry(la, ["12", "2"], record(bleu: 8)),
        ])
        let l = ReportRenderer.render(lines).figures[0].1
        let lt = labels(l).map(\.text)
        XCTAssertTrue(lt.contains("BLEU vs layers — one line per seed") && lt.contains("seed 1") && lt.contains("seed 2"), "\(lt)")
        XCTAssertEqual(count(l, "<polyline"), 2)

        // Heatmap: each cell the mean of its seeds.
        let ha = ["alpha", "beta", "seed"]
        let heat = ExperimentResults(experiment: experiment(renders: [.heatmap(.bleu, x: "alpha", y: "beta")]), profile: .smoke, axes: ha, entries: [
            entry(ha, ["1", "1", "1"], record(bleu: 10)), entry(ha, ["1", "1", "2"], record(bleu: 14)), entry(ha, ["2", "1", "1"], record(bleu: 8)),
        ])
        let h = ReportRenderer.render(heat).figures[0].1
        let ht = labels(h).map(\.text)
        XCTAssertTrue(ht.contains("BLEU (beta × alpha) — mean of seeds 1, 2") && ht.contains("12") && ht.contains("8"), "\(ht)")
    }

    /// Table II's chart: one bar chart per pair (`panels:`), each titled by its pair and holding only its runs; without
    /// panels the chart would show the first pair alone.
    func testBarsWithPanelsDrawOneChartPerLevel() {
        let axes = ["pair", "method", "depth"]
        let r = ExperimentResults(experiment: experiment(renders: [.bars(.bleu, groups: "method", series: "depth", panels: "pair")]),
                                  profile: .smoke, axes: axes, entries: [
            entry(axes, ["En-De", "Post-LN", "6L"], record(bleu: 21.0)), entry(axes, ["En-De", "DeepNet", "6L"], record(bleu: 22.0)),
            entry(axes, ["En-Fr", "Post-LN", "6L"], record(bleu: 33.0)), entry(axes, ["En-Fr", "DeepNet", "6L"], record(bleu: 34.0)),
        ])
        let figs = ReportRenderer.render(r).figures
        XCTAssertEqual(figs.count, 2, "\(figs.map(\.0))")
        guard figs.count == 2 else { return }
        XCTAssertNotEqual(figs[0].0, figs[1].0)
        let de = labels(figs[0].1).map(\.text), fr = labels(figs[1].1).map(\.text)
        XCTAssertTrue(de.contains("BLEU by method — pair En-De") && de.contains("21") && de.contains("22"), "\(de)")
        XCTAssertFalse(de.contains("33") || de.contains("34"), "En-De's chart holds En-De's runs only: \(de)")
        XCTAssertTrue(fr.contains("BLEU by method — pair En-Fr") && fr.contains("33") && fr.contains("34"), "\(fr)")
    }

    // MARK: 3. Fig. 4 panels, the named array, seeds

    func updateRecord(_ updates: [Double], preLN: [Double]? = nil, grad: Double = 1) -> RunRecord {
        var series = ProbeSeries()
        for (i, u) in updates.enumerated() {
            var dec = StackProbe(stack: "decoder", outputUpdate: u)
            dec.layerGradNorm = [grad, 2 * grad]
            series.append(ProbeRecord(step: 2 * i, totalGradNorm: 1, decoder: dec, modelUpdate: u, parameterDistance: u))
        }
        var d = series.diagnostics(for: [.modelUpdate, .gradientNormPerLayer])
        // The probes record `delta_f_pre_ln` themselves (NaN here: no pre-LN values given); replace it with `preLN`, or
        // leave it out as in records made before it existed.
        d[MeasurementKind.modelUpdate.rawValue]!.removeAll { $0.name == "delta_f_pre_ln" }
        if let p = preLN { d[MeasurementKind.modelUpdate.rawValue]!.append(DiagnosticArray(name: "delta_f_pre_ln", shape: [p.count], values: p)) }
        var rc = RunConfig()
        rc.model.embedDim = 16
        return RunRecord(runID: UUID().uuidString, config: rc, dataFingerprint: "", engineNumericsVersion: "", status: .ok, diagnostics: d)
    }

    func testFig4OnePanelPerMethodEveryDepthALine() {
        let axes = ["method", "depth"]
        var es: [ResultEntry] = []
        for m in ["Post-LN", "DeepNet"] {
            for (k, d) in ["6L-6L", "12L-12L", "24L-24L"].enumerated() {
                es.append(entry(axes, [m, d], updateRecord([0, 0.1 * Double(k + 1), 0.3 * Double(k + 1)])))
            }
        }
        let e = experiment(renders: [.diagnostic(.modelUpdate, series: "depth", panels: "method", logY: true)])
        let r = ExperimentResults(experiment: e, profile: .smoke, axes: axes, entries: es)
        let rep = ReportRenderer.render(r)
        let updates = rep.figures.filter { $0.0.hasSuffix("-update.svg") }
        XCTAssertEqual(updates.map(\.0), ["t1-0-0-update.svg", "t1-0-1-update.svg"])
        XCTAssertTrue(updates[0].1.contains("method Post-LN") && updates[1].1.contains("method DeepNet"))
        for (_, svg) in updates {
            XCTAssertEqual(count(svg, "<polyline"), 3, svg)
            for d in ["6L-6L", "12L-12L", "24L-24L"] { XCTAssertTrue(svg.contains(">\(d)</text>"), d) }
        }
        // the peak plot has depth on x (the numeric one of series and panels), one line per method
        let peak = rep.figures.first { $0.0 == "t1-0-peak.svg" }?.1 ?? ""
        XCTAssertTrue(peak.contains(">Post-LN</text>") && peak.contains(">DeepNet</text>") && peak.contains("vs depth"), peak)
    }

    /// Training curves draw every seed as its own line, so a seed that stalls is visible next to one that trains.
    func testCurvesDrawEverySeed() {
        let axes = ["method", "lr", "seed"]
        func rec(_ losses: [Double]) -> RunRecord {
            var r = RunRecord(runID: UUID().uuidString, config: RunConfig(), dataFingerprint: "", engineNumericsVersion: "", status: .ok)
            r.curves.steps = Array(1...losses.count); r.curves.trainLoss = losses
            r.curves.lr = losses.map { _ in 1e-3 }; r.curves.gradNorm = losses
            return r
        }
        var es: [ResultEntry] = []
        for m in ["Transformer", "DeepNet"] {
            for lr in ["1e-3", "4e-3"] {
                es.append(entry(axes, [m, lr, "1"], rec([8, 6, 5])))
                es.append(entry(axes, [m, lr, "2"], rec(m == "Transformer" && lr == "4e-3" ? [8, 7.5, 7.4] : [8, 6, 4.9])))
            }
        }
        let e = experiment(renders: [.curves(.trainLoss, series: "method", panels: "lr", logY: false)])
        let rep = ReportRenderer.render(ExperimentResults(experiment: e, profile: .smoke, axes: axes, entries: es))
        XCTAssertEqual(rep.figures.count, 2)
        for (_, svg) in rep.figures {
            XCTAssertEqual(count(svg, "<polyline"), 4, svg)
            for l in ["Transformer / 1", "Transformer / 2", "DeepNet / 1", "DeepNet / 2"] { XCTAssertTrue(svg.contains(">\(l)</text>"), l) }
        }
        // without panels, too
        let flat = experiment(renders: [.curves(.trainLoss, series: "method", panels: nil, logY: false)])
        let one = ReportRenderer.render(ExperimentResults(experiment: flat, profile: .smoke, axes: axes, entries: es.filter { $0.coordinates["lr"] == "4e-3" }))
        XCTAssertEqual(count(one.figures[0].1, "<polyline"), 4)
    }

    func testNamedArrayAndSeedMeans() {
        let axes = ["method", "depth", "seed"]
        let e = experiment(renders: [.diagnosticArray(.modelUpdate, array: "delta_f_pre_ln", series: "depth", panels: "method", logY: true)])
        // missing everywhere: says so, draws nothing
        let none = ExperimentResults(experiment: e, profile: .smoke, axes: axes, entries: [
            entry(axes, ["DeepNet", "6L-6L", "1"], updateRecord([0, 1, 2])),
        ])
        let repNone = ReportRenderer.render(none)
        XCTAssertTrue(repNone.figures.isEmpty)
        XCTAssertTrue(repNone.markdown.contains("not drawn — no run recorded"), repNone.markdown)

        let r = ExperimentResults(experiment: e, profile: .smoke, axes: axes, entries: [
            entry(axes, ["DeepNet", "6L-6L", "1"], updateRecord([0, 1, 2], preLN: [0, 1, 2])),
            entry(axes, ["DeepNet", "6L-6L", "2"], updateRecord([0, 3, 4], preLN: [0, 3, 4])),
            entry(axes, ["DeepNet", "12L-12L", "1"], updateRecord([0, 1, 2], preLN: [0, 5, 6])),
            entry(axes, ["DeepNet", "12L-12L", "2"], updateRecord([0, 1, 2], preLN: [0, 7, 8], grad: 3)),
        ])
        let rep = ReportRenderer.render(r)
        XCTAssertEqual(rep.figures.map(\.0), ["t1-0-0.svg"])
        let svg = rep.figures[0].1
        XCTAssertEqual(count(svg, "<polyline"), 2, "one line per depth, seeds pooled")
        XCTAssertTrue(svg.contains("(mean of 2 seeds)"), svg)
        XCTAssertTrue(rep.markdown.contains("mean over the 2 seeds (seed 1, 2)"), rep.markdown)
        // the log axis's minimum is the smallest seed mean (2 at step 2), as labelled
        XCTAssertEqual(yTicks(svg).first?.text, "2")
        let m = InstrumentFigures.meanCurve([([0, 2, 4], [0, 1, 2]), ([0, 2, 4, 6], [0, 3, 4, 9])])
        XCTAssertEqual(m.x, [0, 2, 4]); XCTAssertEqual(m.y, [0, 2, 3])
        // the model-update figure pools seeds the same way
        let mu = InstrumentFigures.render(.modelUpdate, r, series: "depth", panels: "method", logY: true, figureBase: "x")!
        XCTAssertTrue(mu.1.first { $0.0 == "x-0-update.svg" }!.1.contains("(mean of 2 seeds)"))
        XCTAssertEqual(count(mu.1.first { $0.0 == "x-0-update.svg" }!.1, "<polyline"), 2)
        // and so do the gradient norms: per-layer mean of seeds (12L: 1 and 3 → 2, 2·1 and 2·3 → 4)
        let g = InstrumentFigures.render(.gradientNormPerLayer, r, series: "depth", panels: "method", logY: false, figureBase: "g")!
        let dec = g.1.first { $0.0 == "g-0-decoder.svg" }!.1
        XCTAssertTrue(dec.contains("(mean of 2 seeds)") && g.0.contains("mean over the 2 seeds"), g.0)
        XCTAssertEqual(count(dec, "<polyline"), 2)
        XCTAssertEqual(yTicks(dec).first?.text, "1")   // 6L: layer 1 at 1 (both seeds), nothing below
        XCTAssertEqual(yTicks(dec).last?.text, "4")    // 12L layer 2: mean of 2 and 6
    }

    // MARK: 4. Fig. 8

    func testScalingLawFitsSeedMeansWithABand() throws {
        let axes = ["layers", "seed"]
        let data: [(String, String, Double)] = [("6", "1", 10), ("6", "2", 12), ("12", "1", 13), ("12", "2", 14), ("24", "1", 15), ("24", "2", 18), ("48", "1", 19), ("48", "2", 20)]
        let e = experiment("fig8", renders: [])
        let r = ExperimentResults(experiment: e, profile: .smoke, axes: axes, entries: data.map { entry(axes, [$0.0, $0.1], record(bleu: $0.2)) })
        let (md, figs) = try XCTUnwrap(InstrumentFigures.scalingLaw(r, axis: "layers", figureBase: "fig8-1"))
        let fit = try ScalingLaw.fit(depths: [6, 12, 24, 48], values: [11, 13.5, 16.5, 19.5])
        XCTAssertTrue(md.contains(fit.formula(metric: "BLEU")), "fit over the seed means:\n\(md)")
        let svg = figs[0].1
        XCTAssertEqual(count(svg, "<polygon"), 1, "the confidence band")
        XCTAssertEqual(xTicks(svg).first?.text, "6")
        XCTAssertTrue(xTicks(svg).map(\.text).contains("10"))
        // 8 individual points + 4 seed means (+ legend markers of the points-only series)
        XCTAssertGreaterThanOrEqual(count(svg, "<circle"), 12)
        let band = try XCTUnwrap(InstrumentFigures.confidenceBand(fit, fittedDepths: [6, 12, 24, 48], at: [6, 17, 48]))
        for (i, d) in [6.0, 17, 48].enumerated() { XCTAssertLessThan(band.lower[i], fit.predict(depth: d)); XCTAssertGreaterThan(band.upper[i], fit.predict(depth: d)) }
        XCTAssertLessThan(band.upper[1] - band.lower[1], band.upper[0] - band.lower[0], "narrowest near the mean ln depth")
    }

    // MARK: 5. landscapes side by side

    func landscapeRecord(offset: Double, scale: Double, seed: UInt64) -> RunRecord {
        let s = LossLandscape.surface(center: [0, 0], x: [1, 0], y: [0, 1], xAxis: LandscapeAxis(-1, 1, 5), yAxis: LandscapeAxis(-1, 1, 5),
                                      workers: [ClosureLandscapeEvaluator { p in offset + scale * Double(p[0] * p[0] + 2 * p[1] * p[1]) }],
                                      protocolName: .liRandomFilterNormalized, seed: seed)
        return RunRecord(runID: UUID().uuidString, config: RunConfig(), dataFingerprint: "", engineNumericsVersion: "", status: .ok,
                         diagnostics: [MeasurementKind.lossLandscape2D.rawValue: InstrumentDiagnostics.arrays(for: s, tag: "li")])
    }

    func testLandscapesSideBySideAtOneColourScale() throws {
        let axes = ["method", "directions"]
        let e = experiment("fig1", renders: [.diagnostic(.lossLandscape2D, series: "method")])
        let r = ExperimentResults(experiment: e, profile: .smoke, axes: axes, entries: [
            entry(axes, ["Post-LN", "1"], landscapeRecord(offset: 4, scale: 3, seed: 1)),
            entry(axes, ["DeepNet", "1"], landscapeRecord(offset: 3, scale: 1, seed: 1)),
            entry(axes, ["Post-LN", "2"], landscapeRecord(offset: 4, scale: 3.5, seed: 2)),
            entry(axes, ["DeepNet", "2"], landscapeRecord(offset: 3, scale: 1.5, seed: 2)),
        ])
        let (md, figs) = try XCTUnwrap(InstrumentFigures.render(.lossLandscape2D, r, series: "method", panels: nil, logY: false, figureBase: "fig1-0"))
        XCTAssertEqual(figs.count, 1, "both methods in one SVG")
        let svg = figs[0].1
        XCTAssertEqual(count(svg, "<g id=\"panel-"), 2)
        XCTAssertEqual(count(svg, "<g id=\"colorbar\""), 1)
        // shared scale: from the smallest loss of both (DeepNet's 3) to the capped top
        let scale = SurfacePanels.sharedScale([[[3, 4], [5, 6]]])
        XCTAssertEqual(scale.lo, 3)
        let all = (-2...2).flatMap { i in (-2...2).flatMap { j -> [Double] in
            let x = Double(i) / 2, y = Double(j) / 2
            return [4 + 3 * (x * x + 2 * y * y), 3 + 1 * (x * x + 2 * y * y)] } }
        let shared = SurfacePanels.sharedScale([[all]])
        XCTAssertTrue(svg.contains("data-min=\"\(SVG.tickLabel(shared.lo))\" data-max=\"\(SVG.tickLabel(shared.hi))\""), svg)
        // the same value gets the same colour in both panels: DeepNet's loss 4 cell (x = ±1, y = 0) and Post-LN's
        // centre (loss 4) are filled alike, and that colour is the scale's colour of 4
        let panels = svg.components(separatedBy: "<g id=\"panel-").dropFirst().map { $0.components(separatedBy: "</g>")[0] }
        let fills = panels.map { p -> [String] in
            let re = try! NSRegularExpression(pattern: "<rect x=\"[-0-9.]+\" y=\"[-0-9.]+\" width=\"[-0-9.]+\" height=\"[-0-9.]+\" fill=\"(#[0-9a-f]{6})\"/>")
            let ns = p as NSString
            return re.matches(in: p, range: NSRange(location: 0, length: ns.length)).map { ns.substring(with: $0.range(at: 1)) }
        }
        XCTAssertEqual(fills.map(\.count), [25, 25])
        let sp = SurfacePanels(title: "", panels: [], scale: shared)
        XCTAssertEqual(fills[0][12], sp.color(4))          // Post-LN centre (row 2, col 2)
        XCTAssertEqual(fills[1][2 * 5 + 0], sp.color(4))   // DeepNet at x = −1, y = 0
        XCTAssertEqual(fills[1][12], sp.color(3))          // DeepNet centre: the bottom colour
        // the other direction seed is listed with its roughness, not drawn
        XCTAssertTrue(md.contains("directions 1 (first of 2)") && md.contains("Post-LN / 2 ") && md.contains("roughness:"), md)
    }

    // MARK: 6. index: summary column and compute ledger

    func testIndexSummaryAndComputeLedger() {
        let shared = record(bleu: 20, wall: 3600, threads: "2 engine")
        let a = experiment("a", renders: [], verdict: { _ in [ClaimVerdict("x", .reproduced, ""), ClaimVerdict("y", .notReproduced, "")] })
        let b = experiment("b", renders: [], verdict: { _ in [] })
        var c = experiment("c", renders: [], verdict: { _ in [ClaimVerdict("z", .notRun, "")] })
        c.summary = { _, _ in "Custom | sentence." }
        let ra = ExperimentResults(experiment: a, profile: .smoke, axes: ["k"], entries: [
            entry(["k"], ["1"], shared), entry(["k"], ["2"], record(bleu: 1, wall: 1800, threads: "1")),
        ])
        let rb = ExperimentResults(experiment: b, profile: .smoke, axes: ["k"], entries: [
            entry(["k"], ["1"], shared), entry(["k"], ["3"], record(bleu: 1, wall: 7200, threads: "")),
        ])
        let rc = ExperimentResults(experiment: c, profile: nil, axes: [], entries: [])
        let exps = [a, b, c], res = [ra, rb, rc]
        let idx = ReportRenderer.index(res.map { ReportRenderer.render($0) }, experiments: exps, results: res)
        XCTAssertTrue(idx.contains("| 1 / 1 / 0 / 0 | 1 of 2 claims reproduced; 1 not reproduced. |"), idx)
        XCTAssertTrue(idx.contains("| Not run yet (1 claim to test). Custom \\| sentence. |"), idx)
        XCTAssertTrue(idx.contains("**All claims: 3** — 1 reproduced, 1 not reproduced, 0 inconclusive (0 % of the claims), 1 not run."), idx)
        XCTAssertTrue(ReportRenderer.render(rc).markdown.contains("**What our numbers show.** Custom | sentence."))
        c.summary = { _, _ in "" }   // runs it reads are missing: counts only, no empty sentence
        XCTAssertNil(ReportRenderer.summarySentence(c, rc, []))
        // a: 1 h × 2 threads + 0.5 h × 1 = 2.5 CPU-hours; b: the shared run is a's, 2 h with unknown threads (as 1)
        XCTAssertTrue(idx.contains("| [a](a.md) | 2 | 1.50 | 2.50 |  |"), idx)
        XCTAssertTrue(idx.contains("| [b](b.md) | 1 | 2.00 | 2.00 | 1 shared run counted under a; threads not recorded for 1 run (counted as 1) |"), idx)
        XCTAssertTrue(idx.contains("| **total** | 3 | 3.50 | 4.50 | |"), idx)
        XCTAssertFalse(idx.contains("[c](c.md) | 0"), "no row for an experiment without runs")
        XCTAssertEqual(idx, ReportRenderer.index(res.map { ReportRenderer.render($0) }, experiments: exps, results: res))
        XCTAssertEqual(ReportRenderer.threadCount("2 engine"), 2)
        XCTAssertEqual(ReportRenderer.threadCount("1"), 1)
        XCTAssertNil(ReportRenderer.threadCount(""))
    }

    /// Once every claim has run, the index has no "not run" column or count; while one has not, it has both (above).
    func testIndexOfAFinishedCampaignDropsTheNotRunCount() {
        let a = experiment("a", renders: [], verdict: { _ in [ClaimVerdict("x", .reproduced, ""), ClaimVerdict("y", .inconclusive, "")] })
        let b = experiment("b", renders: [], verdict: { _ in [ClaimVerdict("z", .notReproduced, "")] })
        let ra = ExperimentResults(experiment: a, profile: .smoke, axes: ["k"], entries: [entry(["k"], ["1"], record(bleu: 20, wall: 60, threads: "1"))])
        let rb = ExperimentResults(experiment: b, profile: .smoke, axes: ["k"], entries: [entry(["k"], ["1"], record(bleu: 2, wall: 60, threads: "1"))])
        let idx = ReportRenderer.index([ra, rb].map { ReportRenderer.render($0) }, experiments: [a, b], results: [ra, rb])
        XCTAssertTrue(idx.contains("| claims (reproduced / not reproduced / inconclusive) | summary |"), idx)
        XCTAssertTrue(idx.contains("| 1 / 0 / 1 | 1 of 2 claims reproduced; 1 inconclusive. |"), idx)
        XCTAssertTrue(idx.contains("| 0 / 1 / 0 | 0 of 1 claim reproduced; 1 not reproduced. |"), idx)
        XCTAssertTrue(idx.contains("**All claims: 3** — 1 reproduced, 1 not reproduced, 1 inconclusive (33 % of the claims)."), idx)
        XCTAssertFalse(idx.contains("not run"), idx)
    }
}
