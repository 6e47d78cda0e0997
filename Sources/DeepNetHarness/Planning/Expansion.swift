// Expands an experiment × profile into fully resolved runs, each with its identity:
//   runID = SHA-256( canonical JSON { config, data_fingerprint, engine_numerics_version, scheme } ).
// The canonical JSON has sorted keys and fixed number formatting (JSONValue.canonical), so the id is stable
// across processes and machines and changes exactly when a resolved field changes.
import DeepNetEngine
import Foundation

public enum RunIdentity {
    /// Bump when what goes into the hash, or how, changes (Snakemake's versioned hashing scheme).
    /// 2: BLEU decoding moved to DeepNetData's incremental beam search (results of scheme 1 are not reused).
    /// 3: the layering redesign (issue 12): Table XI's ablations became engine methods, the payload's keys are
    ///    snake_case like every other stored name. Results of scheme 2 (results/reduced/, made with engine
    ///    numerics 1) are not migrated; the reduced campaign re-runs them.
    public static let scheme = 3

    public static func payload(config: RunConfig, dataFingerprint: String, engineVersion: String) -> JSONValue {
        .object([
            "config": config.canonicalJSON(),
            "data_fingerprint": .string(dataFingerprint),
            "engine_numerics_version": .string(engineVersion),
            "scheme": .number(Double(scheme)),
        ])
    }

    public static func compute(config: RunConfig, dataFingerprint: String, engineVersion: String = engineNumericsVersion) -> String {
        SHA256.hash(payload(config: config, dataFingerprint: dataFingerprint, engineVersion: engineVersion).canonical)
    }
}

/// One resolved run of an experiment's grid.
public struct PlannedRun: Sendable {
    public var experimentID: String
    public var profile: Profile
    public var coordinates: Coordinates
    /// Axis name → the paper's row/column label for this run's level.
    public var paperKeys: [String: String]
    public var config: RunConfig
    public var dataFingerprint: String
    public var runID: String
    /// What this run's levels change relative to the profile's base configuration.
    public var overrides: [String]
}

/// What the expansion needs from the outside world.
public struct HarnessEnvironment: Sendable {
    /// Root of the real corpora (DEEPNET_DATA); nil means synthetic data only.
    public var dataRoot: URL?
    public var engineVersion: String
    /// Computes the fingerprint of a data specification (content hash of the files it reads).
    public var fingerprint: @Sendable (DataSpec, URL?) throws -> String

    public init(dataRoot: URL?, engineVersion: String = engineNumericsVersion,
                fingerprint: @escaping @Sendable (DataSpec, URL?) throws -> String) {
        self.dataRoot = dataRoot; self.engineVersion = engineVersion; self.fingerprint = fingerprint
    }

    /// DEEPNET_DATA from the process environment, the data module's fingerprints.
    public static func fromProcess() -> HarnessEnvironment {
        let root = ProcessInfo.processInfo.environment["DEEPNET_DATA"].flatMap { $0.isEmpty ? nil : URL(fileURLWithPath: $0) }
        return HarnessEnvironment(dataRoot: root, fingerprint: { spec, root in try DataGlue.fingerprint(spec, dataRoot: root) })
    }
}

public struct ExpansionError: Error, CustomStringConvertible {
    public var experiment: String
    public var coordinates: String
    public var underlying: Error
    public var description: String { "\(experiment) [\(coordinates)]: \(underlying)" }
}

public enum Expansion {
    /// The runs of `experiment` under `profile`, in grid order. Empty if the profile cannot run it.
    public static func expand(_ experiment: Experiment, profile: Profile, environment env: HarnessEnvironment) throws -> [PlannedRun] {
        let plan = experiment.plan(profile)
        guard let grid = plan.grid, plan.notRunReason == nil else { return [] }
        var fingerprints: [DataSpec: String] = [:]
        var out: [PlannedRun] = []
        for (coords, levels) in grid.combinations() {
            var c = grid.base
            // A plan that names real data (the reduced profile) always uses it, with or without DEEPNET_DATA: its run
            // ids are computable without the files (DataGlue.fingerprint), so the committed results are found, and
            // runs still to compute wait for the data (Runner.run) instead of silently training on synthetic data.
            // The smoke profile is the synthetic path.
            if let d = plan.data, profile != .smoke {
                c.data.dataset = d.real
                c.data.sourceLanguage = d.sourceLanguage
                c.data.targetLanguage = d.targetLanguage
            }
            var summaries: [String] = []
            for l in levels { for o in l.overrides { o.apply(&c); summaries.append(o.summary) } }
            // BLEU is scored the way the data set's definition says (one definition per data set).
            c.decode.bleuTokenize = DataGlue.bleuTokenize(for: c.data.dataset)
            var ms = Set(c.measurements).union(experiment.measurements)
            ms.formUnion([.trainLoss, .validLoss, .gradientNorm])
            ms.subtract(ms.filter { $0.isCrossRun })   // fitted at report time, not recorded per run
            c.measurements = ms.sorted()
            do { try c.validate() } catch { throw ExpansionError(experiment: experiment.id, coordinates: coords.description, underlying: error) }
            let fp: String
            if let known = fingerprints[c.data] { fp = known } else {
                do { fp = try env.fingerprint(c.data, env.dataRoot) } catch {
                    throw ExpansionError(experiment: experiment.id, coordinates: coords.description, underlying: error)
                }
                fingerprints[c.data] = fp
            }
            var keys: [String: String] = [:]
            for (ax, l) in zip(coords.axes, levels) { keys[ax] = l.paperKey ?? l.label }
            let id = RunIdentity.compute(config: c, dataFingerprint: fp, engineVersion: env.engineVersion)
            out.append(PlannedRun(experimentID: experiment.id, profile: profile, coordinates: coords, paperKeys: keys,
                                  config: c, dataFingerprint: fp, runID: id, overrides: summaries))
        }
        return out
    }
}
