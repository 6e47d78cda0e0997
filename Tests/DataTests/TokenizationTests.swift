import DeepNetData
import Foundation
import XCTest

final class TokenizationTests: XCTestCase {
    func testPreTokenizer() {
        XCTAssertEqual(PreTokenizer.tokenize("Hello, world!"), ["Hello", "\u{FFED},", "world", "\u{FFED}!"])
        XCTAssertEqual(PreTokenizer.tokenize("don't"), ["don", "\u{FFED}'\u{FFED}", "t"])
        XCTAssertEqual(PreTokenizer.tokenize("(1999)"), ["(\u{FFED}", "1999", "\u{FFED})"])
        XCTAssertEqual(PreTokenizer.tokenize("what?!"), ["what", "\u{FFED}?", "\u{FFED}!"])
        XCTAssertEqual(PreTokenizer.tokenize("„Das“ «x»…"), ["„\u{FFED}", "Das", "\u{FFED}“", "«\u{FFED}", "x", "\u{FFED}»", "\u{FFED}…"])
        for s in ["Hello, world!", "  a  b\tc ", "it 's a \"test\" .", "e-mail: a.b@c.de/x?y=1&z=2", "1,000.50 $", "x\u{FFED}y",
                  "Zwei junge weiße Männer sind im Freien in der Nähe vieler Büsche.", "a'\u{301}b", "😀🏻!", "--flag", ""] {
            XCTAssertEqual(PreTokenizer.detokenize(PreTokenizer.tokenize(s)), PreTokenizer.normalize(s), s)
        }
        XCTAssertEqual(PreTokenizer.normalize(" a \u{3000} b "), "a b")
    }

    func testMosesUnescape() {
        XCTAssertEqual(MosesEscapes.unescape("it &apos;s &quot;x&quot; &amp; y &#124; &lt;b&gt; &#91;1&#93; &amp;lt;"),
                       "it 's \"x\" & y | <b> [1] &lt;")
    }

    /// Expected codes and segmentation produced by subword-nmt 0.3.8 (`learn-bpe -s 12`, `apply-bpe`).
    func testBPEMatchesSubwordNMT() throws {
        let lines = ["low low low low low lower lower newest newest newest newest newest newest widest widest widest",
                     "the cat sat on the mat é é \u{301}a \u{301}a"]
        let bpe = BPE.learn(lines: lines, merges: 12)
        XCTAssertEqual(bpe.codesText, """
        #version: 0.2
        s t</w>
        e st</w>
        l o
        w est</w>
        n e
        ne west</w>
        lo w</w>
        w i
        wi d
        wid est</w>
        a t</w>
        \u{301} a</w>

        """)
        XCTAssertEqual(bpe.apply(line: "lowest newer widest low \u{301}a cat"), "lo@@ west ne@@ w@@ e@@ r widest low \u{301}a c@@ at")
        XCTAssertEqual(BPE.remove("lo@@ west ne@@ w@@ e@@ r widest"), "lowest newer widest")
        XCTAssertEqual(BPE.remove("a b@@"), "a b")
        XCTAssertEqual(BPE.remove(tokens: ["lo@@", "west", "ne@@", "w@@", "e@@", "r"]), ["lowest", "newer"])
        // codes round trip through a file; min frequency stop
        let d = TestData.tempDir()
        defer { try? FileManager.default.removeItem(atPath: d) }
        try bpe.save(to: d + "/codes")
        XCTAssertEqual(try BPE.load(path: d + "/codes"), bpe)
        XCTAssertEqual(try BPE.load(path: d + "/codes", maxMerges: 3).merges.count, 3)
        XCTAssertEqual(BPE.learn(lines: ["ab ab cd"], merges: 100).merges.count, 1)  // "cd" occurs once: stop
        XCTAssertThrowsError(try BPE.parse(["#version: 0.2", "a b c"], name: "bad"))
        // version 0.1 codes (separate </w> symbol) are understood
        let v01 = try BPE.parse(["a b", "ab </w>"])
        XCTAssertEqual(v01.segment(word: "ab"), ["ab"])
        XCTAssertEqual(v01.segment(word: "abc"), ["ab", "c"])
    }

    func testVocabularyFairseqConventions() throws {
        let v = Vocabulary.build(counts: ["b": 5, "a": 5, "c": 9, "<unk>": 3, "d": 1], languageTags: ["de", "en"], tagCounts: ["__de__": 2],
                                 paddingFactor: 8)
        XCTAssertEqual(Array(v.symbols.prefix(10)), ["<s>", "<pad>", "</s>", "<unk>", "__de__", "__en__", "c", "a", "b", "d"])
        XCTAssertEqual(v.count % 8, 0)
        XCTAssertEqual(v.symbols.last, "madeupword\(String(format: "%04d", v.count - 11))")
        XCTAssertEqual(v.index(of: "c"), 6)
        XCTAssertEqual(v.index(of: "zzz"), Vocabulary.unkIndex)
        XCTAssertEqual(v.languageTagIndex("en"), 5)
        XCTAssertEqual(v.nspecial, 6)
        XCTAssertEqual(v.decode([6, 4, 7, 3, 2, 8]), ["c", "a", "<unk>"])
        let text = v.dictText()
        XCTAssertTrue(text.hasPrefix("__de__ 2\n__en__ 0\nc 9\na 5\nb 5\nd 1\nmadeupword0000 0\n"))
        let d = TestData.tempDir()
        defer { try? FileManager.default.removeItem(atPath: d) }
        try v.save(to: d + "/dict.txt")
        let w = try Vocabulary.load(path: d + "/dict.txt")
        XCTAssertEqual(w, v)
        XCTAssertEqual(w.languageTags, ["__de__", "__en__"])
        XCTAssertThrowsError(try Vocabulary.parse(["a 1", "a 2"])) // duplicate
        XCTAssertEqual(try Vocabulary.parse(["a 1", "a 2 #fairseq:overwrite"]).count, 6)
        XCTAssertThrowsError(try Vocabulary.parse(["nocount"]))
        // threshold
        let t = Vocabulary.build(counts: ["x": 3, "y": 1], threshold: 2, paddingFactor: 1)
        XCTAssertEqual(t.symbols, ["<s>", "<pad>", "</s>", "<unk>", "x"])
    }
}
