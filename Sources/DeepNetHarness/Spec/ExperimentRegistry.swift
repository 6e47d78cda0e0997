// The experiment registry: ids are unique (a duplicate is an error, as fairseq's
// "Cannot register duplicate model architecture"), lookups of unknown ids suggest close matches.

public enum RegistryError: Error, CustomStringConvertible, Equatable {
    case duplicate(id: String)
    case unknown(id: String, suggestions: [String], known: [String])

    public var description: String {
        switch self {
        case .duplicate(let id):
            return "duplicate experiment id '\(id)': every table and figure has exactly one registry value"
        case .unknown(let id, let suggestions, let known):
            var s = "unknown experiment '\(id)'."
            if !suggestions.isEmpty { s += " Did you mean: \(suggestions.joined(separator: ", "))?" }
            s += "\nKnown experiments: \(known.joined(separator: ", "))"
            return s
        }
    }
}

public struct ExperimentRegistry: Sendable {
    public let experiments: [Experiment]

    /// Throws `RegistryError.duplicate` if two values share an id.
    public init(_ experiments: [Experiment]) throws {
        var seen = Set<String>()
        for e in experiments {
            if !seen.insert(e.id).inserted { throw RegistryError.duplicate(id: e.id) }
        }
        self.experiments = experiments
    }

    public var ids: [String] { experiments.map(\.id) }

    public func experiment(_ id: String) throws -> Experiment {
        if let e = experiments.first(where: { $0.id == id }) { return e }
        var sug = Self.suggestions(for: id, among: ids)
        // Paper names that are not ids (a table or figure number written out, e.g. "Table IX", "figure 9") point to their experiment first.
        let q = id.lowercased().filter { $0.isLetter || $0.isNumber }
        for e in experiments {
            let names = e.artifact.tableNumbers.flatMap { ["table\($0)", "tab\($0)"] } + (e.artifact.figureNumber.map { ["fig\($0)", "figure\($0)"] } ?? [])
            if names.contains(q) { sug.removeAll { $0 == e.id }; sug.insert(e.id, at: 0) }
        }
        throw RegistryError.unknown(id: id, suggestions: sug, known: ids)
    }

    /// Close matches: case-insensitive equality or prefix, or edit distance ≤ max(2, len/3); nearest first.
    public static func suggestions(for id: String, among known: [String]) -> [String] {
        let q = id.lowercased()
        let normalized = q.replacingOccurrences(of: "-", with: "").replacingOccurrences(of: "_", with: "")
            .replacingOccurrences(of: "figure", with: "fig").replacingOccurrences(of: "tab", with: "table")
            .replacingOccurrences(of: "tablele", with: "table")
        var scored: [(Int, String)] = []
        for k in known {
            let kl = k.lowercased()
            let d = min(editDistance(q, kl), editDistance(normalized, kl.replacingOccurrences(of: "_", with: "")))
            if kl == q || kl.hasPrefix(q) && q.count >= 3 {
                scored.append((0, k))
            } else if d <= max(2, q.count / 3) {
                scored.append((d, k))
            }
        }
        return scored.sorted { $0.0 != $1.0 ? $0.0 < $1.0 : $0.1 < $1.1 }.prefix(5).map(\.1)
    }

    public static func editDistance(_ a: String, _ b: String) -> Int {
        let x = Array(a), y = Array(b)
        if x.isEmpty { return y.count }
        if y.isEmpty { return x.count }
        var prev = Array(0...y.count)
        var cur = [Int](repeating: 0, count: y.count + 1)
        for i in 1...x.count {
            cur[0] = i
            for j in 1...y.count {
                cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (x[i - 1] == y[j - 1] ? 0 : 1))
            }
            swap(&prev, &cur)
        }
        return prev[y.count]
    }
}
