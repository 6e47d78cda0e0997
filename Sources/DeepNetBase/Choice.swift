// Settings that take one of a fixed set of names (architecture, positions, task, profile, …) parse themselves:
// one place turns text from a flag, a file attribute or a stored configuration into the value, and a bad name
// fails naming what was being set and every valid name.

/// A closed set of named values.
public protocol Choice: RawRepresentable, CaseIterable, Sendable where RawValue == String {}

public struct UnknownChoice: Error, CustomStringConvertible, Equatable {
    /// What was being set ("--arch", "attribute 'positions'", …).
    public var what: String
    public var value: String
    public var valid: [String]
    public var description: String { "\(what) '\(value)' is not one of \(valid.joined(separator: ", "))" }
}

extension Choice {
    /// The valid names, in declaration order.
    public static var validNames: [String] { allCases.map(\.rawValue) }

    /// Parses `text`; `what` names the setting in the error.
    public init(parsing text: String, what: String) throws {
        guard let v = Self(rawValue: text) else { throw UnknownChoice(what: what, value: text, valid: Self.validNames) }
        self = v
    }
}
