import DeepNetData
import Foundation
import XCTest

/// BLEU behaviour beyond the fixture: file handling, errors, signatures, output formats, Python text
/// semantics (values cross-checked by hand against sacreBLEU 2.6.0 under Python 3.11).
final class BLEUBehaviourTests: XCTestCase {
    func write(_ dir: String, _ name: String, _ text: String) -> String {
        let p = dir + "/" + name
        _ = FileManager.default.createFile(atPath: p, contents: Data(text.utf8))
        return p
    }

    func testFileErrors() throws {
        let d = TestData.tempDir()
        defer { try? FileManager.default.removeItem(atPath: d) }
        let h = write(d, "h.txt", "a b c\nd e f\n")
        let r = write(d, "r.txt", "a b c\nd e f\n")
        let short = write(d, "short.txt", "a b c\n")
        let empty = write(d, "empty.txt", "")
        XCTAssertThrowsError(try BLEUFiles.read(hypothesis: d + "/missing.txt", references: [r])) { e in
            XCTAssertEqual(e as? DataError, .fileNotFound(path: d + "/missing.txt"))
        }
        XCTAssertThrowsError(try BLEUFiles.read(hypothesis: empty, references: [r])) { e in
            XCTAssertEqual(e as? DataError, .emptyInput(path: empty))
            XCTAssertTrue("\(e)".contains("contains no lines"))
        }
        XCTAssertThrowsError(try BLEUFiles.read(hypothesis: h, references: [r, short])) { e in
            XCTAssertEqual(e as? DataError, .lineCountMismatch(sourcePath: h, sourceLines: 2, targetPath: short, targetLines: 1))
            XCTAssertEqual("\(e)", "line counts differ: \(h) has 2 lines but \(short) has 1 lines")
        }
        let bad = d + "/bad.txt"
        _ = FileManager.default.createFile(atPath: bad, contents: Data([0x61, 0x0A, 0x62, 0xC3, 0x28, 0x0A]))
        XCTAssertThrowsError(try BLEUFiles.read(hypothesis: bad, references: [r])) { e in
            XCTAssertEqual(e as? DataError, .invalidUTF8(path: bad, line: 2, byteOffset: 3))
            XCTAssertTrue("\(e)".contains("line 2"))
        }
        XCTAssertThrowsError(try BLEUTokenizerKind(name: "zz")) { e in
            XCTAssertEqual("\(e)", "unknown BLEU tokenizer 'zz'; valid tokenizers: 13a, intl, char, none")
        }
        XCTAssertThrowsError(try BLEUSmoothing(name: "zz"))
        let (hyps, refs) = try BLEUFiles.read(hypothesis: h, references: [r, r])
        XCTAssertEqual(hyps, ["a b c", "d e f"])
        XCTAssertEqual(refs.count, 2)
    }

    func testLineReadingLikePython() throws {
        // LF-only splitting; CR stays in the line but is right-stripped; no extra line for the final LF;
        // a last line without LF counts.
        XCTAssertEqual(try TextIO.decodeLines(Array("a\r\nb\rc\n\nd".utf8), name: "x"), ["a\r", "b\rc", "", "d"])
        XCTAssertEqual(try TextIO.decodeLines(Array("a\n".utf8), name: "x"), ["a"])
        XCTAssertEqual(try TextIO.decodeLines([], name: "x"), [])
        let d = TestData.tempDir()
        defer { try? FileManager.default.removeItem(atPath: d) }
        let h = write(d, "h", "The cat sat on the mat. \r\n")
        let r = write(d, "r", "The cat is on the mat.\n")
        let (hy, re) = try BLEUFiles.read(hypothesis: h, references: [r])
        XCTAssertEqual(hy, ["The cat sat on the mat."])
        let s = try SacreBLEU().corpusScore(hypotheses: hy, references: re)
        XCTAssertEqual(PythonText.formatFixed(s.score, 6), "48.892302")
    }

    func testSignaturesAndFormats() throws {
        XCTAssertEqual(SacreBLEU(BLEUOptions(smoothing: .floor)).signature(nrefs: 1), "nrefs:1|case:mixed|eff:no|tok:13a|smooth:floor[0.10]|version:2.6.0")
        XCTAssertEqual(SacreBLEU(BLEUOptions(smoothing: .addK, smoothValue: 2)).signature(nrefs: 3, short: true), "#:3|c:mixed|e:no|tok:13a|s:add-k[2.00]|v:2.6.0")
        XCTAssertEqual(SacreBLEU(BLEUOptions(tokenizer: .intl, lowercase: true, effectiveOrder: true)).signature(nrefs: .variable),
                       "nrefs:var|case:lc|eff:yes|tok:intl|smooth:exp|version:2.6.0")
        // Variable number of references (nil = missing reference for that segment).
        let b = SacreBLEU()
        let r = try b.corpusStatistics(hypotheses: ["a b c d", "e f g h"], references: [["a b c d", "e f g h"], ["a b c d", nil]])
        XCTAssertEqual(r.nrefs, .variable)
        XCTAssertEqual(r.score.score, 100, accuracy: 1e-9)  // sacreBLEU: 100.00000000000004
        // Text and JSON output (sacreBLEU CLI `-f text` / default json, width 1).
        let s = try b.corpusScore(hypotheses: ["The cat sat on the mat."], references: [["The cat is on the mat."]])
        let sig = b.signature(nrefs: 1)
        XCTAssertEqual(s.formatted(width: 1, signature: sig),
                       "BLEU|nrefs:1|case:mixed|eff:no|tok:13a|smooth:exp|version:2.6.0 = 48.9 85.7/66.7/40.0/25.0 (BP = 1.000 ratio = 1.000 hyp_len = 7 ref_len = 7)")
        XCTAssertEqual(s.formatted(width: 2, signature: sig, scoreOnly: true), "48.89")
        XCTAssertEqual(s.json(width: 1, signature: sig), """
        {
         "name": "BLEU",
         "score": 48.9,
         "signature": "nrefs:1|case:mixed|eff:no|tok:13a|smooth:exp|version:2.6.0",
         "verbose_score": "85.7/66.7/40.0/25.0 (BP = 1.000 ratio = 1.000 hyp_len = 7 ref_len = 7)",
         "nrefs": "1",
         "case": "mixed",
         "eff": "no",
         "tok": "13a",
         "smooth": "exp",
         "version": "2.6.0"
        }
        """)
    }

    func testPythonTextSemantics() {
        // str.lower() with the final-sigma rule, full mappings (İ → i̇), Unicode-14 tables.
        XCTAssertEqual(PythonText.string(PythonText.lower(PythonText.scalars("ΟΔΟΣ ΣΑ Σ İ"))), "οδος σα σ i\u{307}")
        // U+A7CB was added after Unicode 14: CPython 3.11 leaves it alone.
        XCTAssertEqual(PythonText.lower([0xA7CB]), [0xA7CB])
        // str.split(): U+001C and U+0085 are whitespace, U+200B is not.
        XCTAssertEqual(PythonText.split(PythonText.scalars("a\u{1C}b\u{85}c\u{200B}d")).map { PythonText.string($0) }, ["a", "b", "c\u{200B}d"])
        // Canonically equivalent but different code points are different tokens (as in Python).
        let s = SacreBLEU(BLEUOptions(tokenizer: .none)).sentenceScore(hypothesis: "caf\u{E9}", references: ["cafe\u{301}"])
        XCTAssertEqual(s.counts[0], 0)
        // char tokenizer works on code points.
        XCTAssertEqual(BLEUTokenizerKind.char.tokenize("e\u{301}x"), "e \u{301} x")
    }

    func testTokenizedAndFairseqBLEU() throws {
        // fairseq: zero matches at an order → 0 (log 0 = -inf); unk in the reference never matches.
        var f = FairseqBLEU()
        f.add(reference: [5, 6, 7, 2], prediction: [5, 6, 8, 2])
        XCTAssertEqual(f.score(), 0)
        XCTAssertEqual(f.precisions[0], 2.0 / 3.0, accuracy: 1e-12)
        var g = FairseqBLEU()
        g.add(reference: [3, 6, 2], prediction: [3, 6, 2])
        XCTAssertEqual(g.match[0], 1)  // the unk does not match
        // Left pads and right pad/eos are trimmed; position 0 is never trimmed.
        var h = FairseqBLEU()
        h.add(reference: [1, 1, 5, 2, 1], prediction: [2])
        XCTAssertEqual(h.refLen, 1)
        XCTAssertEqual(h.predLen, 1)
    }

    func testCorpusIsNotMeanOfSentences() throws {
        let hyps = ["The cat sat on the mat.", "A dog barked loudly at night.", "It is raining."]
        let refs = ["The cat is on the mat.", "The dog barked loudly all night.", "It rains."]
        let c = try SacreBLEU().corpusScore(hypotheses: hyps, references: [refs])
        XCTAssertEqual(PythonText.formatFixed(c.score, 6), "31.105972")
        let stats = SacreBLEU().segmentStatistics(hypotheses: hyps, references: [refs])
        var sum = BLEUStats()
        for s in stats { sum += s }
        XCTAssertEqual(SacreBLEU().compute(sum).score, c.score)
    }
}
