// `iwslt14-mini`: IWSLT'14 De-En as fairseq prepares it (lower-cased, Moses-tokenized), from the sample this
// project has: train = train sample + valid, minus pairs that occur in test and exact duplicates, minus a
// held-out validation slice of 500 sentence groups; test = the full IWSLT'14 test set. Scored with tokenized
// BLEU, as fairseq's IWSLT results are (docs/bleu.md §6).
import DeepNetBase

extension DataSetName {
    public static let iwslt14Mini = DataSetName(rawValue: "iwslt14-mini")
}

extension DataSetDefinition {
    /// Held-out validation groups. 500 (not 1,000): the pool is only ~11.9k pairs, and the harness's reduced runs
    /// (which produced the committed fig2–fig5 results) held out 500.
    public static let iwsltHeldOut = 500

    /// SHA-256 of every file (`sha256sum iwslt14/*` in the data folder; johntzwei/nmt_iwslt @ 7750e75a, train sample de-BPE'd).
    public static let iwslt14MiniFiles: [String: String] = [
        "iwslt14/test.de": "e718c783e33160b7d72af8f733756a466e0d0c016eff8ab624c1b0d1d01cbbdf",
        "iwslt14/test.en": "4b127beb9050511a3e6209cd837ff36f623a3a423666b32aba6e208b7330cf4c",
        "iwslt14/train-sample.de": "7951bdd2a3ba41401bb47d9f06ec9d536a8083c304f89f32c9477408b2294621",
        "iwslt14/train-sample.en": "a6f0e0023229f216cf19603792572f25edde54a935f872a9241666dca6730dbb",
        "iwslt14/valid.de": "3f051579c9d8c7281a6ea8c72ad4ae09dbaa9bb24dfd41166f2c3a3df7cd940a",
        "iwslt14/valid.en": "e6d7317a9772cd1ed970910c611e9e7dada1f34439269b44a9d801334bff948d",
    ]

    public static let iwslt14Mini = DataSetDefinition(
        spec: DataSetSpec(name: .iwslt14Mini, summary: "IWSLT'14 de-en (lower-cased, Moses-tokenized): train = train sample + valid minus a held-out slice of 500; test = full IWSLT'14 test",
                          pairs: DataSetSpec.bothWays([("de", "en")]), defaultPair: LanguagePair("de", "en"), scoring: .tokenizedBLEU),
        files: iwslt14MiniFiles,
        settings: { _ in "heldout=\(iwsltHeldOut)" },
        load: { l in
            let p = l.pair
            let de = "iwslt14/", un = MosesEscapes.unescape
            let sample = try l.parallel(de + "train-sample.de", de + "train-sample.en", LanguagePair("de", "en"), transform: un)
            let valid = try l.parallel(de + "valid.de", de + "valid.en", LanguagePair("de", "en"), transform: un)
            let test = try l.parallel(de + "test.de", de + "test.en", LanguagePair("de", "en"), transform: un)
            // Pool = train sample + valid, minus exact duplicate pairs and pairs that also occur in test.
            var testPairs = Set<String>()
            for i in 0..<test.count { testPairs.insert(test.sources[i] + "\u{1}" + test.targets[i]) }
            var seen = Set<String>()
            var ps: [String] = [], pt: [String] = []
            for c in [sample, valid] {
                for i in 0..<c.count {
                    let k = c.sources[i] + "\u{1}" + c.targets[i]
                    if testPairs.contains(k) || !seen.insert(k).inserted { continue }
                    ps.append(c.sources[i]); pt.append(c.targets[i])
                }
            }
            // Held-out slice: whole groups of pairs linked by a shared German or English sentence, so that no
            // sentence is on both sides of the train/valid boundary.
            let groups = Splitter.groups(ps, pt)
            var rng = SplitMix64.derive(seed: l.options.seed, stream: 0x1A5_17)
            var order = Array(0..<groups.count)
            rng.shuffle(&order)
            var heldOut: [Int] = [], train: [Int] = []
            for g in order {
                if heldOut.count < iwsltHeldOut { heldOut += groups[g] } else { train += groups[g] }
            }
            heldOut.sort(); train.sort()
            func mk(_ idx: [Int]) -> ParallelCorpus {
                let c = ParallelCorpus(sources: idx.map { ps[$0] }, targets: idx.map { pt[$0] }, direction: LanguagePair("de", "en"))
                return p.source == "de" ? c : ParallelCorpus(sources: c.targets, targets: c.sources, direction: p)
            }
            let testDir = p.source == "de" ? test : ParallelCorpus(sources: test.targets, targets: test.sources, direction: p)
            return l.make([("train", mk(train)), ("valid", mk(heldOut)), ("test", testDir)])
        })
}
