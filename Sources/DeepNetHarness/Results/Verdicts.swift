// Building blocks for experiments' verdict functions. Each returns a ClaimVerdict whose evidence names the
// runs and numbers it used; incomplete results give "not run" with what is missing. Deterministic text only.
import Foundation

public enum Verdicts {
    public static func fmt(_ x: Double?, _ digits: Int = 2) -> String {
        guard let x = x else { return "n/a" }
        if !x.isFinite { return x.isNaN ? "NaN" : (x > 0 ? "inf" : "-inf") }
        return String(format: "%.\(digits)f", x)
    }

    /// A claim that needs every part: "not run" while any part is (the first such part's evidence, so a partial
    /// grid never reads as decided); else not reproduced when any part is not reproduced; else inconclusive when
    /// any part is; else reproduced. Evidence: every part's, in order.
    public static func allOf(_ claim: String, _ parts: [ClaimVerdict]) -> ClaimVerdict {
        if let v = parts.first(where: { $0.status == .notRun }) { return ClaimVerdict(claim, .notRun, v.evidence) }
        let ev = parts.map(\.evidence).joined(separator: "; ")
        if parts.contains(where: { $0.status == .notReproduced }) { return ClaimVerdict(claim, .notReproduced, ev) }
        if parts.contains(where: { $0.status == .inconclusive }) { return ClaimVerdict(claim, .inconclusive, ev) }
        return ClaimVerdict(claim, .reproduced, ev)
    }

    static func describe(_ e: ResultEntry, metric: Metric? = nil) -> String {
        guard let r = e.record else { return "\(e.coordinates.shortLabel): not run" }
        switch r.status {
        case .diverged: return "\(e.coordinates.shortLabel): diverged at step \(r.divergedAtStep ?? 0)"
        case .failed: return "\(e.coordinates.shortLabel): failed"
        case .ok:
            if let m = metric { return "\(e.coordinates.shortLabel): \(m.title) \(fmt(r.value(m)))" }
            return "\(e.coordinates.shortLabel): converged"
        }
    }

    /// "not run" unless every run matching `selector` (default: all) has a record.
    public static func requireRuns(_ r: ExperimentResults, _ claim: String, _ selector: [String: String] = [:]) -> ClaimVerdict? {
        let es = r.entries(selector)
        if es.isEmpty { return ClaimVerdict(claim, .notRun, "no runs of this profile in the results") }
        let missing = es.filter { $0.record == nil }
        if !missing.isEmpty {
            let problems = missing.compactMap(\.problem)
            var ev = "\(es.count - missing.count) of \(es.count) runs finished"
            if !problems.isEmpty { ev += "; " + problems.prefix(3).joined(separator: "; ") }
            return ClaimVerdict(claim, .notRun, ev)
        }
        let failed = es.filter { $0.record?.status == .failed }
        if !failed.isEmpty {
            return ClaimVerdict(claim, .notRun, "\(failed.count) run(s) failed: " +
                failed.prefix(3).map { "\($0.coordinates.shortLabel): \($0.record?.message ?? "?")" }.joined(separator: "; "))
        }
        return nil
    }

    public static func notRun(_ claim: String, _ reason: String) -> ClaimVerdict { ClaimVerdict(claim, .notRun, reason) }

    /// Below this corpus BLEU a model is barely trained: on a 200-sentence test set, differences of a point or
    /// two between such runs are noise (and loss and BLEU can rank them in opposite orders), so BLEU orderings
    /// among runs that all score below it are reported as "inconclusive", not as evidence either way.
    public static let minimumComparableBLEU = 5.0

    /// "inconclusive" when `metric` is BLEU and every value compared is below `minimumComparableBLEU`.
    public static func bleuTooLowToCompare(_ claim: String, metric: Metric, values: [Double], evidence: String) -> ClaimVerdict? {
        guard metric == .bleu, !values.isEmpty, values.allSatisfy({ $0 < minimumComparableBLEU }) else { return nil }
        return ClaimVerdict(claim, .inconclusive,
                            evidence + " — every BLEU is below \(fmt(minimumComparableBLEU, 0)) (barely trained models): too low to rank")
    }

    /// The level `level` of `axis` converges (status ok) at every level of `across`.
    public static func convergesEverywhere(_ r: ExperimentResults, claim: String, axis: String, level: String,
                                           fixed: [String: String] = [:]) -> ClaimVerdict {
        var sel = fixed; sel[axis] = level
        if let v = requireRuns(r, claim, sel) { return v }
        let es = r.entries(sel)
        let bad = es.filter { $0.record?.status != .ok }
        if bad.isEmpty { return ClaimVerdict(claim, .reproduced, "\(level) converged in all \(es.count) runs (\(es.map { $0.coordinates.shortLabel }.joined(separator: ", ")))") }
        return ClaimVerdict(claim, .notReproduced, bad.map { describe($0) }.joined(separator: "; "))
    }

    /// `level` converges at every level of `across` where some other level of `axis` (default: all others)
    /// diverges, and at least one such divergence is observed.
    public static func convergesWhereOthersDiverge(_ r: ExperimentResults, claim: String, axis: String, level: String,
                                                   others: [String]? = nil, across: String,
                                                   fixed: [String: String] = [:]) -> ClaimVerdict {
        if let v = requireRuns(r, claim, fixed) { return v }
        let others = others ?? r.levels(axis).filter { $0 != level }
        var contrasts: [String] = []
        var failures: [String] = []
        for d in r.levels(across) {
            var sel = fixed; sel[across] = d
            var selL = sel; selL[axis] = level
            guard let mine = r.record(selL) else { continue }
            let divergedOthers = others.filter { o in
                var s = sel; s[axis] = o
                return r.record(s)?.status == .diverged
            }
            if !divergedOthers.isEmpty {
                if mine.status == .ok { contrasts.append("\(d): \(level) converged, \(divergedOthers.joined(separator: ", ")) diverged") }
                else { failures.append("\(d): \(level) \(mine.status.rawValue) as did \(divergedOthers.joined(separator: ", "))") }
            }
        }
        if !failures.isEmpty { return ClaimVerdict(claim, .notReproduced, failures.joined(separator: "; ")) }
        if contrasts.isEmpty {
            let mineOK = r.entries(fixed.merging([axis: level]) { $1 }).allSatisfy { $0.record?.status == .ok }
            return ClaimVerdict(claim, .notReproduced,
                                "no compared model diverged at any \(across) in these runs, so the contrast was not observed" +
                                (mineOK ? " (\(level) converged everywhere)" : ""))
        }
        return ClaimVerdict(claim, .reproduced, contrasts.joined(separator: "; "))
    }

    /// Every run matching `selector` diverged.
    public static func diverges(_ r: ExperimentResults, claim: String, _ selector: [String: String]) -> ClaimVerdict {
        if let v = requireRuns(r, claim, selector) { return v }
        let es = r.entries(selector)
        let conv = es.filter { $0.record?.status != .diverged }
        if conv.isEmpty { return ClaimVerdict(claim, .reproduced, es.map { describe($0) }.joined(separator: "; ")) }
        return ClaimVerdict(claim, .notReproduced, conv.map { describe($0, metric: .bleu) }.joined(separator: "; "))
    }

    /// The run at `a` scores better than (or, with `orEqual`, at least as well as, within `tolerance`) every run
    /// in `bs` on `metric`. Diverged runs of `bs` count as worse; a diverged `a` fails the claim.
    public static func better(_ r: ExperimentResults, claim: String, metric: Metric, a: [String: String],
                              than bs: [[String: String]], tolerance: Double = 0, orEqual: Bool = false) -> ClaimVerdict {
        let sels = [a] + bs
        for s in sels { if let v = requireRuns(r, claim, s) { return v } }
        guard let ea = r.entry(a), let ra = ea.record else { return notRun(claim, "missing run \(a)") }
        guard ra.status == .ok, let va = ra.value(metric) else {
            return ClaimVerdict(claim, .notReproduced, describe(ea, metric: metric))
        }
        var parts: [String] = [describe(ea, metric: metric)]
        var ok = true
        var compared = [va]
        var allConverged = true
        for b in bs {
            for eb in r.entries(b) {
                guard let rb = eb.record else { continue }
                parts.append(describe(eb, metric: metric))
                guard rb.status == .ok, let vb = rb.value(metric) else { allConverged = false; continue }
                compared.append(vb)
                let diff = metric.higherIsBetter ? va - vb : vb - va
                if orEqual ? diff < -tolerance : diff <= tolerance { ok = false }
            }
        }
        let ev = parts.joined(separator: "; ")
        // Only when every compared run converged: a diverged competitor decides the claim whatever the BLEU.
        if allConverged, let v = bleuTooLowToCompare(claim, metric: metric, values: compared, evidence: ev) { return v }
        return ClaimVerdict(claim, ok ? .reproduced : .notReproduced, ev)
    }

    /// `metric` of the runs matching `selector`, ordered by the numeric value of `axis`, improves (BLEU rises,
    /// losses fall) from the first to the last level, with no step worse than `tolerance`.
    public static func improvesAlong(_ r: ExperimentResults, claim: String, metric: Metric, axis: String,
                                     selector: [String: String] = [:], tolerance: Double = 0) -> ClaimVerdict {
        if let v = requireRuns(r, claim, selector) { return v }
        var pts: [(Double, Double, String)] = []
        for e in r.entries(selector) {
            guard let rec = e.record, let label = e.coordinates[axis] else { continue }
            guard rec.status == .ok, let y = rec.value(metric) else {
                return ClaimVerdict(claim, .notReproduced, describe(e, metric: metric))
            }
            pts.append((numericValue(label), y, label))
        }
        pts.sort { $0.0 < $1.0 }
        guard pts.count >= 2 else { return notRun(claim, "fewer than two converged runs along \(axis)") }
        let sign = metric.higherIsBetter ? 1.0 : -1.0
        var ok = sign * (pts.last!.1 - pts.first!.1) > 0
        for i in 1..<pts.count where sign * (pts[i].1 - pts[i - 1].1) < -tolerance { ok = false }
        let ev = "\(metric.title) along \(axis): " + pts.map { "\($0.2): \(fmt($0.1))" }.joined(separator: ", ")
        if let v = bleuTooLowToCompare(claim, metric: metric, values: pts.map(\.1), evidence: ev) { return v }
        return ClaimVerdict(claim, ok ? .reproduced : .notReproduced, ev)
    }

    /// Agreement of converged/diverged status with a paper table laid out as rows = levels of `rows`
    /// (paper keys), columns = paper keys of the other axes joined by a space.
    public static func divergencePatternMatches(_ r: ExperimentResults, claim: String, table: PaperTable, rows: String) -> ClaimVerdict {
        if let v = requireRuns(r, claim) { return v }
        var agree = 0, total = 0
        var disagreements: [String] = []
        for e in r.entries {
            guard let rec = e.record, let rowKey = e.paperKeys[rows] else { continue }
            let colKey = r.axes.filter { $0 != rows }.compactMap { e.paperKeys[$0] }.joined(separator: " ")
            guard let cell = table.cell(row: rowKey, column: colKey) else { continue }
            if case .illegible = cell { continue }
            total += 1
            let paperDiverged = cell.isDiverged
            let ours = rec.status == .diverged
            if paperDiverged == ours { agree += 1 } else {
                disagreements.append("\(e.coordinates.shortLabel): paper \(paperDiverged ? "diverged" : "converged"), ours \(ours ? "diverged" : "converged")")
            }
        }
        if total == 0 { return notRun(claim, "no run corresponds to a cell of the paper's table in this profile") }
        let ev = "\(agree) of \(total) cells agree" + (disagreements.isEmpty ? "" : "; " + disagreements.prefix(8).joined(separator: "; ") + (disagreements.count > 8 ? "; …" : ""))
        return ClaimVerdict(claim, agree == total ? .reproduced : .notReproduced, ev)
    }

    /// A claim that needs a training-dynamics instrument: "not run" until the runs carry its data.
    public static func needsInstrument(_ r: ExperimentResults, claim: String, _ m: MeasurementKind,
                                       evaluate: ((ExperimentResults) -> ClaimVerdict)? = nil) -> ClaimVerdict {
        let withData = r.entries.filter { ($0.record?.diagnostics[m.rawValue]?.isEmpty == false) }
        if withData.isEmpty {
            return notRun(claim, "needs the \(m.rawValue) instrument; no run has recorded it yet")
        }
        if let f = evaluate { return f(r) }
        return notRun(claim, "\(m.rawValue) recorded for \(withData.count) runs; no verdict function over it yet")
    }

    /// Numeric value of a level label: "18L-18L" → 36 (total layers), "24L" → 24, "5e-4" → 0.0005, "0.5×" → 0.5.
    public static func numericValue(_ label: String) -> Double {
        let parts = label.split(separator: "-").map(String.init)
        if parts.count == 2, parts.allSatisfy({ $0.hasSuffix("L") }),
           let a = Double(parts[0].dropLast()), let b = Double(parts[1].dropLast()) { return a + b }
        var s = label
        for suf in ["L", "×", "x", "k", " layers"] where s.hasSuffix(suf) { s = String(s.dropLast(suf.count)) }
        if let d = Double(s) { return d }
        let digits = label.filter { "0123456789.e-".contains($0) }
        return Double(digits) ?? 0
    }
}
