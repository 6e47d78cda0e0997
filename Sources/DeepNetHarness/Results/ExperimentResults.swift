// The results of one experiment under one profile, as read from its index and run files. Reports and verdicts
// see only this value.

public struct ResultEntry: Sendable {
    public var coordinates: Coordinates
    public var paperKeys: [String: String]
    public var runID: String
    /// What this run's levels override relative to the profile's base configuration.
    public var overrides: [String]
    /// nil if the run has not finished (or its file is missing, corrupt or of a foreign schema: see `problem`).
    public var record: RunRecord?
    public var problem: String?

    public init(coordinates: Coordinates, paperKeys: [String: String], runID: String, overrides: [String] = [],
                record: RunRecord?, problem: String? = nil) {
        self.coordinates = coordinates; self.paperKeys = paperKeys; self.runID = runID
        self.overrides = overrides; self.record = record; self.problem = problem
    }

    public var status: RunStatus? { record?.status }
}

public struct ExperimentResults: Sendable {
    public var experiment: Experiment
    /// nil when there are no results at all.
    public var profile: Profile?
    public var axes: [String]
    public var entries: [ResultEntry]
    /// The base configuration of the profile's grid, as recorded in the index (JSON).
    public var baseConfig: JSONValue?

    public init(experiment: Experiment, profile: Profile?, axes: [String], entries: [ResultEntry], baseConfig: JSONValue? = nil) {
        self.experiment = experiment; self.profile = profile; self.axes = axes; self.entries = entries; self.baseConfig = baseConfig
    }

    /// Level labels of an axis, in grid order.
    public func levels(_ axis: String) -> [String] {
        var seen: [String] = []
        for e in entries { if let l = e.coordinates[axis], !seen.contains(l) { seen.append(l) } }
        // Order as declared in the experiment's grid (results may list combinations in another order).
        if let p = profile, let declared = experiment.plan(p).grid?.axis(axis)?.levels.map(\.label) {
            return seen.sorted { (declared.firstIndex(of: $0) ?? Int.max, $0) < (declared.firstIndex(of: $1) ?? Int.max, $1) }
        }
        return seen
    }

    /// Entries whose coordinates match every (axis, label) pair of `selector`.
    public func entries(_ selector: [String: String]) -> [ResultEntry] {
        entries.filter { e in selector.allSatisfy { e.coordinates[$0.key] == $0.value } }
    }

    public func entry(_ selector: [String: String]) -> ResultEntry? { entries(selector).first }
    public func record(_ selector: [String: String]) -> RunRecord? { entry(selector)?.record }

    public var finished: [ResultEntry] { entries.filter { $0.record != nil } }
    public var isComplete: Bool { !entries.isEmpty && entries.allSatisfy { $0.record != nil } }
    public var hasAny: Bool { entries.contains { $0.record != nil } }
    public var progressText: String { "\(finished.count) of \(entries.count) runs finished" }
}
