import DeepNetBase
import Foundation

/// How a data set's test output should be scored.
public enum ScoringRecipe: String, Sendable, Codable {
    /// Detokenized hypotheses vs raw references with sacreBLEU 13a (the paper's signature).
    case sacreBLEU13a = "sacrebleu-13a"
    /// fairseq-style tokenized BLEU on the (lower-cased, Moses-tokenized) reference text:
    /// sacreBLEU `tokenize='none', smooth_method='none'` ≡ fairseq-score (docs/bleu.md §6).
    case tokenizedBLEU = "tokenized-bleu"

    public var options: BLEUOptions {
        switch self {
        case .sacreBLEU13a: return BLEUOptions()
        case .tokenizedBLEU: return .tokenizedNoSmoothing
        }
    }
}

/// The checked name of a registered data set. Code names data sets by the constants each definition file
/// declares (`.multi30k`); text from a user or a stored configuration is parsed against the registry, so a
/// misspelt name fails at once, naming the valid ones, instead of deep inside a loader.
public struct DataSetName: RawRepresentable, Hashable, Comparable, Sendable, Codable, CustomStringConvertible {
    public let rawValue: String
    /// Declares a name (in a data set's definition file). Not checked: the definition is what makes it valid.
    public init(rawValue: String) { self.rawValue = rawValue }
    /// Parses a name given by a user or read from a stored configuration: it must be in `registry`.
    public init(parsing s: String, in registry: DataSetRegistry = .standard) throws {
        guard registry.definition(named: s) != nil else { throw DataError.unknownDataSet(name: s, valid: registry.names.map(\.rawValue)) }
        self.init(rawValue: s)
    }
    public init(from decoder: Decoder) throws {
        let s = try decoder.singleValueContainer().decode(String.self)
        do { try self.init(parsing: s) } catch {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "\(error)"))
        }
    }
    public func encode(to encoder: Encoder) throws { var c = encoder.singleValueContainer(); try c.encode(rawValue) }
    public var description: String { rawValue }
    public static func < (a: DataSetName, b: DataSetName) -> Bool { a.rawValue < b.rawValue }
}

/// Static description of a registered data set.
public struct DataSetSpec: Sendable {
    public var name: DataSetName
    public var summary: String
    /// Directions that may be requested (`nil` pair = `defaultPair`; multilingual sets use all of them).
    public var pairs: [LanguagePair]
    public var defaultPair: LanguagePair?
    public var multilingual: Bool
    /// False for evaluation-only sets (no train split).
    public var trainable: Bool
    public var needsFiles: Bool
    public var scoring: ScoringRecipe
    /// BPE merge operations when a caller does not choose (`deepnet data prepare`).
    public var defaultBPEMerges: Int

    public init(name: DataSetName, summary: String, pairs: [LanguagePair], defaultPair: LanguagePair?, multilingual: Bool = false,
                trainable: Bool = true, needsFiles: Bool = true, scoring: ScoringRecipe = .sacreBLEU13a, defaultBPEMerges: Int = 8000) {
        self.name = name; self.summary = summary; self.pairs = pairs; self.defaultPair = defaultPair; self.multilingual = multilingual
        self.trainable = trainable; self.needsFiles = needsFiles; self.scoring = scoring; self.defaultBPEMerges = defaultBPEMerges
    }

    /// Both directions of each (a, b).
    public static func bothWays(_ ps: [(String, String)]) -> [LanguagePair] {
        ps.flatMap { [LanguagePair($0.0, $0.1), LanguagePair($0.1, $0.0)] }
    }
}

/// Options that change what a data set contains (all part of its fingerprint). What a data set *is* (its files,
/// splits and held-out sizes) is fixed by its definition, not by options: one definition per data set.
public struct DataSetOptions: Sendable, Codable, Equatable {
    /// Direction (nil: the data set's default; multilingual sets: all directions).
    public var pair: LanguagePair?
    /// Seed of every data-side random choice (synthetic generation, held-out and Tatoeba splits).
    public var seed: UInt64 = 1
    public var trainFilter: CorpusFilter = .training
    public var evalFilter: CorpusFilter = .evaluation
    /// Synthetic generator sizes (its seed is `seed`).
    public var syntheticTrainSize = 20_000
    public var syntheticValidSize = 500
    public var syntheticTestSize = 500
    /// Keep at most this many training examples (after filtering; nil = all). For quick runs.
    public var maxTrainExamples: Int?

    public init(pair: LanguagePair? = nil, seed: UInt64 = 1) { self.pair = pair; self.seed = seed }

    var syntheticConfig: SyntheticConfig {
        SyntheticConfig(seed: seed, trainSize: syntheticTrainSize, validSize: syntheticValidSize, testSize: syntheticTestSize)
    }
}

/// A loaded data set: raw parallel text per split plus its identity.
public struct DataSet: Sendable {
    public var spec: DataSetSpec
    public var options: DataSetOptions
    /// Split names in canonical order (train first when present).
    public var splitNames: [String]
    public var splits: [String: ParallelCorpus]
    /// SHA-256 over the data-pipeline version, the data-set name, its definition's settings, every option, and
    /// the content hash of every file read (or the generator settings): the data part of a run's identity.
    public var fingerprint: String
    /// Files read, with their SHA-256 (empty for synthetic).
    public var files: [(path: String, sha256: String)]
    /// Language tags needed on the source side (multilingual sets), e.g. `__deu__`.
    public var languageTags: [String]

    public var name: DataSetName { spec.name }
    public func split(_ name: String) throws -> ParallelCorpus {
        guard let s = splits[name] else { throw DataError.unknownSplit(dataSet: spec.name.rawValue, split: name, valid: splitNames) }
        return s
    }
    /// The direction(s) of this data set.
    public var directions: [LanguagePair] {
        var d: [LanguagePair] = []
        for n in splitNames { for p in splits[n]!.directions where !d.contains(p) { d.append(p) } }
        return d
    }
}

/// One data set: what it is (spec), the files it reads with their declared SHA-256 (`files`), the fixed choices
/// that shape its splits (`settings`), and how to read it. Each lives in its own file under Corpus/DataSets/ and is
/// listed once in `DataSetRegistry.builtIn` (README "Adding a data set").
public struct DataSetDefinition: Sendable {
    public var spec: DataSetSpec
    /// Every file the definition may read, by path under the data folder, with its SHA-256 (`sha256sum`) as hex.
    /// Declared, not measured: a run's identity (`declaredFingerprint`) is computable without the files, and
    /// each file read is checked against its entry (`DataError.fileChecksumMismatch` on a difference or when it is
    /// missing; reading a file not listed here is `DataError.undeclaredFile`). Empty for generated data.
    public var files: [String: String]
    /// The definition's fixed split choices as text (e.g. "heldout=500"), part of the fingerprint.
    public var settings: @Sendable (DataSetOptions) -> String
    /// Reads or generates the splits; nil for a corpus the paper used that this project does not have.
    public var load: (@Sendable (DataSetLoader) throws -> DataSet)?

    public init(spec: DataSetSpec, files: [String: String] = [:], settings: @escaping @Sendable (DataSetOptions) -> String = { _ in "" },
                load: (@Sendable (DataSetLoader) throws -> DataSet)?) {
        self.spec = spec; self.files = files; self.settings = settings; self.load = load
    }

    /// The data set's identity as the definition declares it, computable with no file present: SHA-256 of the
    /// data-pipeline version, the name, the settings for `options` and every declared (path, SHA-256), sorted by
    /// path. Generated data (no files) is identified by its definition alone.
    public func declaredFingerprint(options: DataSetOptions) -> String {
        var h = SHA256()
        h.update("\(deepNetDataVersion)\ndeclared\n\(spec.name)\n\(settings(options))\n")
        for (path, sha) in files.sorted(by: { $0.key < $1.key }) { h.update("\(path) \(sha)\n") }
        return h.hexDigest()
    }
}

/// The data-set registry: a fixed list of definitions. `standard` is the project's; a test may build its own
/// registry from `builtIn` plus its own definitions, exactly as the README's recipe adds one line.
public struct DataSetRegistry: Sendable {
    public static let environmentVariable = "DEEPNET_DATA"

    /// Every data set of the project, one line each.
    public static let builtIn: [DataSetDefinition] = [
        .synthetic, .multi30k, .iwslt14Mini, .newstest2014, .newstest2017, .tatoeba, .multi30kMany,
    ] + DataSetDefinition.paperCorpora

    public static let standard = DataSetRegistry(builtIn)

    public let definitions: [DataSetDefinition]

    /// Duplicate names are a programming error (two definitions of one data set).
    public init(_ definitions: [DataSetDefinition]) {
        var seen = Set<String>()
        for d in definitions { precondition(seen.insert(d.spec.name.rawValue).inserted, "data set '\(d.spec.name)' is defined twice") }
        self.definitions = definitions
    }

    public var names: [DataSetName] { definitions.map(\.spec.name) }
    public var specs: [DataSetSpec] { definitions.map(\.spec) }

    public func definition(named name: String) -> DataSetDefinition? { definitions.first { $0.spec.name.rawValue == name } }

    public func spec(named name: DataSetName) throws -> DataSetSpec { try definition(name).spec }

    func definition(_ name: DataSetName) throws -> DataSetDefinition {
        guard let d = definition(named: name.rawValue) else { throw DataError.unknownDataSet(name: name.rawValue, valid: names.map(\.rawValue)) }
        return d
    }

    /// Loads a data set. `dataDirectory` defaults to `$DEEPNET_DATA`.
    public func load(_ name: DataSetName, options: DataSetOptions = DataSetOptions(), dataDirectory dir: String? = nil) throws -> DataSet {
        let def = try definition(name)
        let spec = def.spec
        guard let read = def.load else { throw DataError.notAvailable(dataSet: name.rawValue, reason: spec.summary) }
        if let p = options.pair, !spec.pairs.contains(p) {
            throw DataError.unknownLanguagePair(dataSet: name.rawValue, pair: p.description, valid: spec.pairs.map(\.description))
        }
        var root = ""
        if spec.needsFiles {
            guard let d = dir ?? Self.dataDirectory() else {
                throw DataError.dataDirectoryMissing(dataSet: name.rawValue, hint: "set \(Self.environmentVariable) to the data folder, or run `make data`; the 'synthetic' data set needs no files")
            }
            root = d
        }
        var ds = try read(DataSetLoader(spec: spec, options: options, root: root, declared: def.files))
        // Filters: train split with trainFilter, the others with evalFilter.
        for s in ds.splitNames {
            var c = (s == "train" ? options.trainFilter : options.evalFilter).apply(ds.splits[s]!)
            if s == "train", let m = options.maxTrainExamples, c.count > m {
                let report = c.filterReport
                c = c.prefix(m)
                c.filterReport = report
            }
            ds.splits[s] = c
        }
        ds.fingerprint = Self.fingerprint(spec: spec, settings: def.settings(options), options: options, files: ds.files)
        return ds
    }

    /// `$DEEPNET_DATA`, or nil when unset/empty.
    public static func dataDirectory(environment: [String: String] = ProcessInfo.processInfo.environment) -> String? {
        guard let d = environment[environmentVariable], !d.isEmpty else { return nil }
        return d
    }

    /// `synthetic` when DEEPNET_DATA is unset, otherwise `multi30k`.
    public static func defaultDataSetName(environment: [String: String] = ProcessInfo.processInfo.environment) -> DataSetName {
        dataDirectory(environment: environment) == nil ? .synthetic : .multi30k
    }

    // The project's registry, for callers that need no other.
    public static var names: [DataSetName] { standard.names }
    public static var specs: [DataSetSpec] { standard.specs }
    public static func spec(named name: DataSetName) throws -> DataSetSpec { try standard.spec(named: name) }
    public static func load(_ name: DataSetName, options: DataSetOptions = DataSetOptions(), dataDirectory dir: String? = nil) throws -> DataSet {
        try standard.load(name, options: options, dataDirectory: dir)
    }

    static func fingerprint(spec: DataSetSpec, settings: String, options: DataSetOptions, files: [(path: String, sha256: String)]) -> String {
        var h = SHA256()
        h.update("\(deepNetDataVersion)\n\(spec.name)\n")
        h.update(canonicalOptions(options) + (settings.isEmpty ? "" : ";" + settings) + "\n")
        for f in files { h.update("\((f.path as NSString).lastPathComponent) \(f.sha256)\n") }
        return h.hexDigest()
    }

    static func canonicalOptions(_ o: DataSetOptions) -> String {
        "pair=\(o.pair?.description ?? "default");seed=\(o.seed);train-filter=\(o.trainFilter.summary);eval-filter=\(o.evalFilter.summary);max-train=\(o.maxTrainExamples.map(String.init) ?? "all")"
    }
}

/// Reads files for one data-set load, recording each file's hash (the fingerprint covers exactly the bytes read).
/// A class, so that every file read counts whatever order a definition's expressions are evaluated in.
public final class DataSetLoader {
    public let spec: DataSetSpec
    public let options: DataSetOptions
    /// The data directory ("" for data sets that need no files).
    public let root: String
    /// The definition's declared files (path under the data folder → SHA-256).
    public let declared: [String: String]
    public private(set) var files: [(path: String, sha256: String)] = []

    init(spec: DataSetSpec, options: DataSetOptions, root: String, declared: [String: String] = [:]) {
        self.spec = spec; self.options = options; self.root = root; self.declared = declared
    }

    /// The requested direction, or the data set's default.
    public var pair: LanguagePair { options.pair ?? spec.defaultPair! }

    /// Whether the definition declares a file (e.g. a test set that one language lacks).
    public func declares(_ rel: String) -> Bool { declared[rel] != nil }

    /// Lines of one file under the data directory (gzip when it ends in .gz). Its bytes must hash to the SHA-256
    /// the definition declares for it: a missing, changed or undeclared file is an error naming the file and
    /// both hashes (never a silent fallback).
    public func side(_ rel: String) throws -> [String] {
        let p = root + "/" + rel
        guard let expected = declared[rel] else { throw DataError.undeclaredFile(dataSet: spec.name.rawValue, path: rel) }
        guard FileManager.default.fileExists(atPath: p) else {
            throw DataError.fileChecksumMismatch(dataSet: spec.name.rawValue, path: p, expected: expected, actual: nil)
        }
        let raw = try TextIO.readRawBytes(p)
        let actual = SHA256.hex(of: raw)
        guard actual == expected else {
            throw DataError.fileChecksumMismatch(dataSet: spec.name.rawValue, path: p, expected: expected, actual: actual)
        }
        files.append((p, actual))
        let bytes = p.hasSuffix(".gz") ? try TextIO.gunzip(p) : raw
        return try TextIO.decodeLines(bytes, name: p).map { $0.hasSuffix("\r") ? String($0.dropLast()) : $0 }
    }

    /// Two line-aligned files as a parallel corpus in direction `d`.
    public func parallel(_ src: String, _ tgt: String, _ d: LanguagePair, transform: (String) -> String = { $0 }) throws -> ParallelCorpus {
        let s = try side(src), t = try side(tgt)
        guard s.count == t.count else {
            throw DataError.lineCountMismatch(sourcePath: root + "/" + src, sourceLines: s.count, targetPath: root + "/" + tgt, targetLines: t.count)
        }
        return ParallelCorpus(sources: s.map(transform), targets: t.map(transform), direction: d)
    }

    /// The loaded data set from its splits (in canonical order: train, valid, test, then any others).
    public func make(_ splits: [(String, ParallelCorpus)], tags: [String] = []) -> DataSet {
        DataSet(spec: spec, options: options, splitNames: splits.map(\.0), splits: Dictionary(uniqueKeysWithValues: splits),
                fingerprint: "", files: files, languageTags: tags)
    }
}

/// Grouping for leak-free splits: connected components of pairs that share a source or a target sentence, so that
/// no sentence is on both sides of a split boundary.
public enum Splitter {
    public static func groups(_ s: [String], _ t: [String]) -> [[Int]] {
        var parent = Array(0..<s.count)
        func find(_ x: Int) -> Int {
            var x = x
            while parent[x] != x { parent[x] = parent[parent[x]]; x = parent[x] }
            return x
        }
        func union(_ a: Int, _ b: Int) { let ra = find(a), rb = find(b); if ra != rb { parent[max(ra, rb)] = min(ra, rb) } }
        var firstS: [String: Int] = [:], firstT: [String: Int] = [:]
        for i in 0..<s.count {
            if let j = firstS[s[i]] { union(i, j) } else { firstS[s[i]] = i }
            if let j = firstT[t[i]] { union(i, j) } else { firstT[t[i]] = i }
        }
        var byRoot: [Int: Int] = [:]
        var out: [[Int]] = []
        for i in 0..<s.count {
            let r = find(i)
            if let g = byRoot[r] { out[g].append(i) } else { byRoot[r] = out.count; out.append([i]) }
        }
        return out  // groups ordered by their first line; members in line order
    }
}
