// The README's "Adding a data set" recipe, followed to the letter: the example definition compiles here exactly as
// printed there (the test compares the texts), is registered the documented way (its line in a registry's list),
// and loads, prepares and batches from files in a data folder.
import DeepNetData
import Foundation
import XCTest

// README-EXAMPLE-BEGIN
extension DataSetName {
    public static let myCorpus = DataSetName(rawValue: "my-corpus")
}

extension DataSetDefinition {
    public static let myCorpus = DataSetDefinition(
        spec: DataSetSpec(name: .myCorpus, summary: "my corpus, de→en", pairs: [LanguagePair("de", "en")],
                          defaultPair: LanguagePair("de", "en")),
        settings: { _ in "" },
        load: { l in
            l.make([("train", try l.parallel("my/train.de", "my/train.en", l.pair)),
                    ("valid", try l.parallel("my/valid.de", "my/valid.en", l.pair)),
                    ("test", try l.parallel("my/test.de", "my/test.en", l.pair))])
        })
}
// README-EXAMPLE-END

/// The registry line: the project's list plus the new definition.
let registryWithMyCorpus = DataSetRegistry(DataSetRegistry.builtIn + [.myCorpus])

final class AddingADataSetTests: XCTestCase {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    func testReadmeExampleIsTheCompiledOne() throws {
        let me = try String(contentsOf: URL(fileURLWithPath: #filePath), encoding: .utf8)
        let example = me.components(separatedBy: "// README-EXAMPLE-BEGIN\n")[1].components(separatedBy: "// README-EXAMPLE-END")[0]
        let readme = try String(contentsOf: Self.root.appendingPathComponent("README.md"), encoding: .utf8)
        let section = try XCTUnwrap(readme.components(separatedBy: "### Adding a data set").dropFirst().first)
        let block = try XCTUnwrap(section.components(separatedBy: "```swift\n").dropFirst().first?.components(separatedBy: "```").first)
        XCTAssertEqual(block, example)
    }

    /// A data folder with `my/{train,valid,test}.{de,en}`: spelt-out numbers → digits.
    func makeDataFolder() throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("my-corpus-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("my"), withIntermediateDirectories: true)
        let names = ["null", "eins", "zwei", "drei", "vier", "fünf", "sechs", "sieben", "acht", "neun"]
        var rng = SplitMix64(seed: 5)
        for (split, n) in [("train", 160), ("valid", 20), ("test", 20)] {
            var de = "", en = ""
            for _ in 0..<n {
                let digits = String(rng.nextInt(below: 10_000)).map { String($0) }
                de += digits.map { names[Int($0)!] }.joined(separator: " ") + "\n"
                en += digits.joined(separator: " ") + "\n"
            }
            try de.write(to: dir.appendingPathComponent("my/\(split).de"), atomically: true, encoding: .utf8)
            try en.write(to: dir.appendingPathComponent("my/\(split).en"), atomically: true, encoding: .utf8)
        }
        return dir.path
    }

    func testTheRecipeYieldsALoadablePreparableBatchableDataSet() throws {
        let dir = try makeDataFolder()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let name = try DataSetName(parsing: "my-corpus", in: registryWithMyCorpus)
        XCTAssertEqual(name, .myCorpus)
        let ds = try registryWithMyCorpus.load(name, dataDirectory: dir)
        XCTAssertEqual(ds.splitNames, ["train", "valid", "test"])
        XCTAssertEqual(try ds.split("train").count, 160)
        XCTAssertEqual(ds.files.count, 6)   // every file read is in the fingerprint
        XCTAssertEqual(try registryWithMyCorpus.load(name, dataDirectory: dir).fingerprint, ds.fingerprint)
        let p = try PreparedData.prepare(ds, options: PreprocessOptions(bpeMerges: 20), useCache: false)
        let valid = try p.split("valid")
        XCTAssertEqual(p.detokenize(valid.target[0]), try ds.split("valid").targets[0])
        let b = try Batcher(split: try p.split("train"), maxTokens: 64)
        XCTAssertEqual(b.batchIndices().flatMap { $0 }.sorted(), Array(0..<160))
        // A changed file is a different data set.
        try "eins\n".write(toFile: dir + "/my/test.de", atomically: true, encoding: .utf8)
        try "1\n".write(toFile: dir + "/my/test.en", atomically: true, encoding: .utf8)
        XCTAssertNotEqual(try registryWithMyCorpus.load(name, dataDirectory: dir).fingerprint, ds.fingerprint)
    }

    func testTheProjectRegistryDoesNotKnowIt() {
        XCTAssertThrowsError(try DataSetName(parsing: "my-corpus")) { e in
            XCTAssertTrue("\(e)".hasPrefix("unknown data set 'my-corpus'; valid data sets: synthetic, "), "\(e)")
        }
    }

    /// docs/data-sets.md is the one table of data-set definitions: every registered data set has its row.
    func testEveryRegisteredDataSetIsInTheTable() throws {
        let table = try String(contentsOf: Self.root.appendingPathComponent("docs/data-sets.md"), encoding: .utf8)
        for n in DataSetRegistry.names { XCTAssertTrue(table.contains("| `\(n)` |"), "docs/data-sets.md has no row for \(n)") }
    }
}
