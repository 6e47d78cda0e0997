// The declarative description of one table or figure of the paper: what it claims, the numbers it reports,
// the grid of runs per profile (a base RunConfig plus per-level overrides), what is measured, how it is
// rendered, and a verdict function over results.
import DeepNetData
import DeepNetEngine

/// One change to a base configuration. Variants state only what differs.
public struct Override: Sendable {
    public let summary: String
    let apply: @Sendable (inout RunConfig) -> Void

    public init(_ summary: String, _ apply: @escaping @Sendable (inout RunConfig) -> Void) {
        self.summary = summary; self.apply = apply
    }

    /// `.set(\.optimizer.lr, 1e-3)`
    public static func set<V: Sendable>(_ keyPath: WritableKeyPath<RunConfig, V>, _ value: V,
                                        as name: String? = nil) -> Override {
        nonisolated(unsafe) let kp = keyPath
        return Override("\(name ?? Override.pathName(keyPath)) = \(value)") { $0[keyPath: kp] = value }
    }

    static func pathName<V>(_ kp: WritableKeyPath<RunConfig, V>) -> String {
        // "\RunConfig.optimizer.lr" -> "optimizer.lr"
        let s = "\(kp)"
        if let r = s.range(of: "RunConfig.") { return String(s[r.upperBound...]) }
        return s
    }
}

/// One value of an axis of the grid (e.g. the method "Post-LN", the depth "18L-18L").
public struct Level: Sendable {
    public var label: String
    /// Row or column label of the paper's table that this level corresponds to (default: `label`).
    public var paperKey: String?
    public var overrides: [Override]
    public init(_ label: String, paperKey: String? = nil, _ overrides: [Override]) {
        self.label = label; self.paperKey = paperKey; self.overrides = overrides
    }
}

public struct Axis: Sendable {
    public var name: String
    public var levels: [Level]
    public init(_ name: String, _ levels: [Level]) { self.name = name; self.levels = levels }
}

/// Coordinates of a run inside an experiment's grid: one level label per axis, in axis order.
public struct Coordinates: Hashable, Codable, Sendable, CustomStringConvertible {
    public var axes: [String]
    public var labels: [String]
    public init(axes: [String], labels: [String]) { self.axes = axes; self.labels = labels }
    public subscript(axis: String) -> String? {
        guard let i = axes.firstIndex(of: axis) else { return nil }
        return labels[i]
    }
    public var dictionary: [String: String] { Dictionary(uniqueKeysWithValues: zip(axes, labels)) }
    public var description: String { zip(axes, labels).map { "\($0)=\($1)" }.joined(separator: " ") }
    /// Short label for plots and progress lines.
    public var shortLabel: String { labels.joined(separator: " / ") }
}

/// The runs of one profile: the cartesian product of the axes' levels, applied to `base`, minus excluded
/// combinations. Axis order is the order of application (later axes override earlier ones).
public struct RunGrid: Sendable {
    public var base: RunConfig
    public var axes: [Axis]
    public var include: (@Sendable ([String: String]) -> Bool)?
    public init(base: RunConfig, axes: [Axis], include: (@Sendable ([String: String]) -> Bool)? = nil) {
        self.base = base; self.axes = axes; self.include = include
    }

    public func axis(_ name: String) -> Axis? { axes.first { $0.name == name } }

    /// All combinations in a stable order (first axis outermost).
    public func combinations() -> [(Coordinates, [Level])] {
        var out: [(Coordinates, [Level])] = [(Coordinates(axes: [], labels: []), [])]
        for ax in axes {
            var next: [(Coordinates, [Level])] = []
            for (c, ls) in out {
                for l in ax.levels {
                    next.append((Coordinates(axes: c.axes + [ax.name], labels: c.labels + [l.label]), ls + [l]))
                }
            }
            out = next
        }
        if let inc = include { out = out.filter { inc($0.0.dictionary) } }
        return out
    }
}

/// Where the real data comes from in `reduced`: a data-set registry name used when DEEPNET_DATA is set;
/// otherwise the run uses `synthetic` (the resolved configuration, and so the run id, records which).
public struct DataChoice: Sendable {
    public var real: DataSetName
    public var sourceLanguage: String
    public var targetLanguage: String
    public var description: String
    public init(real: DataSetName, source: String, target: String, description: String) {
        self.real = real; self.sourceLanguage = source; self.targetLanguage = target; self.description = description
    }
}

public struct ProfilePlan: Sendable {
    public var grid: RunGrid?
    /// The real data set of this plan (reduced; ignored at the smoke profile), used whether or not DEEPNET_DATA is set
    /// (without it, runs with no result wait for the data: `Runner.run`); nil keeps `grid.base.data` as is.
    public var data: DataChoice?
    /// What this profile reproduces and how it differs from the paper, in plain words.
    public var notes: [String]
    /// Set when this profile cannot run this experiment at all.
    public var notRunReason: String?

    public static func runs(_ grid: RunGrid, data: DataChoice? = nil, notes: [String] = []) -> ProfilePlan {
        ProfilePlan(grid: grid, data: data, notes: notes, notRunReason: nil)
    }
    public static func notRunnable(_ reason: String, notes: [String] = []) -> ProfilePlan {
        ProfilePlan(grid: nil, data: nil, notes: notes, notRunReason: reason)
    }
}

/// Which part of the paper an experiment reproduces (used by the completeness test).
public enum PaperArtifact: Hashable, Sendable, CustomStringConvertible {
    case table(Int)
    /// Several tables reported as one experiment (Tables VII–IX).
    case tables([Int])
    case figure(Int)

    public var description: String {
        switch self {
        case .table(let n): return "Table \(PaperArtifact.roman(n))"
        case .tables(let ns): return "Tables " + [ns.first, ns.last].compactMap { $0 }.map(PaperArtifact.roman).joined(separator: "–")
        case .figure(let n): return "Fig. \(n)"
        }
    }

    public var tableNumbers: [Int] {
        switch self { case .table(let n): return [n]; case .tables(let ns): return ns; case .figure: return [] }
    }
    public var figureNumber: Int? { if case .figure(let n) = self { return n }; return nil }

    public static func roman(_ n: Int) -> String {
        let table: [(Int, String)] = [(10, "X"), (9, "IX"), (5, "V"), (4, "IV"), (1, "I")]
        var n = n, s = ""
        for (v, r) in table { while n >= v { s += r; n -= v } }
        return s
    }
}

/// Scalar metrics of a finished run that renders and verdicts can use.
public enum Metric: String, Sendable, CaseIterable {
    case bleu
    case finalValidLoss = "final-valid-loss"
    case bestValidLoss = "best-valid-loss"
    case perplexity
    case finalTrainLoss = "final-train-loss"
    case divergedAt = "diverged-at"

    public var title: String {
        switch self {
        case .bleu: return "BLEU"
        case .finalValidLoss: return "final valid loss"
        case .bestValidLoss: return "best valid loss"
        case .perplexity: return "valid perplexity"
        case .finalTrainLoss: return "final train loss"
        case .divergedAt: return "diverged at step"
        }
    }
    public var higherIsBetter: Bool { self == .bleu }
}

/// Per-step curves recorded by every run.
public enum CurveKind: String, Sendable {
    case trainLoss = "train-loss", validLoss = "valid-loss", gradNorm = "grad-norm", lr
    public var title: String {
        switch self {
        case .trainLoss: return "train loss"
        case .validLoss: return "validation loss"
        case .gradNorm: return "gradient norm"
        case .lr: return "learning rate"
        }
    }
}

/// How an experiment is rendered in its report.
public enum Render: Sendable {
    /// A table laid out like the paper's: rows = levels of `rows`, columns = levels of `columns`,
    /// each cell "ours (paper)". Extra axes (if any) become separate tables.
    case table(rows: String, columns: String, metric: Metric)
    /// Curves over training steps, one line per level of `series`, one plot per level of `panels`.
    case curves(CurveKind, series: String, panels: String? = nil, logY: Bool = false)
    /// A scalar metric against the levels of `x` (numeric labels), one line per level of `series`.
    case metricVsAxis(Metric, x: String, series: String? = nil, logX: Bool = false)
    /// Grouped bars of a scalar metric, one chart per level of `panels` (Table II: one per language pair).
    case bars(Metric, groups: String, series: String? = nil, panels: String? = nil)
    /// Heat map of a scalar metric over two axes.
    case heatmap(Metric, x: String, y: String)
    /// Data recorded by a training-dynamics instrument; rendered once the instrument writes it.
    case diagnostic(MeasurementKind, series: String, panels: String? = nil, logY: Bool = false)
    /// A figure of the experiment's own, drawn by a function in its file (README "Adding a report figure").
    case custom(ReportFigure)
    /// One named 1-D array recorded by an instrument (e.g. `.modelUpdate`'s "delta_f_pre_ln") against its steps:
    /// one panel per level of `panels`, one line per level of `series`. Draws nothing, and says so, when no run has it.
    case diagnosticArray(MeasurementKind, array: String, series: String, panels: String? = nil, logY: Bool = false)
}

/// A report section drawn by an experiment's own function: from the results and the base name its SVG files must
/// start with (`<id>-<index>`), the Markdown text and the figures as (file name, SVG text).
public struct ReportFigure: Sendable {
    public var name: String
    public var draw: @Sendable (_ results: ExperimentResults, _ figureBase: String) -> (markdown: String, figures: [(String, String)])
    public init(_ name: String, _ draw: @escaping @Sendable (_ results: ExperimentResults, _ figureBase: String) -> (markdown: String, figures: [(String, String)])) {
        self.name = name; self.draw = draw
    }
}

/// A claim's verdict.
public enum VerdictStatus: String, Sendable, Codable {
    case reproduced
    case notReproduced = "not reproduced"
    /// The runs finished but cannot decide the claim (e.g. every BLEU compared is at the level of a barely
    /// trained model, where orderings are noise).
    case inconclusive
    case notRun = "not run"
}

public struct ClaimVerdict: Sendable {
    public var claim: String
    public var status: VerdictStatus
    public var evidence: String
    public init(_ claim: String, _ status: VerdictStatus, _ evidence: String) {
        self.claim = claim; self.status = status; self.evidence = evidence
    }
}

public struct Experiment: Sendable {
    public var id: String
    public var title: String
    public var artifact: PaperArtifact
    /// The paper's claim in one sentence.
    public var claim: String
    /// The paper's reported numbers, transcribed from the text.
    public var paper: PaperNumbers
    /// The paper's data set and setup, in words.
    public var paperSetup: String
    /// What is measured, in words.
    public var measured: String
    /// Measurements every run of this experiment records (merged into each run's configuration).
    public var measurements: [MeasurementKind]
    public var renders: [Render]
    public var profiles: [Profile: ProfilePlan]
    /// Verdict per claim, computed from results only.
    public var verdict: @Sendable (ExperimentResults) -> [ClaimVerdict]
    /// The paper's number to show next to a run's (default: the first paper table, row = paper key of the
    /// table's row axis, column = paper keys of the other axes joined by a space).
    public var paperCell: (@Sendable (ResultEntry) -> PaperCell?)?
    /// Our cell of a run in the report's tables when it is not the plain metric (e.g. "stalled (5.9 vs 3.8)" from a
    /// run-outcome classification); nil keeps the default ("27.1", "diverged at step 312", "failed").
    public var cellOutcome: (@Sendable (ExperimentResults, ResultEntry) -> String?)?
    /// One sentence of what the numbers show, computed from the results (never typed in), shown in the report under the
    /// verdicts and in the reports index after the verdict counts ("2 of 3 claims reproduced; …"). "" while the runs it
    /// reads are missing; nil: counts only.
    public var summary: (@Sendable (ExperimentResults, [ClaimVerdict]) -> String)?
    /// Changes to the reduced plan or verdict rules made after the pre-registration (docs/preregistration.md), one line
    /// each, naming the commit and why; the report lists them.
    public var changesAfterPreregistration: [String] = []

    public init(id: String, title: String, artifact: PaperArtifact, claim: String, paper: PaperNumbers,
                paperSetup: String, measured: String, measurements: [MeasurementKind], renders: [Render],
                profiles: [Profile: ProfilePlan],
                paperCell: (@Sendable (ResultEntry) -> PaperCell?)? = nil,
                cellOutcome: (@Sendable (ExperimentResults, ResultEntry) -> String?)? = nil,
                summary: (@Sendable (ExperimentResults, [ClaimVerdict]) -> String)? = nil,
                verdict: @escaping @Sendable (ExperimentResults) -> [ClaimVerdict]) {
        self.id = id; self.title = title; self.artifact = artifact; self.claim = claim; self.paper = paper
        self.paperSetup = paperSetup; self.measured = measured; self.measurements = measurements
        self.renders = renders; self.profiles = profiles; self.verdict = verdict; self.paperCell = paperCell
        self.cellOutcome = cellOutcome; self.summary = summary
    }

    public func plan(_ p: Profile) -> ProfilePlan {
        profiles[p] ?? .notRunnable("no \(p.rawValue) profile declared")
    }

    /// Measurements this experiment needs that no instrument records yet.
    public var pendingInstruments: [MeasurementKind] {
        measurements.filter { !$0.isBuiltIn && !InstrumentSupport.available.contains($0) }
    }
}

/// Which training-dynamics instruments the executor can record today. Extended as instruments are wired.
public enum InstrumentSupport {
    public static let available: Set<MeasurementKind> = RunInstruments.supported.union([.scalingLawFit])
}
