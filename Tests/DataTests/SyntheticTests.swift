import DeepNetData
import Foundation
import XCTest

final class SyntheticTests: XCTestCase {
    func small(_ seed: UInt64 = 1, train: Int = 3000) -> DataSetOptions {
        var o = DataSetOptions(seed: seed)
        o.syntheticTrainSize = train
        o.syntheticValidSize = 200
        o.syntheticTestSize = 200
        return o
    }

    func testDeterministicAndFingerprinted() throws {
        let a = try DataSetRegistry.load(.synthetic, options: small())
        let b = try DataSetRegistry.load(.synthetic, options: small())
        XCTAssertEqual(a.fingerprint, b.fingerprint)
        XCTAssertEqual(try a.split("train").sources, try b.split("train").sources)
        XCTAssertEqual(try a.split("test").targets, try b.split("test").targets)
        let c = try DataSetRegistry.load(.synthetic, options: small(2))
        XCTAssertNotEqual(a.fingerprint, c.fingerprint)
        XCTAssertNotEqual(try a.split("train").sources, try c.split("train").sources)
        // Evaluation splits do not depend on the training-set size.
        let d = try DataSetRegistry.load(.synthetic, options: small(1, train: 500))
        XCTAssertEqual(try a.split("test").sources, try d.split("test").sources)
        XCTAssertEqual(try a.split("valid").sources, try d.split("valid").sources)
        XCTAssertNotEqual(a.fingerprint, d.fingerprint)
        XCTAssertEqual(a.splitNames, ["train", "valid", "test"])
        XCTAssertEqual(a.files.count, 0)
        // The default data set without DEEPNET_DATA is synthetic.
        XCTAssertEqual(DataSetRegistry.defaultDataSetName(environment: [:]), .synthetic)
        XCTAssertEqual(DataSetRegistry.defaultDataSetName(environment: ["DEEPNET_DATA": "/x"]), .multi30k)
    }

    func testLanguageProperties() throws {
        let ds = try DataSetRegistry.load(.synthetic, options: small())
        let lang = SyntheticLanguage(config: SyntheticConfig(seed: 1))
        XCTAssertEqual(lang.lexiconSize, 292)
        var sources = Set<String>()
        var mapping: [String: String] = [:]
        for name in ds.splitNames {
            let c = try ds.split(name)
            XCTAssertEqual(c.count, name == "train" ? 3000 : 200)
            for i in 0..<c.count {
                let words = c.sources[i].split(separator: " ")
                XCTAssert(words.count >= 4 && words.count <= 20, c.sources[i])
                XCTAssert(c.sources[i].hasSuffix(".") && c.targets[i].hasSuffix("."))
                XCTAssert(c.sources[i].first!.isUppercase && c.targets[i].first!.isUppercase)
                XCTAssertTrue(sources.insert(c.sources[i]).inserted, "source sentences never repeat across splits")
                mapping[c.sources[i]] = c.targets[i]
            }
        }
        // Target clauses are verb-final.
        var rng = SplitMix64(seed: 5)
        var verbFinal = 0
        for _ in 0..<500 {
            let p = lang.sample(&rng)
            let s = p.source.dropLast().split(separator: " ").map { $0.lowercased() }
            let t = p.target.dropLast().split(separator: " ").map { $0.lowercased() }
            // target ends with an inflected verb
            let verbStems = (lang.transitiveVerbs + lang.intransitiveVerbs).map(\.t)
            if verbStems.contains(where: { v in ["e", "en", "ur", "us", "urn", "usn"].contains { t.last! == v + $0 } }) { verbFinal += 1 }
            XCTAssertGreaterThanOrEqual(s.count, 4)
        }
        XCTAssertEqual(verbFinal, 500)
        // Vocabulary is a few hundred lemmas; surface types stay in the low thousands.
        let types = Set(mapping.keys.flatMap { $0.split(separator: " ") })
        XCTAssertGreaterThan(types.count, 300)
        XCTAssertLessThan(types.count, 3000)
    }

    func testAgreementIsVisibleOnlyThroughTheLexicon() throws {
        let lang = SyntheticLanguage(config: SyntheticConfig(seed: 1))
        // Find a masculine and a feminine noun and check determiner / adjective / past-verb agreement.
        let m = lang.nouns.first { !$0.feminine }!, f = lang.nouns.first { $0.feminine }!
        XCTAssertNotNil(m); XCTAssertNotNil(f)
        var rng = SplitMix64(seed: 11)
        var checkedPast = 0
        for _ in 0..<3000 {
            let p = lang.sample(&rng)
            let t = p.target.dropLast().split(separator: " ").map(String.init)
            guard let det = t.first?.lowercased(), t.count > 1 else { continue }
            let noun = t[1]
            if let n = lang.nouns.first(where: { $0.t == noun || $0.t + "i" == noun }) {
                let plural = noun != n.t
                let slot = (n.feminine ? 1 : 0) + (plural ? 2 : 0)
                XCTAssert(["ko", "ka", "kon", "kan"][slot] == det || ["mi", "ma", "min", "man"][slot] == det, p.target)
                let pastForms = Set((lang.transitiveVerbs + lang.intransitiveVerbs).map { $0.s + "ed" })
                let words = p.source.dropLast().split(separator: " ").map(String.init)
                if !p.source.contains(" and ") && words.contains(where: { pastForms.contains($0) }) {
                    let suffix = (n.feminine ? "us" : "ur") + (plural ? "n" : "")
                    XCTAssert(t.last!.hasSuffix(suffix), "\(p.source) → \(p.target)")
                    checkedPast += 1
                }
            }
        }
        XCTAssertGreaterThan(checkedPast, 100)
    }
}
