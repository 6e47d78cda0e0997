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
        files: [   // `cd $DEEPNET_DATA && sha256sum my/*`
            "my/test.de": "eec4599f0265a4ffa6f4abda3e742970e494908de231aa0accff5331c16808f8",
            "my/test.en": "f3d74a5505607861a1b835938d56b8d77f826dad0b59fb6f6ba9af17e188a0c0",
            "my/train.de": "79261d04acb0a5a2469851e813fdef5eb96c438d72d3338b3438cd59323a9b56",
            "my/train.en": "debfa6c4b2321524445595cdc6014d38f1e280ef5653a1d196ced2a376f01614",
            "my/valid.de": "1916a2941fe0740564d717155d241bf87f4c3beda9aa1f13334343646b65415a",
            "my/valid.en": "ebed6220058c269639a8a41355b218111004672f2e38f65830b206ee5e4b99d8",
        ],
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

    /// A data folder with `my/{train,valid,test}.{de,en}`: spelt-out numbers → digits, 200 distinct numbers
    /// (i · 7919 + 13 mod 10,000), fixed bytes whose SHA-256 the example declares.
    func makeDataFolder() throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("my-corpus-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("my"), withIntermediateDirectories: true)
        let names = ["null", "eins", "zwei", "drei", "vier", "fünf", "sechs", "sieben", "acht", "neun"]
        var i = 0
        for (split, n) in [("train", 160), ("valid", 20), ("test", 20)] {
            var de = "", en = ""
            for _ in 0..<n {
                let digits = String((i * 7919 + 13) % 10_000).map { String($0) }
                i += 1
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
        // A file with one changed byte is not the declared one: the load fails naming it and both hashes.
        var bytes = try Data(contentsOf: URL(fileURLWithPath: dir + "/my/test.en"))
        bytes[0] = bytes[0] == UInt8(ascii: "1") ? UInt8(ascii: "2") : UInt8(ascii: "1")
        try bytes.write(to: URL(fileURLWithPath: dir + "/my/test.en"))
        XCTAssertThrowsError(try registryWithMyCorpus.load(name, dataDirectory: dir)) { e in
            XCTAssertEqual(e as? DataError, .fileChecksumMismatch(dataSet: "my-corpus", path: dir + "/my/test.en",
                                                                  expected: DataSetDefinition.myCorpus.files["my/test.en"]!,
                                                                  actual: SHA256.hex(of: bytes)))
            XCTAssertTrue("\(e)".contains(dir + "/my/test.en") && "\(e)".contains("expected SHA-256 f3d74a55"), "\(e)")
        }
        // A missing file: named, with the expected hash.
        try FileManager.default.removeItem(atPath: dir + "/my/valid.de")
        XCTAssertThrowsError(try registryWithMyCorpus.load(name, dataDirectory: dir)) { e in
            XCTAssertEqual(e as? DataError, .fileChecksumMismatch(dataSet: "my-corpus", path: dir + "/my/valid.de",
                                                                  expected: DataSetDefinition.myCorpus.files["my/valid.de"]!, actual: nil))
        }
        // Its declared identity needs no file.
        XCTAssertEqual(DataSetDefinition.myCorpus.declaredFingerprint(options: DataSetOptions()),
                       DataSetDefinition.myCorpus.declaredFingerprint(options: DataSetOptions()))
        XCTAssertNotEqual(DataSetDefinition.myCorpus.declaredFingerprint(options: DataSetOptions(seed: 2)).count, 0)
    }

    /// Every file-backed definition declares a SHA-256 for each file, and (with the real data) each matches.
    func testDeclaredHashesMatchTheRealData() throws {
        for d in DataSetRegistry.builtIn where d.spec.needsFiles && d.load != nil {
            XCTAssertFalse(d.files.isEmpty, "\(d.spec.name) declares no files")
            for (path, sha) in d.files { XCTAssertEqual(sha.count, 64, "\(d.spec.name) \(path)") }
        }
        guard let root = ProcessInfo.processInfo.environment["DEEPNET_DATA"], !root.isEmpty else {
            throw XCTSkip("DEEPNET_DATA is not set; the declared hashes are not compared with the files")
        }
        for d in DataSetRegistry.builtIn {
            for (path, sha) in d.files.sorted(by: { $0.key < $1.key }) {
                let bytes = try Data(contentsOf: URL(fileURLWithPath: root + "/" + path))
                XCTAssertEqual(SHA256.hex(of: bytes), sha, "\(d.spec.name): \(path)")
            }
        }
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
