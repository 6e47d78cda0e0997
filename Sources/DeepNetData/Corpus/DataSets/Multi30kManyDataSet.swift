// `multi30k-many`: Multi30k task 1 (raw text) as one many-to-many set: en↔{de, fr, cs}, six directions, a
// target-language tag on every source (`__de__`, the same mechanism as `tatoeba`), joint BPE over the four
// languages. The captions are multi-way parallel (line i of every language file is the same caption), so:
// train = all 29,000 lines × 6 directions (174,000 pairs); valid = val, all 1,014 lines × 6 directions (6,084);
// test = test_2016_flickr, 1,000 lines × 6 directions (6,000). Each split lists one direction after the other; a
// run validates on a round-robin selection over the directions and decodes the first n test lines of each
// direction, scoring each direction on its own (DataFactory.make, RunExecutor).
import DeepNetBase

extension DataSetName {
    public static let multi30kMany = DataSetName(rawValue: "multi30k-many")
}

extension DataSetDefinition {
    /// The six directions, in the order the splits list them.
    public static let multi30kManyPairs = DataSetSpec.bothWays([("de", "en"), ("fr", "en"), ("cs", "en")])
    static let multi30kManyLanguages = ["cs", "de", "en", "fr"]
    static let multi30kManySplits = [("train", "train"), ("val", "valid"), ("test_2016_flickr", "test")]

    public static let multi30kMany = DataSetDefinition(
        spec: DataSetSpec(name: .multi30kMany, summary: "Multi30k task 1 raw text, many-to-many en↔{de, fr, cs} (6 directions, target-language tags); train 29k × 6, val 1,014 × 6, test_2016_flickr 1,000 × 6",
                          pairs: multi30kManyPairs, defaultPair: nil, multilingual: true),
        files: multi30kFiles.filter { f in multi30kManySplits.contains { f.key.hasPrefix("multi30k/\($0.0).") } },
        settings: { _ in "valid=val;test=test_2016_flickr" },
        load: { l in
            let dirs = multi30kManyPairs.filter { l.options.pair == nil || l.options.pair == $0 }
            var out: [(String, ParallelCorpus)] = []
            for (file, split) in multi30kManySplits {
                var side: [String: [String]] = [:]
                for lang in multi30kManyLanguages where dirs.contains(where: { $0.source == lang || $0.target == lang }) {
                    side[lang] = try l.side("multi30k/\(file).\(lang).gz")
                }
                let n = side["en"]!.count
                for (lang, lines) in side.sorted(by: { $0.key < $1.key }) where lines.count != n {
                    throw DataError.lineCountMismatch(sourcePath: l.root + "/multi30k/\(file).en.gz", sourceLines: n,
                                                      targetPath: l.root + "/multi30k/\(file).\(lang).gz", targetLines: lines.count)
                }
                var s: [String] = [], t: [String] = [], di: [Int] = []
                for (k, d) in dirs.enumerated() { s += side[d.source]!; t += side[d.target]!; di += Array(repeating: k, count: n) }
                out.append((split, ParallelCorpus(sources: s, targets: t, directions: dirs, directionIndex: di)))
            }
            return l.make(out, tags: multi30kManyLanguages.map { Vocabulary.languageTag($0) })
        })
}
