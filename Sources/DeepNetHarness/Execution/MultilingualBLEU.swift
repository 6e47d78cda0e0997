// BLEU of a multilingual run: one corpus BLEU per direction (each direction's hypotheses against that
// direction's references, sacreBLEU 13a or the data set's recipe), and their means — over all directions (the
// paper's OPUS-100 "Avg", what `FinalMetrics.bleu` holds for such a run), over X→English and over English→X.
import DeepNetData

public struct MultilingualBLEU: Sendable, Equatable {
    /// "de-en" → BLEU of that direction.
    public var byDirection: [String: Double]
    /// Mean of the per-direction scores.
    public var mean: Double
    /// Mean over the directions into English (the language on one side of every direction, `en` or `eng`); nil
    /// when no such language or no such direction.
    public var toEnglish: Double?
    /// Mean over the directions out of English.
    public var fromEnglish: Double?

    /// Scores `hypotheses[i]` against `references[i]` grouped by `directions[i]` ("src-tgt").
    public static func score(hypotheses: [String], references: [String], directions: [String], options: BLEUOptions) throws -> MultilingualBLEU {
        precondition(hypotheses.count == references.count && hypotheses.count == directions.count, "one reference and one direction per hypothesis")
        var order: [String] = [], members: [String: [Int]] = [:]
        for (i, d) in directions.enumerated() {
            if members[d] == nil { order.append(d) }
            members[d, default: []].append(i)
        }
        let bleu = SacreBLEU(options)
        var by: [String: Double] = [:]
        for d in order {
            let ix = members[d]!
            by[d] = try bleu.corpusScore(hypotheses: ix.map { hypotheses[$0] }, references: [ix.map { references[$0] }]).score
        }
        func mean(_ ds: [String]) -> Double? { ds.isEmpty ? nil : ds.map { by[$0]! }.reduce(0, +) / Double(ds.count) }
        let groups = englishGroups(order)
        return MultilingualBLEU(byDirection: by, mean: mean(order) ?? 0,
                                toEnglish: groups.flatMap { mean($0.intoEnglish) }, fromEnglish: groups.flatMap { mean($0.outOfEnglish) })
    }

    /// The directions ("src-tgt") into and out of English, the language on one side of every direction (`en` or
    /// `eng`); nil when there is no such language. Order as given.
    public static func englishGroups(_ directions: [String]) -> (intoEnglish: [String], outOfEnglish: [String])? {
        let sides = directions.map { d -> (String, String) in
            let p = d.split(separator: "-", maxSplits: 1).map(String.init)
            return (p.first ?? d, p.count > 1 ? p[1] : "")
        }
        guard let e = ["en", "eng"].first(where: { l in !sides.isEmpty && sides.allSatisfy { $0.0 == l || $0.1 == l } }) else { return nil }
        return (zip(directions, sides).filter { $0.1.1 == e }.map(\.0), zip(directions, sides).filter { $0.1.0 == e }.map(\.0))
    }
}
