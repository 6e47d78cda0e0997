// The pre-registered verdict rules (docs/REVIEW.md §B) over experiment results: failure = diverged or stalled,
// failure patterns scored per family with an 80 % bar, the log-law fit with its conditions, the log-log slope of
// update growth. (BLEU comparisons: BLEUComparison.swift; the stall rule: RunOutcome.swift.) Pure functions;
// deterministic text.
import Foundation

extension Verdicts {
    // MARK: failure patterns

    /// Agreement of "failed to train" with a paper table that prints "diverged", scored per family of rows.
    ///
    /// The rule: every paper cell is "diverged" or a number; our cell "failed" when the run diverged or stalled
    /// (`RunOutcome.classify` against the run of `referenceRow` with the same other coordinates — the same-depth
    /// DeepNet; where that run has not finished with a finite validation loss, and for `referenceRow` itself, against
    /// the best run with those coordinates, as rule G3 says). Cells agree when both failed or both trained. Rows
    /// listed in `exclude` (paper row label → reason) are left out and named with their reason; cells whose run failed
    /// in the harness, or that the profile's grid leaves out, are not compared and are named. While any run of the
    /// grid has not finished, the claim is "not run" (with the count).
    /// Reproduced when the agreement over all compared cells is at least `threshold` (80 %); agreement per family
    /// (`families`: family name → paper row labels; rows in no family are "other") is reported beside it.
    ///
    /// Why 80 % and not 100 %: the paper's failure points come from one seed each at full scale, and some depend on
    /// details this reproduction cannot match (ReZero ran in fp16, DLCL diverges at 50L but not at 100L), so a rule
    /// that one cell can overturn measures luck, not the pattern. Four in five cells is well above what the
    /// pattern's base rate gives by chance, and the per-family figures show where the disagreement sits. Why
    /// "stalled" counts as failure: see `RunOutcome`.
    public static func failurePatternMatches(_ r: ExperimentResults, claim: String, table: PaperTable, rows: String,
                                             families: [String: [String]], exclude: [String: String] = [:],
                                             referenceRow: String = "DeepNet", threshold: Double = 0.8,
                                             stallRatio: Double = RunOutcome.stallRatio) -> ClaimVerdict {
        var familyOf: [String: String] = [:]
        for (f, members) in families { for m in members { familyOf[m] = f } }
        var perFamily: [String: (agree: Int, total: Int)] = [:]
        var agree = 0, total = 0
        var mismatches: [String] = [], unrun: [String] = [], noReference: Set<String> = []
        var pending = 0, gridCells = 0
        var seenCells = Set<String>()
        for e in r.entries {
            guard let rowKey = e.paperKeys[rows] else { continue }
            let colKey = r.axes.filter { $0 != rows }.compactMap { e.paperKeys[$0] }.joined(separator: " ")
            guard let cell = table.cell(row: rowKey, column: colKey) else { continue }
            seenCells.insert(rowKey + "\u{1}" + colKey)
            if exclude[rowKey] != nil { continue }
            let paperFailed: Bool
            switch cell {
            case .diverged: paperFailed = true
            case .value: paperFailed = false
            case .text, .illegible: continue
            }
            gridCells += 1
            guard let rec = e.record else { pending += 1; continue }
            guard rec.status != .failed else { unrun.append(e.coordinates.shortLabel + " (the run failed)"); continue }
            // G3's reference, the same one the experiments' cells use, so the grid and this claim never disagree.
            let (refBest, refName) = RunOutcome.reference(in: r, for: e.coordinates.dictionary, axis: rows, level: referenceRow)
            if refName != referenceRow && rowKey != referenceRow && rec.status == .ok {
                noReference.insert(r.axes.filter { $0 != rows }.compactMap { e.coordinates[$0] }.joined(separator: " / "))
            }
            let ours = RunOutcome.classify(rec, reference: refBest, ratio: stallRatio)
            let family = familyOf[rowKey] ?? "other"
            total += 1
            perFamily[family, default: (0, 0)].total += 1
            if ours.failedToTrain == paperFailed {
                agree += 1; perFamily[family, default: (0, 0)].agree += 1
            } else {
                mismatches.append("\(e.coordinates.shortLabel): paper \(paperFailed ? "diverged" : "converged (\(cell))"), ours \(ours.text(reference: refName, ratio: stallRatio))")
            }
        }
        // Paper cells for which the grid has no run at all (e.g. a depth the reduced profile leaves out).
        for row in table.rows where exclude[row.label] == nil {
            for (c, col) in table.columns.enumerated() where !seenCells.contains(row.label + "\u{1}" + col) {
                if case .illegible = row.cells[c] { continue }
                unrun.append("\(row.label) / \(col) (not in this profile's grid)")
            }
        }
        var parts: [String] = []
        if total > 0 {
            parts.append("\(agree) of \(total) compared cells agree (\(Verdicts.fmt(100 * Double(agree) / Double(total), 0)) %; needs ≥ \(Verdicts.fmt(100 * threshold, 0)) %)")
            let famOrder = families.keys.sorted() + (perFamily["other"] != nil && families["other"] == nil ? ["other"] : [])
            parts.append("per family: " + famOrder.compactMap { f in perFamily[f].map { "\(f) \($0.agree)/\($0.total)" } }.joined(separator: ", "))
        }
        if !mismatches.isEmpty { parts.append("mismatches: " + mismatches.joined(separator: "; ")) }
        if !exclude.isEmpty { parts.append("excluded: " + exclude.keys.sorted().map { "\($0) (\(exclude[$0]!))" }.joined(separator: "; ")) }
        if !unrun.isEmpty { parts.append("not compared: " + unrun.joined(separator: "; ")) }
        if !noReference.isEmpty { parts.append("no converged \(referenceRow) at \(noReference.sorted().joined(separator: ", ")): stalls judged against the best run of that depth (G3)") }
        let ev = parts.joined(separator: "; ")
        // A pattern is judged over the whole grid: while runs of it are still to come, the claim waits (a partial
        // agreement rate, and stall references that later runs can change, would read as a verdict).
        if pending > 0 {
            return Verdicts.notRun(claim, "\(pending) of the \(gridCells) compared cells still to run" + (total > 0 ? "; so far \(agree) of \(total) finished cells agree" : ""))
        }
        // Nothing compared yet: say how many cells wait, not each one.
        if total == 0 { return Verdicts.notRun(claim, "no finished run corresponds to a compared cell of the paper's table (\(unrun.count) cells not compared)") }
        return ClaimVerdict(claim, Double(agree) >= threshold * Double(total) ? .reproduced : .notReproduced, ev)
    }

    // MARK: log law

    /// The paper's depth scaling law `y = A·ln d + B` (Fig. 8), as a pre-registered test.
    ///
    /// The rule: fit by least squares (`ScalingLaw.fit`) over the points; the claim is reproduced when
    ///   * A's 95 % t interval lies above 0 (the metric really grows with depth, beyond the scatter), and
    ///   * the log fit has a lower residual sum of squares than a straight line in d (both have two parameters,
    ///     so the comparison is fair without a penalty term).
    /// Inconclusive, with the reason, when fewer than `minPoints` distinct depths are given or they span less than
    /// `minRange`× (largest / smallest depth).
    ///
    /// Why: any monotone curve through three points over a 4× range fits a log law with R² ≥ 0.8, so R² alone says
    /// nothing. Five depths over ≥ 8× leave three degrees of freedom and enough curvature for ln d and d to make
    /// different predictions; the CI of A rules out "flat plus noise"; and beating the linear fit is what
    /// distinguishes "grows like log d" (diminishing returns per layer) from "grows with d".
    public static func logLaw(claim: String, points: [(depth: Double, value: Double)], minPoints: Int = 5,
                              minRange: Double = 8, metric: String = "y") -> ClaimVerdict {
        let depths = Set(points.map(\.depth))
        guard depths.count >= minPoints else {
            return ClaimVerdict(claim, .inconclusive, "\(depths.count) distinct depth(s); the log-law test needs at least \(minPoints)")
        }
        guard let lo = depths.min(), let hi = depths.max(), lo > 0 else {
            return ClaimVerdict(claim, .inconclusive, "depths must be positive")
        }
        guard hi / lo >= minRange else {
            return ClaimVerdict(claim, .inconclusive, "depths span \(Verdicts.fmt(hi / lo, 1))× (\(Verdicts.fmt(lo, 0))–\(Verdicts.fmt(hi, 0))); the log-law test needs at least \(Verdicts.fmt(minRange, 0))×")
        }
        let ds = points.map(\.depth), ys = points.map(\.value)
        let fit: ScalingLawFit
        do { fit = try ScalingLaw.fit(depths: ds, values: ys, bootstrapSamples: 0) } catch {
            return ClaimVerdict(claim, .inconclusive, "log-law fit failed: \(error)")
        }
        guard let logOLS = ScalingLaw.ols(ds.map { Foundation.log($0) }, ys), let linOLS = ScalingLaw.ols(ds, ys) else {
            return ClaimVerdict(claim, .inconclusive, "all depths are equal")
        }
        let ciLow = fit.tIntervalA[0], ciHigh = fit.tIntervalA[1]
        let ev = "\(metric) = A·ln d + B: A = \(Verdicts.fmt(fit.a, 3)) (95 % CI [\(Verdicts.fmt(ciLow, 3)), \(Verdicts.fmt(ciHigh, 3))]), "
            + "B = \(Verdicts.fmt(fit.b, 3)), R² = \(Verdicts.fmt(fit.rSquared, 3)), n = \(fit.n) over \(Verdicts.fmt(lo, 0))–\(Verdicts.fmt(hi, 0)); "
            + "SSE log \(Verdicts.fmt(logOLS.sse, 4)) vs linear in d \(Verdicts.fmt(linOLS.sse, 4))"
        var fails: [String] = []
        if !(ciLow > 0) { fails.append("A's 95 % CI does not lie above 0") }
        if !(logOLS.sse < linOLS.sse) { fails.append("the linear fit in d is at least as good") }
        return ClaimVerdict(claim, fails.isEmpty ? .reproduced : .notReproduced, ev + (fails.isEmpty ? "" : " — " + fails.joined(separator: "; ")))
    }

    // MARK: growth slope

    /// Least-squares slope of ln y against ln d with its standard error (nil SE for two points): the exponent k of
    /// y ∝ d^k. nil when fewer than two distinct depths or a non-positive value.
    public static func logLogSlope(_ points: [(depth: Double, value: Double)]) -> (slope: Double, standardError: Double?, n: Int)? {
        guard points.allSatisfy({ $0.depth > 0 && $0.value > 0 && $0.value.isFinite }) else { return nil }
        let x = points.map { Foundation.log($0.depth) }, y = points.map { Foundation.log($0.value) }
        guard let o = ScalingLaw.ols(x, y) else { return nil }
        let n = points.count
        let se: Double? = n > 2 ? (o.sse / Double(n - 2) / o.sxx).squareRoot() : nil
        return (o.a, se, n)
    }

    /// Fig. 4's growth claim as a rule on the exponent of ‖ΔF‖ ∝ depth^k: DeepNet's k ≤ `maxSlope` (0.6) and ≤
    /// `maxFraction` (half) of Post-LN's k. Point estimates decide; the standard errors are reported.
    ///
    /// Why: the paper's claim is that DeepNet's update is bounded where Post-LN's grows with depth. Under Adam the
    /// theory (Theorem 3) still lets DeepNet's update grow like √N (k = 0.5), so "flat" (max/min ≤ 2) is stricter
    /// than the paper; 0.6 allows the √N growth plus a little. Post-LN's update grows about linearly (k ≈ 1), so
    /// "at most half of Post-LN's" asks for the qualitative gap the figure shows rather than an absolute value,
    /// which depends on the instrument's scale.
    public static func updateGrowthSlope(claim: String, deepNet: [(depth: Double, value: Double)], postLN: [(depth: Double, value: Double)],
                                         maxSlope: Double = 0.6, maxFraction: Double = 0.5) -> ClaimVerdict {
        guard let d = logLogSlope(deepNet), let p = logLogSlope(postLN) else {
            return ClaimVerdict(claim, .inconclusive, "the log-log slope needs at least two depths with positive values on each side (DeepNet \(deepNet.count), Post-LN \(postLN.count))")
        }
        func s(_ x: (slope: Double, standardError: Double?, n: Int)) -> String {
            "\(Verdicts.fmt(x.slope, 3))" + (x.standardError.map { " ± \(Verdicts.fmt($0, 3))" } ?? "") + " (n = \(x.n))"
        }
        let ev = "log-log slope of the update vs depth: DeepNet \(s(d)), Post-LN \(s(p)); rule: DeepNet ≤ \(Verdicts.fmt(maxSlope, 2)) and ≤ \(Verdicts.fmt(maxFraction, 2)) × Post-LN (= \(Verdicts.fmt(maxFraction * p.slope, 3)))"
        var fails: [String] = []
        if !(d.slope <= maxSlope) { fails.append("DeepNet's slope is above \(Verdicts.fmt(maxSlope, 2))") }
        if !(d.slope <= maxFraction * p.slope) { fails.append("DeepNet's slope is above \(Verdicts.fmt(maxFraction, 2)) × Post-LN's") }
        return ClaimVerdict(claim, fails.isEmpty ? .reproduced : .notReproduced, ev + (fails.isEmpty ? "" : " — " + fails.joined(separator: "; ")))
    }
}
