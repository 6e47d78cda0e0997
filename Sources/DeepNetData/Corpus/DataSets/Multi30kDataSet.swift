// `multi30k`: Multi30k task 1 (Elliott et al. 2016), raw text; valid = val, test = test_2016_flickr, plus the
// other official test sets under their own names.
import Foundation

extension DataSetName {
    public static let multi30k = DataSetName(rawValue: "multi30k")
}

extension DataSetDefinition {
    static let multi30kSplits = ["train", "val", "test_2016_flickr", "test_2017_flickr", "test_2017_mscoco", "test_2018_flickr"]

    public static let multi30k = DataSetDefinition(
        spec: DataSetSpec(name: .multi30k, summary: "Multi30k task 1 raw text (train 29k, val 1,014, tests 2016-2018); de/fr/cs↔en",
                          pairs: DataSetSpec.bothWays([("de", "en"), ("fr", "en"), ("cs", "en")]), defaultPair: LanguagePair("de", "en")),
        load: { l in
            let p = l.pair, root = l.root
            var out: [(String, ParallelCorpus)] = []
            for f in multi30kSplits {
                let sp = "multi30k/\(f).\(p.source).gz", tp = "multi30k/\(f).\(p.target).gz"
                if !FileManager.default.fileExists(atPath: root + "/" + sp) || !FileManager.default.fileExists(atPath: root + "/" + tp) {
                    if f == "train" || f == "val" || f == "test_2016_flickr" {
                        throw DataError.fileNotFound(path: root + "/" + (FileManager.default.fileExists(atPath: root + "/" + sp) ? tp : sp))
                    }
                    continue  // cs has no 2017 test sets
                }
                let c = try l.parallel(sp, tp, p)
                out.append((f == "val" ? "valid" : f, c))
                if f == "test_2016_flickr" { out.append(("test", c)) }
            }
            // canonical order: train, valid, test, then the named test sets
            let order = ["train", "valid", "test"] + multi30kSplits.filter { $0.hasPrefix("test_") }
            out.sort { order.firstIndex(of: $0.0)! < order.firstIndex(of: $1.0)! }
            return l.make(out)
        })
}
