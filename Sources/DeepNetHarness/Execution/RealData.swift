// Named real data sets read from DEEPNET_DATA (shared/data), tokenized with the data module's pre-tokenizer,
// BPE learner and fairseq-style vocabulary (joint source+target BPE, `model.vocabSize` symbols at most).
//
//   multi30k       Multi30k task 1, <src>→<tgt> ∈ {en, de, fr, cs}: train 29k / val / test_2016_flickr
//   iwslt14-mini   IWSLT'14 De-En: train-sample + valid (minus test overlaps), 500 held out; test = test
//   tatoeba        13 English-centric Tatoeba pairs, both directions, target-language tag on the source,
//                  split 90/5/5 per pair by a seeded shuffle of distinct source sentences
//   (task causal-lm / masked-lm)  the target-language side of multi30k as a monolingual corpus
import DeepNetData
import DeepNetEngine
import Foundation

enum RealData {
    static let tatoebaPairs = ["ces-eng", "dan-eng", "deu-eng", "eng-fin", "eng-fra", "eng-hun", "eng-ita", "eng-nld",
                               "eng-pol", "eng-por", "eng-spa", "eng-swe", "eng-tur"]

    /// Files a data specification reads (for the fingerprint), relative to the data root.
    static func files(_ spec: DataSpec) throws -> [String] {
        switch spec.dataset {
        case "multi30k":
            let langs = Set([spec.sourceLanguage, spec.targetLanguage]).sorted()
            return langs.flatMap { l in ["train", "val", "test_2016_flickr"].map { "multi30k/\($0).\(l).gz" } }
        case "iwslt14-mini":
            return ["train-sample", "valid", "test"].flatMap { s in ["de", "en"].map { "iwslt14/\(s).\($0)" } }
        case "tatoeba":
            return tatoebaPairs.flatMap { p -> [String] in
                let ls = p.split(separator: "-").map(String.init)
                return ls.map { "tatoeba/\(p).\($0)" }
            }
        default:
            throw DataUnavailable(message: "unknown data set '\(spec.dataset)'; available: synthetic, multi30k, iwslt14-mini, tatoeba")
        }
    }

    struct Split { var train: [(String, String)]; var valid: [(String, String)]; var test: [(String, String)] }

    static func readPairs(_ root: URL, _ s: String, _ t: String) throws -> [(String, String)] {
        let a = try CorpusReader.readSide(root.appendingPathComponent(s).path)
        let b = try CorpusReader.readSide(root.appendingPathComponent(t).path)
        guard a.count == b.count else { throw DataUnavailable(message: "\(s) and \(t) differ in line count") }
        return Array(zip(a, b))
    }

    static func load(_ c: RunConfig, root: URL) throws -> RunData {
        let spec = c.data
        var split: Split
        var tags: [String] = []
        switch spec.dataset {
        case "multi30k":
            let s = spec.sourceLanguage, t = c.task == .translation ? spec.targetLanguage : spec.targetLanguage
            func pairs(_ name: String) throws -> [(String, String)] {
                try readPairs(root, "multi30k/\(name).\(s).gz", "multi30k/\(name).\(t).gz")
            }
            split = Split(train: try pairs("train"), valid: try pairs("val"), test: try pairs("test_2016_flickr"))
        case "iwslt14-mini":
            let (s, t) = spec.sourceLanguage == "en" ? ("en", "de") : ("de", "en")
            let test = try readPairs(root, "iwslt14/test.\(s)", "iwslt14/test.\(t)")
            let testSet = Set(test.map { $0.0 + "\t" + $0.1 })
            var pool = try readPairs(root, "iwslt14/train-sample.\(s)", "iwslt14/train-sample.\(t)")
                + readPairs(root, "iwslt14/valid.\(s)", "iwslt14/valid.\(t)")
            var seen = Set<String>()
            pool = pool.filter { p in let k = p.0 + "\t" + p.1; return !testSet.contains(k) && seen.insert(k).inserted }
            var rng = DataRandom(seed: 2024)
            rng.shuffle(&pool)
            split = Split(train: Array(pool.dropFirst(500)), valid: Array(pool.prefix(500)), test: test)
        case "tatoeba":
            var tr: [(String, String)] = [], va: [(String, String)] = [], te: [(String, String)] = []
            for p in tatoebaPairs {
                let ls = p.split(separator: "-").map(String.init)
                let pairs = try readPairs(root, "tatoeba/\(p).\(ls[0])", "tatoeba/\(p).\(ls[1])")
                // split by distinct first-side sentence, seeded shuffle
                var keys = Array(Set(pairs.map(\.0))).sorted()
                var rng = DataRandom(seed: 7)
                rng.shuffle(&keys)
                let nTest = keys.count / 20, nValid = keys.count / 20
                let testK = Set(keys.prefix(nTest)), validK = Set(keys.dropFirst(nTest).prefix(nValid))
                let other = ls[0] == "eng" ? ls[1] : ls[0]
                tags.append(other); if !tags.contains("eng") { tags.append("eng") }
                for (a, b) in pairs {
                    let (eng, x) = ls[0] == "eng" ? (a, b) : (b, a)
                    // both directions: eng→x (tag x) and x→eng (tag eng)
                    let fwd = ("__\(other)__ " + eng, x), bwd = ("__eng__ " + x, eng)
                    let k = a
                    if testK.contains(k) { te.append(fwd); te.append(bwd) } else if validK.contains(k) { va.append(fwd); va.append(bwd) } else { tr.append(fwd); tr.append(bwd) }
                }
            }
            split = Split(train: tr, valid: va, test: te)
        default:
            _ = try files(spec)
            throw DataUnavailable(message: "unknown data set '\(spec.dataset)'")
        }
        if spec.trainSentences > 0 { split.train = Array(split.train.prefix(spec.trainSentences)) }

        // Pre-tokenize (reversible), learn joint BPE, build the vocabulary.
        func pre(_ s: String) -> String {
            if s.hasPrefix("__"), let sp = s.firstIndex(of: " ") {
                return String(s[..<sp]) + " " + PreTokenizer.tokenize(String(s[s.index(after: sp)...])).joined(separator: " ")
            }
            return PreTokenizer.tokenize(s).joined(separator: " ")
        }
        let lmTask = c.task != .translation
        let trainLines = split.train.flatMap { lmTask ? [pre($0.1)] : [pre($0.0), pre($0.1)] }
        let merges = max(50, c.model.vocabSize - 300)
        let bpe = BPE.learn(lines: trainLines, merges: merges)
        var cache: [String: [String]] = [:]
        func seg(_ line: String) -> [String] {
            let words = line.split(separator: " ").map(String.init)
            var out: [String] = []
            for w in words {
                if w.hasPrefix("__") && w.hasSuffix("__") { out.append(w); continue }
                out += bpe.apply([w], cache: &cache)
            }
            return out
        }
        var counts: [String: Int] = [:]
        for l in trainLines { for t in seg(l) where !(t.hasPrefix("__") && t.hasSuffix("__")) { counts[t, default: 0] += 1 } }
        let vocab = Vocabulary.build(counts: counts, languageTags: tags, maxWords: c.model.vocabSize, paddingFactor: 1)
        let maxTok = spec.maxTokensPerSentence
        func enc(_ s: String) -> [Int32] { vocab.encode(seg(pre(s))) }
        func encodePairs(_ ps: [(String, String)]) -> [([Int32], [Int32])] {
            ps.compactMap { p in
                let x = lmTask ? [] : enc(p.0), y = enc(p.1)
                if y.isEmpty || y.count > maxTok || x.count > maxTok || (!lmTask && x.isEmpty) { return nil }
                return (x, y)
            }
        }
        let train = encodePairs(split.train), valid = encodePairs(split.valid)
        guard !train.isEmpty, !valid.isEmpty else {
            throw DataUnavailable(message: "\(spec.dataset): data.maxTokensPerSentence = \(maxTok) leaves \(train.count) training and \(valid.count) validation pairs; raise it")
        }
        let testN = spec.evalSentences == 0 ? split.test.count : min(spec.evalSentences, split.test.count)
        let test = Array(split.test.prefix(testN))
        let iwslt = spec.dataset == "iwslt14-mini"
        let detok: ([Int32]) -> String = { ids in
            let toks = BPE.remove(tokens: vocab.decode(ids.filter { $0 >= Int32(vocab.nspecial) }))
            return iwslt ? toks.joined(separator: " ") : PreTokenizer.detokenize(toks)
        }
        return ExampleData(task: c.task, vocabSize: vocab.count,
                           summary: "\(spec.dataset) \(spec.sourceLanguage)→\(spec.targetLanguage): \(train.count) train / \(valid.count) valid / \(test.count) test, BPE \(merges) merges, vocabulary \(vocab.count)",
                           train: train, valid: Array(valid.prefix(max(64, c.training.evalBatches * 64))),
                           testSources: test.map { enc($0.0) }, testReferences: test.map { iwslt ? $0.1 : $0.1 },
                           batchTokens: c.training.batchTokens, seed: UInt64(c.training.seed), detokenize: detok)
    }
}
