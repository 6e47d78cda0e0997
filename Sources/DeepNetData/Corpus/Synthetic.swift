import DeepNetBase
/// The `synthetic` data set: an artificial language pair generated in-process from a seed, needing no
/// files. It is a deterministic function source → target with the phenomena that make translation
/// non-trivial, so that a small model goes from BLEU ≈ 0 to above 90 during training.
///
/// Grammar (source "S", English-like, SVO; target "T", verb-final SOV):
///
///     sentence := clause ("and" clause)? "."
///     S clause := NP_subj VERB [NP_obj] [PREP NP] [ADV]          (object only for transitive verbs)
///     T clause := NP_subj [NP_obj] [NP POSTP] [ADV] VERB          ("and" → "ta")
///     S NP     := DET ADJ{0,2} NOUN                               (adjectives before the noun)
///     T NP     := DET NOUN ADJ{0,2}                               (after the noun, in mirrored order)
///
/// Morphology and agreement:
/// - S nouns: singular stem / plural stem+"s". T nouns have a lexical gender (m/f, not visible in S) and
///   plural stem+"i".
/// - S determiners: definite "the"; indefinite "a" (sg) / "some" (pl). T determiners agree in
///   definiteness, gender and number: def ko/ka/kon/kan, indef mi/ma/min/man (m.sg/f.sg/m.pl/f.pl).
/// - T adjectives agree with the noun: stem + o/a/on/an (m.sg/f.sg/m.pl/f.pl).
/// - S verbs: present stem+"s" (singular subject) / stem (plural); past stem+"ed".
///   T verbs: present stem+"e"/"en" (sg/pl subject); past stem+"ur"/"us"/"urn"/"usn", agreeing in gender
///   and number with the subject (gender again only recoverable from the T lexicon).
/// - The first letter of each sentence is capitalised; the final "." is glued to the last word.
///
/// Lexicon (default 292 lemmas): 110 nouns, 60 adjectives, 60 transitive + 30 intransitive verbs,
/// 20 adverbs, 12 prepositions, plus the function words; the words are pseudo-words drawn from the
/// seed (S and T use different syllable inventories). Sentences have 4–20 source words (excluding ".");
/// the test split is generated first, then valid, then train, each from its own random stream and
/// without repeating a source sentence of an earlier split, so the evaluation splits do not depend on
/// the training-set size.
public struct SyntheticConfig: Sendable, Codable, Equatable {
    public var seed: UInt64 = 1
    public var trainSize = 20_000
    public var validSize = 500
    public var testSize = 500
    public var minWords = 4
    public var maxWords = 20
    public var nouns = 110
    public var adjectives = 60
    public var transitiveVerbs = 60
    public var intransitiveVerbs = 30
    public var adverbs = 20
    public var prepositions = 12

    public init(seed: UInt64 = 1, trainSize: Int = 20_000, validSize: Int = 500, testSize: Int = 500) {
        self.seed = seed; self.trainSize = trainSize; self.validSize = validSize; self.testSize = testSize
    }

    public var lemmaCount: Int { nouns + adjectives + transitiveVerbs + intransitiveVerbs + adverbs + prepositions }

    /// Canonical text of every generator setting (part of the fingerprint).
    public var summary: String {
        "synthetic-v1;seed=\(seed);train=\(trainSize);valid=\(validSize);test=\(testSize);words=\(minWords)-\(maxWords);" +
            "lex=\(nouns),\(adjectives),\(transitiveVerbs),\(intransitiveVerbs),\(adverbs),\(prepositions)"
    }
}

public struct SyntheticLanguage: Sendable {
    public struct Noun: Sendable { public var s: String; public var t: String; public var feminine: Bool }
    public struct Pair: Sendable { public var s: String; public var t: String }

    public let config: SyntheticConfig
    public private(set) var nouns: [Noun] = []
    public private(set) var adjectives: [Pair] = []
    public private(set) var transitiveVerbs: [Pair] = []
    public private(set) var intransitiveVerbs: [Pair] = []
    public private(set) var adverbs: [Pair] = []
    public private(set) var prepositions: [Pair] = []

    static let sourceFunctionWords = ["the", "a", "some", "and"]
    static let targetFunctionWords = ["ko", "ka", "kon", "kan", "mi", "ma", "min", "man", "ta"]

    public init(config: SyntheticConfig) {
        self.config = config
        var rng = SplitMix64.derive(seed: config.seed, stream: 0x1E41C0)
        var usedS = Set(SyntheticLanguage.sourceFunctionWords)
        var usedT = Set(SyntheticLanguage.targetFunctionWords)
        let sC = ["b", "d", "f", "g", "k", "l", "m", "n", "p", "r", "s", "t", "v", "z"], sV = ["a", "e", "i", "o", "u"]
        let tC = ["h", "j", "k", "l", "m", "n", "q", "r", "t", "w", "x", "y"], tV = ["a", "e", "i", "o", "u", "ai", "ou"]

        func word(_ c: [String], _ v: [String], _ rng: inout SplitMix64, finalC: Bool) -> String {
            let syl = 1 + rng.nextInt(below: 3)
            var w = ""
            for _ in 0..<syl { w += c[rng.nextInt(below: c.count)] + v[rng.nextInt(below: v.count)] }
            if finalC || syl == 1 { w += c[rng.nextInt(below: c.count)] }
            return w
        }
        /// Draws a stem whose derived forms are all unused, then reserves them.
        func fresh(_ c: [String], _ v: [String], _ used: inout Set<String>, _ rng: inout SplitMix64,
                   finalC: Bool = false, forms: (String) -> [String]) -> String {
            while true {
                let w = word(c, v, &rng, finalC: finalC)
                let fs = forms(w)
                if Set(fs).count == fs.count && fs.allSatisfy({ !used.contains($0) }) {
                    for f in fs { used.insert(f) }
                    return w
                }
            }
        }
        for _ in 0..<config.nouns {
            let s = fresh(sC, sV, &usedS, &rng) { [$0, $0 + "s"] }
            let t = fresh(tC, tV, &usedT, &rng) { [$0, $0 + "i"] }
            nouns.append(Noun(s: s, t: t, feminine: rng.nextInt(below: 2) == 1))
        }
        for _ in 0..<config.adjectives {
            let s = fresh(sC, sV, &usedS, &rng) { [$0] }
            let t = fresh(tC, tV, &usedT, &rng, finalC: true) { w in ["o", "a", "on", "an"].map { w + $0 } }
            adjectives.append(Pair(s: s, t: t))
        }
        func verb(_ rng: inout SplitMix64) -> Pair {
            let s = fresh(sC, sV, &usedS, &rng) { [$0, $0 + "s", $0 + "ed"] }
            let t = fresh(tC, tV, &usedT, &rng, finalC: true) { w in ["e", "en", "ur", "us", "urn", "usn"].map { w + $0 } }
            return Pair(s: s, t: t)
        }
        for _ in 0..<config.transitiveVerbs { transitiveVerbs.append(verb(&rng)) }
        for _ in 0..<config.intransitiveVerbs { intransitiveVerbs.append(verb(&rng)) }
        for _ in 0..<config.adverbs {
            adverbs.append(Pair(s: fresh(sC, sV, &usedS, &rng) { [$0] }, t: fresh(tC, tV, &usedT, &rng) { [$0] }))
        }
        for _ in 0..<config.prepositions {
            prepositions.append(Pair(s: fresh(sC, sV, &usedS, &rng) { [$0] }, t: fresh(tC, tV, &usedT, &rng) { [$0] }))
        }
    }

    /// Number of distinct lemmas (bilingual lexicon entries), function words excluded.
    public var lexiconSize: Int {
        nouns.count + adjectives.count + transitiveVerbs.count + intransitiveVerbs.count + adverbs.count + prepositions.count
    }

    struct NP { var noun: Int; var plural: Bool; var definite: Bool; var adjs: [Int] }

    func sampleNP(_ rng: inout SplitMix64) -> NP {
        let r = rng.nextUnit()
        let k = r < 0.45 ? 0 : (r < 0.8 ? 1 : 2)
        var adjs: [Int] = []
        while adjs.count < k {
            let a = rng.nextInt(below: adjectives.count)
            if !adjs.contains(a) { adjs.append(a) }
        }
        return NP(noun: rng.nextInt(below: nouns.count), plural: rng.nextInt(below: 2) == 1,
                  definite: rng.nextUnit() < 0.6, adjs: adjs)
    }

    func renderS(_ np: NP) -> [String] {
        var w = [np.definite ? "the" : (np.plural ? "some" : "a")]
        for a in np.adjs { w.append(adjectives[a].s) }
        w.append(nouns[np.noun].s + (np.plural ? "s" : ""))
        return w
    }

    func renderT(_ np: NP) -> [String] {
        let n = nouns[np.noun]
        let slot = (n.feminine ? 1 : 0) + (np.plural ? 2 : 0)
        var w = [(np.definite ? ["ko", "ka", "kon", "kan"] : ["mi", "ma", "min", "man"])[slot], n.t + (np.plural ? "i" : "")]
        for a in np.adjs.reversed() { w.append(adjectives[a].t + ["o", "a", "on", "an"][slot]) }
        return w
    }

    /// One random sentence pair (raw text).
    public func sample(_ rng: inout SplitMix64) -> (source: String, target: String) {
        while true {
            let clauses = rng.nextUnit() < 0.3 ? 2 : 1
            var s: [String] = [], t: [String] = []
            for c in 0..<clauses {
                if c > 0 { s.append("and"); t.append("ta") }
                let subj = sampleNP(&rng)
                let transitive = rng.nextUnit() < 0.65
                let verb = transitive ? transitiveVerbs[rng.nextInt(below: transitiveVerbs.count)]
                                      : intransitiveVerbs[rng.nextInt(below: intransitiveVerbs.count)]
                let past = rng.nextInt(below: 2) == 1
                let obj = transitive ? sampleNP(&rng) : nil
                let pp: (Int, NP)? = rng.nextUnit() < 0.35 ? (rng.nextInt(below: prepositions.count), sampleNP(&rng)) : nil
                let adv: Int? = rng.nextUnit() < 0.3 ? rng.nextInt(below: adverbs.count) : nil

                s += renderS(subj)
                s.append(verb.s + (past ? "ed" : (subj.plural ? "" : "s")))
                if let o = obj { s += renderS(o) }
                if let (p, np) = pp { s.append(prepositions[p].s); s += renderS(np) }
                if let a = adv { s.append(adverbs[a].s) }

                t += renderT(subj)
                if let o = obj { t += renderT(o) }
                if let (p, np) = pp { t += renderT(np); t.append(prepositions[p].t) }
                if let a = adv { t.append(adverbs[a].t) }
                let fem = nouns[subj.noun].feminine
                let suffix = past ? (fem ? "us" : "ur") + (subj.plural ? "n" : "") : (subj.plural ? "en" : "e")
                t.append(verb.t + suffix)
            }
            guard s.count >= config.minWords && s.count <= config.maxWords else { continue }
            return (SyntheticLanguage.finish(s), SyntheticLanguage.finish(t))
        }
    }

    static func finish(_ w: [String]) -> String {
        var text = w.joined(separator: " ") + "."
        if let f = text.first { text = f.uppercased() + text.dropFirst() }
        return text
    }

    /// Generates the three splits (test first, then valid, then train; no source sentence repeats).
    public func generateSplits() -> [String: ParallelCorpus] {
        var seen = Set<String>()
        var out: [String: ParallelCorpus] = [:]
        for (k, (name, n)) in [("test", config.testSize), ("valid", config.validSize), ("train", config.trainSize)].enumerated() {
            var rng = SplitMix64.derive(seed: config.seed, stream: UInt64(k + 1))
            var s: [String] = [], t: [String] = []
            s.reserveCapacity(n); t.reserveCapacity(n)
            var attempts = 0
            while s.count < n {
                let p = sample(&rng)
                attempts += 1
                if seen.insert(p.source).inserted { s.append(p.source); t.append(p.target) }
                else if attempts > 50 * (n + 10) { break }  // language exhausted (tiny lexicon); stop
            }
            out[name] = ParallelCorpus(sources: s, targets: t, direction: LanguagePair("src", "tgt"))
        }
        return out
    }
}
