import Foundation

/// How a data set's test output should be scored.
public enum ScoringRecipe: String, Sendable, Codable {
    /// Detokenized hypotheses vs raw references with sacreBLEU 13a (the paper's signature).
    case sacreBLEU13a = "sacrebleu-13a"
    /// fairseq-style tokenized BLEU on the (lower-cased, Moses-tokenized) reference text:
    /// sacreBLEU `tokenize='none', smooth_method='none'` ≡ fairseq-score (BLEU.md §6).
    case tokenizedBLEU = "tokenized-bleu"

    public var options: BLEUOptions {
        switch self {
        case .sacreBLEU13a: return BLEUOptions()
        case .tokenizedBLEU: return .tokenizedNoSmoothing
        }
    }
}

/// Static description of a registered data set.
public struct DataSetSpec: Sendable {
    public var name: String
    public var summary: String
    /// Directions that may be requested (`nil` pair = `defaultPair`; multilingual sets use all of them).
    public var pairs: [LanguagePair]
    public var defaultPair: LanguagePair?
    public var multilingual: Bool
    /// False for evaluation-only sets (no train split).
    public var trainable: Bool
    public var needsFiles: Bool
    public var scoring: ScoringRecipe
}

/// Options that change what a data set contains (all part of its fingerprint).
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
    /// iwslt14-mini: size of the held-out validation slice.
    public var iwsltHeldOut = 1000
    /// tatoeba-multi: fractions of each pair's sentence groups used for test and valid.
    public var tatoebaTestFraction = 0.10
    public var tatoebaValidFraction = 0.02
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
    /// SHA-256 over the data-pipeline version, the data-set name, every option, and the content hash of
    /// every file read (or the generator settings): the data part of a run's identity.
    public var fingerprint: String
    /// Files read, with their SHA-256 (empty for synthetic).
    public var files: [(path: String, sha256: String)]
    /// Language tags needed on the source side (multilingual sets), e.g. `__deu__`.
    public var languageTags: [String]

    public var name: String { spec.name }
    public func split(_ name: String) throws -> ParallelCorpus {
        guard let s = splits[name] else { throw DataError.unknownSplit(dataSet: spec.name, split: name, valid: splitNames) }
        return s
    }
    /// The direction(s) of this data set.
    public var directions: [LanguagePair] {
        var d: [LanguagePair] = []
        for n in splitNames { for p in splits[n]!.directions where !d.contains(p) { d.append(p) } }
        return d
    }
}

/// The data-set registry: `synthetic`, `multi30k`, `iwslt14-mini`, `newstest2014`, `newstest2017`,
/// `tatoeba-multi`. Files are read from `$DEEPNET_DATA` (see /work/shared/data/README.md for layout).
public enum DataSetRegistry {
    public static let environmentVariable = "DEEPNET_DATA"

    public static let tatoebaPairs = ["ces-eng", "dan-eng", "deu-eng", "eng-fin", "eng-fra", "eng-hun", "eng-ita",
                                      "eng-nld", "eng-pol", "eng-por", "eng-spa", "eng-swe", "eng-tur"]

    static func bothWays(_ ps: [(String, String)]) -> [LanguagePair] {
        ps.flatMap { [LanguagePair($0.0, $0.1), LanguagePair($0.1, $0.0)] }
    }

    public static let specs: [DataSetSpec] = [
        DataSetSpec(name: "synthetic", summary: "in-process artificial language pair (SVO→SOV, agreement, ~300-lemma lexicon); no files",
                    pairs: [LanguagePair("src", "tgt")], defaultPair: LanguagePair("src", "tgt"), multilingual: false,
                    trainable: true, needsFiles: false, scoring: .sacreBLEU13a),
        DataSetSpec(name: "multi30k", summary: "Multi30k task 1 raw text (train 29k, val 1,014, tests 2016-2018); de/fr/cs↔en",
                    pairs: bothWays([("de", "en"), ("fr", "en"), ("cs", "en")]), defaultPair: LanguagePair("de", "en"), multilingual: false,
                    trainable: true, needsFiles: true, scoring: .sacreBLEU13a),
        DataSetSpec(name: "iwslt14-mini", summary: "IWSLT'14 de-en (lower-cased, Moses-tokenized): train = train sample + valid minus a held-out slice; test = full IWSLT'14 test",
                    pairs: bothWays([("de", "en")]), defaultPair: LanguagePair("de", "en"), multilingual: false,
                    trainable: true, needsFiles: true, scoring: .tokenizedBLEU),
        DataSetSpec(name: "newstest2014", summary: "WMT newstest2014 en-de (3,003 lines), evaluation only",
                    pairs: bothWays([("en", "de")]), defaultPair: LanguagePair("en", "de"), multilingual: false,
                    trainable: false, needsFiles: true, scoring: .sacreBLEU13a),
        DataSetSpec(name: "newstest2017", summary: "WMT newstest2017 en-de (3,004 lines), evaluation only",
                    pairs: bothWays([("en", "de")]), defaultPair: LanguagePair("en", "de"), multilingual: false,
                    trainable: false, needsFiles: true, scoring: .sacreBLEU13a),
        DataSetSpec(name: "tatoeba-multi", summary: "13 English-centric Tatoeba pairs, both directions, target-language tags (OPUS-100 stand-in)",
                    pairs: bothWays(tatoebaPairs.map { p in let l = p.split(separator: "-").map(String.init); return l[0] == "eng" ? (l[1], "eng") : (l[0], "eng") }),
                    defaultPair: nil, multilingual: true, trainable: true, needsFiles: true, scoring: .sacreBLEU13a),
    ]

    public static var names: [String] { specs.map(\.name) }

    public static func spec(named name: String) throws -> DataSetSpec {
        guard let s = specs.first(where: { $0.name == name }) else { throw DataError.unknownDataSet(name: name, valid: names) }
        return s
    }

    /// `$DEEPNET_DATA`, or nil when unset/empty.
    public static func dataDirectory(environment: [String: String] = ProcessInfo.processInfo.environment) -> String? {
        guard let d = environment[environmentVariable], !d.isEmpty else { return nil }
        return d
    }

    /// `synthetic` when DEEPNET_DATA is unset, otherwise `multi30k`.
    public static func defaultDataSetName(environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        dataDirectory(environment: environment) == nil ? "synthetic" : "multi30k"
    }

    /// Loads a data set. `dataDirectory` defaults to `$DEEPNET_DATA`.
    public static func load(_ name: String, options: DataSetOptions = DataSetOptions(), dataDirectory dir: String? = nil) throws -> DataSet {
        let spec = try spec(named: name)
        if let p = options.pair, !spec.pairs.contains(p) {
            throw DataError.unknownLanguagePair(dataSet: name, pair: p.description, valid: spec.pairs.map(\.description))
        }
        var root = ""
        if spec.needsFiles {
            guard let d = dir ?? dataDirectory() else {
                throw DataError.dataDirectoryMissing(dataSet: name, hint: "set \(environmentVariable) to the data folder (e.g. /work/shared/data), or run `make data`; the 'synthetic' data set needs no files")
            }
            root = d
        }
        var loader = Loader(spec: spec, options: options, root: root)
        var ds: DataSet
        switch name {
        case "synthetic": ds = loader.synthetic()
        case "multi30k": ds = try loader.multi30k()
        case "iwslt14-mini": ds = try loader.iwslt()
        case "newstest2014", "newstest2017": ds = try loader.newstest(year: name == "newstest2014" ? "2014" : "2017")
        case "tatoeba-multi": ds = try loader.tatoeba()
        default: throw DataError.unknownDataSet(name: name, valid: names)
        }
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
        ds.fingerprint = fingerprint(spec: spec, options: options, files: ds.files)
        return ds
    }

    static func fingerprint(spec: DataSetSpec, options: DataSetOptions, files: [(path: String, sha256: String)]) -> String {
        var h = SHA256Hasher()
        h.update("\(deepNetDataVersion)\n\(spec.name)\n")
        h.update(canonicalOptions(options, spec: spec) + "\n")
        for f in files { h.update("\((f.path as NSString).lastPathComponent) \(f.sha256)\n") }
        return h.hexDigest()
    }

    static func canonicalOptions(_ o: DataSetOptions, spec: DataSetSpec) -> String {
        var s = "pair=\(o.pair?.description ?? "default");seed=\(o.seed);train-filter=\(o.trainFilter.summary);eval-filter=\(o.evalFilter.summary);max-train=\(o.maxTrainExamples.map(String.init) ?? "all")"
        switch spec.name {
        case "synthetic": s += ";" + o.syntheticConfig.summary
        case "iwslt14-mini": s += ";heldout=\(o.iwsltHeldOut)"
        case "tatoeba-multi": s += ";test=\(PythonText.formatFixed(o.tatoebaTestFraction, 6));valid=\(PythonText.formatFixed(o.tatoebaValidFraction, 6))"
        default: break
        }
        return s
    }
}

/// Reads files for one data-set load, recording each file's hash.
struct Loader {
    var spec: DataSetSpec
    var options: DataSetOptions
    var root: String
    var files: [(path: String, sha256: String)] = []

    init(spec: DataSetSpec, options: DataSetOptions, root: String) { self.spec = spec; self.options = options; self.root = root }

    var pair: LanguagePair { options.pair ?? spec.defaultPair! }

    mutating func side(_ rel: String) throws -> [String] {
        let p = root + "/" + rel
        let raw = try TextIO.readRawBytes(p)
        files.append((p, SHA256Hasher.hex(of: raw)))
        let bytes = p.hasSuffix(".gz") ? try TextIO.gunzip(p) : raw
        return try TextIO.decodeLines(bytes, name: p).map { $0.hasSuffix("\r") ? String($0.dropLast()) : $0 }
    }

    mutating func parallel(_ src: String, _ tgt: String, _ d: LanguagePair, transform: (String) -> String = { $0 }) throws -> ParallelCorpus {
        let s = try side(src), t = try side(tgt)
        guard s.count == t.count else {
            throw DataError.lineCountMismatch(sourcePath: root + "/" + src, sourceLines: s.count, targetPath: root + "/" + tgt, targetLines: t.count)
        }
        return ParallelCorpus(sources: s.map(transform), targets: t.map(transform), direction: d)
    }

    func make(_ splits: [(String, ParallelCorpus)], tags: [String] = []) -> DataSet {
        DataSet(spec: spec, options: options, splitNames: splits.map(\.0), splits: Dictionary(uniqueKeysWithValues: splits),
                fingerprint: "", files: files, languageTags: tags)
    }

    func synthetic() -> DataSet {
        let lang = SyntheticLanguage(config: options.syntheticConfig)
        let s = lang.generateSplits()
        let d = spec.defaultPair!
        func dir(_ c: ParallelCorpus) -> ParallelCorpus { ParallelCorpus(sources: c.sources, targets: c.targets, direction: d) }
        return make([("train", dir(s["train"]!)), ("valid", dir(s["valid"]!)), ("test", dir(s["test"]!))])
    }

    static let multi30kSplits = ["train", "val", "test_2016_flickr", "test_2017_flickr", "test_2017_mscoco", "test_2018_flickr"]

    mutating func multi30k() throws -> DataSet {
        let p = pair
        var out: [(String, ParallelCorpus)] = []
        for f in Loader.multi30kSplits {
            let sp = "multi30k/\(f).\(p.source).gz", tp = "multi30k/\(f).\(p.target).gz"
            if !FileManager.default.fileExists(atPath: root + "/" + sp) || !FileManager.default.fileExists(atPath: root + "/" + tp) {
                if f == "train" || f == "val" || f == "test_2016_flickr" {
                    throw DataError.fileNotFound(path: root + "/" + (FileManager.default.fileExists(atPath: root + "/" + sp) ? tp : sp))
                }
                continue  // cs has no 2017 test sets
            }
            let c = try parallel(sp, tp, p)
            out.append((f == "val" ? "valid" : f, c))
            if f == "test_2016_flickr" { out.append(("test", c)) }
        }
        // canonical order: train, valid, test, then the named test sets
        let order = ["train", "valid", "test"] + Loader.multi30kSplits.filter { $0.hasPrefix("test_") }
        out.sort { order.firstIndex(of: $0.0)! < order.firstIndex(of: $1.0)! }
        return make(out)
    }

    mutating func iwslt() throws -> DataSet {
        let p = pair
        let de = "iwslt14/", un = MosesEscapes.unescape
        let sample = try parallel(de + "train-sample.de", de + "train-sample.en", LanguagePair("de", "en"), transform: un)
        let valid = try parallel(de + "valid.de", de + "valid.en", LanguagePair("de", "en"), transform: un)
        let test = try parallel(de + "test.de", de + "test.en", LanguagePair("de", "en"), transform: un)
        // Pool = train sample + valid, minus exact duplicate pairs and pairs that also occur in test.
        var testPairs = Set<String>()
        for i in 0..<test.count { testPairs.insert(test.sources[i] + "\u{1}" + test.targets[i]) }
        var seen = Set<String>()
        var ps: [String] = [], pt: [String] = []
        for c in [sample, valid] {
            for i in 0..<c.count {
                let k = c.sources[i] + "\u{1}" + c.targets[i]
                if testPairs.contains(k) || !seen.insert(k).inserted { continue }
                ps.append(c.sources[i]); pt.append(c.targets[i])
            }
        }
        // Held-out slice: whole groups of pairs linked by a shared German or English sentence, so that no
        // sentence is on both sides of the train/valid boundary.
        let groups = Splitter.groups(ps, pt)
        var rng = DataRandom.derive(seed: options.seed, stream: 0x1A5_17)
        var order = Array(0..<groups.count)
        rng.shuffle(&order)
        var heldOut: [Int] = [], train: [Int] = []
        for g in order {
            if heldOut.count < options.iwsltHeldOut { heldOut += groups[g] } else { train += groups[g] }
        }
        heldOut.sort(); train.sort()
        func mk(_ idx: [Int]) -> ParallelCorpus {
            let c = ParallelCorpus(sources: idx.map { ps[$0] }, targets: idx.map { pt[$0] }, direction: LanguagePair("de", "en"))
            return p.source == "de" ? c : ParallelCorpus(sources: c.targets, targets: c.sources, direction: p)
        }
        let testDir = p.source == "de" ? test : ParallelCorpus(sources: test.targets, targets: test.sources, direction: p)
        return make([("train", mk(train)), ("valid", mk(heldOut)), ("test", testDir)])
    }

    mutating func newstest(year: String) throws -> DataSet {
        let p = pair
        let c = try parallel("newstest/newstest\(year).en-de.\(p.source)", "newstest/newstest\(year).en-de.\(p.target)", p)
        return make([("test", c)])
    }

    mutating func tatoeba() throws -> DataSet {
        var train: [ParallelCorpus] = [], valid: [ParallelCorpus] = [], test: [ParallelCorpus] = []
        var langs = Set<String>()
        for name in DataSetRegistry.tatoebaPairs {
            let l = name.split(separator: "-").map(String.init)
            let x = l[0] == "eng" ? l[1] : l[0]
            let toEng = LanguagePair(x, "eng"), fromEng = LanguagePair("eng", x)
            if let p = options.pair, p != toEng && p != fromEng { continue }
            let c = try parallel("tatoeba/\(name).\(x)", "tatoeba/\(name).eng", toEng)
            let groups = Splitter.groups(c.sources, c.targets)
            var rng = DataRandom.derive(seed: options.seed, stream: stableHash(name))
            var order = Array(0..<groups.count)
            rng.shuffle(&order)
            let nTest = Int((Double(groups.count) * options.tatoebaTestFraction).rounded())
            let nValid = Int((Double(groups.count) * options.tatoebaValidFraction).rounded())
            var idx: [[Int]] = [[], [], []]
            for (k, g) in order.enumerated() { idx[k < nTest ? 2 : (k < nTest + nValid ? 1 : 0)] += groups[g] }
            for (k, var ids) in idx.enumerated() {
                ids.sort()
                let fwd = ParallelCorpus(sources: ids.map { c.sources[$0] }, targets: ids.map { c.targets[$0] }, direction: toEng)
                let bwd = ParallelCorpus(sources: ids.map { c.targets[$0] }, targets: ids.map { c.sources[$0] }, direction: fromEng)
                var parts: [ParallelCorpus] = []
                if options.pair == nil || options.pair == toEng { parts.append(fwd) }
                if options.pair == nil || options.pair == fromEng { parts.append(bwd) }
                switch k { case 0: train += parts; case 1: valid += parts; default: test += parts }
            }
            langs.insert(x); langs.insert("eng")
        }
        let tags = langs.sorted().map { Vocabulary.languageTag($0) }
        return make([("train", ParallelCorpus.concatenate(train)), ("valid", ParallelCorpus.concatenate(valid)),
                     ("test", ParallelCorpus.concatenate(test))], tags: tags)
    }
}

/// Grouping for leak-free splits: connected components of pairs that share a source or a target sentence.
enum Splitter {
    static func groups(_ s: [String], _ t: [String]) -> [[Int]] {
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

/// FNV-1a 64 of a string (stable stream ids).
func stableHash(_ s: String) -> UInt64 {
    var h: UInt64 = 0xcbf2_9ce4_8422_2325
    for b in s.utf8 { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 }
    return h
}
