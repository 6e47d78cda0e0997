/// The model-side pre-tokenizer: simple, language-independent and exactly reversible.
///
/// Rules (applied to raw text, before BPE):
/// 1. Split on whitespace (Python `str.split()` whitespace); runs of whitespace are one separator.
/// 2. Inside each whitespace-delimited word, every punctuation or symbol character (Unicode general
///    category P* or S*) becomes its own token; runs of other characters (letters, digits, marks, …)
///    stay together.
/// 3. A punctuation/symbol token that was glued to its left neighbour gets the joiner `￭` (U+FFED) as
///    a prefix; one glued to a following *letter/digit run* gets `￭` as a suffix. (Between two
///    punctuation tokens the joiner goes on the right one's prefix.) Letter/digit runs never carry a
///    joiner, so word tokens are shared between "dog" and "dog.".
///
/// Examples: `Hello, world!` → `Hello ￭, world ￭!`;  `don't` → `don ￭'￭ t`;  `(1999)` → `(￭ 1999 ￭)`;
/// `what?!` → `what ￭? ￭!`.
///
/// `detokenize(tokenize(s)) == normalize(s)`, where `normalize` collapses whitespace runs to one space and
/// trims the ends. U+FFED in the input is reserved: it is replaced by U+25A0 (■) before tokenizing.
public enum PreTokenizer {
    public static let joiner: Character = "\u{FFED}"
    static let joinerScalar: UInt32 = 0xFFED

    @inline(__always)
    static func isPunctOrSymbol(_ c: UInt32) -> Bool {
        let k = BLEUTokenizers.category(c)
        return k == .punct || k == .symbol
    }

    /// Raw text → pre-tokens.
    public static func tokenize(_ text: String) -> [String] {
        var s = PythonText.scalars(text)
        for i in s.indices where s[i] == joinerScalar { s[i] = 0x25A0 }
        var out: [String] = []
        for word in PythonText.split(s) {
            // pieces: (scalars, isPunct)
            var pieces: [([UInt32], Bool)] = []
            var run: [UInt32] = []
            for c in word {
                if isPunctOrSymbol(c) {
                    if !run.isEmpty { pieces.append((run, false)); run = [] }
                    pieces.append(([c], true))
                } else {
                    run.append(c)
                }
            }
            if !run.isEmpty { pieces.append((run, false)) }
            for (k, p) in pieces.enumerated() {
                var tok = p.0
                if p.1 {
                    if k > 0 { tok.insert(joinerScalar, at: 0) }
                    if k + 1 < pieces.count && !pieces[k + 1].1 { tok.append(joinerScalar) }
                }
                out.append(PythonText.string(tok))
            }
        }
        return out
    }

    /// Pre-tokens → raw text.
    public static func detokenize(_ tokens: [String]) -> String {
        var out = ""
        var glueNext = false
        let j = "\u{FFED}"  // 3 UTF-8 bytes
        for (i, t) in tokens.enumerated() {
            var tok = t
            var glue = glueNext
            if ByteString.hasPrefix(tok, j) { glue = true; tok = ByteString.dropPrefix(tok, bytes: 3) }
            glueNext = false
            if ByteString.hasSuffix(tok, j) { glueNext = true; tok = ByteString.dropSuffix(tok, bytes: 3) }
            if i > 0 && !glue { out += " " }
            out += tok
        }
        return out
    }

    /// Detokenizes a space-separated pre-token string.
    public static func detokenize(line: String) -> String {
        detokenize(ByteString.split(line))
    }

    /// Collapses whitespace like `tokenize` does (what `detokenize(tokenize(s))` returns).
    public static func normalize(_ text: String) -> String {
        var s = PythonText.scalars(text)
        for i in s.indices where s[i] == joinerScalar { s[i] = 0x25A0 }
        return PythonText.string(PythonText.normalizeSpaces(s))
    }
}

/// Moses XML escapes (`escape-special-chars.perl`) and their removal (`deescape-special-chars.perl`):
/// `&amp;` `&#124;` `&lt;` `&gt;` `&apos;` `&quot;` `&#91;` `&#93;` (and `&bar;` `&bra;` `&ket;`).
public enum MosesEscapes {
    private static let table: [(String, String)] = [
        ("&bar;", "|"), ("&#124;", "|"), ("&lt;", "<"), ("&gt;", ">"), ("&bra;", "["), ("&ket;", "]"),
        ("&quot;", "\""), ("&apos;", "'"), ("&#91;", "["), ("&#93;", "]"),
    ]

    /// Same order as deescape-special-chars.perl (`&amp;` last, so `&amp;lt;` becomes `&lt;`).
    public static func unescape(_ s: String) -> String {
        guard s.contains("&") else { return s }
        var r = s
        for (e, c) in table where r.contains(e) { r = r.replacingOccurrencesLiteral(e, with: c) }
        if r.contains("&amp;") { r = r.replacingOccurrencesLiteral("&amp;", with: "&") }
        return r
    }
}

extension String {
    /// Literal, code-point based replacement (no locale/normalization semantics).
    func replacingOccurrencesLiteral(_ old: String, with new: String) -> String {
        PythonText.string(PythonText.replace(PythonText.scalars(self), PythonText.scalars(old), PythonText.scalars(new)))
    }
}
