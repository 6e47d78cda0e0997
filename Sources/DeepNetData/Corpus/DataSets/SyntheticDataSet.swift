// `synthetic`: the embedded artificial language pair (Synthetic.swift), generated in-process from the seed; no
// files. The data set of CI and of every smoke profile.
import DeepNetBase

extension DataSetName {
    public static let synthetic = DataSetName(rawValue: "synthetic")
}

extension DataSetDefinition {
    public static let synthetic = DataSetDefinition(
        spec: DataSetSpec(name: .synthetic, summary: "in-process artificial language pair (SVO→SOV, agreement, ~300-lemma lexicon); no files",
                          pairs: [LanguagePair("src", "tgt")], defaultPair: LanguagePair("src", "tgt"), needsFiles: false,
                          defaultBPEMerges: 1000),
        settings: { $0.syntheticConfig.summary },
        load: { l in
            let s = SyntheticLanguage(config: l.options.syntheticConfig).generateSplits()
            let d = l.spec.defaultPair!
            func dir(_ c: ParallelCorpus) -> ParallelCorpus { ParallelCorpus(sources: c.sources, targets: c.targets, direction: d) }
            return l.make([("train", dir(s["train"]!)), ("valid", dir(s["valid"]!)), ("test", dir(s["test"]!))])
        })
}
