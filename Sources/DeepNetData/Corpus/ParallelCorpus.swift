import Foundation

/// A translation direction, e.g. `de-en` (source de, target en).
public struct LanguagePair: Hashable, Sendable, CustomStringConvertible, Codable {
    public var source: String
    public var target: String
    public init(_ source: String, _ target: String) { self.source = source; self.target = target }
    /// Parses `de-en`.
    public init(parsing s: String) throws {
        let p = s.split(separator: "-")
        guard p.count == 2, !p[0].isEmpty, !p[1].isEmpty else {
            throw DataError.invalidArgument("language pair must look like 'de-en', got '\(s)'")
        }
        self.init(String(p[0]), String(p[1]))
    }
    public var description: String { "\(source)-\(target)" }
    public var reversed: LanguagePair { LanguagePair(target, source) }
}

/// Line-aligned parallel text in raw form (what references are scored against), with the direction
/// of every example. For multilingual data sets (`tatoeba`) `directions` has several entries and
/// `directionIndex[i]` says which one example `i` belongs to.
public struct ParallelCorpus: Sendable {
    public var sources: [String]
    public var targets: [String]
    public var directions: [LanguagePair]
    public var directionIndex: [Int]
    /// What the filter removed while building this corpus (zero when nothing was filtered).
    public var filterReport: FilterReport

    public init(sources: [String], targets: [String], direction: LanguagePair, filterReport: FilterReport = FilterReport()) {
        precondition(sources.count == targets.count, "sources and targets must have the same count")
        self.sources = sources
        self.targets = targets
        self.directions = [direction]
        self.directionIndex = Array(repeating: 0, count: sources.count)
        self.filterReport = filterReport
    }

    public init(sources: [String], targets: [String], directions: [LanguagePair], directionIndex: [Int], filterReport: FilterReport = FilterReport()) {
        precondition(sources.count == targets.count && sources.count == directionIndex.count, "parallel arrays must have the same count")
        self.sources = sources
        self.targets = targets
        self.directions = directions
        self.directionIndex = directionIndex
        self.filterReport = filterReport
    }

    public var count: Int { sources.count }
    public func direction(of i: Int) -> LanguagePair { directions[directionIndex[i]] }

    /// The examples of one direction (e.g. the `eng-deu` part of a multilingual test split).
    public func subset(direction: LanguagePair) -> ParallelCorpus {
        guard let d = directions.firstIndex(of: direction) else {
            return ParallelCorpus(sources: [], targets: [], direction: direction)
        }
        let idx = directionIndex.indices.filter { directionIndex[$0] == d }
        return ParallelCorpus(sources: idx.map { sources[$0] }, targets: idx.map { targets[$0] }, direction: direction)
    }

    /// The first `n` examples.
    public func prefix(_ n: Int) -> ParallelCorpus {
        let k = min(n, count)
        return ParallelCorpus(sources: Array(sources[0..<k]), targets: Array(targets[0..<k]), directions: directions,
                              directionIndex: Array(directionIndex[0..<k]), filterReport: filterReport)
    }

    func selecting(_ idx: [Int]) -> ParallelCorpus {
        ParallelCorpus(sources: idx.map { sources[$0] }, targets: idx.map { targets[$0] }, directions: directions,
                       directionIndex: idx.map { directionIndex[$0] }, filterReport: filterReport)
    }

    static func concatenate(_ parts: [ParallelCorpus]) -> ParallelCorpus {
        var dirs: [LanguagePair] = []
        var s: [String] = [], t: [String] = [], di: [Int] = []
        var report = FilterReport()
        for p in parts {
            for i in 0..<p.count {
                let d = p.direction(of: i)
                let k: Int
                if let j = dirs.firstIndex(of: d) { k = j } else { dirs.append(d); k = dirs.count - 1 }
                s.append(p.sources[i]); t.append(p.targets[i]); di.append(k)
            }
            report.merge(p.filterReport)
        }
        return ParallelCorpus(sources: s, targets: t, directions: dirs.isEmpty ? [LanguagePair("src", "tgt")] : dirs, directionIndex: di, filterReport: report)
    }
}

/// Rules for dropping training pairs (in the spirit of Moses `clean-corpus-n.perl`).
/// Token counts are whitespace-separated words of the raw text.
public struct CorpusFilter: Sendable, Equatable, Codable {
    /// Drop pairs where either side is empty after trimming whitespace.
    public var dropEmpty: Bool
    /// Drop pairs where either side has more than this many words (nil = no limit).
    public var maxTokens: Int?
    /// Drop pairs where max(len)/min(len) exceeds this (nil = no limit; only for non-empty sides).
    public var maxLengthRatio: Double?

    public init(dropEmpty: Bool = true, maxTokens: Int? = 175, maxLengthRatio: Double? = 9) {
        self.dropEmpty = dropEmpty
        self.maxTokens = maxTokens
        self.maxLengthRatio = maxLengthRatio
    }

    /// Training splits: drop empty pairs, pairs over 175 words, and pairs with length ratio above 9
    /// (Moses clean-corpus defaults for the ratio; fairseq's IWSLT script uses 175 as the cap).
    public static var training: CorpusFilter { CorpusFilter() }
    /// Evaluation splits: only empty pairs are dropped (the benchmark is otherwise left intact).
    public static var evaluation: CorpusFilter { CorpusFilter(dropEmpty: true, maxTokens: nil, maxLengthRatio: nil) }
    public static var none: CorpusFilter { CorpusFilter(dropEmpty: false, maxTokens: nil, maxLengthRatio: nil) }

    public var summary: String {
        "empty:\(dropEmpty ? "drop" : "keep"),max-tokens:\(maxTokens.map(String.init) ?? "none"),ratio:\(maxLengthRatio.map { PythonText.formatFixed($0, 3) } ?? "none")"
    }

    /// Applies the rules; returns the kept corpus with its report.
    public func apply(_ c: ParallelCorpus) -> ParallelCorpus {
        var report = FilterReport()
        report.input = c.count
        var keep: [Int] = []
        keep.reserveCapacity(c.count)
        for i in 0..<c.count {
            let ls = wordCount(c.sources[i]), lt = wordCount(c.targets[i])
            if dropEmpty && (ls == 0 || lt == 0) { report.droppedEmpty += 1; continue }
            if let m = maxTokens, ls > m || lt > m { report.droppedTooLong += 1; continue }
            if let r = maxLengthRatio, ls > 0, lt > 0, Double(max(ls, lt)) / Double(min(ls, lt)) > r {
                report.droppedRatio += 1; continue
            }
            keep.append(i)
        }
        report.kept = keep.count
        var out = keep.count == c.count ? c : c.selecting(keep)
        out.filterReport = report
        return out
    }

    func wordCount(_ s: String) -> Int {
        var n = 0
        var inWord = false
        for u in s.unicodeScalars {
            if PythonText.isSpace(u.value) { inWord = false } else if !inWord { inWord = true; n += 1 }
        }
        return n
    }
}

/// Counts of what a `CorpusFilter` dropped.
public struct FilterReport: Sendable, Equatable, Codable, CustomStringConvertible {
    public var input = 0
    public var kept = 0
    public var droppedEmpty = 0
    public var droppedTooLong = 0
    public var droppedRatio = 0
    public init() {}
    public var dropped: Int { droppedEmpty + droppedTooLong + droppedRatio }
    mutating func merge(_ o: FilterReport) {
        input += o.input; kept += o.kept; droppedEmpty += o.droppedEmpty; droppedTooLong += o.droppedTooLong; droppedRatio += o.droppedRatio
    }
    public var description: String {
        "kept \(kept)/\(input) (dropped: \(droppedEmpty) empty, \(droppedTooLong) too long, \(droppedRatio) length ratio)"
    }
}

/// Readers for line-aligned parallel files (plain or .gz).
public enum CorpusReader {
    /// Reads one side: strict UTF-8, LF lines, a trailing CR removed (CRLF files), and a UTF-8 byte-order mark at
    /// the start of the file removed (editors on Windows add one; kept, it would become part of the first
    /// sentence's first token, in the BPE vocabulary and in a reference).
    public static func readSide(_ path: String) throws -> [String] {
        var lines = try TextIO.readLines(path).map { $0.hasSuffix("\r") ? String($0.dropLast()) : $0 }
        if let first = lines.first, first.unicodeScalars.first == "\u{FEFF}" {
            lines[0] = String(String.UnicodeScalarView(first.unicodeScalars.dropFirst()))
        }
        return lines
    }

    /// Reads two line-aligned files; different line counts are an error naming both files and counts.
    public static func readParallel(source: String, target: String, direction: LanguagePair) throws -> ParallelCorpus {
        let s = try readSide(source)
        let t = try readSide(target)
        guard s.count == t.count else {
            throw DataError.lineCountMismatch(sourcePath: source, sourceLines: s.count, targetPath: target, targetLines: t.count)
        }
        return ParallelCorpus(sources: s, targets: t, direction: direction)
    }
}
