/// Python 3 string semantics needed to reproduce sacreBLEU exactly. Text is handled as arrays of
/// Unicode scalar values (Python `str` indexes code points; Swift `String` compares grapheme
/// clusters under canonical equivalence, which Python does not do).
public enum PythonText {
    /// `str.isspace()` in CPython: bidirectional class WS, B or S, or category Zs.
    /// (This includes U+001C–U+001F and U+0085 but not U+200B.)
    @inline(__always)
    public static func isSpace(_ c: UInt32) -> Bool {
        switch c {
        case 0x09...0x0D, 0x1C...0x20, 0x85, 0xA0, 0x1680, 0x2000...0x200A, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000:
            return true
        default:
            return false
        }
    }

    public static func scalars(_ s: String) -> [UInt32] { s.unicodeScalars.map { $0.value } }

    public static func string(_ a: [UInt32]) -> String {
        var v = String.UnicodeScalarView()
        for c in a { if let u = Unicode.Scalar(c) { v.append(u) } }
        return String(v)
    }

    public static func string(_ a: ArraySlice<UInt32>) -> String { string(Array(a)) }

    /// `str.rstrip()`.
    public static func rstrip(_ a: [UInt32]) -> [UInt32] {
        var end = a.count
        while end > 0 && isSpace(a[end - 1]) { end -= 1 }
        return end == a.count ? a : Array(a[0..<end])
    }

    /// `str.strip()`.
    public static func strip(_ a: [UInt32]) -> [UInt32] {
        var start = 0, end = a.count
        while start < end && isSpace(a[start]) { start += 1 }
        while end > start && isSpace(a[end - 1]) { end -= 1 }
        return Array(a[start..<end])
    }

    /// `str.split()` (no argument): runs of whitespace separate tokens, no empty tokens.
    public static func split(_ a: [UInt32]) -> [ArraySlice<UInt32>] {
        var out: [ArraySlice<UInt32>] = []
        var i = 0
        let n = a.count
        while i < n {
            while i < n && isSpace(a[i]) { i += 1 }
            if i >= n { break }
            let s = i
            while i < n && !isSpace(a[i]) { i += 1 }
            out.append(a[s..<i])
        }
        return out
    }

    /// `' '.join(s.split())`.
    public static func normalizeSpaces(_ a: [UInt32]) -> [UInt32] {
        var out: [UInt32] = []
        out.reserveCapacity(a.count)
        for tok in split(a) {
            if !out.isEmpty { out.append(0x20) }
            out.append(contentsOf: tok)
        }
        return out
    }

    /// CPython 3.11 — the interpreter the sacreBLEU 2.6.0 fixture was produced with — uses the Unicode 14.0
    /// character database for `str.lower()`; characters assigned later are unassigned there (no case
    /// mapping, neither cased nor case-ignorable). Swift's tables are newer, so those are masked out.
    /// (The `intl` tokenizer's categories come from the `regex` module, whose tables match Swift's.)
    static func assignedInUnicode14(_ u: Unicode.Scalar) -> Bool {
        guard let a = u.properties.age else { return false }
        return a.major < 14 || (a.major == 14 && a.minor == 0)
    }

    /// `str.lower()`: full lower-case mapping, including CPython's Final_Sigma rule for U+03A3.
    public static func lower(_ a: [UInt32]) -> [UInt32] {
        var out: [UInt32] = []
        out.reserveCapacity(a.count)
        for (i, c) in a.enumerated() {
            if c < 0x80 {
                out.append((c >= 0x41 && c <= 0x5A) ? c + 32 : c)
                continue
            }
            if c == 0x3A3 {
                out.append(finalSigma(a, i) ? 0x3C2 : 0x3C3)
                continue
            }
            guard let u = Unicode.Scalar(c), assignedInUnicode14(u) else { out.append(c); continue }
            let props = u.properties
            if !props.changesWhenLowercased { out.append(c); continue }
            for m in props.lowercaseMapping.unicodeScalars { out.append(m.value) }
        }
        return out
    }

    private static func isCased(_ c: UInt32) -> Bool {
        guard let u = Unicode.Scalar(c), assignedInUnicode14(u) else { return false }
        return u.properties.isCased
    }
    private static func isCaseIgnorable(_ c: UInt32) -> Bool {
        guard let u = Unicode.Scalar(c), assignedInUnicode14(u) else { return false }
        return u.properties.isCaseIgnorable
    }

    /// CPython `handle_capital_sigma`: \p{cased}\p{case-ignorable}* Σ !(\p{case-ignorable}* \p{cased}).
    private static func finalSigma(_ a: [UInt32], _ i: Int) -> Bool {
        var j = i - 1
        var c: UInt32 = 0
        while j >= 0 {
            c = a[j]
            if !isCaseIgnorable(c) { break }
            j -= 1
        }
        var fs = j >= 0 && isCased(c)
        if fs && i + 1 < a.count {
            j = i + 1
            while j < a.count {
                c = a[j]
                if !isCaseIgnorable(c) { break }
                j += 1
            }
            fs = j == a.count || !isCased(c)
        }
        return fs
    }

    /// `str.replace(old, new)`: left-to-right, non-overlapping.
    public static func replace(_ a: [UInt32], _ old: [UInt32], _ new: [UInt32]) -> [UInt32] {
        guard !old.isEmpty, a.count >= old.count else { return a }
        var out: [UInt32] = []
        out.reserveCapacity(a.count)
        var i = 0
        let n = a.count, m = old.count
        var changed = false
        while i < n {
            if a[i] == old[0] && i + m <= n {
                var match = true
                var k = 1
                while k < m { if a[i + k] != old[k] { match = false; break }; k += 1 }
                if match { out.append(contentsOf: new); i += m; changed = true; continue }
            }
            out.append(a[i]); i += 1
        }
        return changed ? out : a
    }

    /// `'%.*f' % (precision, x)`: C printf formatting (glibc rounds the exact binary value, as Python does).
    public static func formatFixed(_ x: Double, _ precision: Int) -> String {
        fixedFormat(x, precision)
    }
}
