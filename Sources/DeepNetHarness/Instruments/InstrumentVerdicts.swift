// Instruments: the depth scaling-law verdict (BLEU = A·ln(depth) + B), a rule over any experiment's runs along a
// depth axis. The per-figure rules of Fig. 1–5 live in their experiments' files (experiments/Fig1.swift …).
import Foundation
import DeepNetEngine

public enum InstrumentVerdicts {
    static func f(_ x: Double?, _ d: Int = 3) -> String { Verdicts.fmt(x, d) }

    // MARK: fig8 (cross-run)
    /// BLEU = A·ln(depth) + B over converged runs along `axis` (total layers), with SEs and a bootstrap CI;
    /// reproduced when A > 0 with its 95 % bootstrap (or t) interval above 0.
    public static func scalingLaw(_ r: ExperimentResults, axis: String = "layers", metric: Metric = .bleu,
                                  claim: String = "BLEU follows A·ln(depth) + B with A > 0 (95 % interval of A above 0).") -> ClaimVerdict {
        if let v = Verdicts.requireRuns(r, claim) { return v }
        let pts = scalingPoints(r, axis: axis, metric: metric)
        guard pts.count >= 3, let fit = try? ScalingLaw.fit(depths: pts.map(\.0), values: pts.map(\.1)) else {
            return Verdicts.notRun(claim, "fewer than three converged depths with \(metric.title)")
        }
        let lo = fit.bootstrapIntervalA.first ?? fit.tIntervalA[0]
        let ev = fit.formula(metric: metric.title) + "; 95 % bootstrap CI of A [\(f(fit.bootstrapIntervalA.first)), \(f(fit.bootstrapIntervalA.last))], t CI [\(f(fit.tIntervalA[0])), \(f(fit.tIntervalA[1]))]"
        if let v = Verdicts.bleuTooLowToCompare(claim, metric: metric, values: pts.map(\.1), evidence: ev) { return v }
        return ClaimVerdict(claim, fit.a > 0 && lo > 0 ? .reproduced : .notReproduced, ev)
    }

    /// (total layers, metric) of converged runs.
    public static func scalingPoints(_ r: ExperimentResults, axis: String = "layers", metric: Metric = .bleu) -> [(Double, Double)] {
        r.entries.compactMap { e in
            guard let rec = e.record, rec.status == .ok, let v = rec.value(metric), v.isFinite, let l = e.coordinates[axis] else { return nil }
            let d = Verdicts.numericValue(l)
            return d > 0 ? (d, v) : nil
        }.sorted { $0.0 < $1.0 }
    }
}
