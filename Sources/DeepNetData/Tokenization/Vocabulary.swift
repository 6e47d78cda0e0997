import Foundation

/// A token string compared by Unicode scalars (code points), not by Swift's canonical equivalence,
/// so that distinct byte sequences always get distinct ids (as in Python/fairseq).
public struct ScalarKey: Hashable, Sendable {
    public let string: String
    public init(_ s: String) { string = s }
    public static func == (a: ScalarKey, b: ScalarKey) -> Bool { a.string.utf8.elementsEqual(b.string.utf8) }
    public func hash(into h: inout Hasher) { for b in string.utf8 { h.combine(b) } }
}

/// Code-point lexicographic order (Python's `str` ordering).
@inline(__always)
func codePointLess(_ a: String, _ b: String) -> Bool {
    // UTF-8 byte order equals code-point order.
    a.utf8.lexicographicallyPrecedes(b.utf8)
}

/// A fairseq-style dictionary (`fairseq/data/dictionary.py`): `<s>`=0, `<pad>`=1, `</s>`=2, `<unk>`=3,
/// then language tags (`__de__`, …), then tokens by decreasing frequency (ties: code-point order), then
/// `madeupwordNNNN` fillers up to a multiple of `paddingFactor`. Saved/loaded as fairseq `dict.txt`
/// (`"token count"` per line, specials omitted).
public struct Vocabulary: Sendable, Equatable {
    public static let bosIndex: Int32 = 0
    public static let padIndex: Int32 = 1
    public static let eosIndex: Int32 = 2
    public static let unkIndex: Int32 = 3
    public static let specialSymbols = ["<s>", "<pad>", "</s>", "<unk>"]

    public private(set) var symbols: [String]
    public private(set) var counts: [Int]
    public private(set) var languageTags: [String]
    private var index: [ScalarKey: Int32]

    public var count: Int { symbols.count }
    public var bos: Int32 { Self.bosIndex }
    public var pad: Int32 { Self.padIndex }
    public var eos: Int32 { Self.eosIndex }
    public var unk: Int32 { Self.unkIndex }
    /// Number of leading symbols that are not ordinary tokens (4 specials + language tags).
    public var nspecial: Int { 4 + languageTags.count }

    public static func == (a: Vocabulary, b: Vocabulary) -> Bool {
        a.symbols == b.symbols && a.counts == b.counts && a.languageTags == b.languageTags
    }

    /// The language-tag token for a language code: `__de__`.
    public static func languageTag(_ lang: String) -> String { "__\(lang)__" }

    public static func isLanguageTag(_ s: String) -> Bool {
        s.utf8.count > 4 && ByteString.hasPrefix(s, "__") && ByteString.hasSuffix(s, "__") && !s.utf8.contains(0x20)
    }

    private init(symbols: [String], counts: [Int], languageTags: [String]) {
        self.symbols = symbols
        self.counts = counts
        self.languageTags = languageTags
        var idx: [ScalarKey: Int32] = [:]
        for (i, s) in symbols.enumerated() where idx[ScalarKey(s)] == nil { idx[ScalarKey(s)] = Int32(i) }
        index = idx
    }

    /// Builds a dictionary from token counts (fairseq `Dictionary.finalize`).
    /// - threshold: tokens with count < threshold are dropped (fairseq `--thresholdsrc`, default 0).
    /// - maxWords: cap on the number of symbols including specials (−1 = no cap).
    public static func build(counts tokenCounts: [String: Int], languageTags: [String] = [],
                             tagCounts: [String: Int] = [:], threshold: Int = 0, maxWords: Int = -1,
                             paddingFactor: Int = 8) -> Vocabulary {
        var symbols = specialSymbols
        var counts = [1, 1, 1, 1]
        let tags = languageTags.map { isLanguageTag($0) ? $0 : languageTag($0) }
        for t in tags { symbols.append(t); counts.append(tagCounts[t] ?? 0) }
        let special = Set(symbols)
        var entries = tokenCounts.filter { !special.contains($0.key) }.map { ($0.key, $0.value) }
        entries.sort { a, b in a.1 != b.1 ? a.1 > b.1 : codePointLess(a.0, b.0) }
        let limit = maxWords > 0 ? max(0, maxWords - symbols.count) : entries.count
        for (s, c) in entries.prefix(limit) {
            if c < threshold { break }
            symbols.append(s); counts.append(c)
        }
        if paddingFactor > 1 {
            var i = 0
            while symbols.count % paddingFactor != 0 {
                symbols.append(String(format: "madeupword%04d", i)); counts.append(0); i += 1
            }
        }
        return Vocabulary(symbols: symbols, counts: counts, languageTags: tags)
    }

    /// Counts whitespace-separated tokens of `lines` and builds a dictionary.
    public static func build(lines: [String], languageTags: [String] = [], threshold: Int = 0,
                             paddingFactor: Int = 8) -> Vocabulary {
        var c: [String: Int] = [:]
        for l in lines { for t in ByteString.split(l) { c[t, default: 0] += 1 } }
        return build(counts: c, languageTags: languageTags, threshold: threshold, paddingFactor: paddingFactor)
    }

    public func index(of token: String) -> Int32 { index[ScalarKey(token)] ?? Self.unkIndex }
    public func contains(_ token: String) -> Bool { index[ScalarKey(token)] != nil }
    public func symbol(_ id: Int32) -> String {
        id >= 0 && Int(id) < symbols.count ? symbols[Int(id)] : Self.specialSymbols[3]
    }

    public func languageTagIndex(_ lang: String) -> Int32? {
        let t = Vocabulary.isLanguageTag(lang) ? lang : Vocabulary.languageTag(lang)
        return index[ScalarKey(t)]
    }

    /// Encodes whitespace tokens; unknown tokens map to `<unk>`. EOS is not appended (the batcher adds it).
    public func encode(_ tokens: [String]) -> [Int32] { tokens.map { index(of: $0) } }
    public func encode(line: String) -> [Int32] {
        encode(ByteString.split(line))
    }

    /// Decodes ids to tokens, dropping `<s>`, `<pad>`, `</s>` and language tags (fairseq `string()` with
    /// `extra_symbols_to_ignore`); `<unk>` is kept as the literal `<unk>`.
    public func decode(_ ids: [Int32]) -> [String] {
        var out: [String] = []
        for id in ids {
            if id == Self.eosIndex { break }
            if id == Self.bosIndex || id == Self.padIndex { continue }
            if Int(id) >= 4 && Int(id) < nspecial { continue }
            out.append(symbol(id))
        }
        return out
    }

    // MARK: dict.txt

    /// fairseq `dict.txt` text: one `"token count"` line per non-special symbol (language tags included,
    /// so that loading restores their indices).
    public func dictText() -> String {
        var s = ""
        for i in 4..<symbols.count { s += "\(symbols[i]) \(counts[i])\n" }
        return s
    }

    public func save(to path: String) throws {
        try TextIO.writeAtomically(Data(dictText().utf8), to: path)
    }

    /// Loads a fairseq `dict.txt` (`Dictionary.add_from_file`): `token count [#fairseq:overwrite]`.
    public static func load(path: String) throws -> Vocabulary {
        try parse(TextIO.readLines(path), name: path)
    }

    public static func parse(_ lines: [String], name: String = "<dict>") throws -> Vocabulary {
        var symbols = specialSymbols
        var counts = [1, 1, 1, 1]
        var tags: [String] = []
        var seen = Set<ScalarKey>(symbols.map(ScalarKey.init))
        var inTags = true
        for (i, raw) in lines.enumerated() {
            var line = raw
            if ByteString.hasSuffix(line, "\r") { line = ByteString.dropSuffix(line, bytes: 1) }
            var overwrite = false
            if ByteString.hasSuffix(line, " #fairseq:overwrite") {
                overwrite = true
                line = ByteString.dropSuffix(line, bytes: " #fairseq:overwrite".utf8.count)
            }
            guard let sp = ByteString.lastIndex(line, of: 0x20) else {
                throw DataError.invalidFormat(path: name, line: i + 1, reason: "expected \"<token> <cnt>\"")
            }
            let bytes = Array(line.utf8)
            let tok = String(decoding: bytes[..<sp], as: UTF8.self)
            guard let c = Int(String(decoding: bytes[(sp + 1)...], as: UTF8.self)) else {
                throw DataError.invalidFormat(path: name, line: i + 1, reason: "expected \"<token> <cnt>\"")
            }
            if seen.contains(ScalarKey(tok)) && !overwrite {
                throw DataError.invalidFormat(path: name, line: i + 1, reason: "duplicate word '\(tok)' (add #fairseq:overwrite to allow)")
            }
            seen.insert(ScalarKey(tok))
            if inTags && isLanguageTag(tok) { tags.append(tok) } else { inTags = false }
            symbols.append(tok); counts.append(c)
        }
        return Vocabulary(symbols: symbols, counts: counts, languageTags: tags)
    }
}
