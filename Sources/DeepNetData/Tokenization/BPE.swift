import Foundation

/// Byte-pair encoding compatible with subword-nmt (Sennrich et al., `subword-nmt` 0.3.x):
/// - learning: words are split into characters (Unicode code points) with `</w>` glued to the last one
///   (codes format version 0.2); the most frequent pair is merged repeatedly, ties broken by the
///   larger pair in code-point order (`max(stats, key=lambda x: (stats[x], x))`), stopping after
///   `merges` operations or when the best pair occurs fewer than `minFrequency` (2) times.
///   Pair statistics are kept exactly (subword-nmt prunes rare pairs for speed, which can very rarely
///   pick a different pair late in learning).
/// - codes file: `#version: 0.2` then one `"left right"` merge per line;
/// - applying: per word, repeatedly merge the lowest-ranked pair present (all its non-overlapping
///   occurrences, left to right), then drop `</w>`; every subword but a word's last carries `@@`.
public struct BPE: Sendable, Equatable {
    public static let endOfWord = "</w>"
    public static let separator = "@@"

    public private(set) var merges: [(String, String)]
    public private(set) var version: (Int, Int)
    private var ranks: [PairKey: Int]

    struct PairKey: Hashable { let a: ScalarKey; let b: ScalarKey }

    public static func == (l: BPE, r: BPE) -> Bool {
        l.version == r.version && l.merges.count == r.merges.count && zip(l.merges, r.merges).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
    }

    public init(merges: [(String, String)], version: (Int, Int) = (0, 2)) {
        self.merges = merges
        self.version = version
        var r: [PairKey: Int] = [:]
        // First occurrence wins (subword-nmt builds the dict from the reversed list).
        for (i, m) in merges.enumerated() {
            let k = PairKey(a: ScalarKey(m.0), b: ScalarKey(m.1))
            if r[k] == nil { r[k] = i }
        }
        ranks = r
    }

    // MARK: codes file

    public var codesText: String {
        var s = "#version: \(version.0).\(version.1)\n"
        for (a, b) in merges { s += "\(a) \(b)\n" }
        return s
    }

    public func save(to path: String) throws { try TextIO.writeAtomically(Data(codesText.utf8), to: path) }

    public static func load(path: String, maxMerges: Int = -1) throws -> BPE {
        try parse(TextIO.readLines(path), name: path, maxMerges: maxMerges)
    }

    public static func parse(_ lines: [String], name: String = "<codes>", maxMerges: Int = -1) throws -> BPE {
        var version = (0, 1)
        var body = lines[...]
        if let first = body.first, first.hasPrefix("#version:") {
            let v = first.dropFirst("#version:".count).trimmingCharacters(in: .whitespaces).split(separator: ".")
            guard v.count >= 2, let a = Int(v[0]), let b = Int(v[1]) else {
                throw DataError.invalidFormat(path: name, line: 1, reason: "bad version line '\(first)'")
            }
            version = (a, b)
            body = body.dropFirst()
        }
        guard version == (0, 1) || version == (0, 2) else {
            throw DataError.invalidFormat(path: name, line: 1, reason: "unsupported codes version \(version.0).\(version.1) (expected 0.1 or 0.2)")
        }
        var merges: [(String, String)] = []
        for (i, raw) in body.enumerated() {
            if maxMerges >= 0 && merges.count >= maxMerges { break }
            let line = PythonText.string(PythonText.scalars(raw).drop { $0 == 0x0D || $0 == 0x0A || $0 == 0x20 }.reversed().drop { $0 == 0x0D || $0 == 0x0A || $0 == 0x20 }.reversed())
            let parts = ByteString.split(line, omittingEmpty: false)
            guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else {
                throw DataError.invalidFormat(path: name, line: i + (lines.count - body.count) + 1, reason: "expected two space-separated symbols, got '\(raw)'")
            }
            merges.append((String(parts[0]), String(parts[1])))
        }
        return BPE(merges: merges, version: version)
    }

    // MARK: applying

    /// Segments one word (no spaces) into subwords, without the `@@` markers.
    public func segment(word: String) -> [String] {
        let chars = word.unicodeScalars.map { String($0) }
        guard !chars.isEmpty else { return [] }
        var w: [String]
        if version == (0, 1) { w = chars + [BPE.endOfWord] } else { w = Array(chars.dropLast()) + [chars.last! + BPE.endOfWord] }
        while w.count > 1 {
            var best = Int.max
            for i in 0..<(w.count - 1) {
                if let r = ranks[PairKey(a: ScalarKey(w[i]), b: ScalarKey(w[i + 1]))], r < best { best = r }
            }
            if best == Int.max { break }
            let (a, b) = merges[best]
            var nw: [String] = []
            nw.reserveCapacity(w.count)
            var i = 0
            while i < w.count {
                if i + 1 < w.count && ScalarKey(w[i]) == ScalarKey(a) && ScalarKey(w[i + 1]) == ScalarKey(b) {
                    nw.append(w[i] + w[i + 1]); i += 2
                } else {
                    nw.append(w[i]); i += 1
                }
            }
            w = nw
        }
        if let l = w.last, ScalarKey(l) == ScalarKey(BPE.endOfWord) { w.removeLast() }
        else if let l = w.last, ByteString.hasSuffix(l, BPE.endOfWord) { w[w.count - 1] = ByteString.dropSuffix(l, bytes: 4) }
        return w
    }

    /// Applies BPE to whitespace tokens, adding `@@` to every non-final subword of a word.
    public func apply(_ words: [String], cache: inout [String: [String]]) -> [String] {
        var out: [String] = []
        out.reserveCapacity(words.count * 2)
        for word in words {
            let seg: [String]
            if let c = cache[word] { seg = c } else {
                let s = segment(word: word)
                cache[word] = s
                seg = s
            }
            for (k, s) in seg.enumerated() { out.append(k + 1 < seg.count ? s + BPE.separator : s) }
        }
        return out
    }

    public func apply(_ words: [String]) -> [String] {
        var cache: [String: [String]] = [:]
        return apply(words, cache: &cache)
    }

    /// `apply_bpe.py` on one line of space-separated words.
    public func apply(line: String) -> String {
        apply(ByteString.split(line)).joined(separator: " ")
    }

    /// Undoes BPE on a token string: `sed -E 's/(@@ )|(@@ ?$)//g'`.
    public static func remove(_ line: String) -> String {
        var s = line.replacingOccurrencesLiteral("@@ ", with: "")
        if ByteString.hasSuffix(s, "@@") { s = ByteString.dropSuffix(s, bytes: 2) }
        return s
    }

    /// Undoes BPE on a token list, returning words.
    public static func remove(tokens: [String]) -> [String] {
        var words: [String] = []
        var cur = ""
        var open = false
        for t in tokens {
            if ByteString.hasSuffix(t, separator) { cur += ByteString.dropSuffix(t, bytes: 2); open = true }
            else { cur += t; words.append(cur); cur = ""; open = false }
        }
        if open && !cur.isEmpty { words.append(cur) }
        return words
    }

    // MARK: learning

    /// Learns `merges` operations from word counts (subword-nmt `learn_bpe`).
    public static func learn(wordCounts: [String: Int], merges numMerges: Int, minFrequency: Int = 2) -> BPE {
        var learner = BPELearner(wordCounts: wordCounts)
        return BPE(merges: learner.run(numMerges: numMerges, minFrequency: minFrequency), version: (0, 2))
    }

    /// Learns from lines of space-separated words (`line.strip('\r\n ').split(' ')`).
    public static func learn(lines: [String], merges: Int, minFrequency: Int = 2) -> BPE {
        learn(wordCounts: countWords(lines), merges: merges, minFrequency: minFrequency)
    }

    public static func countWords(_ lines: [String]) -> [String: Int] {
        var c: [String: Int] = [:]
        for l in lines { for w in ByteString.split(l) { c[w, default: 0] += 1 } }
        return c
    }
}

/// Exact incremental BPE learner.
struct BPELearner {
    var symbols: [String] = []
    var symbolIndex: [ScalarKey: Int32] = [:]
    var words: [[Int32]] = []
    var freqs: [Int] = []
    var stats: [UInt64: Int] = [:]
    var where_: [UInt64: Set<Int32>] = [:]
    var heap = PairHeap()

    init(wordCounts: [String: Int]) {
        // Deterministic word order (code-point order), independent of dictionary iteration order.
        let entries = wordCounts.sorted { codePointLess($0.key, $1.key) }
        for (w, f) in entries {
            let chars = w.unicodeScalars.map { String($0) }
            guard !chars.isEmpty else { continue }
            var syms = chars.dropLast().map { intern($0) }
            syms.append(intern(chars.last! + BPE.endOfWord))
            words.append(syms)
            freqs.append(f)
        }
        for (i, w) in words.enumerated() where w.count > 1 {
            for k in 0..<(w.count - 1) {
                let p = key(w[k], w[k + 1])
                stats[p, default: 0] += freqs[i]
                where_[p, default: []].insert(Int32(i))
            }
        }
        for (p, c) in stats { heap.push(count: c, pair: p, symbols) }
    }

    mutating func intern(_ s: String) -> Int32 {
        if let v = symbolIndex[ScalarKey(s)] { return v }
        let v = Int32(symbols.count)
        symbols.append(s)
        symbolIndex[ScalarKey(s)] = v
        return v
    }

    @inline(__always) func key(_ a: Int32, _ b: Int32) -> UInt64 { UInt64(UInt32(bitPattern: a)) << 32 | UInt64(UInt32(bitPattern: b)) }

    mutating func run(numMerges: Int, minFrequency: Int) -> [(String, String)] {
        var out: [(String, String)] = []
        while out.count < numMerges {
            guard let (count, pair) = popBest() else { break }
            if count < minFrequency { break }
            let a = Int32(truncatingIfNeeded: pair >> 32), b = Int32(truncatingIfNeeded: pair & 0xFFFF_FFFF)
            out.append((symbols[Int(a)], symbols[Int(b)]))
            merge(a, b, pair)
        }
        return out
    }

    mutating func popBest() -> (Int, UInt64)? {
        while let top = heap.pop(symbols) {
            if let c = stats[top.pair], c == top.count, c > 0 { return (c, top.pair) }
        }
        return nil
    }

    mutating func merge(_ a: Int32, _ b: Int32, _ pair: UInt64) {
        let ab = intern(symbols[Int(a)] + symbols[Int(b)])
        let affected = (where_[pair] ?? []).sorted()
        var touched = Set<UInt64>()
        for wi in affected {
            let i = Int(wi)
            let old = words[i]
            var nw: [Int32] = []
            nw.reserveCapacity(old.count)
            var k = 0
            var changed = false
            while k < old.count {
                if k + 1 < old.count && old[k] == a && old[k + 1] == b { nw.append(ab); k += 2; changed = true }
                else { nw.append(old[k]); k += 1 }
            }
            if !changed { continue }
            let f = freqs[i]
            var oldPairs: [UInt64: Int] = [:], newPairs: [UInt64: Int] = [:]
            for k in 0..<(old.count - 1) { oldPairs[key(old[k], old[k + 1]), default: 0] += 1 }
            if nw.count > 1 { for k in 0..<(nw.count - 1) { newPairs[key(nw[k], nw[k + 1]), default: 0] += 1 } }
            for (p, c) in oldPairs {
                let n = newPairs[p] ?? 0
                if n == c { continue }
                stats[p, default: 0] += (n - c) * f
                touched.insert(p)
                if n == 0 { where_[p]?.remove(wi) }
            }
            for (p, n) in newPairs where oldPairs[p] == nil {
                stats[p, default: 0] += n * f
                touched.insert(p)
                where_[p, default: []].insert(wi)
            }
            words[i] = nw
        }
        stats[pair] = 0
        where_[pair] = nil
        for p in touched where p != pair {
            if let c = stats[p], c > 0 { heap.push(count: c, pair: p, symbols) }
            else { stats[p] = nil; where_[p] = nil }
        }
    }
}

/// Max-heap of (count, pair) with subword-nmt's tie-break (larger pair in code-point order first).
struct PairHeap {
    struct Entry { var count: Int; var pair: UInt64 }
    var items: [Entry] = []

    @inline(__always) static func higher(_ x: Entry, _ y: Entry, _ symbols: [String]) -> Bool {
        if x.count != y.count { return x.count > y.count }
        if x.pair == y.pair { return false }
        let xa = symbols[Int(x.pair >> 32)], ya = symbols[Int(y.pair >> 32)]
        if !xa.utf8.elementsEqual(ya.utf8) { return ya.utf8.lexicographicallyPrecedes(xa.utf8) }
        let xb = symbols[Int(x.pair & 0xFFFF_FFFF)], yb = symbols[Int(y.pair & 0xFFFF_FFFF)]
        return yb.utf8.lexicographicallyPrecedes(xb.utf8)
    }

    mutating func push(count: Int, pair: UInt64, _ symbols: [String]) {
        items.append(Entry(count: count, pair: pair))
        var i = items.count - 1
        while i > 0 {
            let p = (i - 1) / 2
            if PairHeap.higher(items[i], items[p], symbols) { items.swapAt(i, p); i = p } else { break }
        }
    }

    mutating func pop(_ symbols: [String]) -> Entry? {
        guard !items.isEmpty else { return nil }
        let top = items[0]
        let last = items.removeLast()
        if !items.isEmpty {
            items[0] = last
            var i = 0
            while true {
                let l = 2 * i + 1, r = l + 1
                var m = i
                if l < items.count && PairHeap.higher(items[l], items[m], symbols) { m = l }
                if r < items.count && PairHeap.higher(items[r], items[m], symbols) { m = r }
                if m == i { break }
                items.swapAt(i, m); i = m
            }
        }
        return top
    }
}
