/// Byte-level (UTF-8) string helpers for ASCII separators. Swift's `Character`-based `split`,
/// `hasSuffix` and `dropLast` work on grapheme clusters (a space followed by a combining mark is one
/// `Character`), so token streams are split and trimmed on bytes instead — the way Python does.
enum ByteString {
    /// Splits on one ASCII byte (e.g. U+0020).
    static func split(_ s: String, on sep: UInt8 = 0x20, omittingEmpty: Bool = true) -> [String] {
        var out: [String] = []
        var utf8 = s.utf8
        if utf8.withContiguousStorageIfAvailable({ _ in true }) == nil { var c = s; c.makeContiguousUTF8(); utf8 = c.utf8 }
        var start = utf8.startIndex
        var i = utf8.startIndex
        while i != utf8.endIndex {
            if utf8[i] == sep {
                if !(omittingEmpty && start == i) { out.append(String(decoding: utf8[start..<i], as: UTF8.self)) }
                start = utf8.index(after: i)
            }
            i = utf8.index(after: i)
        }
        if !(omittingEmpty && start == utf8.endIndex) { out.append(String(decoding: utf8[start..<utf8.endIndex], as: UTF8.self)) }
        return out
    }

    static func hasSuffix(_ s: String, _ suffix: String) -> Bool {
        let a = s.utf8, b = suffix.utf8
        guard a.count >= b.count else { return false }
        return a.suffix(b.count).elementsEqual(b)
    }

    static func hasPrefix(_ s: String, _ prefix: String) -> Bool {
        let a = s.utf8, b = prefix.utf8
        guard a.count >= b.count else { return false }
        return a.prefix(b.count).elementsEqual(b)
    }

    static func dropSuffix(_ s: String, bytes n: Int) -> String { String(decoding: s.utf8.dropLast(n), as: UTF8.self) }
    static func dropPrefix(_ s: String, bytes n: Int) -> String { String(decoding: s.utf8.dropFirst(n), as: UTF8.self) }

    /// Index (byte offset) of the last occurrence of an ASCII byte.
    static func lastIndex(_ s: String, of b: UInt8) -> Int? {
        let a = Array(s.utf8)
        return a.lastIndex(of: b)
    }
}
