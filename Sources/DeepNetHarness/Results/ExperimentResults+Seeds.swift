// Aggregation over repeated runs of one configuration (a "seed" axis in an experiment's grid): which records a
// selector picks, and the mean and spread of a metric over them.

/// A metric over the runs one selector picks (typically the seeds of one configuration).
public struct SeedSummary: Sendable, Equatable {
    /// (label of the seed axis, or the run's short label when there is no such axis; value) of every finished,
    /// converged run with a finite value, in grid order.
    public var values: [Value]
    /// Runs matching the selector that contribute no value: not run, failed, diverged, or without this metric
    /// (short label and why).
    public var excluded: [String]

    public struct Value: Sendable, Equatable {
        public var label: String
        public var value: Double
        public init(label: String, value: Double) { self.label = label; self.value = value }
    }

    public init(values: [Value], excluded: [String] = []) { self.values = values; self.excluded = excluded }

    public var count: Int { values.count }
    public var mean: Double { values.isEmpty ? .nan : values.map(\.value).reduce(0, +) / Double(values.count) }
    public var min: Double { values.map(\.value).min() ?? .nan }
    public var max: Double { values.map(\.value).max() ?? .nan }
    /// max − min: with two or three seeds a standard deviation is itself too noisy to trust, the range is the
    /// plainer (and, for so few values, more conservative) statement of how much the seeds disagree. 0 for one value.
    public var spread: Double { values.isEmpty ? .nan : max - min }

    /// "28.40 (seed 1: 28.10, seed 2: 28.70; spread 0.60)" — or just the value when there is one run.
    public func text(digits: Int = 2, axis: String = "seed") -> String {
        guard values.count > 1 else { return values.first.map { Verdicts.fmt($0.value, digits) } ?? "n/a" }
        return "\(Verdicts.fmt(mean, digits)) (" + values.map { "\(axis) \($0.label): \(Verdicts.fmt($0.value, digits))" }.joined(separator: ", ")
            + "; spread \(Verdicts.fmt(spread, digits)))"
    }
}

extension ExperimentResults {
    /// Every finished record whose coordinates match `selector` on the axes it names (axes it leaves out match
    /// any level: a selector without "seed" returns every seed of the configuration), in grid order.
    public func records(matching selector: [String: String]) -> [RunRecord] {
        entries(selector).compactMap(\.record)
    }

    /// Mean and spread of `metric` over the converged runs matching `selector`; runs that did not converge (or
    /// have no value) are listed in `excluded`, not averaged. nil when no run contributes a value.
    public func meanValue(_ metric: Metric, matching selector: [String: String], seedAxis: String = "seed") -> SeedSummary? {
        var values: [SeedSummary.Value] = [], excluded: [String] = []
        for e in entries(selector) {
            let label = e.coordinates[seedAxis] ?? e.coordinates.shortLabel
            guard let r = e.record else { excluded.append("\(label): not run"); continue }
            guard r.status == .ok else { excluded.append("\(label): \(r.status.rawValue)"); continue }
            guard let v = r.value(metric), v.isFinite else { excluded.append("\(label): no \(metric.title)"); continue }
            values.append(SeedSummary.Value(label: label, value: v))
        }
        return values.isEmpty ? nil : SeedSummary(values: values, excluded: excluded)
    }
}
