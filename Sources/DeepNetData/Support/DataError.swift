import Foundation

/// Every error raised by DeepNetData. The description is a complete, user-facing sentence that names
/// the file / line / value involved.
public enum DataError: Error, CustomStringConvertible, Equatable {
    case fileNotFound(path: String)
    /// A data file whose bytes do not hash to the SHA-256 its data set's definition declares (`actual` nil: the
    /// file is missing).
    case fileChecksumMismatch(dataSet: String, path: String, expected: String, actual: String?)
    /// A definition read a file it does not declare (a programming error in the definition).
    case undeclaredFile(dataSet: String, path: String)
    case readFailed(path: String, reason: String)
    case gzipFailed(path: String, status: Int32, stderr: String)
    case invalidUTF8(path: String, line: Int, byteOffset: Int)
    case lineCountMismatch(sourcePath: String, sourceLines: Int, targetPath: String, targetLines: Int)
    case unknownDataSet(name: String, valid: [String])
    case unknownSplit(dataSet: String, split: String, valid: [String])
    case unknownLanguagePair(dataSet: String, pair: String, valid: [String])
    case dataDirectoryMissing(dataSet: String, hint: String)
    case notAvailable(dataSet: String, reason: String)
    case invalidArgument(String)
    case invalidFormat(path: String, line: Int, reason: String)
    case emptyInput(path: String)
    case cacheCorrupt(path: String, reason: String)
    case exampleTooLong(index: Int, tokens: Int, maxTokens: Int)

    public var description: String {
        switch self {
        case .fileNotFound(let p): return "file not found: \(p)"
        case .fileChecksumMismatch(let d, let p, let e, let a):
            guard let a else {
                return "data file \(p) of data set '\(d)' is missing (expected SHA-256 \(e), actual: no file); `make data` fetches the corpora"
            }
            return "data file \(p) of data set '\(d)' is not the declared one: expected SHA-256 \(e), actual \(a); `make data` fetches the original corpora"
        case .undeclaredFile(let d, let p):
            return "data set '\(d)' reads \(p), which its definition does not declare (add its SHA-256 to the definition's `files`)"
        case .readFailed(let p, let r): return "cannot read \(p): \(r)"
        case .gzipFailed(let p, let s, let e):
            return "gzip -dc failed on \(p) (exit status \(s))" + (e.isEmpty ? "" : ": \(e.trimmingCharacters(in: .whitespacesAndNewlines))")
        case .invalidUTF8(let p, let l, let o): return "invalid UTF-8 in \(p) at line \(l) (byte offset \(o))"
        case .lineCountMismatch(let sp, let sl, let tp, let tl):
            return "line counts differ: \(sp) has \(sl) lines but \(tp) has \(tl) lines"
        case .unknownDataSet(let n, let v): return "unknown data set '\(n)'; valid data sets: \(v.joined(separator: ", "))"
        case .unknownSplit(let d, let s, let v): return "data set '\(d)' has no split '\(s)'; valid splits: \(v.joined(separator: ", "))"
        case .unknownLanguagePair(let d, let p, let v):
            return "data set '\(d)' has no language pair '\(p)'; valid pairs: \(v.joined(separator: ", "))"
        case .dataDirectoryMissing(let d, let h): return "data set '\(d)' needs data files: \(h)"
        case .notAvailable(let d, let r): return "data set '\(d)' cannot be loaded: \(r)"
        case .invalidArgument(let m): return m
        case .invalidFormat(let p, let l, let r): return "\(p):\(l): \(r)"
        case .emptyInput(let p): return "\(p) contains no lines"
        case .cacheCorrupt(let p, let r): return "corrupt cache file \(p): \(r)"
        case .exampleTooLong(let i, let t, let m):
            return "example \(i) needs \(t) padded tokens, more than the batch budget of \(m) tokens"
        }
    }
}
