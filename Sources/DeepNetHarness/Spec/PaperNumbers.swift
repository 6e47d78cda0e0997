// The paper's reported numbers, transcribed from the text of the TPAMI version
// (IEEE TPAMI 46(10), 2024; arXiv 2203.00555). Tables keep the paper's row and column labels so that a report
// can place each of our numbers next to the paper's.

/// One cell of a paper table.
public enum PaperCell: Sendable, Equatable, CustomStringConvertible {
    case value(Double)
    /// The paper prints "diverged".
    case diverged
    /// Non-numeric text as printed (e.g. "86.7/86.7", "3.8B").
    case text(String)
    /// The cell cannot be read in the transcription; the string says why.
    case illegible(String)

    public var description: String {
        switch self {
        case .value(let v): return PaperCell.format(v)
        case .diverged: return "diverged"
        case .text(let s): return s
        case .illegible: return "?"
        }
    }

    public var number: Double? { if case .value(let v) = self { return v }; return nil }
    public var isDiverged: Bool { self == .diverged }

    static func format(_ v: Double) -> String {
        // Keep the paper's precision: one decimal for BLEU/accuracy, otherwise the shortest form.
        let one = (v * 10).rounded() / 10
        if abs(one - v) < 1e-9 { return String(format: "%.1f", v) }
        return "\(v)"
    }
}

/// A row of a paper table; `key` identifies it in grid coordinates (e.g. the method label).
public struct PaperRow: Sendable {
    public var label: String
    public var cells: [PaperCell]
    public init(_ label: String, _ cells: [PaperCell]) { self.label = label; self.cells = cells }
}

public struct PaperTable: Sendable {
    public var caption: String
    public var columns: [String]
    public var rows: [PaperRow]
    public var notes: [String]

    public init(caption: String, columns: [String], rows: [PaperRow], notes: [String] = []) {
        self.caption = caption; self.columns = columns; self.rows = rows; self.notes = notes
        for r in rows {
            precondition(r.cells.count == columns.count,
                         "paper table '\(caption)': row '\(r.label)' has \(r.cells.count) cells for \(columns.count) columns")
        }
    }

    public func row(_ label: String) -> PaperRow? { rows.first { $0.label == label } }

    public func cell(row: String, column: String) -> PaperCell? {
        guard let r = self.row(row), let c = columns.firstIndex(of: column) else { return nil }
        return r.cells[c]
    }

    public var cellCount: Int { rows.count * columns.count }
}

/// A number or statement the paper makes in its text or figure caption (figures' data are images; what the
/// text states about them is all that can be transcribed).
public struct PaperStatement: Sendable {
    public var quote: String
    public var section: String
    public init(_ quote: String, section: String) { self.quote = quote; self.section = section }
}

public struct PaperNumbers: Sendable {
    public var tables: [PaperTable]
    public var statements: [PaperStatement]
    public init(tables: [PaperTable] = [], statements: [PaperStatement] = []) {
        self.tables = tables; self.statements = statements
    }
    public var table: PaperTable? { tables.first }
}

/// Shorthand used by the experiment files: `v(28.1)`, `.diverged`.
public func v(_ x: Double) -> PaperCell { .value(x) }
public let diverged = PaperCell.diverged
