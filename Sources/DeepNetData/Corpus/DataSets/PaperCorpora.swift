// The corpora the paper trained on, which this project does not have (too large for a 2-core machine, or not
// redistributable). They are registered so that the paper profile of every experiment names its data with a
// checked name and `deepnet run <id> --profile paper --dry-run` can plan it; loading one is a clear error.

extension DataSetName {
    public static let wmt17EnDe = DataSetName(rawValue: "wmt17-en-de")
    public static let wmt14EnDe = DataSetName(rawValue: "wmt14-en-de")
    public static let wmt14EnFr = DataSetName(rawValue: "wmt14-en-fr")
    public static let iwslt14 = DataSetName(rawValue: "iwslt14")
    public static let opus100 = DataSetName(rawValue: "opus-100")
    public static let ccmatrix102 = DataSetName(rawValue: "ccmatrix-102")
    public static let wikipediaBookCorpus = DataSetName(rawValue: "wikipedia-bookcorpus")
    public static let cc100En = DataSetName(rawValue: "cc100-en")
}

extension DataSetDefinition {
    static func paperCorpus(_ name: DataSetName, _ summary: String, pairs: [LanguagePair], multilingual: Bool = false,
                            scoring: ScoringRecipe = .sacreBLEU13a) -> DataSetDefinition {
        DataSetDefinition(spec: DataSetSpec(name: name, summary: summary + " (the paper's corpus; not available to this project)",
                                            pairs: pairs, defaultPair: multilingual ? nil : pairs.first, multilingual: multilingual,
                                            scoring: scoring),
                          load: nil)
    }

    public static let paperCorpora: [DataSetDefinition] = [
        paperCorpus(.wmt17EnDe, "WMT-17 English-German (paper Table I)", pairs: DataSetSpec.bothWays([("en", "de")])),
        paperCorpus(.wmt14EnDe, "WMT-14 English-German (paper Table II)", pairs: DataSetSpec.bothWays([("en", "de")])),
        paperCorpus(.wmt14EnFr, "WMT-14 English-French (paper Tables II, XI, Fig. 9)", pairs: DataSetSpec.bothWays([("en", "fr")])),
        paperCorpus(.iwslt14, "IWSLT-14 German-English, full (paper Figs. 1-6)", pairs: DataSetSpec.bothWays([("de", "en")]),
                    scoring: .tokenizedBLEU),
        paperCorpus(.opus100, "OPUS-100, 100 languages English-centric (paper Tables III-IV, Fig. 8)", pairs: [LanguagePair("xx", "xx")], multilingual: true),
        paperCorpus(.ccmatrix102, "CCMatrix + CCAligned + OPUS, 102 languages (paper Table V)", pairs: [LanguagePair("xx", "xx")], multilingual: true),
        paperCorpus(.wikipediaBookCorpus, "Wikipedia + BookCorpus, English (paper Table VI)", pairs: [LanguagePair("en", "en")]),
        paperCorpus(.cc100En, "CC100 English (paper Tables VII-IX)", pairs: [LanguagePair("en", "en")]),
    ]
}
