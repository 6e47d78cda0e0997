import DeepNetBase
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// sacreBLEU smoothing methods (`BLEU.SMOOTH_DEFAULTS`).
public enum BLEUSmoothing: String, CaseIterable, Sendable, Codable {
    case exp
    case floor
    case addK = "add-k"
    case none

    /// Default smoothing value (`floor`: 0.1 — 2.x default; `add-k`: 1); nil for methods without one.
    public var defaultValue: Double? {
        switch self {
        case .floor: return 0.1
        case .addK: return 1
        case .exp, .none: return nil
        }
    }

    public static var validNames: [String] { allCases.map(\.rawValue) }

    public init(name: String) throws {
        guard let s = BLEUSmoothing(rawValue: name) else {
            throw DataError.invalidArgument("unknown smoothing method '\(name)'; valid methods: \(BLEUSmoothing.validNames.joined(separator: ", "))")
        }
        self = s
    }
}

/// Options of a sacreBLEU `BLEU` metric object.
public struct BLEUOptions: Sendable, Equatable, Codable {
    public var tokenizer: BLEUTokenizerKind
    public var smoothing: BLEUSmoothing
    /// nil = the method's default (as in sacreBLEU).
    public var smoothValue: Double?
    public var lowercase: Bool
    public var effectiveOrder: Bool
    public var maxNgramOrder: Int

    public init(tokenizer: BLEUTokenizerKind = .tok13a, smoothing: BLEUSmoothing = .exp, smoothValue: Double? = nil,
                lowercase: Bool = false, effectiveOrder: Bool = false, maxNgramOrder: Int = 4) {
        self.tokenizer = tokenizer
        self.smoothing = smoothing
        self.smoothValue = smoothValue
        self.lowercase = lowercase
        self.effectiveOrder = effectiveOrder
        self.maxNgramOrder = maxNgramOrder
    }

    /// `sacrebleu.sentence_bleu` defaults: exp smoothing with effective order.
    public static var sentence: BLEUOptions { BLEUOptions(effectiveOrder: true) }

    /// fairseq-style "in-built" tokenized BLEU on whitespace tokens (docs/bleu.md §6).
    public static var tokenizedNoSmoothing: BLEUOptions { BLEUOptions(tokenizer: .none, smoothing: .none) }
}

/// Result of a BLEU computation (`BLEUScore`).
public struct BLEUScore: Sendable, Equatable {
    public var score: Double
    /// Matched n-grams per order (after add-k, as in sacreBLEU 2.x).
    public var counts: [Double]
    /// Hypothesis n-grams per order (after add-k).
    public var totals: [Double]
    public var precisions: [Double]
    public var bp: Double
    public var sysLen: Int
    public var refLen: Int

    public var ratio: Double { refLen != 0 ? Double(sysLen) / Double(refLen) : 0 }

    /// `"85.7/66.7/40.0/25.0 (BP = 1.000 ratio = 1.000 hyp_len = 7 ref_len = 7)"`.
    public var verbose: String {
        let prec = precisions.map { PythonText.formatFixed($0, 1) }.joined(separator: "/")
        return "\(prec) (BP = \(PythonText.formatFixed(bp, 3)) ratio = \(PythonText.formatFixed(ratio, 3)) hyp_len = \(sysLen) ref_len = \(refLen))"
    }

    /// `Score.format(width, score_only, signature)` for text output, e.g.
    /// `BLEU|nrefs:1|case:mixed|eff:no|tok:13a|smooth:exp|version:2.6.0 = 48.89 85.7/66.7/40.0/25.0 (BP = …)`.
    public func formatted(width: Int = 2, signature: String = "", scoreOnly: Bool = false) -> String {
        let sc = PythonText.formatFixed(score, width)
        if scoreOnly { return sc }
        let head = signature.isEmpty ? "BLEU" : "BLEU|\(signature)"
        return "\(head) = \(sc) \(verbose)"
    }

    /// sacreBLEU's JSON output (`json.dumps(d, indent=1, ensure_ascii=False)`).
    public func json(width: Int = 1, signature: String) -> String {
        let rounded = Double(PythonText.formatFixed(score, width)) ?? score
        var lines: [(String, String)] = [
            ("name", jsonQuoted("BLEU")),
            ("score", pythonFloatRepr(rounded)),
            ("signature", jsonQuoted(signature)),
            ("verbose_score", jsonQuoted(verbose)),
        ]
        for field in signature.split(separator: "|") {
            let kv = field.split(separator: ":", maxSplits: 1).map(String.init)
            if kv.count == 2 { lines.append((kv[0], jsonQuoted(kv[1]))) }
        }
        return "{\n" + lines.map { " \(jsonQuoted($0.0)): \($0.1)" }.joined(separator: ",\n") + "\n}"
    }
}


/// Python `repr(float)` for ordinary magnitudes (Swift's description is also the shortest
/// round-trip form, e.g. `81.2`, `100.0`).
func pythonFloatRepr(_ x: Double) -> String { "\(x)" }

/// Sufficient statistics of one segment: `[hyp_len, ref_len, correct_1..N, total_1..N]`.
public struct BLEUStats: Sendable, Equatable, Codable {
    public var sysLen: Int = 0
    public var refLen: Int = 0
    public var correct: [Int]
    public var total: [Int]

    public init(order: Int = 4) {
        correct = Array(repeating: 0, count: order)
        total = Array(repeating: 0, count: order)
    }

    public static func += (lhs: inout BLEUStats, rhs: BLEUStats) {
        lhs.sysLen += rhs.sysLen
        lhs.refLen += rhs.refLen
        for i in lhs.correct.indices { lhs.correct[i] += rhs.correct[i]; lhs.total[i] += rhs.total[i] }
    }
}

/// Number of references in a signature: a fixed count, or `var` when it differs across segments.
public enum ReferenceCount: Sendable, Equatable, CustomStringConvertible {
    case fixed(Int)
    case variable
    public var description: String {
        switch self {
        case .fixed(let n): return "\(n)"
        case .variable: return "var"
        }
    }
}

/// sacreBLEU 2.6.0 BLEU (`sacrebleu/metrics/bleu.py`), bit-for-bit in its arithmetic.
public struct SacreBLEU: Sendable {
    public static let version = "2.6.0"
    public var options: BLEUOptions

    public init(_ options: BLEUOptions = BLEUOptions()) { self.options = options }

    // MARK: preprocessing

    /// `_preprocess_segment`: lowercase (optional), then `tokenizer(sent.rstrip())`.
    public func preprocess(_ segment: String) -> [UInt32] {
        var s = PythonText.scalars(segment)
        if options.lowercase { s = PythonText.lower(s) }
        return options.tokenizer.tokenize(PythonText.rstrip(s))
    }

    /// Tokens of a preprocessed segment, as interned ids.
    private func tokens(_ segment: String, _ interner: inout TokenInterner) -> [Int32] {
        let s = preprocess(segment)
        return PythonText.split(s).map { interner.id(for: $0) }
    }

    // MARK: scoring

    /// Corpus BLEU. `references` is a list of reference *streams*, each parallel to `hypotheses`;
    /// a nil entry removes that reference for the segment (variable number of references).
    public func corpusScore(hypotheses: [String], references: [[String?]]) throws -> BLEUScore {
        try corpusStatistics(hypotheses: hypotheses, references: references).score
    }

    public func corpusScore(hypotheses: [String], references: [[String]]) throws -> BLEUScore {
        try corpusScore(hypotheses: hypotheses, references: references.map { $0.map { Optional($0) } })
    }

    /// Sentence BLEU (`BLEU.sentence_score`): the corpus score of one segment. Use
    /// `BLEUOptions.sentence` to get `sacrebleu.sentence_bleu` behaviour.
    public func sentenceScore(hypothesis: String, references: [String]) -> BLEUScore {
        var interner = TokenInterner()
        let info = referenceInfo(references.map { Optional($0) }, &interner)
        let st = segmentStatistics(tokens(hypothesis, &interner), info)
        return compute(st)
    }

    /// Corpus statistics plus the resolved number of references (for the signature).
    public func corpusStatistics(hypotheses: [String], references: [[String?]]) throws
        -> (score: BLEUScore, stats: BLEUStats, nrefs: ReferenceCount) {
        guard !references.isEmpty else { throw DataError.invalidArgument("BLEU needs at least one reference stream") }
        for (k, stream) in references.enumerated() where stream.count != hypotheses.count {
            throw DataError.invalidArgument("reference stream \(k + 1) has \(stream.count) segments but there are \(hypotheses.count) hypotheses")
        }
        var interner = TokenInterner()
        var total = BLEUStats(order: options.maxNgramOrder)
        var refCounts = Set<Int>()
        for i in 0..<hypotheses.count {
            let refs = references.map { $0[i] }
            refCounts.insert(refs.compactMap { $0 }.count)
            let info = referenceInfo(refs, &interner)
            total += segmentStatistics(tokens(hypotheses[i], &interner), info)
        }
        let nrefs: ReferenceCount = refCounts.count == 1 ? .fixed(refCounts.first!) : (refCounts.isEmpty ? .fixed(references.count) : .variable)
        return (compute(total), total, nrefs)
    }

    /// Per-segment statistics (for bootstrap or sentence-level reporting).
    public func segmentStatistics(hypotheses: [String], references: [[String?]]) -> [BLEUStats] {
        var interner = TokenInterner()
        return (0..<hypotheses.count).map { i in
            let info = referenceInfo(references.map { $0[i] }, &interner)
            return segmentStatistics(tokens(hypotheses[i], &interner), info)
        }
    }

    public func compute(_ st: BLEUStats) -> BLEUScore {
        SacreBLEU.computeBLEU(correct: st.correct.map(Double.init), total: st.total.map(Double.init),
                              sysLen: st.sysLen, refLen: st.refLen, smoothing: options.smoothing,
                              smoothValue: options.smoothValue, effectiveOrder: options.effectiveOrder,
                              maxNgramOrder: options.maxNgramOrder)
    }

    /// `BLEU.compute_bleu`, with Python's float arithmetic reproduced operation by operation.
    public static func computeBLEU(correct inCorrect: [Double], total inTotal: [Double], sysLen: Int, refLen: Int,
                                   smoothing: BLEUSmoothing, smoothValue: Double?, effectiveOrder: Bool,
                                   maxNgramOrder: Int = 4) -> BLEUScore {
        var correct = inCorrect, total = inTotal
        let sv = smoothValue ?? smoothing.defaultValue ?? 0
        var bp = 1.0
        if sysLen < refLen {
            bp = sysLen > 0 ? exp(1.0 - Double(refLen) / Double(sysLen)) : 0.0
        }
        var precisions = [Double](repeating: 0, count: maxNgramOrder)
        if !correct.contains(where: { $0 != 0 }) {
            return BLEUScore(score: 0, counts: correct, totals: total, precisions: precisions, bp: bp, sysLen: sysLen, refLen: refLen)
        }
        var smoothMteval = 1.0
        var effOrder = maxNgramOrder
        for n in 1...maxNgramOrder {
            if smoothing == .addK && n > 1 {
                correct[n - 1] += sv
                total[n - 1] += sv
            }
            if total[n - 1] == 0 { break }
            if effectiveOrder { effOrder = n }
            if correct[n - 1] == 0 {
                if smoothing == .exp {
                    smoothMteval *= 2
                    precisions[n - 1] = 100.0 / (smoothMteval * total[n - 1])
                } else if smoothing == .floor {
                    precisions[n - 1] = 100.0 * sv / total[n - 1]
                }
            } else {
                precisions[n - 1] = 100.0 * correct[n - 1] / total[n - 1]
            }
        }
        var sum = 0.0
        for p in precisions[0..<effOrder] { sum += p == 0.0 ? -9_999_999_999.0 : log(p) }
        let score = bp * exp(sum / Double(effOrder))
        return BLEUScore(score: score, counts: correct, totals: total, precisions: precisions, bp: bp, sysLen: sysLen, refLen: refLen)
    }

    // MARK: signature

    /// sacreBLEU 2.x signature, e.g. `nrefs:1|case:mixed|eff:no|tok:13a|smooth:exp|version:2.6.0`
    /// (short: `#:1|c:mixed|e:no|tok:13a|s:exp|v:2.6.0`).
    public func signature(nrefs: ReferenceCount, short: Bool = false) -> String {
        var smooth = options.smoothing.rawValue
        if let def = options.smoothing.defaultValue {
            smooth += "[\(PythonText.formatFixed(options.smoothValue ?? def, 2))]"
        }
        let fields: [(String, String, String)] = [
            ("nrefs", "#", nrefs.description),
            ("case", "c", options.lowercase ? "lc" : "mixed"),
            ("eff", "e", options.effectiveOrder ? "yes" : "no"),
            ("tok", "tok", options.tokenizer.signatureName),
            ("smooth", "s", smooth),
            ("version", "v", SacreBLEU.version),
        ]
        return fields.map { "\(short ? $0.1 : $0.0):\($0.2)" }.joined(separator: "|")
    }

    public func signature(nrefs: Int, short: Bool = false) -> String { signature(nrefs: .fixed(nrefs), short: short) }

    // MARK: n-gram machinery

    struct RefInfo {
        var ngrams: [NGram: Int]
        var lens: [Int]
    }

    private func referenceInfo(_ refs: [String?], _ interner: inout TokenInterner) -> RefInfo {
        var merged: [NGram: Int] = [:]
        var lens: [Int] = []
        var first = true
        for r in refs {
            guard let r else { continue }
            let toks = tokens(r, &interner)
            lens.append(toks.count)
            let counts = NGram.count(toks, maxOrder: options.maxNgramOrder)
            if first { merged = counts; first = false } else {
                for (g, c) in counts { merged[g] = max(merged[g] ?? 0, c) }
            }
        }
        return RefInfo(ngrams: merged, lens: lens)
    }

    /// `_get_closest_ref_len`: closest length, ties to the shorter one.
    static func closestRefLen(_ hypLen: Int, _ lens: [Int]) -> Int {
        var closestDiff = -1, closestLen = -1
        for l in lens {
            let d = abs(hypLen - l)
            if closestDiff == -1 || d < closestDiff { closestDiff = d; closestLen = l }
            else if d == closestDiff && l < closestLen { closestLen = l }
        }
        return closestLen
    }

    private func segmentStatistics(_ hyp: [Int32], _ info: RefInfo) -> BLEUStats {
        var st = BLEUStats(order: options.maxNgramOrder)
        st.sysLen = hyp.count
        st.refLen = SacreBLEU.closestRefLen(hyp.count, info.lens)
        for (g, c) in NGram.count(hyp, maxOrder: options.maxNgramOrder) {
            let n = Int(g.n) - 1
            st.total[n] += c
            if let r = info.ngrams[g] { st.correct[n] += min(c, r) }
        }
        return st
    }
}

/// Maps token scalar sequences to dense ids (exact code-point equality, as in Python).
struct TokenInterner {
    private var map: [[UInt32]: Int32] = [:]
    mutating func id(for tok: ArraySlice<UInt32>) -> Int32 {
        let key = Array(tok)
        if let v = map[key] { return v }
        let v = Int32(map.count)
        map[key] = v
        return v
    }
}

/// An n-gram of interned token ids (order ≤ 8; sacreBLEU uses 4).
struct NGram: Hashable {
    var ids: (Int32, Int32, Int32, Int32, Int32, Int32, Int32, Int32)
    var n: UInt8

    static func == (a: NGram, b: NGram) -> Bool {
        a.n == b.n && a.ids.0 == b.ids.0 && a.ids.1 == b.ids.1 && a.ids.2 == b.ids.2 && a.ids.3 == b.ids.3
            && a.ids.4 == b.ids.4 && a.ids.5 == b.ids.5 && a.ids.6 == b.ids.6 && a.ids.7 == b.ids.7
    }

    func hash(into h: inout Hasher) {
        h.combine(n); h.combine(ids.0); h.combine(ids.1); h.combine(ids.2); h.combine(ids.3)
        if n > 4 { h.combine(ids.4); h.combine(ids.5); h.combine(ids.6); h.combine(ids.7) }
    }

    init(_ toks: ArraySlice<Int32>) {
        var t: (Int32, Int32, Int32, Int32, Int32, Int32, Int32, Int32) = (-1, -1, -1, -1, -1, -1, -1, -1)
        withUnsafeMutableBytes(of: &t) { raw in
            let p = raw.bindMemory(to: Int32.self)
            for (k, v) in toks.enumerated() { p[k] = v }
        }
        ids = t
        n = UInt8(toks.count)
    }

    /// `extract_all_word_ngrams(line, 1, maxOrder)` as counts.
    static func count(_ toks: [Int32], maxOrder: Int) -> [NGram: Int] {
        precondition(maxOrder <= 8, "n-gram order above 8 is not supported")
        var c: [NGram: Int] = [:]
        c.reserveCapacity(toks.count * maxOrder)
        for n in 1...maxOrder where toks.count >= n {
            for i in 0...(toks.count - n) { c[NGram(toks[i..<(i + n)]), default: 0] += 1 }
        }
        return c
    }
}
