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

    /// SHA-256 of every file (`sha256sum tatoeba/*` in the data folder; Helsinki-NLP/OPUS-MT-testsets @ ac0f19c0).
    public static let tatoebaFiles: [String: String] = [
        "tatoeba/ces-eng.ces": "82d71216da44fc76c161cb811cef0ec2752cb6500b7283083d2c81b4102c2571",
        "tatoeba/ces-eng.eng": "3fa90d9fa699ce09616d8c35f6a41eca23d7a9b75bcc2c1ee3e7a460b4e652f4",
        "tatoeba/dan-eng.dan": "5de93d4bd652eed4d0ced9512be44984d7840b8628aea2d6111a32082f29e655",
        "tatoeba/dan-eng.eng": "66e5ece697e4470ee2d5a3a265a987b3a5e925c52398fc25f9c4110cd0e666b2",
        "tatoeba/deu-eng.deu": "a06d3300c05158e83bb5c1709a0bf5aecc2e28c895e66f03b1c914a7fdd8c8c6",
        "tatoeba/deu-eng.eng": "5d0e3169914a5e3f4ca7bdec670880f2025385c5a7e29547d9cbd7992105e77f",
        "tatoeba/eng-fin.eng": "0592b64bf9e077b10b66219b4eb336f12537e7a0d2866411e90743244cc56602",
        "tatoeba/eng-fin.fin": "b851b51c340e151d442694416f44da4481b531ab14cab19f4ab6f53668b37f74",
        "tatoeba/eng-fra.eng": "714a848bd6ab4421cafd1b9b09fd26328306fab1bc8006e820fa77a8cbe57636",
        "tatoeba/eng-fra.fra": "095313ff04016e5ddeff7557d1c5590f19724d239e424cab313b2d03ca66d365",
        "tatoeba/eng-hun.eng": "e5109eec124b9b1a2504bfbeb3934bb823c8fc942e5eef6535731bc283f40c0d",
        "tatoeba/eng-hun.hun": "ac3a1176074c812d18d432bb8f6e7796d761c06c39d3d88594ca0bd9716c14a5",
        "tatoeba/eng-ita.eng": "ef0c6a6d746c0d53e6496ac1073db91d4efe51d21c7a586bbbaa0f3660e938e4",
        "tatoeba/eng-ita.ita": "3735d63c036d6e7359c708c14c793f282ff84dd6f3c83353edb50085d0a958e1",
        "tatoeba/eng-nld.eng": "9153a68be809fc9622931bb42784eca6b55c860913960b7b3d7f6c8684b09bcf",
        "tatoeba/eng-nld.nld": "751bdb5102940e7c9f9896ef39331b1747959df2081ba59b76f0f9550b91c946",
        "tatoeba/eng-pol.eng": "f50bafc8d8b6859774a0368a644317febcafb089805863053cef7735f5ffed21",
        "tatoeba/eng-pol.pol": "91ae42bec6903adfa80def5e1b74a6d4af6f9f75bdd80fa8a914d46cba1e5734",
        "tatoeba/eng-por.eng": "e6e3bdd486f121fe4876439d92bf52cdc6faab7cdf816888360465bc61f11fab",
        "tatoeba/eng-por.por": "8a5148ff3b5515cb4948e9b17621bed646851c13ad1d217c2e4ab6e3ac081389",
        "tatoeba/eng-spa.eng": "74da6b3ced819694959c14aadda79876abcd8d0aa6163a79fa4381bfb473c23e",
        "tatoeba/eng-spa.spa": "204c4d49224aa8bb974927daee66368c1b00068e3b6815fdba41d1265699cd93",
        "tatoeba/eng-swe.eng": "c65c6c5ed919846cc8b56f7a22310ecbcef4a80df48a7584028668640cbd8c01",
        "tatoeba/eng-swe.swe": "d071bd74ed560af8f2486bab6bf1240765f3dee1b1f1887da58aacd60cb8b450",
        "tatoeba/eng-tur.eng": "f316c20e76fbdc939495e5abe74e5b81bc1920663ba8106c4ecf56d21230187f",
        "tatoeba/eng-tur.tur": "0622af57035c6df8ed9e2018a81757142941d7864362dc3b4b11be5f406eefd4",
    ]

    public static let tatoeba = DataSetDefinition(
        spec: DataSetSpec(name: .tatoeba, summary: "13 English-centric Tatoeba pairs, both directions, target-language tags (OPUS-100 stand-in)",
                          pairs: DataSetSpec.bothWays(tatoebaPairs.map { p in
                              let l = p.split(separator: "-").map(String.init); return l[0] == "eng" ? (l[1], "eng") : (l[0], "eng") }),
                          defaultPair: nil, multilingual: true, defaultBPEMerges: 16000),
        files: tatoebaFiles,
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
