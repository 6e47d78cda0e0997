import DeepNetData
import Foundation
import XCTest

/// Real corpora (need DEEPNET_DATA; skipped otherwise).
final class CorpusTests: XCTestCase {
    /// A UTF-8 byte-order mark at the start of a corpus file (Windows editors add one) is not part of the first
    /// sentence; one elsewhere is content and stays. Plain and gzip files alike.
    func testByteOrderMarkAtStartOfCorpusFileIsStripped() throws {
        let d = TestData.tempDir()
        defer { try? FileManager.default.removeItem(atPath: d) }
        let bom: [UInt8] = [0xEF, 0xBB, 0xBF]
        FileManager.default.createFile(atPath: d + "/a.de", contents: Data(bom + Array("Ein Hund.\r\n\u{FEFF}Zwei\r\n".utf8)))
        FileManager.default.createFile(atPath: d + "/a.en", contents: Data("A dog.\nTwo\n".utf8))
        let c = try CorpusReader.readParallel(source: d + "/a.de", target: d + "/a.en", direction: LanguagePair("de", "en"))
        XCTAssertEqual(c.sources, ["Ein Hund.", "\u{FEFF}Zwei"])
        XCTAssertEqual(c.sources[0].unicodeScalars.first, "E")
        XCTAssertEqual(c.targets, ["A dog.", "Two"])
        let gz = Process()
        gz.executableURL = URL(fileURLWithPath: "/bin/sh")
        gz.arguments = ["-c", "gzip -c \"$0\" > \"$0.gz\"", d + "/a.de"]
        try gz.run()
        gz.waitUntilExit()
        XCTAssertEqual(try CorpusReader.readSide(d + "/a.de.gz"), ["Ein Hund.", "\u{FEFF}Zwei"])
        // A file that is only a BOM is one empty line, as a file holding just a newline would be.
        FileManager.default.createFile(atPath: d + "/bom", contents: Data(bom))
        XCTAssertEqual(try CorpusReader.readSide(d + "/bom"), [""])
    }

    func testMulti30k() throws {
        let dir = try TestData.requireDataDir()
        let ds = try DataSetRegistry.load(.multi30k, dataDirectory: dir)
        XCTAssertEqual(ds.splitNames, ["train", "valid", "test", "test_2016_flickr", "test_2017_flickr", "test_2017_mscoco", "test_2018_flickr"])
        XCTAssertEqual(try ds.split("train").count + ds.splits["train"]!.filterReport.dropped, 29000)
        XCTAssertEqual(try ds.split("valid").count, 1014)
        XCTAssertEqual(try ds.split("test").count, 1000)
        XCTAssertEqual(try ds.split("test_2017_mscoco").count, 461)
        XCTAssertEqual(try ds.split("test_2018_flickr").count, 1071)
        XCTAssertEqual(try ds.split("train").sources[0], "Zwei junge weiße Männer sind im Freien in der Nähe vieler Büsche.")
        XCTAssertEqual(try ds.split("train").targets[0], "Two young, White males are outside near many bushes.")
        // Fingerprints cover the stored file bytes (README checksums).
        let f = Dictionary(uniqueKeysWithValues: ds.files.map { (($0.path as NSString).lastPathComponent, $0.sha256) })
        XCTAssertEqual(f["train.en.gz"], "d79cfa999dd4c51d2cb42499b6796d5a882c3a8a961923c25a898c90f8bbd56f")
        XCTAssertEqual(f["val.de.gz"], "f0cba2f995189cf5770f29a8a9a537a3ad3f51657ad873405082ff6863a5e75a")
        let again = try DataSetRegistry.load(.multi30k, dataDirectory: dir)
        XCTAssertEqual(again.fingerprint, ds.fingerprint)
        let en = try DataSetRegistry.load(.multi30k, options: DataSetOptions(pair: LanguagePair("en", "de")), dataDirectory: dir)
        XCTAssertNotEqual(en.fingerprint, ds.fingerprint)
        XCTAssertEqual(try en.split("test").sources, try ds.split("test").targets)
        // Czech has no 2017 test sets.
        let cs = try DataSetRegistry.load(.multi30k, options: DataSetOptions(pair: LanguagePair("cs", "en")), dataDirectory: dir)
        XCTAssertEqual(cs.splitNames, ["train", "valid", "test", "test_2016_flickr", "test_2018_flickr"])
        XCTAssertThrowsError(try cs.split("test_2017_flickr")) { e in XCTAssertTrue("\(e)".contains("valid splits: train, valid, test")) }
    }

    /// A copy of the real iwslt14 folder with one byte changed in one file: the load fails naming that file and
    /// both hashes; the untouched copy loads (every file verified against its declared hash).
    func testModifiedCopyOfARealFileIsRefused() throws {
        let dir = try TestData.requireDataDir()
        let copy = TestData.tempDir()
        defer { try? FileManager.default.removeItem(atPath: copy) }
        try FileManager.default.createDirectory(atPath: copy + "/iwslt14", withIntermediateDirectories: true)
        for f in DataSetDefinition.iwslt14MiniFiles.keys { try FileManager.default.copyItem(atPath: dir + "/" + f, toPath: copy + "/" + f) }
        XCTAssertEqual(try DataSetRegistry.load(.iwslt14Mini, dataDirectory: copy).files.count, 6)
        var bytes = try Data(contentsOf: URL(fileURLWithPath: copy + "/iwslt14/valid.en"))
        bytes[10] ^= 0x01
        try bytes.write(to: URL(fileURLWithPath: copy + "/iwslt14/valid.en"))
        XCTAssertThrowsError(try DataSetRegistry.load(.iwslt14Mini, dataDirectory: copy)) { e in
            XCTAssertEqual(e as? DataError, .fileChecksumMismatch(dataSet: "iwslt14-mini", path: copy + "/iwslt14/valid.en",
                                                                  expected: DataSetDefinition.iwslt14MiniFiles["iwslt14/valid.en"]!,
                                                                  actual: SHA256.hex(of: bytes)))
            XCTAssertTrue("\(e)".contains("iwslt14/valid.en") && "\(e)".contains("expected SHA-256 e6d7317a"), "\(e)")
        }
    }

    /// multi30k-many: six directions, multi-way parallel, a target-language tag on every source after preparation.
    func testMulti30kMany() throws {
        let dir = try TestData.requireDataDir()
        let ds = try DataSetRegistry.load(.multi30kMany, dataDirectory: dir)
        XCTAssertEqual(ds.directions.count, 6)
        XCTAssertEqual(Set(ds.directions), Set(DataSetSpec.bothWays([("de", "en"), ("fr", "en"), ("cs", "en")])))
        XCTAssertEqual(ds.languageTags, ["__cs__", "__de__", "__en__", "__fr__"])
        XCTAssertEqual(ds.files.count, 12)
        let train = try ds.split("train"), valid = try ds.split("valid"), test = try ds.split("test")
        XCTAssertEqual(train.count + train.filterReport.dropped, 6 * 29_000)
        XCTAssertEqual(valid.count, 6 * 1014)
        XCTAssertEqual(test.count, 6 * 1000)
        let deEn = test.subset(direction: LanguagePair("de", "en")), enDe = test.subset(direction: LanguagePair("en", "de"))
        let frEn = test.subset(direction: LanguagePair("fr", "en")), enCs = test.subset(direction: LanguagePair("en", "cs"))
        XCTAssertEqual(deEn.count, 1000); XCTAssertEqual(enCs.count, 1000)
        XCTAssertEqual(deEn.sources, enDe.targets)
        XCTAssertEqual(deEn.targets, frEn.targets)          // multi-way parallel: the same English captions
        XCTAssertEqual(enCs.sources, deEn.targets)
        // The same test set as multi30k's own test_2016_flickr.
        XCTAssertEqual(try DataSetRegistry.load(.multi30k, options: DataSetOptions(pair: LanguagePair("fr", "en")), dataDirectory: dir)
            .split("test").sources, frEn.sources)
        // One direction on request; the tag of its target language on every prepared source.
        var o = DataSetOptions(pair: LanguagePair("en", "cs"))
        o.maxTrainExamples = 2000
        let one = try DataSetRegistry.load(.multi30kMany, options: o, dataDirectory: dir)
        XCTAssertEqual(one.directions, [LanguagePair("en", "cs")])
        let p = try PreparedData.prepare(one, options: PreprocessOptions(bpeMerges: 300), useCache: false)
        let tag = try XCTUnwrap(p.sourceVocabulary.languageTagIndex("cs"))
        XCTAssertTrue(try p.split("test").source.allSatisfy { $0.first == tag })
        XCTAssertTrue(try p.split("train").source.allSatisfy { $0.first == tag })
        XCTAssertNotNil(p.sourceVocabulary.languageTagIndex("de"))   // every language's tag is in the joint vocabulary
        XCTAssertEqual(p.sourceVocabulary.count, p.targetVocabulary.count)   // joint
    }

    func testIWSLTMini() throws {
        let dir = try TestData.requireDataDir()
        let ds = try DataSetRegistry.load(.iwslt14Mini, dataDirectory: dir)
        let train = try ds.split("train"), valid = try ds.split("valid"), test = try ds.split("test")
        XCTAssertEqual(test.count, 6750)
        // 500 held-out sentence groups (DataSetDefinition.iwsltHeldOut; a group may hold several pairs)
        XCTAssertGreaterThanOrEqual(valid.count, 500)
        XCTAssertLessThan(valid.count, 600)
        XCTAssertGreaterThan(train.count, 10_000)
        XCTAssertLessThan(train.count + valid.count, 4600 + 7283)
        // no sentence on both sides of the train/valid boundary; no test pair in train; no escapes left
        let trainDe = Set(train.sources), trainEn = Set(train.targets)
        XCTAssertTrue(valid.sources.allSatisfy { !trainDe.contains($0) })
        XCTAssertTrue(valid.targets.allSatisfy { !trainEn.contains($0) })
        let testPairs = Set(zip(test.sources, test.targets).map { $0 + "\t" + $1 })
        XCTAssertTrue(zip(train.sources, train.targets).allSatisfy { !testPairs.contains($0 + "\t" + $1) })
        XCTAssertFalse(train.targets.contains { $0.contains("&apos;") || $0.contains("&quot;") || $0.contains("&amp;") })
        XCTAssertTrue(train.targets.contains { $0.contains(" 's ") })
        XCTAssertEqual(ds.spec.scoring, .tokenizedBLEU)
        let other = try DataSetRegistry.load(.iwslt14Mini, options: DataSetOptions(seed: 2), dataDirectory: dir)
        XCTAssertNotEqual(other.fingerprint, ds.fingerprint)
        XCTAssertNotEqual(try other.split("valid").sources, valid.sources)
        XCTAssertEqual(try other.split("test").sources, test.sources)
    }

    func testNewstestIsEvaluationOnly() throws {
        let dir = try TestData.requireDataDir()
        let ds = try DataSetRegistry.load(.newstest2014, dataDirectory: dir)
        XCTAssertEqual(ds.splitNames, ["test"])
        XCTAssertEqual(try ds.split("test").count, 3003)
        XCTAssertEqual(ds.directions, [LanguagePair("en", "de")])
        XCTAssertThrowsError(try ds.split("train"))
        XCTAssertThrowsError(try PreparedData.prepare(ds, useCache: false)) { e in XCTAssertTrue("\(e)".contains("evaluation only")) }
        XCTAssertEqual(try DataSetRegistry.load(.newstest2017, dataDirectory: dir).split("test").count, 3004)
    }

    func testTatoeba() throws {
        let dir = try TestData.requireDataDir()
        let ds = try DataSetRegistry.load(.tatoeba, dataDirectory: dir)
        XCTAssertEqual(ds.languageTags.count, 14)
        XCTAssertTrue(ds.languageTags.contains("__deu__") && ds.languageTags.contains("__eng__"))
        XCTAssertEqual(ds.directions.count, 26)
        let train = try ds.split("train"), valid = try ds.split("valid"), test = try ds.split("test")
        // both directions of every pair; no sentence shared across splits within a direction
        let total = 13824 + 10795 + 17565 + 10690 + 12681 + 13037 + 17320 + 12696 + 10099 + 13222 + 16583 + 10362 + 13907
        XCTAssertEqual(train.count + valid.count + test.count, 2 * total)
        for d in [LanguagePair("deu", "eng"), LanguagePair("eng", "ita")] {
            let tr = train.subset(direction: d), te = test.subset(direction: d), va = valid.subset(direction: d)
            XCTAssertGreaterThan(te.count, 0); XCTAssertGreaterThan(va.count, 0)
            let trS = Set(tr.sources), trT = Set(tr.targets)
            XCTAssertTrue(te.sources.allSatisfy { !trS.contains($0) })
            XCTAssertTrue(te.targets.allSatisfy { !trT.contains($0) })
            XCTAssertTrue(va.sources.allSatisfy { !trS.contains($0) })
            let frac = Double(te.count) / Double(tr.count + te.count + va.count)
            XCTAssert(frac > 0.03 && frac < 0.07, "\(d): test fraction \(frac)")   // 5 % of the groups
        }
        let again = try DataSetRegistry.load(.tatoeba, dataDirectory: dir)
        XCTAssertEqual(again.fingerprint, ds.fingerprint)
        XCTAssertEqual(try again.split("test").sources, test.sources)
        // Tags: the source carries the target-language tag after preprocessing.
        var o = DataSetOptions(pair: LanguagePair("eng", "deu"))
        o.maxTrainExamples = 3000
        let one = try DataSetRegistry.load(.tatoeba, options: o, dataDirectory: dir)
        XCTAssertEqual(one.directions, [LanguagePair("eng", "deu")])
        let p = try PreparedData.prepare(one, options: PreprocessOptions(bpeMerges: 500), useCache: false)
        let tag = p.sourceVocabulary.languageTagIndex("deu")!
        XCTAssertEqual(tag, 4)  // <s> <pad> </s> <unk>, then the tags in code order: __deu__, __eng__
        XCTAssertTrue(try p.split("train").source.allSatisfy { $0.first == tag })
        XCTAssertEqual(p.sourceVocabulary.symbol(4), "__deu__")
    }

    func testPrepareMulti30kAndScore() throws {
        let dir = try TestData.requireDataDir()
        var o = DataSetOptions()
        o.maxTrainExamples = 5000
        let ds = try DataSetRegistry.load(.multi30k, options: o, dataDirectory: dir)
        let p = try PreparedData.prepare(ds, options: PreprocessOptions(bpeMerges: 2000), useCache: false)
        let test = try ds.split("test"), enc = try p.split("test")
        // Round trip of the references through ids (unknown characters aside) gives BLEU close to 100.
        let hyps = enc.target.map { p.detokenize($0) }
        let exact = zip(hyps, test.targets).filter { $0 == $1 }.count
        XCTAssertGreaterThan(exact, 950)
        let b = try p.bleu(hypotheses: hyps, split: "test")
        XCTAssertGreaterThan(b.score.score, 98)
    }
}
