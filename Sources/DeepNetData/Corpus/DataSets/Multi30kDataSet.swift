// `multi30k`: Multi30k task 1 (Elliott et al. 2016), raw text; valid = val, test = test_2016_flickr, plus the
// other official test sets under their own names.

extension DataSetName {
    public static let multi30k = DataSetName(rawValue: "multi30k")
}

extension DataSetDefinition {
    /// SHA-256 of every file (`sha256sum multi30k/*` in the data folder; multi30k/dataset @ a3d2e0d2).
    public static let multi30kFiles: [String: String] = [
        "multi30k/test_2016_flickr.cs.gz": "200a4a74cc9560f051924abb9803be008d1908d77f747e9141aeb86dfd2797f1",
        "multi30k/test_2016_flickr.de.gz": "9204244e408ccb38d2a55cfcd344df15005fc42a07a6e55ca6c52b6ababb8cc8",
        "multi30k/test_2016_flickr.en.gz": "611d361c6334bc7246101d48097c13cf5c4413c5befc793cc629934359d532d9",
        "multi30k/test_2016_flickr.fr.gz": "6d326e188d259fb1d04ac19eae3af956559b3a0b93d7635e56c90987c40c8b90",
        "multi30k/test_2017_flickr.de.gz": "a2c89666db00c495cd8513b9d708d5a3acc205d7de312ef2bf5fb7ebc1540aee",
        "multi30k/test_2017_flickr.en.gz": "76a444ee25172e72695cddb13ae4a3bda59430617be88e0bb46b60504f054074",
        "multi30k/test_2017_flickr.fr.gz": "3ba671ceb2299f3304ffafefea7a833d08632fbaf0ba18546f8a2ec2391af496",
        "multi30k/test_2017_mscoco.de.gz": "799e4854c25d601cb6cb6be29eabe5667734c61ace2f495e03e429031a0bc338",
        "multi30k/test_2017_mscoco.en.gz": "aab300bfb4427697987e02cd0aacd44bfe8aa50456231b6474c08038bbed2b58",
        "multi30k/test_2017_mscoco.fr.gz": "754f3072ba9f124569ba5258b32730fc1d214bbf8e0c6dfb2b74401676220db0",
        "multi30k/test_2018_flickr.cs.gz": "7d0a9db904f94c554a8c58049a9f3a5357c27f46cc3d710d70cb0b4a2585b8c2",
        "multi30k/test_2018_flickr.de.gz": "ddd0130c7d97482dc5197a02141dae8dd79f20f03586c480d675c09a32daf608",
        "multi30k/test_2018_flickr.en.gz": "ef4f4844037d4c5dea75c9a8ed5fd78905967a26f67c255e230cc9780032654d",
        "multi30k/test_2018_flickr.fr.gz": "fb2b83fcceb937a4f7e3e93c1c51c22aba92f1e342391e6b5ba392b16a920501",
        "multi30k/train.cs.gz": "a65adb8b32e3bc664f21ecba7a6e7f6950fd1f405e135f7c312faabdb6255077",
        "multi30k/train.de.gz": "726e39b2fa9eb9ffb6dc763fb35a179f80fae06ffc5d28b6ace5faa883de28a6",
        "multi30k/train.en.gz": "d79cfa999dd4c51d2cb42499b6796d5a882c3a8a961923c25a898c90f8bbd56f",
        "multi30k/train.fr.gz": "622e75069e9f4c577425c4f277116ce66e63a2401c0a2312d90073cb12379a3c",
        "multi30k/val.cs.gz": "b63226e05c4bd5dd6a42897d74b86a1b9d2c31498252c572b1ea7f7996927fcc",
        "multi30k/val.de.gz": "f0cba2f995189cf5770f29a8a9a537a3ad3f51657ad873405082ff6863a5e75a",
        "multi30k/val.en.gz": "14f7d25ddd868909a9213e361768460edcacdd6ab9d1e77b92560dc10c10dc28",
        "multi30k/val.fr.gz": "ca3106f1a72390591d25f6c45cb4cd39dec4cd3f123e099748a3ce5256c160e9",
    ]

    static let multi30kSplits = ["train", "val", "test_2016_flickr", "test_2017_flickr", "test_2017_mscoco", "test_2018_flickr"]

    public static let multi30k = DataSetDefinition(
        spec: DataSetSpec(name: .multi30k, summary: "Multi30k task 1 raw text (train 29k, val 1,014, tests 2016-2018); de/fr/cs↔en",
                          pairs: DataSetSpec.bothWays([("de", "en"), ("fr", "en"), ("cs", "en")]), defaultPair: LanguagePair("de", "en")),
        files: multi30kFiles,
        load: { l in
            let p = l.pair
            var out: [(String, ParallelCorpus)] = []
            for f in multi30kSplits {
                let sp = "multi30k/\(f).\(p.source).gz", tp = "multi30k/\(f).\(p.target).gz"
                if f.hasPrefix("test_") && f != "test_2016_flickr" && !(l.declares(sp) && l.declares(tp)) { continue }  // cs has no 2017 test sets
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
