// `newstest2014`, `newstest2017`: WMT news test sets en-de, evaluation only (encoded with a training set's BPE and
// vocabulary through PreparedData.encode).

extension DataSetName {
    public static let newstest2014 = DataSetName(rawValue: "newstest2014")
    public static let newstest2017 = DataSetName(rawValue: "newstest2017")
}

extension DataSetDefinition {
    /// SHA-256 of every file (`sha256sum newstest/*` in the data folder; Helsinki-NLP/OPUS-MT-testsets @ ac0f19c0).
    public static let newstestFiles: [String: String] = [
        "newstest/newstest2014.en-de.de": "ae5d110486bc33d7175e9e28c7d0051eb3e5fcd2166dd93371089852c091a20e",
        "newstest/newstest2014.en-de.en": "7294bccf2879a97b3706b95c9595f1459617a8ee7130d5d8581c910e69736971",
        "newstest/newstest2017.en-de.de": "675e4f7e6045dacf56507e29b24106d771a571e0eb58d822806b086cdcf892f4",
        "newstest/newstest2017.en-de.en": "11adaec47477928dab9cb3fc9279d99dbbbfec7161f3abf6fddd759668fcd703",
    ]

    static func newstest(_ year: String, lines: String) -> DataSetDefinition {
        DataSetDefinition(
            spec: DataSetSpec(name: DataSetName(rawValue: "newstest\(year)"), summary: "WMT newstest\(year) en-de (\(lines) lines), evaluation only",
                              pairs: DataSetSpec.bothWays([("en", "de")]), defaultPair: LanguagePair("en", "de"), trainable: false),
            files: newstestFiles.filter { $0.key.hasPrefix("newstest/newstest\(year).") },
            load: { l in
                let p = l.pair
                return l.make([("test", try l.parallel("newstest/newstest\(year).en-de.\(p.source)", "newstest/newstest\(year).en-de.\(p.target)", p))])
            })
    }
    public static let newstest2014 = newstest("2014", lines: "3,003")
    public static let newstest2017 = newstest("2017", lines: "3,004")
}
