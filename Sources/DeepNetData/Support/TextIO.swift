import Foundation

/// Reading text files the way the rest of the pipeline (and sacreBLEU) expects:
/// strict UTF-8 (invalid bytes are an error naming file and line), lines split on LF only
/// (a CR stays part of the line, as with Python's `open(..., newline="\n")`), a final newline does
/// not create an extra empty line, and `*.gz` files are decompressed with `gzip -dc`.
public enum TextIO {
    /// Candidate locations of the gzip binary (Foundation on Linux has no gzip API and the package may
    /// not add a zlib system-library target, so decompression is delegated to the gzip program).
    public static let gzipCandidates = ["/bin/gzip", "/usr/bin/gzip", "/usr/local/bin/gzip"]

    /// Raw bytes of `path`; `.gz` files are decompressed.
    public static func readBytes(_ path: String) throws -> [UInt8] {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir), !isDir.boolValue else {
            throw DataError.fileNotFound(path: path)
        }
        if path.hasSuffix(".gz") { return try gunzip(path) }
        return try readRawBytes(path)
    }

    /// Raw bytes of `path` without decompression (used for fingerprints of stored files).
    public static func readRawBytes(_ path: String) throws -> [UInt8] {
        guard FileManager.default.fileExists(atPath: path) else { throw DataError.fileNotFound(path: path) }
        do {
            let d = try Data(contentsOf: URL(fileURLWithPath: path))
            return [UInt8](d)
        } catch {
            throw DataError.readFailed(path: path, reason: "\(error.localizedDescription)")
        }
    }

    /// Decompresses with `gzip -dc PATH` run through Foundation.Process.
    public static func gunzip(_ path: String) throws -> [UInt8] {
        guard let gzip = gzipCandidates.first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
            throw DataError.readFailed(path: path, reason: "no gzip executable found (looked in \(gzipCandidates.joined(separator: ", "))); install gzip to read .gz corpora")
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: gzip)
        process.arguments = ["-dc", "--", path]
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
        do { try process.run() } catch {
            throw DataError.readFailed(path: path, reason: "cannot run \(gzip): \(error.localizedDescription)")
        }
        // Drain stderr concurrently so that neither pipe can fill up and block gzip.
        let errBox = ErrBox()
        let group = DispatchGroup()
        group.enter()
        DispatchQueue.global().async {
            errBox.data = err.fileHandleForReading.readDataToEndOfFile()
            group.leave()
        }
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        group.wait()
        if process.terminationStatus != 0 {
            throw DataError.gzipFailed(path: path, status: process.terminationStatus,
                                       stderr: String(decoding: errBox.data, as: UTF8.self))
        }
        return [UInt8](data)
    }

    private final class ErrBox: @unchecked Sendable { var data = Data() }

    /// Lines of a file (see the type's documentation for the exact rules).
    public static func readLines(_ path: String) throws -> [String] {
        try decodeLines(readBytes(path), name: path)
    }

    /// Splits `bytes` into LF-terminated lines, validating UTF-8 strictly (the rules of Python's
    /// strict `utf-8` codec: no overlong forms, no surrogates, nothing above U+10FFFF).
    public static func decodeLines(_ bytes: [UInt8], name: String) throws -> [String] {
        var lines: [String] = []
        try bytes.withUnsafeBufferPointer { buf in
            let n = buf.count
            var lineStart = 0
            var lineNo = 1
            var i = 0
            while i < n {
                let b = buf[i]
                if b < 0x80 {
                    if b == 0x0A {
                        lines.append(String(decoding: UnsafeBufferPointer(rebasing: buf[lineStart..<i]), as: UTF8.self))
                        lineNo += 1
                        lineStart = i + 1
                    }
                    i += 1
                    continue
                }
                let len = utf8SequenceLength(buf, i, n)
                if len == 0 { throw DataError.invalidUTF8(path: name, line: lineNo, byteOffset: i) }
                i += len
            }
            if lineStart < n {
                lines.append(String(decoding: UnsafeBufferPointer(rebasing: buf[lineStart..<n]), as: UTF8.self))
            }
        }
        return lines
    }

    /// Length of the well-formed UTF-8 sequence starting at `i` (Unicode Table 3-7), or 0 if ill-formed.
    @inline(__always)
    static func utf8SequenceLength(_ b: UnsafeBufferPointer<UInt8>, _ i: Int, _ n: Int) -> Int {
        let b0 = b[i]
        @inline(__always) func cont(_ k: Int, _ lo: UInt8 = 0x80, _ hi: UInt8 = 0xBF) -> Bool {
            k < n && b[k] >= lo && b[k] <= hi
        }
        switch b0 {
        case 0xC2...0xDF: return cont(i + 1) ? 2 : 0
        case 0xE0: return cont(i + 1, 0xA0, 0xBF) && cont(i + 2) ? 3 : 0
        case 0xE1...0xEC, 0xEE...0xEF: return cont(i + 1) && cont(i + 2) ? 3 : 0
        case 0xED: return cont(i + 1, 0x80, 0x9F) && cont(i + 2) ? 3 : 0
        case 0xF0: return cont(i + 1, 0x90, 0xBF) && cont(i + 2) && cont(i + 3) ? 4 : 0
        case 0xF1...0xF3: return cont(i + 1) && cont(i + 2) && cont(i + 3) ? 4 : 0
        case 0xF4: return cont(i + 1, 0x80, 0x8F) && cont(i + 2) && cont(i + 3) ? 4 : 0
        default: return 0
        }
    }

    /// Writes `data` atomically: a temporary file in the same directory, then rename(2).
    public static func writeAtomically(_ data: Data, to path: String) throws {
        let url = URL(fileURLWithPath: path)
        let dir = url.deletingLastPathComponent().path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let tmp = dir + "/." + url.lastPathComponent + ".\(ProcessInfo.processInfo.processIdentifier).\(UInt64.random(in: 0...UInt64.max)).tmp"
        guard FileManager.default.createFile(atPath: tmp, contents: data) else {
            throw DataError.readFailed(path: tmp, reason: "cannot create temporary file")
        }
        if rename(tmp, path) != 0 {
            let e = errno
            try? FileManager.default.removeItem(atPath: tmp)
            throw DataError.readFailed(path: path, reason: "rename failed: \(String(cString: strerror(e)))")
        }
    }

    /// Writes lines (each followed by LF) atomically.
    public static func writeLines(_ lines: [String], to path: String) throws {
        var s = lines.joined(separator: "\n")
        if !lines.isEmpty { s += "\n" }
        try writeAtomically(Data(s.utf8), to: path)
    }
}
