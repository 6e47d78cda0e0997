// One HDF5 file per run (schema documented in results/README.md) and one index.json per experiment.
//
// Layout of a results folder (default results/<profile>):
//   runs/<run id>.h5          one finished run (ok, diverged or failed), written atomically
//   <experiment>/index.json   the experiment's grid → run ids, written atomically
//   logs/<run id>.log         the training log of the run
//   models/<run id>.h5        the run's final model, only with `deepnet run --keep-models` (ModelFile.swift);
//   models/<run id>.best.h5   its best-validation model with `--keep-models --save-best`
//   .work/<run id>/           spec, checkpoint and progress of an unfinished run (removed when it finishes)
//   .lock                     flock(2) lock held by a runner
import DeepNetData
import DeepNetEngine
import Foundation
import HDF5Store
#if canImport(Glibc)
import Glibc
#endif

public enum ResultSchema {
    public static let name = "deepnet-run-result"
    public static let version = 1
    public static let indexName = "deepnet-experiment-index"
    public static let indexVersion = 1
}

public struct ResultStoreError: Error, CustomStringConvertible {
    public enum Kind: String { case foreignSchema, corrupt, missing, io }
    public var kind: Kind
    public var path: String
    public var message: String
    public var description: String { "\(path): \(message)" }
}

public struct ResultStore: Sendable {
    public let root: URL

    public init(root: URL) { self.root = root }

    public var runsDir: URL { root.appendingPathComponent("runs") }
    public var logsDir: URL { root.appendingPathComponent("logs") }
    public var workDir: URL { root.appendingPathComponent(".work") }
    public var lockFile: URL { root.appendingPathComponent(".lock") }

    public func runFile(_ id: String) -> URL { runsDir.appendingPathComponent("\(id).h5") }
    public func logFile(_ id: String) -> URL { logsDir.appendingPathComponent("\(id).log") }
    public func workDir(_ id: String) -> URL { workDir.appendingPathComponent(id) }
    public var modelsDir: URL { root.appendingPathComponent("models") }
    public func modelFile(_ id: String, best: Bool = false) -> URL { modelsDir.appendingPathComponent("\(id)\(best ? ".best" : "").h5") }
    public func indexFile(_ experiment: String) -> URL { root.appendingPathComponent(experiment).appendingPathComponent("index.json") }

    public func prepare() throws {
        for d in [root, runsDir, logsDir, workDir] {
            try FileManager.default.createDirectory(at: d, withIntermediateDirectories: true)
        }
    }

    // MARK: run files

    /// Writes a run record atomically (temporary file + fsync + rename): a crash or a full disk leaves the
    /// previous file, if any, intact and no partial file under the final name.
    public func write(_ r: RunRecord) throws {
        try FileManager.default.createDirectory(at: runsDir, withIntermediateDirectories: true)
        try HDF5File.writeAtomically(to: runFile(r.runID)) { f in try ResultStore.encode(r, into: f) }
    }

    /// Reads a run file at any path (e.g. `deepnet inspect`): the same checks as `read(_:)` except the file name.
    public static func readRunFile(_ url: URL) throws -> RunRecord {
        try readChecked(url, name: url.relativePath, unreadable: "not a readable HDF5 file")
    }

    /// Reads a run record. Throws `.missing`, `.foreignSchema` (wrong schema name/version, or a run id that does
    /// not match the file name) or `.corrupt` (unreadable HDF5, missing datasets).
    public func read(_ id: String) throws -> RunRecord {
        let url = runFile(id)
        let name = "runs/\(id).h5"
        guard FileManager.default.fileExists(atPath: url.path) else {
            throw ResultStoreError(kind: .missing, path: name, message: "no result file")
        }
        let r = try ResultStore.readChecked(url, name: name, unreadable: "corrupt result file")
        guard r.runID == id else {
            throw ResultStoreError(kind: .foreignSchema, path: name, message: "file holds run \(r.runID), not \(id)")
        }
        return r
    }

    /// Opens a run file, checks its schema name and version, and decodes it; every failure becomes a
    /// `ResultStoreError` that names the file (`name`) — the one place both readers share.
    static func readChecked(_ url: URL, name: String, unreadable: String) throws -> RunRecord {
        let f: HDF5File
        do { f = try HDF5File.open(url) } catch {
            throw ResultStoreError(kind: .corrupt, path: name, message: "\(unreadable) (\(error))")
        }
        defer { f.close() }
        let schema = (try? f.stringAttribute("schema")) ?? nil
        let version = (try? f.intAttribute("schema_version")) ?? nil
        guard schema == ResultSchema.name, version == ResultSchema.version else {
            throw ResultStoreError(kind: .foreignSchema, path: name,
                                   message: "foreign schema \(schema ?? "none") version \(version.map(String.init) ?? "none") (expected \(ResultSchema.name) version \(ResultSchema.version))")
        }
        do { return try decode(f) } catch {
            throw ResultStoreError(kind: .corrupt, path: name, message: "corrupt result file (\(error))")
        }
    }

    static func encode(_ r: RunRecord, into f: HDF5File) throws {
        let configJSON = r.config.canonicalJSON()
        try f.setAttribute("schema", ResultSchema.name)
        try f.setAttribute("schema_version", ResultSchema.version)
        try f.setAttribute("run_id", r.runID)
        try f.setAttribute("status", r.status.rawValue)
        try f.setAttribute("diverged_at_step", r.divergedAtStep ?? -1)
        try f.setAttribute("message", r.message ?? "")
        try f.setAttribute("engine_numerics_version", r.engineNumericsVersion)
        try f.setAttribute("data_fingerprint", r.dataFingerprint)
        try f.setAttribute("config_json", configJSON.canonical)

        // /config: the resolved configuration, one attribute per leaf (dot paths) plus the JSON text.
        try f.createGroup("config")
        try f.writeString(configJSON.pretty, at: "config/json")
        for (path, value) in flatten(configJSON) {
            switch value {
            case .string(let s): try f.setAttribute(path, s, on: "config")
            case .bool(let b): try f.setAttribute(path, b ? 1 : 0, on: "config")
            case .number(let d):
                if d == d.rounded(), abs(d) < 9e15 { try f.setAttribute(path, Int(d), on: "config") } else { try f.setAttribute(path, d, on: "config") }
            case .null: try f.setAttribute(path, "null", on: "config")
            case .array(let a):
                let nums = a.compactMap { v -> Double? in if case .number(let d) = v { return d }; return nil }
                if nums.count == a.count && !a.isEmpty { try f.setAttribute(path, nums, on: "config") }
                else { try f.setAttribute(path, JSONValue.array(a).canonical, on: "config") }
            case .object(let o): try f.setAttribute(path, JSONValue.object(o).canonical, on: "config")
            }
        }

        let c = r.curves
        try f.createGroup("curves")
        try f.write(c.steps.map(Int64.init), shape: [c.steps.count], at: "curves/step")
        try f.write(c.trainLoss, shape: [c.trainLoss.count], at: "curves/train_loss")
        try f.write(c.lr, shape: [c.lr.count], at: "curves/lr")
        try f.write(c.gradNorm, shape: [c.gradNorm.count], at: "curves/grad_norm")
        try f.write(c.validSteps.map(Int64.init), shape: [c.validSteps.count], at: "curves/valid_step")
        try f.write(c.validLoss, shape: [c.validLoss.count], at: "curves/valid_loss")

        let m = r.metrics
        try f.createGroup("metrics")
        func opt(_ name: String, _ x: Double?) throws { try f.setAttribute(name, x ?? .nan, on: "metrics") }
        try opt("bleu", m.bleu)
        try f.setAttribute("bleu_signature", m.bleuSignature ?? "", on: "metrics")
        try opt("valid_loss", m.validLoss)
        try opt("best_valid_loss", m.bestValidLoss)
        try opt("perplexity", m.perplexity)
        try opt("final_train_loss", m.finalTrainLoss)
        try f.setAttribute("steps_completed", m.stepsCompleted, on: "metrics")
        try f.setAttribute("train_tokens", m.trainTokens, on: "metrics")
        try f.setAttribute("parameters", m.parameters, on: "metrics")
        try f.setAttribute("wall_seconds", m.wallSeconds, on: "metrics")
        try opt("decode_seconds", m.decodeSeconds)
        try f.setAttribute("test_sentences_truncated", m.testSentencesTruncated, on: "metrics")
        try opt("memory_estimate_bytes", m.memoryEstimateBytes)
        try opt("peak_rss_bytes", m.peakRSSBytes)
        // Multilingual runs only: per-direction BLEU as attributes of /metrics/bleu_by_direction ("de-en" = 31.2),
        // and the X→English / English→X means.
        if !m.bleuByDirection.isEmpty {
            try f.createGroup("metrics/bleu_by_direction")
            for (d, b) in m.bleuByDirection.sorted(by: { $0.key < $1.key }) { try f.setAttribute(d, b, on: "metrics/bleu_by_direction") }
            try opt("bleu_to_english", m.bleuToEnglish)
            try opt("bleu_from_english", m.bleuFromEnglish)
        }

        // /diagnostics/<measurement>/<array>: reserved for the training-dynamics instruments; a group exists for
        // every requested instrument measurement, empty until the instrument writes into it.
        try f.createGroup("diagnostics")
        for ms in r.config.measurements where !ms.isBuiltIn { try f.createGroup("diagnostics/\(ms.rawValue)") }
        for (measurement, arrays) in r.diagnostics.sorted(by: { $0.key < $1.key }) {
            try f.createGroup("diagnostics/\(measurement)")
            for a in arrays {
                let p = "diagnostics/\(measurement)/\(a.name)"
                try f.write(a.values, shape: a.shape, at: p)
                for (k, v) in a.attributes.sorted(by: { $0.key < $1.key }) { try f.setAttribute(k, v, on: p) }
            }
        }

        try f.writeStrings(r.hypotheses, at: "hypotheses")
        // Per-sentence BLEU statistics (rows parallel to /hypotheses); written only when the run scored BLEU.
        if !r.bleuSentenceStats.isEmpty {
            let (rows, width) = TestSetBLEU.rows(r.bleuSentenceStats)
            try f.write(rows, shape: [r.bleuSentenceStats.count, width], at: "bleu_sentence_stats")
            let order = (width - 2) / 2
            try f.setAttribute("columns", TestSetBLEU.columnNames(order: order).joined(separator: " "), on: "bleu_sentence_stats")
        }
        // Multilingual runs: each sentence's direction, so comparisons can resample within directions.
        if !r.bleuSentenceDirections.isEmpty {
            try f.writeStrings(r.bleuSentenceDirections, at: "bleu_sentence_directions")
        }

        let p = r.provenance
        try f.createGroup("provenance")
        let pv: [(String, String)] = [
            ("git_commit", p.gitCommit), ("engine_numerics_version", p.engineNumericsVersion),
            ("harness_version", p.harnessVersion), ("openblas_num_threads", p.threads), ("cpu_model", p.cpuModel),
            ("hdf5_version", p.hdf5Version), ("openblas_config", p.openblasConfig), ("swift_version", p.swiftVersion),
            ("start_time", p.startTime), ("end_time", p.endTime),
        ]
        for (k, v) in pv { try f.setAttribute(k, v, on: "provenance") }
        try f.setAttribute("git_dirty", p.gitDirty ? 1 : 0, on: "provenance")
        try f.setAttribute("resumed_count", p.resumedCount, on: "provenance")
    }

    static func decode(_ f: HDF5File) throws -> RunRecord {
        func s(_ n: String, on p: String = "/") throws -> String {
            guard let v = try f.stringAttribute(n, on: p) else { throw ResultStoreError(kind: .corrupt, path: p, message: "missing attribute \(n)") }
            return v
        }
        func i(_ n: String, on p: String = "/") throws -> Int {
            guard let v = try f.intAttribute(n, on: p) else { throw ResultStoreError(kind: .corrupt, path: p, message: "missing attribute \(n)") }
            return v
        }
        func d(_ n: String, on p: String) throws -> Double? {
            guard let v = try f.doubleAttribute(n, on: p) else { return nil }
            return v.isNaN ? nil : v
        }
        let config = try JSONValue.parse(try s("config_json")).decode(RunConfig.self)
        guard let status = RunStatus(rawValue: try s("status")) else {
            throw ResultStoreError(kind: .corrupt, path: "/", message: "bad status")
        }
        let div = try i("diverged_at_step")
        let msg = try s("message")
        var c = Curves()
        c.steps = try f.readInt64s(at: "curves/step").values.map { Int($0) }
        c.trainLoss = try f.readDoubles(at: "curves/train_loss").values
        c.lr = try f.readDoubles(at: "curves/lr").values
        c.gradNorm = try f.readDoubles(at: "curves/grad_norm").values
        c.validSteps = try f.readInt64s(at: "curves/valid_step").values.map { Int($0) }
        c.validLoss = try f.readDoubles(at: "curves/valid_loss").values
        guard c.trainLoss.count == c.steps.count, c.validLoss.count == c.validSteps.count else {
            throw ResultStoreError(kind: .corrupt, path: "curves", message: "curve lengths differ")
        }
        var m = FinalMetrics()
        m.bleu = try d("bleu", on: "metrics")
        let sig = try s("bleu_signature", on: "metrics")
        m.bleuSignature = sig.isEmpty ? nil : sig
        m.validLoss = try d("valid_loss", on: "metrics")
        m.bestValidLoss = try d("best_valid_loss", on: "metrics")
        m.perplexity = try d("perplexity", on: "metrics")
        m.finalTrainLoss = try d("final_train_loss", on: "metrics")
        m.stepsCompleted = try i("steps_completed", on: "metrics")
        m.trainTokens = try i("train_tokens", on: "metrics")
        m.parameters = try i("parameters", on: "metrics")
        m.wallSeconds = try d("wall_seconds", on: "metrics") ?? 0
        m.decodeSeconds = try d("decode_seconds", on: "metrics")
        // Absent from files written before the admission check (read as 0 / unknown).
        m.testSentencesTruncated = try f.intAttribute("test_sentences_truncated", on: "metrics") ?? 0
        m.memoryEstimateBytes = try d("memory_estimate_bytes", on: "metrics")
        m.peakRSSBytes = try d("peak_rss_bytes", on: "metrics")
        // Absent from single-direction runs and from files written before per-direction BLEU.
        if f.exists("metrics/bleu_by_direction") {
            for a in try f.attributeNames(on: "metrics/bleu_by_direction") {
                if let v = try f.doubleAttribute(a, on: "metrics/bleu_by_direction") { m.bleuByDirection[a] = v }
            }
        }
        m.bleuToEnglish = try d("bleu_to_english", on: "metrics")
        m.bleuFromEnglish = try d("bleu_from_english", on: "metrics")
        var diags: [String: [DiagnosticArray]] = [:]
        for ms in try f.children(of: "diagnostics") {
            var arrays: [DiagnosticArray] = []
            for name in try f.children(of: "diagnostics/\(ms)") {
                let p = "diagnostics/\(ms)/\(name)"
                let (vals, shape) = try f.readDoubles(at: p)
                var attrs: [String: String] = [:]
                for a in try f.attributeNames(on: p) { if let v = try f.stringAttribute(a, on: p) { attrs[a] = v } }
                arrays.append(DiagnosticArray(name: name, shape: shape, values: vals, attributes: attrs))
            }
            if !arrays.isEmpty { diags[ms] = arrays }
        }
        let hyps = try f.readStrings(at: "hypotheses").values
        // Absent from files written before the statistics were recorded, and from runs without test BLEU: empty.
        var sentenceStats: [BLEUStats] = []
        if f.exists("bleu_sentence_stats") {
            let (v, shape) = try f.readInt64s(at: "bleu_sentence_stats")
            guard let st = TestSetBLEU.stats(values: v, shape: shape) else {
                throw ResultStoreError(kind: .corrupt, path: "bleu_sentence_stats", message: "shape \(shape) is not [sentences × (2 + 2·order)]")
            }
            sentenceStats = st
        }
        var sentenceDirections: [String] = []
        if f.exists("bleu_sentence_directions") {
            sentenceDirections = try f.readStrings(at: "bleu_sentence_directions").values
            guard sentenceDirections.count == sentenceStats.count else {
                throw ResultStoreError(kind: .corrupt, path: "bleu_sentence_directions",
                                       message: "\(sentenceDirections.count) directions for \(sentenceStats.count) sentence statistics (expected one per sentence)")
            }
        }
        var p = Provenance()
        p.gitCommit = try s("git_commit", on: "provenance")
        p.gitDirty = try i("git_dirty", on: "provenance") != 0
        p.engineNumericsVersion = try s("engine_numerics_version", on: "provenance")
        p.harnessVersion = try s("harness_version", on: "provenance")
        p.threads = try s("openblas_num_threads", on: "provenance")
        p.cpuModel = try s("cpu_model", on: "provenance")
        p.hdf5Version = try s("hdf5_version", on: "provenance")
        p.openblasConfig = try s("openblas_config", on: "provenance")
        p.swiftVersion = try s("swift_version", on: "provenance")
        p.startTime = try s("start_time", on: "provenance")
        p.endTime = try s("end_time", on: "provenance")
        p.resumedCount = try i("resumed_count", on: "provenance")
        return RunRecord(runID: try s("run_id"), config: config, dataFingerprint: try s("data_fingerprint"),
                         engineNumericsVersion: try s("engine_numerics_version"), status: status,
                         divergedAtStep: div >= 0 ? div : nil, message: msg.isEmpty ? nil : msg, curves: c, metrics: m,
                         diagnostics: diags, hypotheses: hyps, provenance: p, bleuSentenceStats: sentenceStats,
                         bleuSentenceDirections: sentenceDirections)
    }

    /// Leaves of a JSON object as (dot path, value), sorted by path.
    static func flatten(_ v: JSONValue, prefix: String = "") -> [(String, JSONValue)] {
        if case .object(let o) = v {
            return o.keys.sorted().flatMap { k in flatten(o[k]!, prefix: prefix.isEmpty ? k : prefix + "." + k) }
        }
        return [(prefix, v)]
    }

    // MARK: experiment index

    public struct IndexEntry: Codable, Sendable {
        public var coordinates: [String]
        public var paperKeys: [String: String]
        public var runID: String
        public var file: String
        public var overrides: [String]
    }

    public struct Index: Codable, Sendable {
        public var schema: String
        public var schemaVersion: Int
        public var experiment: String
        public var profile: String
        public var axes: [String]
        public var baseConfig: JSONValue
        public var runs: [IndexEntry]
    }

    public func writeIndex(experiment: String, profile: Profile, axes: [String], base: RunConfig, runs: [PlannedRun]) throws {
        let index = Index(schema: ResultSchema.indexName, schemaVersion: ResultSchema.indexVersion, experiment: experiment,
                          profile: profile.rawValue, axes: axes, baseConfig: base.canonicalJSON(),
                          runs: runs.map { IndexEntry(coordinates: $0.coordinates.labels, paperKeys: $0.paperKeys, runID: $0.runID,
                                                      file: "../runs/\($0.runID).h5", overrides: $0.overrides) })
        let text = try JSONValue.from(index).pretty + "\n"
        let url = indexFile(experiment)
        // An unchanged index is not rewritten, so that an all-cached run needs no write access to the folder.
        if let old = FileManager.default.contents(atPath: url.path), old == Data(text.utf8) { return }
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try AtomicFile.write(Data(text.utf8), to: url)
    }

    /// The experiment's index, or nil when the file does not exist. An unreadable, malformed or foreign file is a
    /// `ResultStoreError` naming the file and what is wrong with it.
    public func readIndex(_ experiment: String) throws -> Index? {
        let url = indexFile(experiment)
        guard FileManager.default.fileExists(atPath: url.path) else { return nil }
        let name = url.path
        guard let data = FileManager.default.contents(atPath: url.path) else {
            throw ResultStoreError(kind: .io, path: name, message: "cannot read the experiment index: \(String(cString: strerror(errno)))")
        }
        let json: JSONValue
        do { json = try JSONValue.parse(data) } catch {
            throw ResultStoreError(kind: .corrupt, path: name, message: "corrupt experiment index: \(error) (delete it and re-run `deepnet run \(experiment)` to rebuild it; finished runs are not recomputed)")
        }
        // The schema is checked before the full decode so that a foreign file is reported as foreign, not as a
        // list of missing fields.
        let schema: String? = { if case .object(let o) = json, case .string(let s)? = o["schema"] { return s }; return nil }()
        let version: Double? = { if case .object(let o) = json, case .number(let v)? = o["schemaVersion"] { return v }; return nil }()
        guard schema == ResultSchema.indexName, version == Double(ResultSchema.indexVersion) else {
            throw ResultStoreError(kind: .foreignSchema, path: name,
                                   message: "not a deepnet experiment index: schema \(schema.map { "'\($0)'" } ?? "missing") version \(version.map { String(format: "%g", $0) } ?? "missing") (expected '\(ResultSchema.indexName)' version \(ResultSchema.indexVersion))")
        }
        do { return try json.decode(Index.self) } catch {
            throw ResultStoreError(kind: .corrupt, path: name, message: "corrupt experiment index: \(JSONValue.describeDecodingError(error))")
        }
    }

    /// Result files present in `runs/` (names without `.h5`), sorted; empty when the folder does not exist.
    public func runFileIDs() -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: runsDir.path)) ?? []
        return names.filter { $0.hasSuffix(".h5") && !$0.hasPrefix(".") }.map { String($0.dropLast(3)) }.sorted()
    }

    /// Like `load(_:)`, but when the experiment's index is missing while `runs/` holds result files, the index is
    /// rebuilt in memory from the experiment's plan at `profile` (run ids depend on the data, hence
    /// `environment`): `rebuilt` is then true. Nothing is written. If the plan cannot be expanded here (e.g. its
    /// data is not available) the error says so instead of rendering the experiment as "not run".
    public func load(_ e: Experiment, rebuildingMissingIndexAt profile: Profile,
                     environment: HarnessEnvironment) throws -> (results: ExperimentResults, rebuilt: Bool) {
        if try readIndex(e.id) != nil { return (try load(e), false) }
        let present = Set(runFileIDs())
        guard !present.isEmpty, e.plan(profile).notRunReason == nil, let grid = e.plan(profile).grid else { return (try load(e), false) }
        let runs: [PlannedRun]
        do { runs = try Expansion.expand(e, profile: profile, environment: environment) } catch {
            throw ResultStoreError(kind: .missing, path: indexFile(e.id).path,
                                   message: "experiment index missing while \(runsDir.path) holds \(present.count) result file(s), and the plan cannot be expanded to match them: \(error)")
        }
        guard runs.contains(where: { present.contains($0.runID) }) else { return (try load(e), false) }
        var entries: [ResultEntry] = []
        for r in runs {
            do {
                entries.append(ResultEntry(coordinates: r.coordinates, paperKeys: r.paperKeys, runID: r.runID, overrides: r.overrides, record: try read(r.runID)))
            } catch let err as ResultStoreError {
                entries.append(ResultEntry(coordinates: r.coordinates, paperKeys: r.paperKeys, runID: r.runID, overrides: r.overrides, record: nil,
                                           problem: err.kind == .missing ? nil : err.description))
            }
        }
        return (ExperimentResults(experiment: e, profile: profile, axes: grid.axes.map(\.name), entries: entries,
                                  baseConfig: grid.base.canonicalJSON()), true)
    }

    /// The experiment's results as recorded in its index; unfinished, corrupt or foreign files give entries
    /// without a record and with a `problem`.
    public func load(_ e: Experiment) throws -> ExperimentResults {
        guard let idx = try readIndex(e.id) else {
            return ExperimentResults(experiment: e, profile: nil, axes: [], entries: [])
        }
        var entries: [ResultEntry] = []
        for r in idx.runs {
            let coords = Coordinates(axes: idx.axes, labels: r.coordinates)
            do {
                let rec = try read(r.runID)
                entries.append(ResultEntry(coordinates: coords, paperKeys: r.paperKeys, runID: r.runID, overrides: r.overrides, record: rec))
            } catch let err as ResultStoreError {
                entries.append(ResultEntry(coordinates: coords, paperKeys: r.paperKeys, runID: r.runID, overrides: r.overrides, record: nil,
                                           problem: err.kind == .missing ? nil : err.description))
            }
        }
        return ExperimentResults(experiment: e, profile: Profile(rawValue: idx.profile), axes: idx.axes, entries: entries, baseConfig: idx.baseConfig)
    }
}

/// Atomic replacement of small text files (index, reports): write a temporary file in the same folder, fsync,
/// rename. On any failure (e.g. a full disk) the previous file stays intact.
public enum AtomicFile {
    public static func write(_ data: Data, to url: URL) throws {
        let dir = url.deletingLastPathComponent()
        let tmp = dir.appendingPathComponent(".\(url.lastPathComponent).tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
        let fd = Glibc.open(tmp.path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard fd >= 0 else { throw ResultStoreError(kind: .io, path: url.path, message: "cannot create temporary file: \(String(cString: strerror(errno)))") }
        var ok = true
        var err = ""
        data.withUnsafeBytes { (buf: UnsafeRawBufferPointer) in
            var off = 0
            while off < buf.count {
                let n = Glibc.write(fd, buf.baseAddress! + off, buf.count - off)
                if n <= 0 { ok = false; err = String(cString: strerror(errno)); return }
                off += n
            }
        }
        if ok && fsync(fd) != 0 { ok = false; err = String(cString: strerror(errno)) }
        Glibc.close(fd)
        guard ok else {
            unlink(tmp.path)
            throw ResultStoreError(kind: .io, path: url.path, message: "cannot write: \(err)")
        }
        if rename(tmp.path, url.path) != 0 {
            let e = String(cString: strerror(errno))
            unlink(tmp.path)
            throw ResultStoreError(kind: .io, path: url.path, message: "cannot rename into place: \(e)")
        }
    }
}

/// Temporary files of `AtomicFile` and `HDF5File.writeAtomically` are named `.<target>.tmp-<pid>-<token>`; a
/// process killed while writing (SIGKILL, OOM, power loss) leaves one behind.
public enum StaleTempFiles {
    /// The writer's pid encoded in a temporary file name, or nil if `name` is not such a file.
    public static func ownerPID(_ name: String) -> pid_t? {
        guard name.hasPrefix("."), let r = name.range(of: ".tmp-", options: .backwards) else { return nil }
        let rest = name[r.upperBound...]
        guard let dash = rest.firstIndex(of: "-"), let pid = pid_t(rest[..<dash]), pid > 0 else { return nil }
        return pid
    }

    /// Whether process `pid` exists (EPERM: it exists but belongs to another user). A recycled pid makes a stale
    /// file look alive; it is then left for a later run rather than risking a live writer's file.
    static func alive(_ pid: pid_t) -> Bool { kill(pid, 0) == 0 || errno == EPERM }

    /// Removes the temporary files directly inside `dirs` whose writer process no longer exists, and returns
    /// them. A file whose writer is alive is kept, whatever its age: it may be a concurrent writer's (e.g.
    /// `deepnet train` into the same folder, which takes no results lock). Non-pid names are never touched.
    @discardableResult
    public static func remove(in dirs: [URL]) -> [URL] {
        var removed: [URL] = []
        for d in dirs {
            for name in (try? FileManager.default.contentsOfDirectory(atPath: d.path)) ?? [] {
                guard let pid = ownerPID(name), !alive(pid) else { continue }
                let f = d.appendingPathComponent(name)
                if unlink(f.path) == 0 { removed.append(f) }
            }
        }
        return removed
    }
}

/// An exclusive flock(2) on `<results>/.lock`: two runners on the same results folder never interleave.
/// In a folder this process cannot write (published results, a read-only mount) the lock is taken on the existing
/// file opened read-only, or not at all if there is none; `readOnly` then tells the runner that it may read and
/// render but not execute.
public final class ResultsLock {
    private var fd: Int32 = -1
    public let url: URL
    public private(set) var readOnly = false

    public enum Mode: Sendable { case wait, fail }

    public struct Busy: Error, CustomStringConvertible {
        public var path: String
        public var description: String { "another deepnet runner holds the lock on \(path); wait for it to finish (without --no-wait, deepnet run waits)" }
    }

    public init(_ url: URL, mode: Mode, onWait: (() -> Void)? = nil) throws {
        self.url = url
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        fd = Glibc.open(url.path, O_RDWR | O_CREAT, 0o644)
        if fd < 0 && (errno == EACCES || errno == EROFS || errno == EPERM) {
            readOnly = true
            fd = Glibc.open(url.path, O_RDONLY)
            if fd < 0 && errno == ENOENT { return }   // nothing to lock, and nothing can be written here either
        }
        guard fd >= 0 else { throw ResultStoreError(kind: .io, path: url.path, message: "cannot open lock file: \(String(cString: strerror(errno)))") }
        if flock(fd, LOCK_EX | LOCK_NB) != 0 {
            if mode == .fail { Glibc.close(fd); fd = -1; throw Busy(path: url.deletingLastPathComponent().path) }
            onWait?()
            if flock(fd, LOCK_EX) != 0 { Glibc.close(fd); fd = -1; throw Busy(path: url.deletingLastPathComponent().path) }
        }
        if readOnly { return }
        let pid = "\(getpid())\n"
        _ = ftruncate(fd, 0)
        _ = pid.withCString { Glibc.write(fd, $0, strlen($0)) }
    }

    public func release() {
        if fd >= 0 { flock(fd, LOCK_UN); Glibc.close(fd); fd = -1 }
    }

    deinit { release() }
}
