// Renders reports/<id>.md (+ SVG figures) from results only. Deterministic: same results → same bytes.
import Foundation

public struct RenderedReport: Sendable {
    public var id: String
    public var markdown: String
    /// (file name inside the figures folder, SVG text)
    public var figures: [(String, String)]
    public var verdicts: [ClaimVerdict]
}

public enum ReportRenderer {
    public static func overallStatus(_ vs: [ClaimVerdict]) -> String {
        if vs.isEmpty || vs.allSatisfy({ $0.status == .notRun }) { return "not run" }
        if vs.allSatisfy({ $0.status == .reproduced }) { return "reproduced" }
        if vs.contains(where: { $0.status == .notReproduced }) {
            return vs.contains(where: { $0.status == .reproduced }) ? "partly reproduced" : "not reproduced"
        }
        if vs.contains(where: { $0.status == .inconclusive }) {
            return vs.contains(where: { $0.status == .reproduced }) ? "partly reproduced" : "inconclusive"
        }
        return "partly run"
    }

    static func cellText(_ e: ResultEntry?, _ m: Metric) -> String {
        guard let e = e else { return "" }
        guard let r = e.record else { return e.problem != nil ? "unusable" : "not run" }
        switch r.status {
        case .diverged: return "diverged at step \(r.divergedAtStep ?? 0)"
        case .failed: return "failed"
        case .ok: return fmtMetric(r.value(m), m)
        }
    }

    static func fmtMetric(_ x: Double?, _ m: Metric) -> String {
        guard let x = x else { return "n/a" }
        switch m {
        case .bleu: return String(format: "%.1f", x)
        case .divergedAt: return String(format: "%.0f", x)
        case .perplexity: return x < 1000 ? String(format: "%.2f", x) : String(format: "%.3g", x)
        default: return String(format: "%.3f", x)
        }
    }

    /// The paper's cell for a run (experiment's `paperCell`, or the first paper table by paper keys).
    static func paperCell(_ r: ExperimentResults, _ e: ResultEntry, rowAxis: String?) -> PaperCell? {
        if let f = r.experiment.paperCell { return f(e) }
        guard let t = r.experiment.paper.tables.first, let ra = rowAxis, let row = e.paperKeys[ra] else { return nil }
        let col = r.axes.filter { $0 != ra && $0 != seedAxis }.compactMap { e.paperKeys[$0] }.joined(separator: " ")
        return t.cell(row: row, column: col)
    }

    static func mdEscape(_ s: String) -> String { s.replacingOccurrences(of: "|", with: "\\|") }

    /// Renders the report of one experiment. `figurePrefix` is the relative folder the Markdown links to.
    public static func render(_ r: ExperimentResults, figurePrefix: String = "figures") -> RenderedReport {
        let e = r.experiment
        var md = ""
        var figs: [(String, String)] = []
        let verdicts = e.verdict(r)
        md += "# \(e.artifact): \(e.title)\n\n"
        md += "Experiment id `\(e.id)` · profile: \(r.profile?.rawValue ?? "none (no results)") · status: **\(overallStatus(verdicts))**\n\n"
        md += "**Paper's claim.** \(e.claim)\n\n"
        md += "**Paper's setup.** \(e.paperSetup)\n\n"
        md += "**Measured here.** \(e.measured)\n\n"

        md += "## Verdict\n\n| claim | verdict | evidence |\n|---|---|---|\n"
        for v in verdicts { md += "| \(mdEscape(v.claim)) | **\(v.status.rawValue)** | \(mdEscape(v.evidence)) |\n" }
        md += "\n"
        if let s = summarySentence(e, r, verdicts) { md += "**What our numbers show.** \(s)\n\n" }
        if r.profile == .reduced || e.changesAfterPreregistration.count > 0 {
            // The reduced plans and rules were fixed by the pre-registration (docs/preregistration.md); every later change
            // is a commit of its own, listed here.
            md += "## Changes after pre-registration\n\n"
            md += e.changesAfterPreregistration.isEmpty ? "None: plan and rules as pre-registered (docs/preregistration.md).\n\n"
                : e.changesAfterPreregistration.map { "- \($0)\n" }.joined() + "\n"
        }

        md += "## The paper's numbers\n\n"
        for t in e.paper.tables {
            md += "\(t.caption)\n\n| | " + t.columns.map(mdEscape).joined(separator: " | ") + " |\n|---|" + t.columns.map { _ in "---" }.joined(separator: "|") + "|\n"
            for row in t.rows { md += "| \(mdEscape(row.label)) | " + row.cells.map { mdEscape($0.description) }.joined(separator: " | ") + " |\n" }
            md += "\n"
            for n in t.notes { md += "- \(n)\n" }
            let ill = t.rows.flatMap { $0.cells }.compactMap { c -> String? in if case .illegible(let why) = c { return why }; return nil }
            if !ill.isEmpty { md += "- \"?\": \(Array(Set(ill)).sorted().joined(separator: "; "))\n" }
            if !t.notes.isEmpty || !ill.isEmpty { md += "\n" }
        }
        for s in e.paper.statements { md += "> \(s.quote) (§\(s.section))\n\n" }

        md += "## Our configuration\n\n"
        if let p = r.profile {
            let plan = e.plan(p)
            for n in plan.notes { md += "- \(n)\n" }
            if !plan.notes.isEmpty { md += "\n" }
            if let base = r.baseConfig { md += configTable(base, dataUsed: dataUsed(r)) }
            md += "\nVariants (what each level changes from the base):\n\n"
            for (i, ax) in r.axes.enumerated() {
                var seen: [String] = []
                for en in r.entries {
                    let l = en.coordinates.labels[i]
                    if seen.contains(l) { continue }
                    seen.append(l)
                }
                md += "- **\(ax)**: " + seen.map { l -> String in
                    let ov = overridesOf(r, axisIndex: i, level: l)
                    return ov.isEmpty ? l : "\(l) (\(ov.joined(separator: ", ")))"
                }.joined(separator: "; ") + "\n"
            }
            md += "\n"
        } else {
            md += "No results yet. Run `deepnet run \(e.id) --profile reduced` (or `--dry-run` for the plan).\n\n"
            for p in Profile.allCases {
                let plan = e.plan(p)
                if let why = plan.notRunReason { md += "- \(p.rawValue): not runnable — \(why)\n" }
            }
            md += "\n"
        }

        if r.hasAny {
            md += "## Results\n\n"
            var k = 0
            for render in e.renders {
                let (text, svgs) = renderOne(render, r, figureBase: "\(e.id)-\(k)")
                k += 1
                md += text
                for (name, svg) in svgs {
                    figs.append((name, svg))
                    md += "![\(e.id) figure](\(figurePrefix)/\(name))\n\n"
                }
            }
            md += "## Runs\n\n| run | id | status | steps | BLEU | valid loss | ppl | wall |\n|---|---|---|---|---|---|---|---|\n"
            for en in r.entries {
                let id = String(en.runID.prefix(12))
                guard let rec = en.record else {
                    md += "| \(mdEscape(en.coordinates.shortLabel)) | `\(id)` | \(en.problem.map { "unusable: \(mdEscape($0))" } ?? "not run") | | | | | |\n"
                    continue
                }
                let st = rec.status == .diverged ? "diverged at \(rec.divergedAtStep ?? 0)" : rec.status.rawValue
                md += "| \(mdEscape(en.coordinates.shortLabel)) | `\(id)` | \(st) | \(rec.metrics.stepsCompleted) | \(fmtMetric(rec.metrics.bleu, .bleu)) | \(fmtMetric(rec.metrics.validLoss, .finalValidLoss)) | \(fmtMetric(rec.metrics.perplexity, .perplexity)) | \(CostModel.duration(rec.metrics.wallSeconds)) |\n"
            }
            md += "\n"
            // Decoding cuts test sources longer than the model accepts (RunAdmission.decodableSources); say so.
            let cut = r.entries.compactMap { en in
                en.record.flatMap { $0.metrics.testSentencesTruncated > 0 ? "\(mdEscape(en.coordinates.shortLabel)) \($0.metrics.testSentencesTruncated)" : nil }
            }
            if !cut.isEmpty {
                md += "Test sentences truncated to the model's position limit before decoding (BLEU is still over every sentence): \(cut.joined(separator: ", ")).\n\n"
            }
            md += provenance(r)
        }
        return RenderedReport(id: e.id, markdown: md, figures: figs, verdicts: verdicts)
    }

    static func overridesOf(_ r: ExperimentResults, axisIndex i: Int, level: String) -> [String] {
        // Overrides common to every run at this level that no run at another level of the axis shares.
        let mine = r.entries.filter { $0.coordinates.labels[i] == level }
        guard var common = mine.first.map({ Set($0.overrides) }) else { return [] }
        for en in mine.dropFirst() { common.formIntersection(en.overrides) }
        let others = r.entries.filter { $0.coordinates.labels[i] != level }
        var sharedWithAll = common
        for en in others { sharedWithAll.formIntersection(en.overrides) }
        let order = mine.first!.overrides
        return order.filter { common.contains($0) && !(others.count > 0 && sharedWithAll.contains($0)) }
    }

    /// The data sets the recorded runs actually trained on ("multi30k (en→fr)"), which differ from the plan's base
    /// (synthetic) when the runs were made with DEEPNET_DATA set; nil when no run is recorded.
    static func dataUsed(_ r: ExperimentResults) -> String? {
        var seen: [String] = []
        for e in r.entries {
            guard let d = e.record?.config.data else { continue }
            let s = "\(d.dataset) (\(d.sourceLanguage)→\(d.targetLanguage))"
            if !seen.contains(s) { seen.append(s) }
        }
        return seen.isEmpty ? nil : seen.joined(separator: ", ")
    }

    static func configTable(_ c: JSONValue, dataUsed: String? = nil) -> String {
        // Model settings are stored under their snake_case names (ModelConfig.CodingKeys); configurations stored
        // before run-identity scheme 3 spell them in camelCase, and their reports must render unchanged.
        func legacy(_ k: String) -> String {
            let parts = k.split(separator: "_").map(String.init)
            return parts.first.map { $0 + parts.dropFirst().map { $0.prefix(1).uppercased() + $0.dropFirst() }.joined() } ?? k
        }
        func g(_ path: String) -> String {
            var v: JSONValue? = c
            for k in path.split(separator: ".").map(String.init) { v = v?[k] ?? v?[legacy(k)] }
            guard let x = v else { return "—" }
            switch x {
            case .string(let s): return s
            case .number(let d): return JSONValue.format(d)
            case .bool(let b): return b ? "yes" : "no"
            case .array(let a): return a.map { if case .string(let s) = $0 { return s }; return $0.canonical }.joined(separator: ", ")
            default: return x.canonical
            }
        }
        let rows: [(String, String)] = [
            ("task / architecture", "\(g("task")), \(g("model.architecture"))"),
            ("method (base)", g("model.method")),
            ("layers (encoder / decoder)", "\(g("model.encoder_layers")) / \(g("model.decoder_layers"))"),
            ("hidden / FFN / heads", "\(g("model.embed_dim")) / \(g("model.ffn_dim")) / \(g("model.heads"))"),
            ("vocabulary (BPE target size)", g("model.vocab_size")),
            ("dropout / label smoothing", "\(g("model.dropout")) / \(g("model.label_smoothing"))"),
            ("data", "\(dataUsed ?? "\(g("data.dataset")) (\(g("data.sourceLanguage"))→\(g("data.targetLanguage")))"), ≤ \(g("data.maxTokensPerSentence")) tokens per sentence"),
            ("optimizer", "\(g("optimizer.kind")) β = (\(g("optimizer.betas"))), eps \(g("optimizer.eps")), weight decay \(g("optimizer.weightDecay")), clip \(g("optimizer.clipNorm"))"),
            ("learning rate", "\(g("optimizer.lr")), \(g("optimizer.schedule")), warm-up \(g("optimizer.warmupUpdates")) steps from \(g("optimizer.warmupInitLR"))"),
            ("batch / steps", "\(g("training.batchTokens")) target tokens × \(g("training.steps")) steps"),
            ("validation", "every \(g("training.evalEvery")) steps, \(g("training.evalBatches")) batches"),
            // beam 0 = the run does not decode (loss-only experiments); evalSentences 0 = the whole test set.
            ("decoding / BLEU", g("decode.beam") == "0" ? "none (beam 0: no decoding, loss only)"
                : "beam \(g("decode.beam")), length penalty \(g("decode.lengthPenalty")), BLEU tokenize \(g("decode.bleuTokenize")), \(g("data.evalSentences") == "0" ? "all" : g("data.evalSentences")) test sentences"),
            ("divergence rule", "non-finite loss, or loss > \(g("divergence.lossThreshold")) for \(g("divergence.patience")) consecutive steps"),
            ("measurements", g("measurements")),
            ("seed / precision", "\(g("training.seed")) / \(g("training.precision"))"),
        ]
        var md = "| setting | base value |\n|---|---|\n"
        for (k, v) in rows { md += "| \(k) | \(mdEscape(v)) |\n" }
        return md
    }

    static func provenance(_ r: ExperimentResults) -> String {
        let recs = r.entries.compactMap(\.record)
        guard !recs.isEmpty else { return "" }
        func distinct(_ f: (RunRecord) -> String) -> String { Array(Set(recs.map(f))).sorted().joined(separator: "; ") }
        var md = "## Provenance\n\n"
        md += "- git commit: \(distinct { $0.provenance.gitCommit + ($0.provenance.gitDirty ? " (dirty)" : "") })\n"
        md += "- engine numerics: \(distinct { $0.engineNumericsVersion })\n"
        // Before engine-numerics-2 this recorded OPENBLAS_NUM_THREADS; since then the engine threads ("2 engine").
        md += "- threads: \(distinct { $0.provenance.threads })\n"
        md += "- CPU: \(distinct { $0.provenance.cpuModel })\n"
        md += "- HDF5: \(distinct { $0.provenance.hdf5Version }); OpenBLAS: \(distinct { $0.provenance.openblasConfig })\n"
        md += "- data fingerprint: \(distinct { String($0.dataFingerprint.prefix(24)) })\n"
        let sigs = Set(recs.compactMap { $0.metrics.bleuSignature })
        if !sigs.isEmpty { md += "- BLEU signature: \(sigs.sorted().joined(separator: "; "))\n" }
        md += "- total training time: \(CostModel.duration(recs.map(\.metrics.wallSeconds).reduce(0, +)))\n\n"
        return md
    }

    // MARK: renders

    /// Entries for a plot along `axis` (and `series`): other axes are fixed to the combination of levels that
    /// gives the most distinct levels of `axis` (e.g. β = 1× for the α sweep of Fig. 9).
    static func slice(_ r: ExperimentResults, along axis: String, keeping keep: [String]) -> [ResultEntry] {
        let others = r.axes.filter { $0 != axis && !keep.contains($0) }
        if others.isEmpty { return r.entries }
        var best: [ResultEntry] = []
        var bestCount = -1
        var seenKeys: [[String]] = []
        for e in r.entries {
            let key = others.map { e.coordinates[$0] ?? "" }
            if seenKeys.contains(key) { continue }
            seenKeys.append(key)
            let sel = Dictionary(uniqueKeysWithValues: zip(others, key))
            let es = r.entries(sel)
            let n = Set(es.compactMap { $0.coordinates[axis] }).count
            if n > bestCount { bestCount = n; best = es }
        }
        return best
    }

    static func label(_ e: ResultEntry, excluding: [String]) -> String {
        let ls = zip(e.coordinates.axes, e.coordinates.labels).filter { !excluding.contains($0.0) }.map { $0.1 }
        return ls.isEmpty ? "run" : ls.joined(separator: " / ")
    }

    /// One entry of an experiment's `renders`: Markdown and (file name, SVG) figures, by kind.
    static func renderOne(_ render: Render, _ r: ExperimentResults, figureBase: String) -> (String, [(String, String)]) {
        switch render {
        case .table(let rows, let columns, let metric): return (tableMarkdown(r, rows: rows, columns: columns, metric: metric), [])
        case .curves(let kind, let series, let panels, let logY): return ("", curves(r, kind, series: series, panels: panels, logY: logY, figureBase: figureBase))
        case .metricVsAxis(let metric, let x, let series, let logX): return metricVsAxis(r, metric, x: x, series: series, logX: logX, figureBase: figureBase)
        case .bars(let metric, let groups, let series, let panels):
            guard let panels else { return ("", [bars(r, metric, groups: groups, series: series, figureBase: figureBase)]) }
            // One chart per panel level; its title names the level (sliceTitle: the one level its runs share).
            return ("", r.levels(panels).enumerated().map { pi, pl in
                bars(r, metric, groups: groups, series: series, within: [panels: pl], figureBase: "\(figureBase)-\(pi)")
            })
        case .heatmap(let metric, let x, let y): return ("", [heatmap(r, metric, x: x, y: y, figureBase: figureBase)])
        case .diagnostic(let m, let series, let panels, let logY): return diagnostic(r, m, series: series, panels: panels, logY: logY, figureBase: figureBase)
        case .custom(let figure): let out = figure.draw(r, figureBase); return (out.markdown, out.figures)
        case .diagnosticArray(let m, let array, let series, let panels, let logY):
            return InstrumentFigures.namedArray(m, array: array, r, series: series, panels: panels, logY: logY, figureBase: figureBase)
        }
    }

    static func curves(_ r: ExperimentResults, _ kind: CurveKind, series: String, panels: String?, logY: Bool, figureBase: String) -> [(String, String)] {
        var out: [(String, String)] = []
        let panelLevels = panels.map { r.levels($0) } ?? [""]
        // Every seed is its own line (labelled "… / seed"): a training curve is where one seed stalling or
        // diverging while another trains shows, and a mean curve would hide it.
        let seeds = r.axes.filter { $0 == "seed" && $0 != series && $0 != panels }
        for (pi, pl) in panelLevels.enumerated() {
            var es = panels == nil ? r.entries : r.entries([panels!: pl])
            if panels == nil { es = slice(r, along: series, keeping: seeds) }
            else {
                let sub = ExperimentResults(experiment: r.experiment, profile: r.profile, axes: r.axes, entries: es)
                es = slice(sub, along: series, keeping: [panels!] + seeds)
            }
            let lines = es.compactMap { e -> LineSeries? in
                guard let rec = e.record else { return nil }
                let (x, y) = rec.curves.series(kind)
                let name = label(e, excluding: panels.map { [$0] } ?? []) + (rec.status == .diverged ? " (diverged)" : "")
                return LineSeries(name: name, x: x, y: y, markers: kind == .validLoss && x.count < 12)
            }
            let title = "\(kind.title)" + (panels != nil ? " — \(panels!) \(pl)" : "") + (panels == nil ? " by \(series)" : "")
            let plot = LinePlot(title: title, xLabel: "step", yLabel: kind.title, yScale: logY ? .log : .linear, series: lines)
            out.append(("\(figureBase)-\(pi).svg", plot.render()))
        }
        return out
    }

    static func metricVsAxis(_ r: ExperimentResults, _ metric: Metric, x: String, series: String?, logX: Bool, figureBase: String) -> (String, [(String, String)]) {
        let es = seedPooled(r, r.entries, along: x, keeping: series.map { [$0] } ?? [])
        let groups = series.map { s in r.levels(s) } ?? [""]
        // Every seed is its own line ("… / seed 2"), as in the training curves: the seeds of a sparse sweep may end at
        // different depths (Fig. 8's second seed stops at 48 layers), which a mean line would hide.
        let seeds = r.levels(seedAxis).filter { l in es.contains { $0.coordinates[seedAxis] == l } }
        var lines: [LineSeries] = []
        var notes: [String] = []
        var allX: [Double] = []
        for g in groups {
            for sd in (seeds.count > 1 ? seeds : [""]) {
                let ge = es.filter { (series == nil || $0.coordinates[series!] == g) && (sd.isEmpty || $0.coordinates[seedAxis] == sd) }
                var pts: [(Double, Double)] = []
                for e in ge {
                    guard let rec = e.record, let lx = e.coordinates[x] else { continue }
                    let xv = Verdicts.numericValue(lx)
                    allX.append(xv)
                    if rec.status == .ok, let y = rec.value(metric), y.isFinite { pts.append((xv, y)) }
                    else { notes.append("\(e.coordinates.shortLabel): \(cellText(e, metric))") }
                }
                pts.sort { $0.0 < $1.0 }
                let name = [series == nil ? (sd.isEmpty ? metric.title : "") : g, sd.isEmpty ? "" : "\(seedAxis) \(sd)"]
                    .filter { !$0.isEmpty }.joined(separator: " / ")
                lines.append(LineSeries(name: name, x: pts.map(\.0), y: pts.map(\.1), markers: true))
            }
        }
        let title = "\(metric.title) vs \(x)" + sliceTitle(r, es, axes: [x] + (series.map { [$0] } ?? []), seedNote: "one line per seed")
        let plot = LinePlot(title: title, xLabel: x, yLabel: metric.title,
                            xScale: logX && (allX.min() ?? 0) > 0 ? .log : .linear, series: lines)
        let text = notes.isEmpty ? "" : "Not plotted (no \(metric.title)): " + notes.joined(separator: "; ") + ".\n\n"
        return (text, [("\(figureBase).svg", plot.render())])
    }

    /// The runs a figure draws: among `es`, the first slice along the axes it does not show, with its seeds pooled. A
    /// figure shows every seed of what it draws, never seed 1 alone, so that it agrees with the table beside it (seed
    /// mean, each seed in brackets).
    static func seedPooled(_ r: ExperimentResults, _ es: [ResultEntry], along axis: String, keeping keep: [String]) -> [ResultEntry] {
        let pool = r.axes.contains(seedAxis) && axis != seedAxis && !keep.contains(seedAxis)
        let sub = ExperimentResults(experiment: r.experiment, profile: r.profile, axes: r.axes, entries: es)
        return slice(sub, along: axis, keeping: keep + (pool ? [seedAxis] : []))
    }

    /// " — lr 1.5e-3; bars: mean of seeds 1, 2, dots: each seed": which slice a figure draws (the axes it holds fixed that have more
    /// than one level) and, when it pools seeds, that it does.
    static func sliceTitle(_ r: ExperimentResults, _ drawn: [ResultEntry], axes shown: [String], seedNote: String) -> String {
        let fixed = r.axes.filter { a in !shown.contains(a) && a != seedAxis && r.levels(a).count > 1 }.compactMap { a -> String? in
            let ls = r.levels(a).filter { l in drawn.contains { $0.coordinates[a] == l } }
            return ls.count == 1 ? "\(a) \(ls[0])" : nil
        }
        let seeds = r.levels(seedAxis).filter { l in drawn.contains { $0.coordinates[seedAxis] == l } }
        let parts = fixed + (seeds.count > 1 ? [seedNote.replacingOccurrences(of: "{seeds}", with: seeds.joined(separator: ", "))] : [])
        return parts.isEmpty ? "" : " — " + parts.joined(separator: "; ")
    }

    /// One place of a figure (a bar, a heatmap cell): its runs with the seeds pooled, in seed order; the finite metric
    /// values of the converged ones, their mean (nil when none) and the table's text for the runs.
    static func seedCell(_ r: ExperimentResults, _ es: [ResultEntry], along axis: String, keeping keep: [String], _ metric: Metric)
        -> (entries: [ResultEntry], values: [Double], mean: Double?, text: String) {
        let cell = seedPooled(r, es, along: axis, keeping: keep).sorted { seedOrder(r, $0) < seedOrder(r, $1) }
        let vs = cell.compactMap { e -> Double? in
            guard let rec = e.record, rec.status == .ok, let v = rec.value(metric), v.isFinite else { return nil }
            return v
        }
        return (cell, vs, vs.isEmpty ? nil : vs.reduce(0, +) / Double(vs.count), cell.isEmpty ? "" : oursText(r, cell, metric))
    }

    /// Grouped bars over the runs matching `within` (a panel's level; empty: all runs).
    static func bars(_ r: ExperimentResults, _ metric: Metric, groups: String, series: String?, within: [String: String] = [:],
                     figureBase: String) -> (String, String) {
        let gl = r.levels(groups)
        let sl = series.map { r.levels($0) } ?? [""]
        var vals: [[Double?]] = [], pts: [[[Double]]] = [], ann: [[String]] = []
        var drawn: [ResultEntry] = []
        for g in gl {
            var row: [Double?] = [], prow: [[Double]] = [], arow: [String] = []
            for s in sl {
                var sel = within
                sel[groups] = g
                if let sa = series { sel[sa] = s }
                let c = seedCell(r, r.entries(sel), along: groups, keeping: (series.map { [$0] } ?? []) + within.keys.sorted(), metric)
                drawn += c.entries
                row.append(c.mean)
                prow.append(c.entries.count > 1 ? c.values : [])
                arow.append(c.text)
            }
            vals.append(row); pts.append(prow); ann.append(arow)
        }
        let title = "\(metric.title) by \(groups)" + sliceTitle(r, drawn, axes: [groups] + (series.map { [$0] } ?? []),
                                                                 seedNote: "bars: mean of seeds {seeds}, dots: each seed")
        let chart = BarChart(title: title, yLabel: metric.title, groups: gl,
                             series: series == nil ? [metric.title] : sl, values: vals, annotations: ann, points: pts)
        return ("\(figureBase).svg", chart.render())
    }

    static func heatmap(_ r: ExperimentResults, _ metric: Metric, x: String, y: String, figureBase: String) -> (String, String) {
        let xl = r.levels(x), yl = r.levels(y)
        var vals: [[Double?]] = [], ann: [[String]] = []
        var drawn: [ResultEntry] = []
        for yv in yl {
            var row: [Double?] = [], arow: [String] = []
            for xv in xl {
                let c = seedCell(r, r.entries([x: xv, y: yv]), along: x, keeping: [y], metric)
                drawn += c.entries
                row.append(c.mean)
                arow.append(c.entries.isEmpty ? "—" : c.text)
            }
            vals.append(row); ann.append(arow)
        }
        let title = "\(metric.title) (\(y) × \(x))" + sliceTitle(r, drawn, axes: [x, y], seedNote: "mean of seeds {seeds}")
        let hm = Heatmap(title: title, xLabel: x, yLabel: y, xLabels: xl, yLabels: yl, values: vals, annotations: ann)
        return ("\(figureBase).svg", hm.render())
    }

    static func diagnostic(_ r: ExperimentResults, _ m: MeasurementKind, series: String, panels: String?, logY: Bool, figureBase: String) -> (String, [(String, String)]) {
        if let out = InstrumentFigures.render(m, r, series: series, panels: panels, logY: logY, figureBase: figureBase) { return out }
        let with = r.entries.filter { $0.record?.diagnostics[m.rawValue]?.isEmpty == false }
        if with.isEmpty {
            return ("*\(m.rawValue)*: pending — no run has recorded this measurement yet (the training-dynamics instrument is not wired into the executor).\n\n", [])
        }
        var figs: [(String, String)] = []
        for (k, e) in with.enumerated() {
            let arrays = e.record!.diagnostics[m.rawValue]!
            let stepArray = arrays.first { $0.name == "step" || $0.name == "steps" }
            let oneD = arrays.filter { $0.shape.count == 1 && $0.name != "step" && $0.name != "steps" && $0.name != "x" && $0.name != "y"
                && $0.values.count == (stepArray?.values.count ?? $0.values.count) }
            let twoD = arrays.filter { $0.shape.count == 2 }
            if !oneD.isEmpty {
                let lines = oneD.map { a in
                    LineSeries(name: a.name, x: stepArray.map { $0.values } ?? (0..<a.values.count).map(Double.init), y: a.values)
                }
                let plot = LinePlot(title: "\(m.rawValue) — \(label(e, excluding: []))", xLabel: stepArray == nil ? "index" : "step",
                                    yLabel: m.rawValue, yScale: logY ? .log : .linear, series: lines)
                figs.append(("\(figureBase)-\(k)-lines.svg", plot.render()))
            }
            for (j, a) in twoD.enumerated() {
                let rows = a.shape[0], cols = a.shape[1]
                let grid = (0..<rows).map { i in Array(a.values[(i * cols)..<((i + 1) * cols)]) }
                if m == .lossLandscape2D {
                    let xs = arrays.first { $0.name == "x" }?.values ?? [-1, 1]
                    let ys = arrays.first { $0.name == "y" }?.values ?? [-1, 1]
                    let cp = ContourPlot(title: "\(a.name) — \(label(e, excluding: []))", xLabel: "direction 1", yLabel: "direction 2",
                                         grid: grid, xRange: (xs.min() ?? -1, xs.max() ?? 1), yRange: (ys.min() ?? -1, ys.max() ?? 1))
                    figs.append(("\(figureBase)-\(k)-\(j).svg", cp.render()))
                } else {
                    let hm = Heatmap(title: "\(a.name) — \(label(e, excluding: []))", xLabel: "column", yLabel: "row",
                                     xLabels: (0..<cols).map(String.init), yLabels: (0..<rows).map(String.init), values: grid.map { $0.map { Optional($0) } })
                    figs.append(("\(figureBase)-\(k)-\(j).svg", hm.render()))
                }
            }
        }
        _ = series
        return ("", figs)
    }

    /// The axis of training seeds: tables show the mean of its levels with each value in brackets.
    public static let seedAxis = InstrumentFigures.seedAxis

    /// Our text for one run: the experiment's `cellOutcome` if it has one for it, else the metric, "diverged at
    /// step k", "failed", "not run"; and the number when it is a finite metric of a converged run.
    static func ours(_ r: ExperimentResults, _ e: ResultEntry, _ m: Metric) -> (text: String, value: Double?) {
        if let o = r.experiment.cellOutcome?(r, e) { return (o, nil) }
        if let rec = e.record, rec.status == .ok, let v = rec.value(m), v.isFinite { return (fmtMetric(v, m), v) }
        return (cellText(e, m), nil)
    }

    /// Our text for the runs of one table cell (several seeds: "27.1 [26.8, 27.4]", the mean then each seed).
    public static func oursText(_ r: ExperimentResults, _ es: [ResultEntry], _ m: Metric) -> String {
        let cells = es.sorted { seedOrder(r, $0) < seedOrder(r, $1) }.map { ours(r, $0, m) }
        guard cells.count > 1 else { return cells.first?.text ?? "" }
        let nums = cells.compactMap(\.value)
        let list = "[" + cells.map(\.text).joined(separator: ", ") + "]"
        if nums.isEmpty { return list }
        let mean = fmtMetric(nums.reduce(0, +) / Double(nums.count), m)
        return nums.count == cells.count ? "\(mean) \(list)" : "\(mean) over \(nums.count) of \(cells.count) seeds \(list)"
    }

    static func seedOrder(_ r: ExperimentResults, _ e: ResultEntry) -> Int {
        guard let l = e.coordinates[seedAxis] else { return 0 }
        return r.levels(seedAxis).firstIndex(of: l) ?? Int.max
    }

    /// "ours / paper" (or ours alone when the paper has no number for it).
    static func cell(_ r: ExperimentResults, _ es: [ResultEntry], _ m: Metric, rowAxis: String) -> (String, Bool) {
        let o = oursText(r, es, m)
        guard let first = es.first, let p = paperCell(r, first, rowAxis: rowAxis) else { return (o, false) }
        return ("\(o.isEmpty ? "—" : o) / \(p)", true)
    }

    /// Groups entries that differ only in their seed (in entry order).
    static func seedGroups(_ r: ExperimentResults, _ es: [ResultEntry]) -> [[ResultEntry]] {
        var keys: [[String]] = [], groups: [[String]: [ResultEntry]] = [:]
        for e in es {
            let k = zip(e.coordinates.axes, e.coordinates.labels).filter { $0.0 != seedAxis }.map(\.1)
            if groups[k] == nil { keys.append(k); groups[k] = [] }
            groups[k]!.append(e)
        }
        return keys.map { groups[$0]! }
    }

    /// A table laid out like the paper's: rows × columns, each cell "ours / paper" (ours: the metric, "diverged at
    /// step k", or the experiment's `cellOutcome`; with a seed axis the seed mean and each seed in brackets).
    static func tableMarkdown(_ r: ExperimentResults, rows: String, columns: String, metric: Metric) -> String {
        // seeds are pooled into each cell, never a table of their own
        let seeded = r.axes.contains(seedAxis) && rows != seedAxis && columns != seedAxis
        let seedNote = seeded && r.levels(seedAxis).count > 1 ? "; ours is the mean over \(seedAxis)s \(r.levels(seedAxis).joined(separator: ", ")) with each seed's value in brackets" : ""
        if !r.axes.contains(columns) {
            // One column: the metric (experiments with a single axis, e.g. Table XI's variants).
            let groups = seeded ? seedGroups(r, r.entries) : r.entries.map { [$0] }
            let cells = groups.map { cell(r, $0, metric, rowAxis: rows) }
            let hasPaper = cells.contains { $0.1 }
            var md = "**\(metric.title)**" + (hasPaper ? " (each cell: ours / the paper's\(seedNote))" : (seedNote.isEmpty ? "" : " (\(seedNote.dropFirst(2)))")) + "\n\n| \(rows) | \(metric.title) |\n|---|---|\n"
            for (g, c) in zip(groups, cells) {
                let label = zip(g[0].coordinates.axes, g[0].coordinates.labels).filter { !seeded || $0.0 != seedAxis }.map(\.1).joined(separator: " / ")
                md += "| \(mdEscape(label)) | \(mdEscape(c.0)) |\n"
            }
            return md + "\n"
        }
        let extra = r.axes.filter { $0 != rows && $0 != columns && !(seeded && $0 == seedAxis) }
        var combos: [[String: String]] = [[:]]
        for ax in extra { combos = combos.flatMap { c in r.levels(ax).map { c.merging([ax: $0]) { $1 } } } }
        var md = ""
        for combo in combos {
            let es = r.entries(combo)
            if es.isEmpty { continue }
            let rl = r.levels(rows).filter { rv in es.contains { $0.coordinates[rows] == rv } }
            let cl = r.levels(columns).filter { cv in es.contains { $0.coordinates[columns] == cv } }
            var grid: [[(String, Bool)]] = []
            for rv in rl {
                grid.append(cl.map { cv in
                    let group = es.filter { $0.coordinates[rows] == rv && $0.coordinates[columns] == cv }
                    return group.isEmpty ? ("", false) : cell(r, group, metric, rowAxis: rows)
                })
            }
            let hasPaper = grid.contains { $0.contains { $0.1 } }
            let title = combo.isEmpty ? "" : " — " + extra.map { "\($0) \(combo[$0]!)" }.joined(separator: ", ")
            md += "**\(metric.title)\(title)**" + (hasPaper ? " (each cell: ours / the paper's\(seedNote))" : (seedNote.isEmpty ? "" : " (\(seedNote.dropFirst(2)))")) + "\n\n"
            md += "| \(rows) \\ \(columns) | " + cl.map(mdEscape).joined(separator: " | ") + " |\n|---|" + cl.map { _ in "---" }.joined(separator: "|") + "|\n"
            for (rv, cells) in zip(rl, grid) {
                md += "| \(mdEscape(rv)) |" + cells.map { " \(mdEscape($0.0)) |" }.joined() + "\n"
            }
            md += "\n"
        }
        return md
    }

    // MARK: README index

    /// The experiment's own sentence of what its numbers show (`Experiment.summary`), nil when it has none or when
    /// the runs it reads are not finished yet (the closure returns "").
    public static func summarySentence(_ e: Experiment, _ r: ExperimentResults, _ vs: [ClaimVerdict]) -> String? {
        guard let s = e.summary?(r, vs).trimmingCharacters(in: .whitespaces), !s.isEmpty else { return nil }
        return s
    }

    /// The index's total over every experiment: "**All claims: 47** — 6 reproduced, 7 not reproduced, 8 inconclusive
    /// (17 % of the claims), 26 not run." The "not run" count is left out once every claim has run, so a finished
    /// campaign's index does not carry a "0 not run" that a reader (or a grep) takes for a missing result.
    public static func claimTotals(_ vs: [ClaimVerdict]) -> String {
        func count(_ s: VerdictStatus) -> Int { vs.filter { $0.status == s }.count }
        let share = vs.isEmpty ? 0 : Int((Double(count(.inconclusive)) / Double(vs.count) * 100).rounded())
        return "**All claims: \(vs.count)** — \(count(.reproduced)) reproduced, \(count(.notReproduced)) not reproduced, "
            + "\(count(.inconclusive)) inconclusive (\(share) % of the claims)"
            + (count(.notRun) > 0 ? ", \(count(.notRun)) not run." : ".")
    }

    /// "2 of 3 claims reproduced; 1 not reproduced." from the verdict counts.
    public static func defaultSummary(_ vs: [ClaimVerdict]) -> String {
        let n = vs.count
        if n == 0 { return "No claims stated." }
        func count(_ s: VerdictStatus) -> Int { vs.filter { $0.status == s }.count }
        let claims = n == 1 ? "claim" : "claims"
        if count(.notRun) == n { return "Not run yet (\(n) \(claims) to test)." }
        var parts = ["\(count(.reproduced)) of \(n) \(claims) reproduced"]
        if count(.notReproduced) > 0 { parts.append("\(count(.notReproduced)) not reproduced") }
        if count(.inconclusive) > 0 { parts.append("\(count(.inconclusive)) inconclusive") }
        if count(.notRun) > 0 { parts.append("\(count(.notRun)) not run") }
        return parts.joined(separator: "; ") + "."
    }

    /// Engine threads of a run from its recorded provenance ("2 engine"; before engine-numerics-2 the
    /// OPENBLAS_NUM_THREADS value, "1"): the leading integer, nil when there is none.
    public static func threadCount(_ s: String) -> Int? {
        let digits = s.trimmingCharacters(in: .whitespaces).prefix { $0.isNumber }
        return Int(digits).flatMap { $0 > 0 ? $0 : nil }
    }

    /// The compute ledger: CPU-hours (recorded wall seconds × recorded threads) of every experiment's recorded runs;
    /// a run listed by several experiments counts once, under the first, and is marked shared in the others.
    public static func computeLedger(experiments: [Experiment], results: [ExperimentResults]) -> String {
        var owner: [String: String] = [:]
        var md = "## Compute\n\nCPU-hours = recorded wall time × recorded engine threads of each run (a run shared by several experiments counts once, under the first that lists it).\n\n"
        md += "| experiment | runs counted | wall-clock hours | CPU-hours | note |\n|---|---|---|---|---|\n"
        var totalRuns = 0, totalWall = 0.0, totalCPU = 0.0
        for (e, res) in zip(experiments, results) {
            var runs = 0, wall = 0.0, cpu = 0.0, unknownThreads = 0
            var sharedWith: [String: Int] = [:], sharedOrder: [String] = []
            var seenHere = Set<String>()
            for en in res.entries {
                guard let rec = en.record, !seenHere.contains(en.runID) else { continue }
                seenHere.insert(en.runID)
                if let first = owner[en.runID] {
                    if sharedWith[first] == nil { sharedOrder.append(first) }
                    sharedWith[first, default: 0] += 1
                    continue
                }
                owner[en.runID] = e.id
                let t = threadCount(rec.provenance.threads)
                if t == nil { unknownThreads += 1 }
                runs += 1; wall += rec.metrics.wallSeconds; cpu += rec.metrics.wallSeconds * Double(t ?? 1)
            }
            if runs == 0 && sharedOrder.isEmpty { continue }
            var notes = sharedOrder.map { "\(sharedWith[$0]!) shared run\(sharedWith[$0]! == 1 ? "" : "s") counted under \($0)" }
            if unknownThreads > 0 { notes.append("threads not recorded for \(unknownThreads) run\(unknownThreads == 1 ? "" : "s") (counted as 1)") }
            md += "| [\(e.id)](\(e.id).md) | \(runs) | \(String(format: "%.2f", wall / 3600)) | \(String(format: "%.2f", cpu / 3600)) | \(mdEscape(notes.joined(separator: "; "))) |\n"
            totalRuns += runs; totalWall += wall; totalCPU += cpu
        }
        md += "| **total** | \(totalRuns) | \(String(format: "%.2f", totalWall / 3600)) | \(String(format: "%.2f", totalCPU / 3600)) | |\n"
        return md
    }

    public static func index(_ items: [RenderedReport], experiments: [Experiment], results: [ExperimentResults]) -> String {
        var md = "# DeepNet reproduction: reports\n\n"
        md += "One report per table and figure of \"DeepNet: Scaling Transformers to 1,000 Layers\" (Wang et al., TPAMI 2024), rendered by `deepnet report --all` from the results folder only. Status is computed by each experiment's verdict function over its results.\n\n"
        // The "not run" count is a column only while some claim has not run (see claimTotals).
        let counted: [VerdictStatus] = [.reproduced, .notReproduced, .inconclusive]
            + (items.contains { $0.verdicts.contains { $0.status == .notRun } } ? [.notRun] : [])
        md += "| experiment | paper | title | profile | runs | status | claims (\(counted.map(\.rawValue).joined(separator: " / "))) | summary |\n|---|---|---|---|---|---|---|---|\n"
        for (i, e) in experiments.enumerated() {
            let rep = items[i], res = results[i]
            let n = counted.map { s in rep.verdicts.filter { $0.status == s }.count }
            let summary = defaultSummary(rep.verdicts) + (summarySentence(e, res, rep.verdicts).map { " " + $0 } ?? "")
            md += "| [\(e.id)](\(e.id).md) | \(e.artifact) | \(mdEscape(e.title)) | \(res.profile?.rawValue ?? "—") | \(res.hasAny ? res.progressText : "none") | \(overallStatus(rep.verdicts)) | \(n.map(String.init).joined(separator: " / ")) | \(mdEscape(summary)) |\n"
        }
        md += "\n" + claimTotals(items.flatMap(\.verdicts)) + "\n\n"
        md += computeLedger(experiments: experiments, results: results)
        md += "\nRegenerate with `deepnet report --all` (reduced results in `results/reduced`) or `make smoke` for the CI profile.\n"
        return md
    }
}

/// Writes reports into a folder (atomically, figures in `figures/`).
public enum ReportWriter {
    public static func write(_ rep: RenderedReport, to dir: URL) throws {
        let figDir = dir.appendingPathComponent("figures")
        try FileManager.default.createDirectory(at: figDir, withIntermediateDirectories: true)
        // Remove figures of this report that the new rendering no longer produces.
        let keep = Set(rep.figures.map(\.0))
        for f in (try? FileManager.default.contentsOfDirectory(atPath: figDir.path)) ?? []
        where f.hasPrefix("\(rep.id)-") && f.hasSuffix(".svg") && !keep.contains(f) {
            try? FileManager.default.removeItem(at: figDir.appendingPathComponent(f))
        }
        for (name, svg) in rep.figures { try AtomicFile.write(Data(svg.utf8), to: figDir.appendingPathComponent(name)) }
        try AtomicFile.write(Data(rep.markdown.utf8), to: dir.appendingPathComponent("\(rep.id).md"))
    }
}
