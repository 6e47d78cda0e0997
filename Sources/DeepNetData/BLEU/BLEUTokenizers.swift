/// The sacreBLEU 2.6.0 tokenizers `13a`, `intl`, `char` and `none`, reproduced on Unicode scalar
/// arrays. The regular expressions of sacreBLEU are all one- or two-character patterns, so Python's
/// `re.sub` (leftmost, non-overlapping, left-to-right scan) is reproduced by a direct scan.
public enum BLEUTokenizerKind: String, CaseIterable, Sendable, Codable {
    case tok13a = "13a"
    case intl
    case char
    case none

    public var signatureName: String { rawValue }

    public static var validNames: [String] { allCases.map(\.rawValue) }

    public init(name: String) throws {
        guard let k = BLEUTokenizerKind(rawValue: name) else {
            throw DataError.invalidArgument("unknown BLEU tokenizer '\(name)'; valid tokenizers: \(BLEUTokenizerKind.validNames.joined(separator: ", "))")
        }
        self = k
    }

    /// Tokenizes one (already lower-cased / right-stripped) segment; returns the tokenized string as
    /// scalars, exactly as sacreBLEU would return it.
    public func tokenize(_ line: [UInt32]) -> [UInt32] {
        switch self {
        case .tok13a: return BLEUTokenizers.tokenize13a(line)
        case .intl: return BLEUTokenizers.tokenizeIntl(line)
        case .char: return BLEUTokenizers.tokenizeChar(line)
        case .none: return line
        }
    }

    /// String convenience.
    public func tokenize(_ line: String) -> String {
        PythonText.string(tokenize(PythonText.scalars(line)))
    }
}

enum BLEUTokenizers {
    private static let skipped = PythonText.scalars("<skipped>")
    private static let dashNL: [UInt32] = [0x2D, 0x0A]
    private static let nl: [UInt32] = [0x0A]
    private static let space: [UInt32] = [0x20]
    private static let entities: [([UInt32], [UInt32])] = [
        (PythonText.scalars("&quot;"), [0x22]),
        (PythonText.scalars("&amp;"), [0x26]),
        (PythonText.scalars("&lt;"), [0x3C]),
        (PythonText.scalars("&gt;"), [0x3E]),
    ]

    /// Pattern 1 of `tokenizer_re.py`: `[\{-\~\[-\` -\&\(-\+\:-\@\/]`.
    @inline(__always)
    static func isPunct13a(_ c: UInt32) -> Bool {
        (c >= 0x7B && c <= 0x7E) || (c >= 0x5B && c <= 0x60) || (c >= 0x20 && c <= 0x26)
            || (c >= 0x28 && c <= 0x2B) || (c >= 0x3A && c <= 0x40) || c == 0x2F
    }

    @inline(__always) static func isDigit(_ c: UInt32) -> Bool { c >= 0x30 && c <= 0x39 }
    @inline(__always) static func isDotComma(_ c: UInt32) -> Bool { c == 0x2E || c == 0x2C }

    /// mteval-v13a tokenizer (`tokenizer_13a.py` + `tokenizer_re.py`).
    static func tokenize13a(_ input: [UInt32]) -> [UInt32] {
        var line = PythonText.replace(input, skipped, [])
        line = PythonText.replace(line, dashNL, [])
        line = PythonText.replace(line, nl, space)
        if line.contains(0x26) {
            for (e, r) in entities { line = PythonText.replace(line, e, r) }
        }
        var s: [UInt32] = [0x20]
        s.append(contentsOf: line)
        s.append(0x20)

        // 1: ([\{-\~\[-\` -\&\(-\+\:-\@\/]) -> ' \1 '
        var t: [UInt32] = []
        t.reserveCapacity(s.count * 2)
        for c in s {
            if isPunct13a(c) { t.append(0x20); t.append(c); t.append(0x20) } else { t.append(c) }
        }
        // 2: ([^0-9])([\.,]) -> '\1 \2 '
        s = subPair(t, { !isDigit($0) }, isDotComma) { out, a, b in out.append(a); out.append(0x20); out.append(b); out.append(0x20) }
        // 3: ([\.,])([^0-9]) -> ' \1 \2'
        s = subPair(s, isDotComma, { !isDigit($0) }) { out, a, b in out.append(0x20); out.append(a); out.append(0x20); out.append(b) }
        // 4: ([0-9])(-) -> '\1 \2 '
        s = subPair(s, isDigit, { $0 == 0x2D }) { out, a, b in out.append(a); out.append(0x20); out.append(b); out.append(0x20) }
        return PythonText.normalizeSpaces(s)
    }

    /// Unicode general-category classes used by the `regex` module's \p{P}, \p{S}, \p{N}.
    enum Cat { case punct, symbol, number, other }

    @inline(__always)
    static func category(_ c: UInt32) -> Cat {
        if c < 0x80 {
            // ASCII fast path (identical to the general categories).
            if c >= 0x30 && c <= 0x39 { return .number }
            switch c {
            case 0x21...0x23, 0x25...0x2A, 0x2C...0x2F, 0x3A, 0x3B, 0x3F, 0x40, 0x5B...0x5D, 0x5F, 0x7B, 0x7D: return .punct
            case 0x24, 0x2B, 0x3C...0x3E, 0x5E, 0x60, 0x7C, 0x7E: return .symbol
            default: return .other
            }
        }
        guard let u = Unicode.Scalar(c) else { return .other }
        switch u.properties.generalCategory {
        case .connectorPunctuation, .dashPunctuation, .openPunctuation, .closePunctuation,
             .initialPunctuation, .finalPunctuation, .otherPunctuation:
            return .punct
        case .mathSymbol, .currencySymbol, .modifierSymbol, .otherSymbol:
            return .symbol
        case .decimalNumber, .letterNumber, .otherNumber:
            return .number
        default:
            return .other
        }
    }

    /// `tokenizer_intl.py` (mteval-v14 international tokenization).
    static func tokenizeIntl(_ input: [UInt32]) -> [UInt32] {
        let isP: (UInt32) -> Bool = { category($0) == .punct }
        let notN: (UInt32) -> Bool = { category($0) != .number }
        // (\P{N})(\p{P}) -> '\1 \2 '
        var s = subPair(input, notN, isP) { out, a, b in out.append(a); out.append(0x20); out.append(b); out.append(0x20) }
        // (\p{P})(\P{N}) -> ' \1 \2'
        s = subPair(s, isP, notN) { out, a, b in out.append(0x20); out.append(a); out.append(0x20); out.append(b) }
        // (\p{S}) -> ' \1 '
        var t: [UInt32] = []
        t.reserveCapacity(s.count * 2)
        for c in s {
            if category(c) == .symbol { t.append(0x20); t.append(c); t.append(0x20) } else { t.append(c) }
        }
        return PythonText.normalizeSpaces(t)
    }

    /// `tokenizer_char.py`: `" ".join(line)`.
    static func tokenizeChar(_ input: [UInt32]) -> [UInt32] {
        var out: [UInt32] = []
        out.reserveCapacity(input.count * 2)
        for (i, c) in input.enumerated() {
            if i > 0 { out.append(0x20) }
            out.append(c)
        }
        return out
    }

    /// `re.sub` for a pattern of two single-character classes.
    @inline(__always)
    static func subPair(_ s: [UInt32], _ first: (UInt32) -> Bool, _ second: (UInt32) -> Bool,
                        _ emit: (inout [UInt32], UInt32, UInt32) -> Void) -> [UInt32] {
        var out: [UInt32] = []
        out.reserveCapacity(s.count + s.count / 2 + 4)
        var i = 0
        let n = s.count
        while i < n {
            if i + 1 < n && first(s[i]) && second(s[i + 1]) {
                emit(&out, s[i], s[i + 1])
                i += 2
            } else {
                out.append(s[i])
                i += 1
            }
        }
        return out
    }
}
