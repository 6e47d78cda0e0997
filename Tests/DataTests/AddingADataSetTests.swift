// The README's "Adding a data set" recipe, followed to the letter by a test-only data set: one definition (as
// its own file under Sources/DeepNetData/Corpus/DataSets/ would hold) plus its line in a registry's list. If the
// recipe stops working, this file stops compiling or these tests fail.
import DeepNetData
import Foundation
import XCTest

// --- the "file" -------------------------------------------------------------------------------------------
extension DataSetName {
    static let countingTest = DataSetName(rawValue: "counting-test")
}

extension DataSetDefinition {
    /// Numbers spelt out in a made-up language and the same numbers as digits; 200 pairs, no files.
    static let countingTest = DataSetDefinition(
        spec: DataSetSpec(name: .countingTest, summary: "test-only: spelt-out numbers → digits", pairs: [LanguagePair("words", "digits")],
                          defaultPair: LanguagePair("words", "digits"), needsFiles: false, defaultBPEMerges: 20),
        settings: { _ in "count=200" },
        load: { l in
            let names = ["nul", "ein", "twa", "dri", "fir", "fif", "sek", "sev", "ach", "nin"]
            var rng = SplitMix64(seed: l.options.seed)
            var src: [String] = [], tgt: [String] = []
            for _ in 0..<200 {
                let n = rng.nextInt(below: 10_000)
                let digits = String(n).map(String.init)
                src.append(digits.map { names[Int($0)!] }.joined(separator: " ")); tgt.append(digits.joined(separator: " "))
            }
            func part(_ r: Range<Int>) -> ParallelCorpus { ParallelCorpus(sources: Array(src[r]), targets: Array(tgt[r]), direction: l.pair) }
            return l.make([("train", part(0..<160)), ("valid", part(160..<180)), ("test", part(180..<200))])
        })
}

// --- the registry line --------------------------------------------------------------------------------------
let registryWithTheNewSet = DataSetRegistry(DataSetRegistry.builtIn + [.countingTest])

final class AddingADataSetTests: XCTestCase {
    func testTheRecipeYieldsALoadablePreparableBatchableDataSet() throws {
        let name = try DataSetName(parsing: "counting-test", in: registryWithTheNewSet)
        XCTAssertEqual(name, .countingTest)
        let ds = try registryWithTheNewSet.load(name)
        XCTAssertEqual(ds.splitNames, ["train", "valid", "test"])
        XCTAssertEqual(try ds.split("train").count, 160)
        XCTAssertEqual(try registryWithTheNewSet.load(name).fingerprint, ds.fingerprint)
        XCTAssertNotEqual(try registryWithTheNewSet.load(name, options: DataSetOptions(seed: 2)).fingerprint, ds.fingerprint)
        let p = try PreparedData.prepare(ds, useCache: false)
        XCTAssertEqual(p.options.bpeMerges, 20)   // the definition's default
        let valid = try p.split("valid")
        XCTAssertEqual(p.detokenize(valid.target[0]), try ds.split("valid").targets[0])
        let b = try Batcher(split: try p.split("train"), maxTokens: 64)
        XCTAssertEqual(b.batchIndices().flatMap { $0 }.sorted(), Array(0..<160))
    }

    func testTheProjectRegistryDoesNotKnowIt() {
        XCTAssertThrowsError(try DataSetName(parsing: "counting-test")) { e in
            XCTAssertTrue("\(e)".hasPrefix("unknown data set 'counting-test'; valid data sets: synthetic, "), "\(e)")
        }
    }

    /// docs/data-sets.md is the one table of data-set definitions: every registered data set has its row.
    func testEveryRegisteredDataSetIsInTheTable() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let table = try String(contentsOf: root.appendingPathComponent("docs/data-sets.md"), encoding: .utf8)
        for n in DataSetRegistry.names { XCTAssertTrue(table.contains("| `\(n)` |"), "docs/data-sets.md has no row for \(n)") }
    }
}
