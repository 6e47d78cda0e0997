// `newstest2014`, `newstest2017`: WMT news test sets en-de, evaluation only (encoded with a training set's BPE and
// vocabulary through PreparedData.encode).

extension DataSetName {
    public static let newstest2014 = DataSetName(rawValue: "newstest2014")
    public static let newstest2017 = DataSetName(rawValue: "newstest2017")
}

extension DataSetDefinition {
    static func newstest(_ year: String, lines: String) -> DataSetDefinition {
        DataSetDefinition(
            spec: DataSetSpec(name: DataSetName(rawValue: "newstest\(year)"), summary: "WMT newstest\(year) en-de (\(lines) lines), evaluation only",
                              pairs: DataSetSpec.bothWays([("en", "de")]), defaultPair: LanguagePair("en", "de"), trainable: false),
            load: { l in
                let p = l.pair
                return l.make([("test", try l.parallel("newstest/newstest\(year).en-de.\(p.source)", "newstest/newstest\(year).en-de.\(p.target)", p))])
            })
    }
    public static let newstest2014 = newstest("2014", lines: "3,003")
    public static let newstest2017 = newstest("2017", lines: "3,004")
}
