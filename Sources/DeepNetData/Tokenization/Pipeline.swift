import DeepNetBase
import Foundation

/// Preprocessing settings (all part of the cache key).
public struct PreprocessOptions: Sendable, Codable, Equatable {
    /// Number of BPE merge operations learned on the training split.
    public var bpeMerges: Int
    /// One BPE model for source and target text (required for multilingual data).
    public var jointBPE: Bool = true
    /// One dictionary for both sides (needed for fairseq `--share-all-embeddings`).
    public var jointVocabulary: Bool = true
    public var bpeMinFrequency: Int = 2
    /// fairseq `--thresholdsrc/--thresholdtgt`: tokens seen fewer times map to `<unk>`.
    public var vocabThreshold: Int = 0
    /// fairseq `--padding-factor` (dictionary size rounded up with `madeupwordNNNN`).
    public var paddingFactor: Int = 8

    public init(bpeMerges: Int = 8000, jointBPE: Bool = true, jointVocabulary: Bool = true) {
        self.bpeMerges = bpeMerges; self.jointBPE = jointBPE; self.jointVocabulary = jointVocabulary
    }

    var summary: String {
        "merges=\(bpeMerges);joint-bpe=\(jointBPE);joint-vocab=\(jointVocabulary);min-freq=\(bpeMinFrequency);threshold=\(vocabThreshold);padding=\(paddingFactor);pretok=joiner-v1"
    }
}

/// Token ids of one split, without EOS (the batcher appends it). Multilingual sources start with the
/// target-language tag.
public struct EncodedSplit: Sendable, Equatable {
    public var source: [[Int32]]
    public var target: [[Int32]]
    public var count: Int { source.count }
    public init(source: [[Int32]], target: [[Int32]]) { self.source = source; self.target = target }
}

/// A data set after BPE and vocabulary: what training and evaluation consume.
public struct PreparedData: Sendable {
    public let dataSet: DataSet
    public let options: PreprocessOptions
    public let sourceBPE: BPE
    public let targetBPE: BPE
    public let sourceVocabulary: Vocabulary
    public let targetVocabulary: Vocabulary
    public let splits: [String: EncodedSplit]
    /// SHA-256 of (pipeline version, data fingerprint, preprocessing options): the cache key.
    public let cacheKey: String
    /// True when this object came from the on-disk cache (preprocessing skipped).
    public let loadedFromCache: Bool
    public let cachePath: String?

    public func split(_ name: String) throws -> EncodedSplit {
        guard let s = splits[name] else { throw DataError.unknownSplit(dataSet: dataSet.name.rawValue, split: name, valid: dataSet.splitNames) }
        return s
    }

    /// Raw text → source ids (no EOS). `direction` selects the language tag for multilingual data.
    public func encodeSource(_ raw: String, direction: LanguagePair? = nil) -> [Int32] {
        var cache: [String: [String]] = [:]
        var ids = sourceVocabulary.encode(sourceBPE.apply(PreTokenizer.tokenize(raw), cache: &cache))
        if dataSet.spec.multilingual, let d = direction, let tag = sourceVocabulary.languageTagIndex(d.target) { ids.insert(tag, at: 0) }
        return ids
    }

    /// Raw text → target ids (no EOS).
    public func encodeTarget(_ raw: String) -> [Int32] {
        var cache: [String: [String]] = [:]
        return targetVocabulary.encode(targetBPE.apply(PreTokenizer.tokenize(raw), cache: &cache))
    }

    /// Model output ids → raw text for sacreBLEU: ids → subwords (stops at EOS, drops specials and tags)
    /// → BPE removed → pre-tokenizer undone.
    public func detokenize(_ ids: [Int32]) -> String {
        PreTokenizer.detokenize(BPE.remove(tokens: targetVocabulary.decode(ids)))
    }

    /// Subword string of target ids (`@@ ` kept), as fairseq prints hypotheses before `--remove-bpe`.
    public func subwordString(_ ids: [Int32]) -> String { targetVocabulary.decode(ids).joined(separator: " ") }

    /// Raw references of a split (what `detokenize` output is scored against).
    public func references(_ split: String) throws -> [String] { try dataSet.split(split).targets }

    /// Scores detokenized hypotheses of a split with the data set's recipe.
    public func bleu(hypotheses: [String], split: String) throws -> (score: BLEUScore, signature: String) {
        let b = SacreBLEU(dataSet.spec.scoring.options)
        let refs = try references(split)
        let r = try b.corpusStatistics(hypotheses: hypotheses, references: [refs.map { Optional($0) }])
        return (r.score, b.signature(nrefs: r.nrefs))
    }

    // MARK: building

    /// `$DEEPNET_CACHE`, else `.cache/` in the repository root (found from this source file's path),
    /// else `./.cache`.
    public static func defaultCacheDirectory(environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        if let c = environment["DEEPNET_CACHE"], !c.isEmpty { return c }
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent()
        if FileManager.default.fileExists(atPath: root.appendingPathComponent("Package.swift").path) {
            return root.appendingPathComponent(".cache").path
        }
        return FileManager.default.currentDirectoryPath + "/.cache"
    }

    /// Learns BPE and the vocabulary on the training split and encodes every split, or loads the result
    /// from `cacheDirectory` when the same inputs and settings were processed before. `cacheDirectory`
    /// nil = `defaultCacheDirectory()`; pass `useCache: false` to neither read nor write the cache.
    public static func prepare(_ dataSet: DataSet, options: PreprocessOptions? = nil, cacheDirectory: String? = nil,
                               useCache: Bool = true) throws -> PreparedData {
        let opts = options ?? PreprocessOptions(bpeMerges: dataSet.spec.defaultBPEMerges)
        if dataSet.spec.multilingual && !(opts.jointBPE && opts.jointVocabulary) {
            throw DataError.invalidArgument("multilingual data set '\(dataSet.name)' needs joint BPE and a joint vocabulary")
        }
        let trainName = dataSet.splits["train"] != nil ? "train" : nil
        guard let trainName else {
            throw DataError.invalidArgument("data set '\(dataSet.name)' has no train split (evaluation only); prepare it with the BPE and vocabulary of a training set via PreparedData.encode(_:with:)")
        }
        var h = SHA256()
        h.update("\(deepNetDataVersion)\nprepare\n\(dataSet.fingerprint)\n\(opts.summary)\n")
        let key = h.hexDigest()
        let dir = cacheDirectory ?? defaultCacheDirectory()
        let path = dir + "/prepared-\(dataSet.name.rawValue)-\(key.prefix(24)).bin"
        if useCache, FileManager.default.fileExists(atPath: path), let cached = try? PreparedCache.read(path: path, key: key, dataSet: dataSet, options: opts) {
            return cached
        }
        let train = try dataSet.split(trainName)
        let srcPre = train.sources.map { PreTokenizer.tokenize($0).joined(separator: " ") }
        let tgtPre = train.targets.map { PreTokenizer.tokenize($0).joined(separator: " ") }
        let sBPE: BPE, tBPE: BPE
        if opts.jointBPE {
            var counts = BPE.countWords(srcPre)
            for (w, c) in BPE.countWords(tgtPre) { counts[w, default: 0] += c }
            sBPE = BPE.learn(wordCounts: counts, merges: opts.bpeMerges, minFrequency: opts.bpeMinFrequency)
            tBPE = sBPE
        } else {
            sBPE = BPE.learn(lines: srcPre, merges: opts.bpeMerges, minFrequency: opts.bpeMinFrequency)
            tBPE = BPE.learn(lines: tgtPre, merges: opts.bpeMerges, minFrequency: opts.bpeMinFrequency)
        }
        var sCache: [String: [String]] = [:], tCache: [String: [String]] = [:]
        let srcTok = srcPre.map { sBPE.apply(ByteString.split($0), cache: &sCache) }
        let tgtTok = tgtPre.map { tBPE.apply(ByteString.split($0), cache: &tCache) }
        var sCounts: [String: Int] = [:], tCounts: [String: Int] = [:]
        for l in srcTok { for t in l { sCounts[t, default: 0] += 1 } }
        for l in tgtTok { for t in l { tCounts[t, default: 0] += 1 } }
        var tagCounts: [String: Int] = [:]
        if dataSet.spec.multilingual {
            for i in 0..<train.count { tagCounts[Vocabulary.languageTag(train.direction(of: i).target), default: 0] += 1 }
        }
        let sVocab: Vocabulary, tVocab: Vocabulary
        if opts.jointVocabulary {
            var all = sCounts
            for (t, c) in tCounts { all[t, default: 0] += c }
            sVocab = Vocabulary.build(counts: all, languageTags: dataSet.languageTags, tagCounts: tagCounts,
                                      threshold: opts.vocabThreshold, paddingFactor: opts.paddingFactor)
            tVocab = sVocab
        } else {
            sVocab = Vocabulary.build(counts: sCounts, languageTags: dataSet.languageTags, tagCounts: tagCounts,
                                      threshold: opts.vocabThreshold, paddingFactor: opts.paddingFactor)
            tVocab = Vocabulary.build(counts: tCounts, threshold: opts.vocabThreshold, paddingFactor: opts.paddingFactor)
        }
        var encoded: [String: EncodedSplit] = [:]
        for name in dataSet.splitNames {
            let c = dataSet.splits[name]!
            var src: [[Int32]] = [], tgt: [[Int32]] = []
            src.reserveCapacity(c.count); tgt.reserveCapacity(c.count)
            for i in 0..<c.count {
                var s = sVocab.encode(sBPE.apply(PreTokenizer.tokenize(c.sources[i]), cache: &sCache))
                if dataSet.spec.multilingual, let tag = sVocab.languageTagIndex(c.direction(of: i).target) { s.insert(tag, at: 0) }
                src.append(s)
                tgt.append(tVocab.encode(tBPE.apply(PreTokenizer.tokenize(c.targets[i]), cache: &tCache)))
            }
            encoded[name] = EncodedSplit(source: src, target: tgt)
        }
        var prepared = PreparedData(dataSet: dataSet, options: opts, sourceBPE: sBPE, targetBPE: tBPE, sourceVocabulary: sVocab,
                                    targetVocabulary: tVocab, splits: encoded, cacheKey: key, loadedFromCache: false, cachePath: nil)
        if useCache {
            try PreparedCache.write(prepared, path: path)
            prepared = PreparedData(dataSet: dataSet, options: opts, sourceBPE: sBPE, targetBPE: tBPE, sourceVocabulary: sVocab,
                                    targetVocabulary: tVocab, splits: encoded, cacheKey: key, loadedFromCache: false, cachePath: path)
        }
        return prepared
    }

    /// Encodes another data set (e.g. an evaluation-only newstest set) with this BPE and vocabulary.
    public func encode(_ other: DataSet, split: String) throws -> EncodedSplit {
        let c = try other.split(split)
        var sCache: [String: [String]] = [:], tCache: [String: [String]] = [:]
        var src: [[Int32]] = [], tgt: [[Int32]] = []
        for i in 0..<c.count {
            var s = sourceVocabulary.encode(sourceBPE.apply(PreTokenizer.tokenize(c.sources[i]), cache: &sCache))
            if dataSet.spec.multilingual, let tag = sourceVocabulary.languageTagIndex(c.direction(of: i).target) { s.insert(tag, at: 0) }
            src.append(s)
            tgt.append(targetVocabulary.encode(targetBPE.apply(PreTokenizer.tokenize(c.targets[i]), cache: &tCache)))
        }
        return EncodedSplit(source: src, target: tgt)
    }

    init(dataSet: DataSet, options: PreprocessOptions, sourceBPE: BPE, targetBPE: BPE, sourceVocabulary: Vocabulary,
         targetVocabulary: Vocabulary, splits: [String: EncodedSplit], cacheKey: String, loadedFromCache: Bool, cachePath: String?) {
        self.dataSet = dataSet; self.options = options; self.sourceBPE = sourceBPE; self.targetBPE = targetBPE
        self.sourceVocabulary = sourceVocabulary; self.targetVocabulary = targetVocabulary; self.splits = splits
        self.cacheKey = cacheKey; self.loadedFromCache = loadedFromCache; self.cachePath = cachePath
    }
}

/// Binary cache of a PreparedData: magic, key, then length-prefixed sections (codes, dictionaries,
/// and per split the token-id arrays as little-endian Int32 with per-sentence lengths).
enum PreparedCache {
    static let magic = Array("DEEPNET-PREP-1\n".utf8)

    static func write(_ p: PreparedData, path: String) throws {
        var out = Data()
        out.append(contentsOf: magic)
        func putBytes(_ b: [UInt8]) { putInt(b.count); out.append(contentsOf: b) }
        func putInt(_ v: Int) { var x = UInt64(v).littleEndian; withUnsafeBytes(of: &x) { out.append(contentsOf: $0) } }
        func putString(_ s: String) { putBytes(Array(s.utf8)) }
        func putIds(_ rows: [[Int32]]) {
            putInt(rows.count)
            var lens = [Int32](); lens.reserveCapacity(rows.count)
            var flat = [Int32](); flat.reserveCapacity(rows.reduce(0) { $0 + $1.count })
            for r in rows { lens.append(Int32(r.count)); flat.append(contentsOf: r) }
            for a in [lens, flat] {
                putInt(a.count)
                a.map { $0.littleEndian }.withUnsafeBytes { out.append(contentsOf: $0) }
            }
        }
        putString(p.cacheKey)
        putString(p.sourceBPE.codesText); putString(p.targetBPE.codesText)
        putString(p.sourceVocabulary.dictText()); putString(p.targetVocabulary.dictText())
        putInt(p.dataSet.splitNames.count)
        for name in p.dataSet.splitNames {
            putString(name)
            putIds(p.splits[name]!.source)
            putIds(p.splits[name]!.target)
        }
        var h = SHA256(); h.update(out)
        out.append(contentsOf: h.finalize())
        try TextIO.writeAtomically(out, to: path)
    }

    static func read(path: String, key: String, dataSet: DataSet, options: PreprocessOptions) throws -> PreparedData {
        let bytes = try TextIO.readRawBytes(path)
        func bad(_ r: String) -> DataError { .cacheCorrupt(path: path, reason: r) }
        guard bytes.count > magic.count + 32, Array(bytes[0..<magic.count]) == magic else { throw bad("bad magic") }
        var h = SHA256(); h.update(bytes[0..<(bytes.count - 32)])
        guard h.finalize() == Array(bytes[(bytes.count - 32)...]) else { throw bad("checksum mismatch") }
        var pos = magic.count
        let end = bytes.count - 32
        func getInt() throws -> Int {
            guard pos + 8 <= end else { throw bad("truncated") }
            var v: UInt64 = 0
            for k in 0..<8 { v |= UInt64(bytes[pos + k]) << (8 * UInt64(k)) }
            pos += 8
            guard v < UInt64(Int.max) else { throw bad("bad length") }
            return Int(v)
        }
        func getString() throws -> String {
            let n = try getInt()
            guard pos + n <= end else { throw bad("truncated") }
            let s = String(decoding: bytes[pos..<(pos + n)], as: UTF8.self); pos += n; return s
        }
        func getInt32s() throws -> [Int32] {
            let n = try getInt()
            guard pos + 4 * n <= end else { throw bad("truncated") }
            var a = [Int32](repeating: 0, count: n)
            a.withUnsafeMutableBytes { dst in bytes.withUnsafeBytes { src in dst.copyMemory(from: UnsafeRawBufferPointer(rebasing: src[pos..<(pos + 4 * n)])) } }
            pos += 4 * n
            return a.map { Int32(littleEndian: $0) }
        }
        func getIds() throws -> [[Int32]] {
            let rows = try getInt()
            let lens = try getInt32s(), flat = try getInt32s()
            guard lens.count == rows else { throw bad("row count mismatch") }
            var out: [[Int32]] = []; out.reserveCapacity(rows)
            var o = 0
            for l in lens {
                guard l >= 0, o + Int(l) <= flat.count else { throw bad("bad row length") }
                out.append(Array(flat[o..<(o + Int(l))])); o += Int(l)
            }
            return out
        }
        guard try getString() == key else { throw bad("key mismatch") }
        let sCodes = try getString(), tCodes = try getString(), sDict = try getString(), tDict = try getString()
        let sBPE = try BPE.parse(sCodes.linesForCache, name: path)
        let tBPE = try BPE.parse(tCodes.linesForCache, name: path)
        let sV = try Vocabulary.parse(sDict.linesForCache, name: path)
        let tV = try Vocabulary.parse(tDict.linesForCache, name: path)
        let n = try getInt()
        var splits: [String: EncodedSplit] = [:]
        for _ in 0..<n {
            let name = try getString()
            splits[name] = EncodedSplit(source: try getIds(), target: try getIds())
        }
        guard Set(splits.keys) == Set(dataSet.splitNames) else { throw bad("split names differ") }
        for s in dataSet.splitNames where splits[s]!.count != dataSet.splits[s]!.count { throw bad("split \(s) size differs") }
        return PreparedData(dataSet: dataSet, options: options, sourceBPE: sBPE, targetBPE: tBPE, sourceVocabulary: sV,
                            targetVocabulary: tV, splits: splits, cacheKey: key, loadedFromCache: true, cachePath: path)
    }
}

private extension String {
    /// Lines of a section written with a trailing newline after every line.
    var linesForCache: [String] { Array(ByteString.split(self, on: 0x0A, omittingEmpty: false).dropLast()) }
}
