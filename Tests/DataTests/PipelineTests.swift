import DeepNetData
import Foundation
import XCTest

final class PipelineTests: XCTestCase {
    func testPrepareSyntheticAndCache() throws {
        var o = DataSetOptions(seed: 3)
        o.syntheticTrainSize = 2000; o.syntheticValidSize = 100; o.syntheticTestSize = 100
        let ds = try DataSetRegistry.load(.synthetic, options: o)
        let cache = TestData.tempDir()
        defer { try? FileManager.default.removeItem(atPath: cache) }
        let opts = PreprocessOptions(bpeMerges: 300)
        let p1 = try PreparedData.prepare(ds, options: opts, cacheDirectory: cache)
        XCTAssertFalse(p1.loadedFromCache)
        XCTAssertNotNil(p1.cachePath)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: cache).filter { $0.hasSuffix(".tmp") }, [])
        let p2 = try PreparedData.prepare(ds, options: opts, cacheDirectory: cache)
        XCTAssertTrue(p2.loadedFromCache)
        XCTAssertEqual(p1.cacheKey, p2.cacheKey)
        XCTAssertEqual(p1.sourceVocabulary, p2.sourceVocabulary)
        XCTAssertEqual(p1.sourceBPE, p2.sourceBPE)
        for s in ds.splitNames { XCTAssertEqual(p1.splits[s], p2.splits[s]) }
        // Different settings → different key; corrupt cache → rebuilt.
        let p3 = try PreparedData.prepare(ds, options: PreprocessOptions(bpeMerges: 200), cacheDirectory: cache)
        XCTAssertNotEqual(p3.cacheKey, p1.cacheKey)
        _ = FileManager.default.createFile(atPath: p1.cachePath!, contents: Data("garbage".utf8))
        let p4 = try PreparedData.prepare(ds, options: opts, cacheDirectory: cache)
        XCTAssertFalse(p4.loadedFromCache)
        XCTAssertEqual(p4.splits["train"], p1.splits["train"])
        // Conventions and round trip: ids → raw text is exactly the reference.
        XCTAssertEqual(p1.sourceVocabulary, p1.targetVocabulary)  // joint dictionary
        XCTAssertEqual(p1.sourceVocabulary.symbol(0), "<s>")
        let test = try ds.split("test")
        let enc = try p1.split("test")
        for i in 0..<test.count {
            XCTAssertEqual(p1.detokenize(enc.target[i] + [2, 1, 1]), test.targets[i])
            XCTAssertEqual(p1.encodeSource(test.sources[i]), enc.source[i])
        }
        let hyps = (0..<test.count).map { p1.detokenize(enc.target[$0]) }
        let bleu = try p1.bleu(hypotheses: hyps, split: "test")
        XCTAssertEqual(bleu.score.score, 100, accuracy: 1e-9)
        XCTAssertEqual(bleu.signature, "nrefs:1|case:mixed|eff:no|tok:13a|smooth:exp|version:2.6.0")
        // No-cache mode writes nothing.
        let empty = TestData.tempDir()
        defer { try? FileManager.default.removeItem(atPath: empty) }
        _ = try PreparedData.prepare(ds, options: opts, cacheDirectory: empty, useCache: false)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: empty), [])
    }

    func testSeparateVocabularies() throws {
        var o = DataSetOptions(seed: 4)
        o.syntheticTrainSize = 1000; o.syntheticValidSize = 50; o.syntheticTestSize = 50
        let ds = try DataSetRegistry.load(.synthetic, options: o)
        let p = try PreparedData.prepare(ds, options: PreprocessOptions(bpeMerges: 200, jointBPE: false, jointVocabulary: false), useCache: false)
        XCTAssertNotEqual(p.sourceVocabulary, p.targetVocabulary)
        XCTAssertNotEqual(p.sourceBPE, p.targetBPE)
        let t = try ds.split("valid")
        for i in 0..<t.count { XCTAssertEqual(p.detokenize(p.encodeTarget(t.targets[i])), t.targets[i]) }
    }

    func testRegistryErrors() {
        XCTAssertThrowsError(try DataSetName(parsing: "wmt99")) { e in
            XCTAssertEqual("\(e)", "unknown data set 'wmt99'; valid data sets: synthetic, multi30k, iwslt14-mini, newstest2014, newstest2017, tatoeba, multi30k-many, wmt17-en-de, wmt14-en-de, wmt14-en-fr, iwslt14, opus-100, ccmatrix-102, wikipedia-bookcorpus, cc100-en")
        }
        // A stored configuration with an unknown name does not decode.
        XCTAssertThrowsError(try JSONDecoder().decode([DataSetName].self, from: Data(#"["tatoeba-multi"]"#.utf8)))
        XCTAssertEqual(try JSONDecoder().decode([DataSetName].self, from: Data(#"["tatoeba"]"#.utf8)), [.tatoeba])
        // The paper's corpora are named but cannot be loaded.
        XCTAssertThrowsError(try DataSetRegistry.load(.wmt17EnDe, dataDirectory: "/nonexistent")) { e in
            XCTAssertTrue("\(e)".hasPrefix("data set 'wmt17-en-de' cannot be loaded: WMT-17 English-German"), "\(e)")
        }
        XCTAssertThrowsError(try DataSetRegistry.load(.multi30k, options: DataSetOptions(pair: LanguagePair("de", "fr")), dataDirectory: "/nonexistent")) { e in
            XCTAssertTrue("\(e)".contains("valid pairs: de-en, en-de, fr-en, en-fr, cs-en, en-cs"), "\(e)")
        }
        XCTAssertThrowsError(try DataSetRegistry.load(.multi30k, dataDirectory: "/nonexistent/dir")) { e in
            XCTAssertEqual(e as? DataError, .fileChecksumMismatch(dataSet: "multi30k", path: "/nonexistent/dir/multi30k/train.de.gz",
                                                                  expected: DataSetDefinition.multi30kFiles["multi30k/train.de.gz"]!, actual: nil))
        }
        XCTAssertThrowsError(try LanguagePair(parsing: "deen"))
        XCTAssertEqual(DataSetRegistry.names.count, 15)
    }

    func testParallelReaderAndFilter() throws {
        let d = TestData.tempDir()
        defer { try? FileManager.default.removeItem(atPath: d) }
        _ = FileManager.default.createFile(atPath: d + "/a.src", contents: Data("one two\n\nthree\nfour five six seven eight nine ten\nx\r\n".utf8))
        _ = FileManager.default.createFile(atPath: d + "/a.tgt", contents: Data("eins zwei\nleer\ndrei\nvier\ny\n".utf8))
        _ = FileManager.default.createFile(atPath: d + "/b.tgt", contents: Data("eins\n".utf8))
        XCTAssertThrowsError(try CorpusReader.readParallel(source: d + "/a.src", target: d + "/b.tgt", direction: LanguagePair("x", "y"))) { e in
            XCTAssertEqual("\(e)", "line counts differ: \(d)/a.src has 5 lines but \(d)/b.tgt has 1 lines")
        }
        let c = try CorpusReader.readParallel(source: d + "/a.src", target: d + "/a.tgt", direction: LanguagePair("x", "y"))
        XCTAssertEqual(c.sources.last, "x")  // CRLF tolerated
        let f = CorpusFilter(dropEmpty: true, maxTokens: 6, maxLengthRatio: 3).apply(c)
        XCTAssertEqual(f.sources, ["one two", "three", "x"])
        XCTAssertEqual(f.filterReport.droppedEmpty, 1)
        XCTAssertEqual(f.filterReport.droppedTooLong, 1)
        XCTAssertEqual(f.filterReport.droppedRatio, 0)
        let r = CorpusFilter(dropEmpty: true, maxTokens: nil, maxLengthRatio: 3).apply(c)
        XCTAssertEqual(r.filterReport.droppedRatio, 1)
        XCTAssertEqual(r.filterReport.description, "kept 3/5 (dropped: 1 empty, 0 too long, 1 length ratio)")
        _ = FileManager.default.createFile(atPath: d + "/bad.tgt", contents: Data([0x61, 0x0A, 0x62, 0x0A, 0xFF, 0x0A, 0x0A, 0x0A]))
        XCTAssertThrowsError(try CorpusReader.readParallel(source: d + "/a.src", target: d + "/bad.tgt", direction: LanguagePair("x", "y"))) { e in
            XCTAssertEqual("\(e)", "invalid UTF-8 in \(d)/bad.tgt at line 3 (byte offset 4)")
        }
    }
}
