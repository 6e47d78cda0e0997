import DeepNetData
import Foundation
import XCTest

/// Every entry of bleu_vectors.json (sacreBLEU 2.6.0) is checked here.
final class BLEUVectorTests: XCTestCase {
    /// Parses `BLEU(smooth_method='floor', smooth_value=0.01).corpus_score` into options.
    func options(fromAPI api: String) throws -> BLEUOptions {
        var o = BLEUOptions()
        guard let open = api.firstIndex(of: "("), let close = api.firstIndex(of: ")") else { return o }
        let args = api[api.index(after: open)..<close]
        for part in args.split(separator: ",") {
            let kv = part.split(separator: "=").map { $0.trimmingCharacters(in: .whitespaces) }
            guard kv.count == 2 else { continue }
            let v = kv[1].trimmingCharacters(in: CharacterSet(charactersIn: "'\""))
            switch kv[0] {
            case "smooth_method": o.smoothing = try BLEUSmoothing(name: v)
            case "smooth_value": o.smoothValue = Double(v)
            case "effective_order": o.effectiveOrder = v == "True"
            case "tokenize": o.tokenizer = try BLEUTokenizerKind(name: v)
            case "lowercase": o.lowercase = v == "True"
            default: XCTFail("unhandled API argument \(kv[0]) in \(api)")
            }
        }
        return o
    }

    func f6(_ x: Double) -> String { PythonText.formatFixed(x, 6) }

    func testCorpusVectors() throws {
        let fx = try TestData.bleuVectors()
        XCTAssertEqual(fx["sacrebleu_version"] as? String, SacreBLEU.version)
        let vectors = fx["vectors"] as! [[String: Any]]
        XCTAssertEqual(vectors.count, 27)
        var checked = 0
        for v in vectors {
            let name = v["name"] as! String
            let api = v["api"] as! String
            let hyps = v["hypotheses"] as? [String] ?? []
            if name == "corpus_3_sentences_sentence_bleu_each" {
                let refsV = vectors.first { $0["name"] as? String == "corpus_3_sentences" }!
                let h = refsV["hypotheses"] as! [String]
                let r = (refsV["references"] as! [[String]])[0]
                let bleu = SacreBLEU(.sentence)
                let scores = zip(h, r).map { bleu.sentenceScore(hypothesis: $0, references: [$1]).score }
                let expected = (v["scores"] as! [Any]).map { num($0) }
                XCTAssertEqual(scores.map(f6), expected.map(f6), name)
                XCTAssertEqual(f6(scores.reduce(0, +) / Double(scores.count)), f6(num(v["mean"])), name)
                checked += 1
                continue
            }
            let refs = v["references"] as! [[String]]
            let bleu = SacreBLEU(try options(fromAPI: api))
            let r = try bleu.corpusStatistics(hypotheses: hyps, references: refs.map { $0.map { Optional($0) } })
            let s = r.score
            XCTAssertEqual(f6(s.score), f6(num(v["score"])), "\(name) score")
            XCTAssertLessThanOrEqual(abs(s.score - num(v["score"])), 1e-6, name)
            XCTAssertEqual(PythonText.formatFixed(s.score, 2), PythonText.formatFixed(num(v["score_2dp"]), 2), "\(name) 2dp")
            XCTAssertEqual(s.counts, (v["counts"] as! [Any]).map { num($0) }, "\(name) counts")
            XCTAssertEqual(s.totals, (v["totals"] as! [Any]).map { num($0) }, "\(name) totals")
            XCTAssertEqual(s.precisions.map(f6), (v["precisions"] as! [Any]).map { f6(num($0)) }, "\(name) precisions")
            XCTAssertEqual(f6(s.bp), f6(num(v["bp"])), "\(name) bp")
            XCTAssertEqual(s.sysLen, v["sys_len"] as? Int, "\(name) sys_len")
            XCTAssertEqual(s.refLen, v["ref_len"] as? Int, "\(name) ref_len")
            let sig = bleu.signature(nrefs: r.nrefs)
            XCTAssertEqual(sig, v["signature"] as? String, "\(name) signature")
            XCTAssertEqual(s.formatted(width: 2, signature: sig), v["formatted"] as? String, "\(name) formatted")
            if let ind = v["independent_reimpl_score"] { XCTAssertLessThanOrEqual(abs(s.score - num(ind)), 1e-6, name) }
            checked += 1
        }
        XCTAssertEqual(checked, 27)
    }

    func testTokenizerVectors() throws {
        let tv = try TestData.bleuVectors()["tokenizer_vectors"] as! [[String: Any]]
        XCTAssertEqual(tv.count, 25)
        for v in tv {
            let input = v["input"] as! String
            // The input code points listed in the fixture must be present (guards against lossy decoding).
            let listed = (v["input_codepoints"] as! [String]).map { UInt32($0.dropFirst(2), radix: 16)! }
            let outside = input.unicodeScalars.map(\.value).filter { $0 < 32 || $0 > 126 }
            XCTAssertEqual(Array(NSOrderedSet(array: outside)) as! [UInt32], Array(NSOrderedSet(array: listed)) as! [UInt32])
            XCTAssertEqual(BLEUTokenizerKind.tok13a.tokenize(input), v["13a"] as? String, "13a: \(input)")
            XCTAssertEqual(BLEUTokenizerKind.intl.tokenize(input), v["intl"] as? String, "intl: \(input)")
            // sacreBLEU tokenizes the right-stripped segment; the none tokenizer is the identity.
            XCTAssertEqual(BLEUTokenizerKind.none.tokenize(input), input)
        }
    }

    func testSentenceBLEUVectors() throws {
        let sv = try TestData.bleuVectors()["sentence_bleu_vectors"] as! [[String: Any]]
        XCTAssertEqual(sv.count, 6)
        let bleu = SacreBLEU(.sentence)
        for v in sv {
            let hyp = v["hyp"] as! String
            let refs = v["refs"] as! [String]
            let s = bleu.sentenceScore(hypothesis: hyp, references: refs)
            XCTAssertEqual(f6(s.score), f6(num(v["score"])), hyp)
            XCTAssertEqual(s.precisions.map(f6), (v["precisions"] as! [Any]).map { f6(num($0)) }, hyp)
            XCTAssertEqual(f6(s.bp), f6(num(v["bp"])), hyp)
            XCTAssertEqual(s.sysLen, v["sys_len"] as? Int)
            XCTAssertEqual(s.refLen, v["ref_len"] as? Int)
        }
        XCTAssertEqual(bleu.signature(nrefs: 1), "nrefs:1|case:mixed|eff:yes|tok:13a|smooth:exp|version:2.6.0")
    }

    func testV1NoMatchCase() throws {
        let v = try TestData.bleuVectors()["v1_4_14_no_match"] as! [String: Any]
        let s = SacreBLEU.computeBLEU(correct: (v["counts"] as! [Any]).map { num($0) }, total: (v["totals"] as! [Any]).map { num($0) },
                                      sysLen: 4, refLen: 7, smoothing: .exp, smoothValue: nil, effectiveOrder: false)
        XCTAssertEqual(s.score, num(v["sacrebleu_2x_score"]))
    }

    func testFairseqEquivalence() throws {
        let v = try TestData.bleuVectors()["fairseq_builtin_vs_sacrebleu_none"] as! [String: Any]
        let hyp = (v["hyp_tokens"] as! [[String]]).map { $0.joined(separator: " ") }
        let ref = (v["ref_tokens"] as! [[String]]).map { $0.joined(separator: " ") }
        let fs = try FairseqBLEU.scoreLines(hypotheses: hyp, references: ref)
        XCTAssertEqual(fs.score(), num(v["fairseq_libbleu_mirror_score"]), accuracy: 1e-9)
        XCTAssertEqual(fs.precisions, (v["fairseq_precisions"] as! [Any]).map { num($0) })
        XCTAssertEqual(fs.brevity, num(v["fairseq_bp"]))
        let sb = try SacreBLEU(.tokenizedNoSmoothing).corpusScore(hypotheses: hyp, references: [ref])
        XCTAssertEqual(sb.score, num(v["sacrebleu_tok_none_smooth_none"]), accuracy: 1e-9)
        XCTAssertEqual(fs.resultString(), "BLEU4 = 36.21, 78.6/58.3/30.0/12.5 (BP=1.000, ratio=1.000, syslen=14, reflen=14)")
    }

    func testSignatureMapping() throws {
        let m = try TestData.bleuVectors()["signature_mapping"] as! [String: Any]
        let b = SacreBLEU()
        XCTAssertEqual(b.signature(nrefs: 1), m["v2_long"] as? String)
        XCTAssertEqual(b.signature(nrefs: 1), m["v2_equivalent"] as? String)
        XCTAssertEqual(b.signature(nrefs: 1, short: true), m["v2_short"] as? String)
    }

    /// `real_data`: the hypothesis is multi30k's tokenized file, which is not part of the shared data;
    /// `scripts/download_data.sh` fetches it. The test runs when the file is present.
    func testRealDataVector() throws {
        let v = try TestData.bleuVectors()["real_data"] as! [String: Any]
        let dir = try TestData.requireDataDir()
        let hyp = dir + "/multi30k-tok/test_2016_flickr.lc.norm.tok.en"
        guard FileManager.default.fileExists(atPath: hyp) else {
            throw XCTSkip("real_data vector needs \(hyp) (run scripts/download_data.sh); not in the shared data")
        }
        let (h, r) = try BLEUFiles.read(hypothesis: hyp, references: [dir + "/multi30k/test_2016_flickr.en.gz"])
        let mixed = try SacreBLEU().corpusScore(hypotheses: h, references: r)
        XCTAssertEqual(PythonText.formatFixed(mixed.score, 4), PythonText.formatFixed(num(v["bleu_case_mixed"]), 4))
        let lc = try SacreBLEU(BLEUOptions(lowercase: true)).corpusScore(hypotheses: h, references: r)
        XCTAssertEqual(PythonText.formatFixed(lc.score, 4), PythonText.formatFixed(num(v["bleu_lc"]), 4))
        XCTAssertEqual(SacreBLEU(BLEUOptions(lowercase: true)).signature(nrefs: 1), v["sig_lc"] as? String)
        XCTAssertEqual(SacreBLEU().signature(nrefs: 1), v["sig_mixed"] as? String)
    }

    func testFixtureChecksum() throws {
        let p = try TestData.bleuVectorsPath()
        XCTAssertEqual(SHA256.hex(of: try TextIO.readRawBytes(p)),
                       "1ac9371f5b5f6d0a510805b6a3392d12accdbd10a25fec187b9fb5734d085653")
    }
}
