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

    // MARK: model update (Fig. 3a, Fig. 4, Fig. 9, Table XI)

    static func modelUpdate(_ r: ExperimentResults, series: String, panels: String?, logY: Bool, base: String) -> (String, [(String, String)]) {
        var figs: [(String, String)] = []
        var md = "**Model update** ‖ΔF‖ = mean over the probe batch's non-pad positions of ‖F(x, θᵢ) − F(x, θ₀)‖₂, F = final decoder hidden states (eval mode). "
            + "Theory: the Theorem 2/3 bound Σ √(v²+w²)/α·‖θᵢ − θ₀‖ (v, w = Xavier-relative RMS of v_proj/out_proj and fc1/fc2), an O(·) bound: compare shapes, not values.\n\n"
        md += "| run | peak ‖ΔF‖ | final ‖ΔF‖ | final bound | final ‖ΔF‖ / bound |\n|---|---|---|---|---|\n"
        for (pi, (pl, es)) in panelGroups(r, panels).enumerated() {
            var lines: [LineSeries] = [], boundLines: [LineSeries] = []
            for e in es {
                guard let rec = e.record else { continue }
                let st = InstrumentSummaries.steps(rec, .modelUpdate), u = InstrumentSummaries.modelUpdate(rec), b = InstrumentSummaries.bound(rec)
                guard !u.isEmpty else { continue }
                // a log axis cannot show ‖ΔF‖ = 0 at step 0
                let keep = (0..<min(st.count, u.count)).filter { !logY || u[$0] > 0 }
                lines.append(LineSeries(name: name(e, series, rec), x: keep.map { st[$0] }, y: keep.map { u[$0] }, markers: keep.count < 15))
                if !b.isEmpty {
                    let kb = (0..<min(st.count, b.count)).filter { !logY || b[$0] > 0 }
                    boundLines.append(LineSeries(name: name(e, series, rec) + " bound", x: kb.map { st[$0] }, y: kb.map { b[$0] }, dashed: true))
                }
                let fu = u.last(where: \.isFinite), fb = b.last(where: \.isFinite)
                md += "| \(e.coordinates.shortLabel) | \(f(InstrumentSummaries.peakModelUpdate(rec))) | \(f(fu)) | \(f(fb)) | \(f(fu.flatMap { x in fb.map { $0 > 0 ? x / $0 : .nan } })) |\n"
            }
            let title = "Model update ‖ΔF‖" + (pl.isEmpty ? "" : " — \(panels!) \(pl)")
            let ok = logY && lines.allSatisfy { positive($0.y) }
            figs.append(("\(base)-\(pi)-update.svg", LinePlot(title: title, xLabel: "step", yLabel: "‖ΔF‖", yScale: ok ? .log : .linear, series: lines).render()))
            if !boundLines.isEmpty {
                let okb = logY && boundLines.allSatisfy { positive($0.y) }
                figs.append(("\(base)-\(pi)-bound.svg", LinePlot(title: "Theorem 2/3 bound" + (pl.isEmpty ? "" : " — \(panels!) \(pl)"),
                                                                  xLabel: "step", yLabel: "Σ √(v²+w²)/α ‖Δθ‖",
                                                                  yScale: okb ? .log : .linear, series: boundLines).render()))
            }
        }
        // peak update vs depth (Fig. 4)
        if let p = panels {
            let xs = r.levels(p)
            var lines: [LineSeries] = []
            for s in r.levels(series) {
                var pts: [(Double, Double)] = []
                for d in xs { if let rec = r.record([series: s, p: d]), let v = InstrumentSummaries.peakModelUpdate(rec) { pts.append((Verdicts.numericValue(d), v)) } }
                pts.sort { $0.0 < $1.0 }
                if !pts.isEmpty { lines.append(LineSeries(name: s, x: pts.map(\.0), y: pts.map(\.1), markers: true)) }
            }
            if !lines.isEmpty {
                figs.append(("\(base)-peak.svg", LinePlot(title: "Peak early-stage ‖ΔF‖ vs \(p)", xLabel: "\(p) (total layers)", yLabel: "peak ‖ΔF‖",
                                                          xScale: .log, yScale: lines.allSatisfy { positive($0.y) } ? .log : .linear, series: lines).render()))
            }
        }
        return (md + "\n", figs)
    }

    // MARK: LN inputs (Fig. 3b, 3c)

    static func lnInputs(_ r: ExperimentResults, series: String, panels: String?, logY: Bool, base: String) -> (String, [(String, String)]) {
        var figs: [(String, String)] = []
        let dim = r.finished.first?.record?.config.model.embedDim ?? 0
        var md = "**LayerNorm inputs**: mean over the probe batch's non-pad positions of ‖x‖₂ at each LayerNorm's input, averaged over the stack's LayerNorms (eval mode); dashed: √d = \(f(Double(dim).squareRoot(), 2)).\n\n"
        md += "| run | encoder peak | decoder peak | decoder final |\n|---|---|---|---|\n"
        for (pi, (pl, es)) in panelGroups(r, panels).enumerated() {
            for stack in ["encoder", "decoder"] {
                var lines: [LineSeries] = []
                var xmax = 0.0
                for e in es {
                    guard let rec = e.record else { continue }
                    let st = InstrumentSummaries.steps(rec, .lnInputNorm), y = InstrumentSummaries.lnMean(rec, stack: stack)
                    guard !y.isEmpty else { continue }
                    xmax = max(xmax, st.last ?? 0)
                    lines.append(LineSeries(name: name(e, series, rec), x: Array(st.prefix(y.count)), y: y, markers: y.count < 15))
                }
                if lines.isEmpty { continue }
                lines.append(LineSeries(name: "√d", x: [0, max(xmax, 1)], y: [Double(dim).squareRoot(), Double(dim).squareRoot()], dashed: true))
                let title = "Average LN input ‖x‖₂, \(stack)" + (pl.isEmpty ? "" : " — \(panels!) \(pl)")
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
        for (pi, (pl, es)) in panelGroups(r, panels).enumerated() {
            for stack in ["decoder", "encoder"] {
                var lines: [LineSeries] = []
                for e in es {
                    guard let rec = e.record else { continue }
                    let g = InstrumentSummaries.meanLayerGradNorms(rec, stack: stack)
                    guard !g.isEmpty else { continue }
                    lines.append(LineSeries(name: name(e, series, rec), x: (1...g.count).map(Double.init), y: g, markers: g.count < 30))
                }
                if lines.isEmpty { continue }
                let ok = logY && lines.allSatisfy { positive($0.y) }
                let title = "Gradient norm per \(stack) layer" + (pl.isEmpty ? "" : " — \(panels!) \(pl)")
                figs.append(("\(base)-\(pi)-\(stack).svg", LinePlot(title: title, xLabel: "\(stack) layer", yLabel: "‖∇‖₂",
                                                                    yScale: ok ? .log : .linear, series: lines).render()))
            }
        }
        if let p = panels {   // Fig. 2(b): last decoder layer vs depth
            var lines: [LineSeries] = []
            for s in r.levels(series) {
                var pts: [(Double, Double)] = []
                for d in r.levels(p) {
                    if let rec = r.record([series: s, p: d]), let v = InstrumentSummaries.meanLayerGradNorms(rec, stack: "decoder").last, v.isFinite {
                        pts.append((Verdicts.numericValue(d), v))
                    }
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

    static func landscapes(_ r: ExperimentResults, tag: String, series: String, panels: String?, base: String) -> (String, [(String, String)]) {
        var figs: [(String, String)] = []
        var md = "**Loss surfaces** (Li et al. 2018): θ* + a·δ + b·η with two filter-normalized Gaussian directions (per output row, 1-D tensors zeroed, seeded), plain cross-entropy on fixed training batches in eval mode. "
            + "Roughness: \(SurfaceRoughness.definition).\n\n| run | roughness | mean abs Δ² | loss min | loss max | seed |\n|---|---|---|---|---|---|\n"
        var k = 0
        for (_, es) in panelGroups(r, panels) {
            for e in es {
                guard let rec = e.record, let s = InstrumentSummaries.surface(rec, tag: tag) else { continue }
                md += "| \(e.coordinates.shortLabel) | \(f(s.roughness.roughness, 4)) | \(f(s.roughness.meanAbsSecondDifference, 4)) | \(f(s.roughness.minLoss)) | \(f(s.roughness.maxLoss)) | \(s.directionSeed.map(String.init) ?? "—") |\n"
                figs.append(("\(base)-\(k).svg", contour(s, title: "\(e.coordinates.shortLabel) — roughness \(f(s.roughness.roughness, 4))")))
                k += 1
            }
        }
        if let p = panels {
            var lines: [LineSeries] = []
            for sv in r.levels(series) {
                var pts: [(Double, Double)] = []
                for d in r.levels(p) {
                    if let rec = r.record([series: sv, p: d]), let v = InstrumentSummaries.surface(rec, tag: tag)?.roughness.roughness { pts.append((Verdicts.numericValue(d), v)) }
                }
                pts.sort { $0.0 < $1.0 }
                if !pts.isEmpty { lines.append(LineSeries(name: sv, x: pts.map(\.0), y: pts.map(\.1), markers: true)) }
            }
            if !lines.isEmpty {
                figs.append(("\(base)-roughness.svg", LinePlot(title: "Surface roughness vs \(p)", xLabel: "\(p) (total layers)", yLabel: "roughness", series: lines).render()))
            }
        }
        return (md + "\n", figs)
    }

    static func trajectories(_ r: ExperimentResults, series: String, panels: String?, base: String) -> (String, [(String, String)]) {
        var figs: [(String, String)] = []
        var md = "**Optimization trajectory** (Li et al. 2018 §2): PCA of θᵢ − θ_final over the saved steps (1-D tensors ignored), coordinates ⟨θᵢ − θ_final, pc⟩; the loss surface is drawn on the same plane around θ_final.\n\n"
            + "| run | PC1 / PC2 explained | path length | share of path in 2nd half | final loss |\n|---|---|---|---|---|\n"
        var k = 0
        for (_, es) in panelGroups(r, panels) {
            for e in es {
                guard let rec = e.record, let ts = InstrumentSummaries.trajectoryStats(rec) else { continue }
                let ev = ts.explainedVariance.map { f($0 * 100, 1) + " %" }.joined(separator: " / ")
                md += "| \(e.coordinates.shortLabel) | \(ev) | \(f(ts.pathLength)) | \(f(ts.lateShare * 100, 1)) % | \(f(ts.finalLoss)) |\n"
                if let s = InstrumentSummaries.surface(rec, tag: "pca") {
                    figs.append(("\(base)-\(k).svg", contour(s, title: "\(e.coordinates.shortLabel) — trajectory")))
                    k += 1
                }
            }
        }
        return (md + "\n", figs)
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

    public static func scalingLaw(_ r: ExperimentResults, axis: String, metric: Metric = .bleu, figureBase: String,
                                  reference: ScalingReference? = nil) -> (String, [(String, String)])? {
        let pts = InstrumentVerdicts.scalingPoints(r, axis: axis, metric: metric)
        var lines: [LineSeries] = []
        var md = "**Scaling law** \(metric.title) = A·ln(d) + B (least squares in ln d; standard errors; 95 % t and seeded bootstrap intervals).\n\n"
        if !pts.isEmpty { lines.append(LineSeries(name: "ours", x: pts.map(\.0), y: pts.map(\.1), markers: true)) }
        if let ref = reference { lines.append(LineSeries(name: ref.name, x: ref.depths, y: ref.values, markers: true, dashed: true)) }
        if pts.count >= 3, let fit = try? ScalingLaw.fit(depths: pts.map(\.0), values: pts.map(\.1)) {
            let lo = pts.first!.0, hi = pts.last!.0
            let xs = (0...20).map { lo * pow(hi / lo, Double($0) / 20) }
            lines.append(LineSeries(name: "fit", x: xs, y: xs.map { fit.predict(depth: $0) }, dashed: true))
            md += "- ours: " + fit.formula(metric: metric.title) + "; A: t CI [\(f(fit.tIntervalA[0])), \(f(fit.tIntervalA[1]))], bootstrap CI [\(f(fit.bootstrapIntervalA.first)), \(f(fit.bootstrapIntervalA.last))] (\(fit.bootstrapSamples) resamples, seed \(fit.bootstrapSeed))\n"
        } else {
            md += "- ours: fewer than three converged depths, no fit.\n"
        }
        if let ref = reference, let pf = try? ScalingLaw.fit(depths: ref.fitDepths, values: ref.fitValues, bootstrapSamples: 0) {
            md += "- \(ref.fitDescription): " + pf.formula(metric: "BLEU") + "\n"
        }
        return (md + "\n", [("\(figureBase).svg", LinePlot(title: "\(metric.title) vs depth (log scale)", xLabel: "layers", yLabel: metric.title,
                                                            xScale: .log, series: lines).render())])
    }
}
