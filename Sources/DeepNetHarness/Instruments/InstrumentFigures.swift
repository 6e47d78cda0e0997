// Instruments: report rendering of instrument data by measurement kind, using the report's
// SVG emitter (LinePlot, ContourPlot). Entry point for ReportRenderer.renderOne's `.diagnostic` case:
//
//     if let out = InstrumentFigures.render(m, r, series: series, panels: panels, logY: logY, figureBase: figureBase) { return out }
//
// Returns (markdown text, [(file name, SVG)]), or nil when no run carries the measurement (the caller's "pending" text).
import Foundation
import DeepNetEngine

public enum InstrumentFigures {
    public static func render(_ m: MeasurementKind, _ r: ExperimentResults, series: String, panels: String?, logY: Bool,
                              figureBase: String) -> (String, [(String, String)])? {
        if m == .scalingLawFit { return scalingLaw(r, axis: series, figureBase: figureBase) }
        let with = r.entries.filter { $0.record?.diagnostics[m.rawValue]?.isEmpty == false }
        if with.isEmpty { return nil }
        switch m {
        case .modelUpdate: return modelUpdate(r, series: series, panels: panels, logY: logY, base: figureBase)
        case .lnInputNorm: return lnInputs(r, series: series, panels: panels, logY: logY, base: figureBase)
        case .gradientNormPerLayer: return gradNorms(r, series: series, panels: panels, logY: logY, base: figureBase)
        case .lossLandscape2D: return landscapes(r, tag: "li", series: series, panels: panels, base: figureBase)
        case .trajectoryPCA: return trajectories(r, series: series, panels: panels, base: figureBase)
        default: return nil
        }
    }

    static func f(_ x: Double?, _ d: Int = 3) -> String { Verdicts.fmt(x, d) }

    /// Panel levels (sorted numerically when they look numeric) and the entries of each.
    static func panelGroups(_ r: ExperimentResults, _ panels: String?) -> [(String, [ResultEntry])] {
        guard let p = panels else { return [("", r.entries)] }
        let ls = r.levels(p).sorted { Verdicts.numericValue($0) < Verdicts.numericValue($1) }
        return ls.map { ($0, r.entries([p: $0])) }
    }

    static func name(_ e: ResultEntry, _ series: String, _ rec: RunRecord) -> String {
        (e.coordinates[series] ?? e.coordinates.shortLabel) + (rec.status == .diverged ? " (diverged)" : "")
    }

    static func positive(_ v: [Double]) -> Bool { v.contains { $0.isFinite && $0 > 0 } }

    // MARK: seeds

    /// The axis of training seeds. A figure whose series and panels are other axes draws, per line, the mean over
    /// the seeds (pointwise at the recorded steps) and says so; tables list every seed.
    public static let seedAxis = "seed"

    /// The seed levels pooled into each line (empty when there is no seed axis or it is the series or panel axis).
    static func pooledSeeds(_ r: ExperimentResults, series: String, panels: String?) -> [String] {
        guard r.axes.contains(seedAxis), series != seedAxis, panels != seedAxis else { return [] }
        let ls = r.levels(seedAxis)
        return ls.count > 1 ? ls : []
    }

    /// "Lines: mean over seeds 1, 2, 3 …" for the Markdown caption, or "".
    static func seedCaption(_ r: ExperimentResults, series: String, panels: String?) -> String {
        let seeds = pooledSeeds(r, series: series, panels: panels)
        if seeds.isEmpty { return "" }
        return "Lines: mean over the \(seeds.count) seeds (\(seedAxis) \(seeds.joined(separator: ", "))), pointwise at the steps every seed recorded; the table lists each seed.\n\n"
    }

    /// The entries of a panel as lines: one group per combination of the non-panel axes, seeds pooled when
    /// `pooledSeeds` is not empty. Group names are the series level (plus any other axis levels).
    static func lineGroups(_ r: ExperimentResults, _ es: [ResultEntry], series: String, panels: String?) -> [(name: String, entries: [ResultEntry])] {
        let pool = !pooledSeeds(r, series: series, panels: panels).isEmpty
        let drop = (panels.map { [$0] } ?? []) + (pool ? [seedAxis] : [])
        var order: [[String]] = [], groups: [[String]: [ResultEntry]] = [:]
        for e in es where e.record != nil {
            let key = zip(e.coordinates.axes, e.coordinates.labels).filter { !drop.contains($0.0) }.map(\.1)
            if groups[key] == nil { order.append(key); groups[key] = [] }
            groups[key]!.append(e)
        }
        let others = r.axes.filter { !drop.contains($0) && $0 != series }
        return order.map { key in
            let first = groups[key]!.first!
            let n = others.isEmpty ? (first.coordinates[series] ?? first.coordinates.shortLabel) : key.joined(separator: " / ")
            let div = groups[key]!.filter { $0.record?.status == .diverged }.count
            let tag = div == 0 ? "" : (groups[key]!.count == 1 ? " (diverged)" : " (\(div) of \(groups[key]!.count) diverged)")
            return (n + tag, groups[key]!)
        }
    }

    /// Pointwise mean of several (x, y) series at the x values all of them recorded with a finite y.
    public static func meanCurve(_ curves: [(x: [Double], y: [Double])]) -> (x: [Double], y: [Double]) {
        guard let first = curves.first else { return ([], []) }
        if curves.count == 1 { return first }
        let maps = curves.map { c in Dictionary(zip(c.x, c.y).filter { $0.1.isFinite }.map { ($0.0, $0.1) }, uniquingKeysWith: { a, _ in a }) }
        var xs: [Double] = [], ys: [Double] = []
        for x in first.x {
            let v = maps.compactMap { $0[x] }
            if v.count == maps.count { xs.append(x); ys.append(v.reduce(0, +) / Double(v.count)) }
        }
        return (xs, ys)
    }

    /// Whether every level of an axis reads as a positive number (depths, layers), so it can be an x axis.
    static func numericAxis(_ r: ExperimentResults, _ axis: String) -> Bool {
        let ls = r.levels(axis)
        return !ls.isEmpty && ls.allSatisfy { Verdicts.numericValue($0) > 0 }
    }

    // MARK: model update (Fig. 3a, Fig. 4, Fig. 9, Table XI)

    static func modelUpdate(_ r: ExperimentResults, series: String, panels: String?, logY: Bool, base: String) -> (String, [(String, String)]) {
        var figs: [(String, String)] = []
        var md = "**Model update** ‖ΔF‖ = mean over the probe batch's non-pad positions of ‖F(x, θᵢ) − F(x, θ₀)‖₂, F = final decoder hidden states (eval mode). "
            + "Theory: the Theorem 2/3 bound Σ √(v²+w²)/α·‖θᵢ − θ₀‖ (v, w = Xavier-relative RMS of v_proj/out_proj and fc1/fc2), an O(·) bound: compare shapes, not values.\n\n"
        md += seedCaption(r, series: series, panels: panels)
        md += "| run | peak ‖ΔF‖ | final ‖ΔF‖ | final bound | final ‖ΔF‖ / bound |\n|---|---|---|---|---|\n"
        let pooled = pooledSeeds(r, series: series, panels: panels)
        let seedTitle = pooled.isEmpty ? "" : " (mean of \(pooled.count) seeds)"
        for (pi, (pl, es)) in panelGroups(r, panels).enumerated() {
            var lines: [LineSeries] = [], boundLines: [LineSeries] = []
            for e in es {
                guard let rec = e.record else { continue }
                let u = InstrumentSummaries.modelUpdate(rec), b = InstrumentSummaries.bound(rec)
                guard !u.isEmpty else { continue }
                let fu = u.last(where: \.isFinite), fb = b.last(where: \.isFinite)
                md += "| \(e.coordinates.shortLabel) | \(f(InstrumentSummaries.peakModelUpdate(rec))) | \(f(fu)) | \(f(fb)) | \(f(fu.flatMap { x in fb.map { $0 > 0 ? x / $0 : .nan } })) |\n"
            }
            for (n, group) in lineGroups(r, es, series: series, panels: panels) {
                func curve(_ values: (RunRecord) -> [Double]) -> (x: [Double], y: [Double]) {
                    meanCurve(group.compactMap { e -> (x: [Double], y: [Double])? in
                        guard let rec = e.record else { return nil }
                        let st = InstrumentSummaries.steps(rec, .modelUpdate), v = values(rec)
                        let k = min(st.count, v.count)
                        return k == 0 ? nil : (Array(st.prefix(k)), Array(v.prefix(k)))
                    })
                }
                let u = curve(InstrumentSummaries.modelUpdate), b = curve(InstrumentSummaries.bound)
                // a log axis cannot show ‖ΔF‖ = 0 at step 0
                let keep = u.x.indices.filter { !logY || u.y[$0] > 0 }
                if !u.x.isEmpty {
                    lines.append(LineSeries(name: n, x: keep.map { u.x[$0] }, y: keep.map { u.y[$0] }, markers: keep.count < 15))
                }
                let kb = b.x.indices.filter { !logY || b.y[$0] > 0 }
                if !kb.isEmpty { boundLines.append(LineSeries(name: n + " bound", x: kb.map { b.x[$0] }, y: kb.map { b.y[$0] }, dashed: true)) }
            }
            if lines.isEmpty { continue }
            let title = "Model update ‖ΔF‖" + (pl.isEmpty ? "" : " — \(panels!) \(pl)") + seedTitle
            let ok = logY && lines.allSatisfy { positive($0.y) }
            figs.append(("\(base)-\(pi)-update.svg", LinePlot(title: title, xLabel: "step", yLabel: "‖ΔF‖", yScale: ok ? .log : .linear, series: lines).render()))
            if !boundLines.isEmpty {
                let okb = logY && boundLines.allSatisfy { positive($0.y) }
                figs.append(("\(base)-\(pi)-bound.svg", LinePlot(title: "Theorem 2/3 bound" + (pl.isEmpty ? "" : " — \(panels!) \(pl)") + seedTitle,
                                                                  xLabel: "step", yLabel: "Σ √(v²+w²)/α ‖Δθ‖",
                                                                  yScale: okb ? .log : .linear, series: boundLines).render()))
            }
        }
        // peak update vs depth (Fig. 4): depth is whichever of panels and series is numeric
        if let p = panels {
            let pair: (String, String)? = numericAxis(r, p) ? (p, series) : (numericAxis(r, series) ? (series, p) : nil)
            if let pair {
                let (xAxis, lineAxis) = pair
                var lines: [LineSeries] = []
                for s in r.levels(lineAxis) {
                    var pts: [(Double, Double)] = []
                    for d in r.levels(xAxis) {
                        let peaks = r.entries([lineAxis: s, xAxis: d]).compactMap { $0.record.flatMap(InstrumentSummaries.peakModelUpdate) }
                        // one run per point unless seeds are pooled (other axes: the first run, as before)
                        let use = pooled.isEmpty ? Array(peaks.prefix(1)) : peaks
                        if !use.isEmpty { pts.append((Verdicts.numericValue(d), use.reduce(0, +) / Double(use.count))) }
                    }
                    pts.sort { $0.0 < $1.0 }
                    if !pts.isEmpty { lines.append(LineSeries(name: s, x: pts.map(\.0), y: pts.map(\.1), markers: true)) }
                }
                if !lines.isEmpty {
                    figs.append(("\(base)-peak.svg", LinePlot(title: "Peak early-stage ‖ΔF‖ vs \(xAxis)" + seedTitle, xLabel: "\(xAxis) (total layers)", yLabel: "peak ‖ΔF‖",
                                                              xScale: .log, yScale: lines.allSatisfy { positive($0.y) } ? .log : .linear, series: lines).render()))
                }
            }
        }
        return (md + "\n", figs)
    }

    // MARK: a named diagnostic array (e.g. modelUpdate's delta_f_pre_ln)

    /// One recorded 1-D array of measurement `m` against its steps: one panel per level of `panels`, one line per
    /// level of `series` (seeds pooled as in the other figures). Says so, and draws nothing, when no run has it.
    public static func namedArray(_ m: MeasurementKind, array: String, _ r: ExperimentResults, series: String, panels: String?,
                                  logY: Bool, figureBase base: String) -> (String, [(String, String)]) {
        func values(_ rec: RunRecord) -> (x: [Double], y: [Double])? {
            // An array without a finite value (e.g. a probe that could not measure it) counts as not recorded.
            guard let a = rec.diagnostics[m.rawValue]?.first(where: { $0.name == array }), a.shape.count == 1,
                  a.values.contains(where: \.isFinite) else { return nil }
            let st = (rec.diagnostics[m.rawValue]?.first { $0.name == "steps" || $0.name == "step" })?.values
                ?? (0..<a.values.count).map(Double.init)
            let k = min(st.count, a.values.count)
            return (Array(st.prefix(k)), Array(a.values.prefix(k)))
        }
        let with = r.entries.filter { $0.record.flatMap(values) != nil }
        if with.isEmpty {
            return ("*\(m.rawValue) / \(array)*: not drawn — no run recorded a one-dimensional array `\(array)` under `\(m.rawValue)`.\n\n", [])
        }
        var md = "**\(m.rawValue) / `\(array)`** against the recorded steps.\n\n" + seedCaption(r, series: series, panels: panels)
        md += "| run | peak | final |\n|---|---|---|\n"
        for e in r.entries {
            guard let v = e.record.flatMap(values) else { continue }
            md += "| \(e.coordinates.shortLabel) | \(f(v.y.filter(\.isFinite).max())) | \(f(v.y.last(where: \.isFinite))) |\n"
        }
        let pooled = pooledSeeds(r, series: series, panels: panels)
        var figs: [(String, String)] = []
        for (pi, (pl, es)) in panelGroups(r, panels).enumerated() {
            var lines: [LineSeries] = []
            for (n, group) in lineGroups(r, es, series: series, panels: panels) {
                let c = meanCurve(group.compactMap { $0.record.flatMap(values) })
                let keep = c.x.indices.filter { !logY || c.y[$0] > 0 }
                if !keep.isEmpty { lines.append(LineSeries(name: n, x: keep.map { c.x[$0] }, y: keep.map { c.y[$0] }, markers: keep.count < 15)) }
            }
            if lines.isEmpty { continue }
            let title = "\(array)" + (pl.isEmpty ? "" : " — \(panels!) \(pl)") + (pooled.isEmpty ? "" : " (mean of \(pooled.count) seeds)")
            let ok = logY && lines.allSatisfy { positive($0.y) }
            figs.append(("\(base)-\(pi).svg", LinePlot(title: title, xLabel: "step", yLabel: array, yScale: ok ? .log : .linear, series: lines).render()))
        }
        return (md + "\n", figs)
    }

    // MARK: LN inputs (Fig. 3b, 3c)

    static func lnInputs(_ r: ExperimentResults, series: String, panels: String?, logY: Bool, base: String) -> (String, [(String, String)]) {
        var figs: [(String, String)] = []
        let dim = r.finished.first?.record?.config.model.embedDim ?? 0
        var md = "**LayerNorm inputs**: mean over the probe batch's non-pad positions of ‖x‖₂ at each LayerNorm's input, averaged over the stack's LayerNorms (eval mode); dashed: √d = \(f(Double(dim).squareRoot(), 2)).\n\n"
        md += seedCaption(r, series: series, panels: panels)
        md += "| run | encoder peak | decoder peak | decoder final |\n|---|---|---|---|\n"
        let pooled = pooledSeeds(r, series: series, panels: panels)
        for (pi, (pl, es)) in panelGroups(r, panels).enumerated() {
            for stack in ["encoder", "decoder"] {
                var lines: [LineSeries] = []
                var xmax = 0.0
                for (n, group) in lineGroups(r, es, series: series, panels: panels) {
                    let c = meanCurve(group.compactMap { e -> (x: [Double], y: [Double])? in
                        guard let rec = e.record else { return nil }
                        let st = InstrumentSummaries.steps(rec, .lnInputNorm), y = InstrumentSummaries.lnMean(rec, stack: stack)
                        let k = min(st.count, y.count)
                        return k == 0 ? nil : (Array(st.prefix(k)), Array(y.prefix(k)))
                    })
                    guard !c.y.isEmpty else { continue }
                    xmax = max(xmax, c.x.last ?? 0)
                    lines.append(LineSeries(name: n, x: c.x, y: c.y, markers: c.y.count < 15))
                }
                if lines.isEmpty { continue }
                lines.append(LineSeries(name: "√d", x: [0, max(xmax, 1)], y: [Double(dim).squareRoot(), Double(dim).squareRoot()], dashed: true))
                let title = "Average LN input ‖x‖₂, \(stack)" + (pl.isEmpty ? "" : " — \(panels!) \(pl)") + (pooled.isEmpty ? "" : " (mean of \(pooled.count) seeds)")
                figs.append(("\(base)-\(pi)-\(stack).svg", LinePlot(title: title, xLabel: "step", yLabel: "mean ‖x‖₂",
                                                                    yScale: logY ? .log : .linear, series: lines).render()))
            }
            for e in es {
                guard let rec = e.record else { continue }
                let en = InstrumentSummaries.lnMean(rec, stack: "encoder"), de = InstrumentSummaries.lnMean(rec, stack: "decoder")
                md += "| \(e.coordinates.shortLabel) | \(f(en.filter(\.isFinite).max())) | \(f(de.filter(\.isFinite).max())) | \(f(de.last)) |\n"
            }
        }
        return (md + "\n", figs)
    }

    // MARK: gradient norms (Fig. 2a/b, Fig. 3d)

    static func gradNorms(_ r: ExperimentResults, series: String, panels: String?, logY: Bool, base: String) -> (String, [(String, String)]) {
        var figs: [(String, String)] = []
        let md = "**Gradient norms per layer**: ‖∂L/∂θ‖₂ over all tensors of a layer, from the training step's gradients, averaged over the recorded steps after step 0 (per-sublayer norms are stored too).\n\n"
            + seedCaption(r, series: series, panels: panels).replacingOccurrences(of: "pointwise at the steps every seed recorded; the table lists each seed", with: "layer by layer")
        let pooled = pooledSeeds(r, series: series, panels: panels)
        for (pi, (pl, es)) in panelGroups(r, panels).enumerated() {
            for stack in ["decoder", "encoder"] {
                var lines: [LineSeries] = []
                for (n, group) in lineGroups(r, es, series: series, panels: panels) {
                    let c = meanCurve(group.compactMap { e -> (x: [Double], y: [Double])? in
                        guard let g = e.record.map({ InstrumentSummaries.meanLayerGradNorms($0, stack: stack) }), !g.isEmpty else { return nil }
                        return ((1...g.count).map(Double.init), g)
                    })
                    guard !c.y.isEmpty else { continue }
                    lines.append(LineSeries(name: n, x: c.x, y: c.y, markers: c.y.count < 30))
                }
                if lines.isEmpty { continue }
                let ok = logY && lines.allSatisfy { positive($0.y) }
                let title = "Gradient norm per \(stack) layer" + (pl.isEmpty ? "" : " — \(panels!) \(pl)") + (pooled.isEmpty ? "" : " (mean of \(pooled.count) seeds)")
                figs.append(("\(base)-\(pi)-\(stack).svg", LinePlot(title: title, xLabel: "\(stack) layer", yLabel: "‖∇‖₂",
                                                                    yScale: ok ? .log : .linear, series: lines).render()))
            }
        }
        if let p = panels {   // Fig. 2(b): last decoder layer vs depth
            var lines: [LineSeries] = []
            for s in r.levels(series) {
                var pts: [(Double, Double)] = []
                for d in r.levels(p) {
                    let vs = r.entries([series: s, p: d]).compactMap { e in e.record.flatMap { InstrumentSummaries.meanLayerGradNorms($0, stack: "decoder").last } }
                        .filter(\.isFinite)
                    // the first run, or the mean of the seeds when they are pooled
                    let use = pooled.isEmpty ? Array(vs.prefix(1)) : vs
                    if !use.isEmpty { pts.append((Verdicts.numericValue(d), use.reduce(0, +) / Double(use.count))) }
                }
                pts.sort { $0.0 < $1.0 }
                if !pts.isEmpty { lines.append(LineSeries(name: s, x: pts.map(\.0), y: pts.map(\.1), markers: true)) }
            }
            if !lines.isEmpty {
                figs.append(("\(base)-last.svg", LinePlot(title: "Gradient norm of the last decoder layer vs \(p)", xLabel: "\(p) (total layers)",
                                                          yLabel: "‖∇‖₂", yScale: logY && lines.allSatisfy { positive($0.y) } ? .log : .linear,
                                                          series: lines).render()))
            }
        }
        return (md, figs)
    }

    // MARK: landscapes (Fig. 1, Fig. 5)

    /// Contour of a surface; values[i][j] = L(x_i, y_j) is transposed to the plot's grid[row = y][col = x].
    public static func contour(_ s: LossSurface, title: String) -> String {
        guard let ya = s.yAxis else {
            return LinePlot(title: title, xLabel: s.xLabel, yLabel: "loss", series: [LineSeries(name: "loss", x: s.xAxis.values, y: s.curve)]).render()
        }
        let nx = s.xAxis.count, ny = ya.count
        let grid = (0..<ny).map { j in (0..<nx).map { i in s.values[i][j] } }
        // contour levels: evenly spaced between the minimum and a cap at min + 3·(median − min) so that a few
        // exploding points do not flatten the picture
        let vals = grid.flatMap { $0 }.filter(\.isFinite).sorted()
        var levels: [Double]? = nil
        if let lo = vals.first, vals.count > 2 {
            let med = vals[vals.count / 2], hi = min(vals.last!, lo + 3 * max(med - lo, 1e-9))
            levels = (1...12).map { lo + (hi - lo) * Double($0) / 13 }
        }
        let path = s.trajectory.map { ($0[0], $0.count > 1 ? $0[1] : 0) }
        return ContourPlot(title: title, xLabel: s.xLabel, yLabel: s.yLabel, grid: grid, xRange: (s.xAxis.lower, s.xAxis.upper),
                           yRange: (ya.lower, ya.upper), levels: levels, path: path).render()
    }

    /// The surface drawn as one panel of a side-by-side figure (nil for a 1-D curve).
    static func panel(_ s: LossSurface, title: String) -> SurfacePanel? {
        guard let ya = s.yAxis else { return nil }
        let nx = s.xAxis.count, ny = ya.count
        let grid = (0..<ny).map { j in (0..<nx).map { i in s.values[i][j] } }
        return SurfacePanel(title: title, xLabel: s.xLabel, yLabel: s.yLabel, grid: grid, xRange: (s.xAxis.lower, s.xAxis.upper),
                            yRange: (ya.lower, ya.upper), path: s.trajectory.map { ($0[0], $0.count > 1 ? $0[1] : 0) })
    }

    /// Axes other than series and panels (e.g. the direction seed "directions", a training "seed"): a figure shows
    /// their first level; (axis, first level, number of levels) of those with several levels.
    static func fixedAxes(_ r: ExperimentResults, series: String, panels: String?) -> [(String, String, Int)] {
        r.axes.filter { $0 != series && $0 != panels }.compactMap { a -> (String, String, Int)? in
            let ls = r.levels(a)
            return ls.count > 1 ? (a, ls[0], ls.count) : nil
        }
    }

    /// One SVG per panel level with the series levels side by side at one colour scale (Fig. 1, Fig. 5); 1-D
    /// surfaces fall back to one curve per run.
    static func sideBySide(_ r: ExperimentResults, tag: String, series: String, panels: String?, base: String, what: String,
                           title: (ResultEntry, LossSurface) -> String) -> (String, [(String, String)]) {
        var figs: [(String, String)] = []
        let fixed = fixedAxes(r, series: series, panels: panels)
        var k = 0
        for (pi, (pl, es)) in panelGroups(r, panels).enumerated() {
            let shown = es.filter { e in fixed.allSatisfy { e.coordinates[$0.0] == $0.1 } }
            var ps: [SurfacePanel] = []
            for e in shown {
                guard let rec = e.record, let s = InstrumentSummaries.surface(rec, tag: tag) else { continue }
                if let p = panel(s, title: title(e, s)) { ps.append(p) } else {
                    figs.append(("\(base)-\(pi)-\(k).svg", contour(s, title: "\(e.coordinates.shortLabel) — \(title(e, s))")))
                    k += 1
                }
            }
            if ps.isEmpty { continue }
            let head = "\(what)" + (pl.isEmpty ? "" : " — \(panels!) \(pl)") + fixed.map { " — \($0.0) \($0.1)" }.joined()
            figs.append(("\(base)-\(pi).svg", SurfacePanels(title: head + " (one colour scale)", panels: ps).render()))
        }
        var md = ""
        if !figs.isEmpty {
            md += "Figures: the \(series) levels side by side, one colour scale per figure (shared minimum and maximum; values above the top of the bar are drawn in its top colour), same iso-lines.\n\n"
        }
        if !fixed.isEmpty {
            md += "Drawn: " + fixed.map { "\($0.0) \($0.1) (first of \($0.2))" }.joined(separator: ", ") + "; the other levels are in the table"
            let others = r.entries.filter { e in e.record != nil && !fixed.allSatisfy { e.coordinates[$0.0] == $0.1 } }
            let rough = others.compactMap { e -> String? in
                guard let s = e.record.flatMap({ InstrumentSummaries.surface($0, tag: tag) }) else { return nil }
                return "\(e.coordinates.shortLabel) \(f(s.roughness.roughness, 4))"
            }
            md += rough.isEmpty ? ".\n\n" : " (roughness: " + rough.joined(separator: "; ") + ").\n\n"
        }
        return (md, figs)
    }

    static func landscapes(_ r: ExperimentResults, tag: String, series: String, panels: String?, base: String) -> (String, [(String, String)]) {
        var md = "**Loss surfaces** (Li et al. 2018): θ* + a·δ + b·η with two filter-normalized Gaussian directions (per output row, 1-D tensors zeroed, seeded), plain cross-entropy on fixed training batches in eval mode. "
            + "Roughness: \(SurfaceRoughness.definition).\n\n| run | roughness | mean abs Δ² | loss min | loss max | seed |\n|---|---|---|---|---|---|\n"
        for (_, es) in panelGroups(r, panels) {
            for e in es {
                guard let rec = e.record, let s = InstrumentSummaries.surface(rec, tag: tag) else { continue }
                md += "| \(e.coordinates.shortLabel) | \(f(s.roughness.roughness, 4)) | \(f(s.roughness.meanAbsSecondDifference, 4)) | \(f(s.roughness.minLoss)) | \(f(s.roughness.maxLoss)) | \(s.directionSeed.map(String.init) ?? "—") |\n"
            }
        }
        md += "\n"
        let side = sideBySide(r, tag: tag, series: series, panels: panels, base: base, what: "Loss surface") { e, s in
            "\(e.coordinates[series] ?? e.coordinates.shortLabel) — roughness \(f(s.roughness.roughness, 4))"
        }
        md += side.0
        var figs = side.1
        if let p = panels {
            let fixed = fixedAxes(r, series: series, panels: panels)
            var lines: [LineSeries] = []
            for sv in r.levels(series) {
                var pts: [(Double, Double)] = []
                for d in r.levels(p) {
                    var sel = [series: sv, p: d]
                    for (a, l, _) in fixed { sel[a] = l }
                    if let rec = r.record(sel), let v = InstrumentSummaries.surface(rec, tag: tag)?.roughness.roughness { pts.append((Verdicts.numericValue(d), v)) }
                }
                pts.sort { $0.0 < $1.0 }
                if !pts.isEmpty { lines.append(LineSeries(name: sv, x: pts.map(\.0), y: pts.map(\.1), markers: true)) }
            }
            if !lines.isEmpty {
                figs.append(("\(base)-roughness.svg", LinePlot(title: "Surface roughness vs \(p)", xLabel: "\(p) (total layers)", yLabel: "roughness", series: lines).render()))
            }
        }
        return (md, figs)
    }

    static func trajectories(_ r: ExperimentResults, series: String, panels: String?, base: String) -> (String, [(String, String)]) {
        var md = "**Optimization trajectory** (Li et al. 2018 §2): PCA of θᵢ − θ_final over the saved steps (1-D tensors ignored), coordinates ⟨θᵢ − θ_final, pc⟩; the loss surface is drawn on the same plane around θ_final.\n\n"
            + "| run | PC1 / PC2 explained | path length | share of path in 2nd half | final loss |\n|---|---|---|---|---|\n"
        for (_, es) in panelGroups(r, panels) {
            for e in es {
                guard let rec = e.record, let ts = InstrumentSummaries.trajectoryStats(rec) else { continue }
                let ev = ts.explainedVariance.map { f($0 * 100, 1) + " %" }.joined(separator: " / ")
                md += "| \(e.coordinates.shortLabel) | \(ev) | \(f(ts.pathLength)) | \(f(ts.lateShare * 100, 1)) % | \(f(ts.finalLoss)) |\n"
            }
        }
        md += "\n"
        let side = sideBySide(r, tag: "pca", series: series, panels: panels, base: base, what: "Trajectory on the PCA plane") { e, _ in
            "\(e.coordinates[series] ?? e.coordinates.shortLabel)"
        }
        return (md + side.0, side.1)
    }

    // MARK: scaling law (Fig. 8)

    /// Reference points drawn beside ours (e.g. the paper's), and a fit over another set of points to quote.
    public struct ScalingReference: Sendable {
        public var name: String
        public var depths: [Double], values: [Double]
        /// What the quoted fit is over, and its points.
        public var fitDescription: String
        public var fitDepths: [Double], fitValues: [Double]
        public init(name: String, depths: [Double], values: [Double], fitDescription: String, fitDepths: [Double], fitValues: [Double]) {
            self.name = name; self.depths = depths; self.values = values
            self.fitDescription = fitDescription; self.fitDepths = fitDepths; self.fitValues = fitValues
        }
    }

    /// Pointwise 95 % (or `fit.confidence`) t band of the fitted mean at depth d:
    /// ŷ(d) ± t_{n−2}·√(s²/n + (ln d − x̄)²·SE(A)²), x̄ = mean ln depth of the fitted points (nil when n ≤ 2).
    public static func confidenceBand(_ fit: ScalingLawFit, fittedDepths: [Double], at depths: [Double]) -> (lower: [Double], upper: [Double])? {
        guard fit.n > 2, fit.residualStandardDeviation.isFinite, fit.standardErrorA.isFinite, !fittedDepths.isEmpty else { return nil }
        let lb = Foundation.log(fit.logBase)
        let xbar = fittedDepths.map { Foundation.log($0) / lb }.reduce(0, +) / Double(fittedDepths.count)
        let t = ScalingLaw.studentTQuantile(p: 0.5 + fit.confidence / 2, df: fit.n - 2)
        let s2 = fit.residualStandardDeviation * fit.residualStandardDeviation
        var lo: [Double] = [], hi: [Double] = []
        for d in depths {
            let x = Foundation.log(d) / lb, y = fit.predict(depth: d)
            let half = t * (s2 / Double(fit.n) + (x - xbar) * (x - xbar) * fit.standardErrorA * fit.standardErrorA).squareRoot()
            lo.append(y - half); hi.append(y + half)
        }
        return (lo, hi)
    }

    /// Fig. 8: every converged run as a point (each seed individually) on a log depth axis, the fit of
    /// metric = A·ln d + B over the per-depth means of the seeds, and its 95 % t band shaded.
    public static func scalingLaw(_ r: ExperimentResults, axis: String, metric: Metric = .bleu, figureBase: String,
                                  reference: ScalingReference? = nil) -> (String, [(String, String)])? {
        let pts = InstrumentVerdicts.scalingPoints(r, axis: axis, metric: metric)
        // seed means per depth (in depth order)
        var depths: [Double] = [], sums: [Double: (Double, Int)] = [:]
        for (d, v) in pts { if sums[d] == nil { depths.append(d) }; let c = sums[d] ?? (0, 0); sums[d] = (c.0 + v, c.1 + 1) }
        let means = depths.map { (d: $0, v: sums[$0]!.0 / Double(sums[$0]!.1), n: sums[$0]!.1) }
        let seeded = means.contains { $0.n > 1 }
        var lines: [LineSeries] = []
        var bands: [Band] = []
        var md = "**Scaling law** \(metric.title) = A·ln(d) + B (least squares in ln d\(seeded ? " over the mean of the seeds at each depth" : ""); standard errors; 95 % t and seeded bootstrap intervals of A). "
            + "Shaded: the 95 % pointwise t confidence band of the fitted line.\n\n"
        if !pts.isEmpty {
            // several seeds per depth: points only (a line through them would zigzag between seeds)
            lines.append(LineSeries(name: seeded ? "ours (each seed)" : "ours", x: pts.map(\.0), y: pts.map(\.1), markers: true, connect: !seeded))
        }
        if let ref = reference { lines.append(LineSeries(name: ref.name, x: ref.depths, y: ref.values, markers: true, dashed: true)) }
        if means.count >= 3, let fit = try? ScalingLaw.fit(depths: means.map(\.d), values: means.map(\.v)) {
            let lo = means.first!.d, hi = means.last!.d
            let xs = (0...40).map { lo * pow(hi / lo, Double($0) / 40) }
            if seeded { lines.append(LineSeries(name: "seed mean", x: means.map(\.d), y: means.map(\.v), markers: true, dashed: true)) }
            lines.append(LineSeries(name: "fit A·ln d + B", x: xs, y: xs.map { fit.predict(depth: $0) }))
            if let b = confidenceBand(fit, fittedDepths: means.map(\.d), at: xs) {
                bands.append(Band(x: xs, lower: b.lower, upper: b.upper, color: SVG.palette[(lines.count - 1) % SVG.palette.count]))
            }
            md += "- ours: " + fit.formula(metric: metric.title) + "; A: t CI [\(f(fit.tIntervalA[0])), \(f(fit.tIntervalA[1]))], bootstrap CI [\(f(fit.bootstrapIntervalA.first)), \(f(fit.bootstrapIntervalA.last))] (\(fit.bootstrapSamples) resamples, seed \(fit.bootstrapSeed))"
            md += seeded ? "; points: " + means.map { "\(SVG.tickLabel($0.d)) layers \(f($0.v, 2)) (\($0.n) seed\($0.n == 1 ? "" : "s"))" }.joined(separator: ", ") + "\n" : "\n"
        } else {
            md += "- ours: fewer than three converged depths, no fit.\n"
        }
        if let ref = reference, let pf = try? ScalingLaw.fit(depths: ref.fitDepths, values: ref.fitValues, bootstrapSamples: 0) {
            md += "- \(ref.fitDescription): " + pf.formula(metric: "BLEU") + "\n"
        }
        return (md + "\n", [("\(figureBase).svg", LinePlot(title: "\(metric.title) vs depth (log scale)", xLabel: "layers", yLabel: metric.title,
                                                            xScale: .log, series: lines, bands: bands).render())])
    }
}
