// `tatoeba`: 13 English-centric Tatoeba pairs, both directions, a target-language tag on every source (the
// project's stand-in for OPUS-100). Each pair is split on its own: sentence groups (pairs linked by a shared
// sentence) are shuffled with a stream derived from the seed and the pair's name; 5 % of the groups go to test,
// 5 % to valid, the rest to train.
import DeepNetBase

extension DataSetName {
    public static let tatoeba = DataSetName(rawValue: "tatoeba")
}

extension DataSetDefinition {
    public static let tatoebaPairs = ["ces-eng", "dan-eng", "deu-eng", "eng-fin", "eng-fra", "eng-hun", "eng-ita",
                                      "eng-nld", "eng-pol", "eng-por", "eng-spa", "eng-swe", "eng-tur"]
    /// Fractions of each pair's sentence groups held out for test and valid: 5 % each, as the harness's reduced
    /// runs (the committed fig8 results) used; Tatoeba pairs are small (a few thousand sentences for some), and
    /// 5 % keeps a usable test set without starving training.
    public static let tatoebaTestFraction = 0.05, tatoebaValidFraction = 0.05

    public static let tatoeba = DataSetDefinition(
        spec: DataSetSpec(name: .tatoeba, summary: "13 English-centric Tatoeba pairs, both directions, target-language tags (OPUS-100 stand-in)",
                          pairs: DataSetSpec.bothWays(tatoebaPairs.map { p in
                              let l = p.split(separator: "-").map(String.init); return l[0] == "eng" ? (l[1], "eng") : (l[0], "eng") }),
                          defaultPair: nil, multilingual: true, defaultBPEMerges: 16000),
        settings: { _ in "test=\(PythonText.formatFixed(tatoebaTestFraction, 6));valid=\(PythonText.formatFixed(tatoebaValidFraction, 6))" },
        load: { l in
            var train: [ParallelCorpus] = [], valid: [ParallelCorpus] = [], test: [ParallelCorpus] = []
            var langs = Set<String>()
            for name in tatoebaPairs {
                let ls = name.split(separator: "-").map(String.init)
                let x = ls[0] == "eng" ? ls[1] : ls[0]
                let toEng = LanguagePair(x, "eng"), fromEng = LanguagePair("eng", x)
                if let p = l.options.pair, p != toEng && p != fromEng { continue }
                let c = try l.parallel("tatoeba/\(name).\(x)", "tatoeba/\(name).eng", toEng)
                let groups = Splitter.groups(c.sources, c.targets)
                var rng = SplitMix64.derive(seed: l.options.seed, stream: stableHash(name))
                var order = Array(0..<groups.count)
                rng.shuffle(&order)
                let nTest = Int((Double(groups.count) * tatoebaTestFraction).rounded())
                let nValid = Int((Double(groups.count) * tatoebaValidFraction).rounded())
                var idx: [[Int]] = [[], [], []]
                for (k, g) in order.enumerated() { idx[k < nTest ? 2 : (k < nTest + nValid ? 1 : 0)] += groups[g] }
                for (k, var ids) in idx.enumerated() {
                    ids.sort()
                    let fwd = ParallelCorpus(sources: ids.map { c.sources[$0] }, targets: ids.map { c.targets[$0] }, direction: toEng)
                    let bwd = ParallelCorpus(sources: ids.map { c.targets[$0] }, targets: ids.map { c.sources[$0] }, direction: fromEng)
                    var parts: [ParallelCorpus] = []
                    if l.options.pair == nil || l.options.pair == toEng { parts.append(fwd) }
                    if l.options.pair == nil || l.options.pair == fromEng { parts.append(bwd) }
                    switch k { case 0: train += parts; case 1: valid += parts; default: test += parts }
                }
                langs.insert(x); langs.insert("eng")
            }
            let tags = langs.sorted().map { Vocabulary.languageTag($0) }
            return l.make([("train", ParallelCorpus.concatenate(train)), ("valid", ParallelCorpus.concatenate(valid)),
                           ("test", ParallelCorpus.concatenate(test))], tags: tags)
        })
}
