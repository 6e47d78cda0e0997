import DeepNetData
import Foundation
import XCTest

final class SupportTests: XCTestCase {
    func testSHA256() {
        XCTAssertEqual(SHA256.hex(of: ""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        XCTAssertEqual(SHA256.hex(of: "abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        XCTAssertEqual(SHA256.hex(of: "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
                       "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
        var h = SHA256()
        for _ in 0..<1000 { h.update(Array(repeating: UInt8(ascii: "a"), count: 1000)) }
        XCTAssertEqual(h.hexDigest(), "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
        // incremental == one-shot for awkward chunk sizes
        let data = (0..<1000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        var a = SHA256()
        var i = 0
        for n in [1, 63, 64, 65, 7, 300, 500] { let e = min(i + n, data.count); a.update(data[i..<e]); i = e }
        XCTAssertEqual(a.hexDigest(), SHA256.hex(of: data))
    }

    func testSplitMix64() {
        // Reference values of splitmix64.c with seed 0 (and equality with the engine's core sequence).
        var r = SplitMix64(seed: 0)
        XCTAssertEqual(r.next(), 0xE220_A839_7B1D_CDAF)
        XCTAssertEqual(r.next(), 0x6E78_9E6A_A1B9_65F4)
        var a = SplitMix64(seed: 42), b = SplitMix64(seed: 42)
        let pa = a.permutation(100), pb = b.permutation(100)
        XCTAssertEqual(pa, pb)
        XCTAssertEqual(pa.sorted(), Array(0..<100))
        var c = SplitMix64(seed: 7)
        for n in [1, 2, 3, 10, 1000] { for _ in 0..<100 { let x = c.nextInt(below: n); XCTAssert(x >= 0 && x < n) } }
        var d1 = SplitMix64.derive(seed: 1, stream: 1), d2 = SplitMix64.derive(seed: 1, stream: 2)
        XCTAssertNotEqual(d1.next(), d2.next())
    }

    func testStrictUTF8() {
        func bad(_ b: [UInt8]) -> Bool { (try? TextIO.decodeLines(b, name: "x")) == nil }
        XCTAssertTrue(bad([0xC0, 0x80]))              // overlong
        XCTAssertTrue(bad([0xED, 0xA0, 0x80]))        // surrogate
        XCTAssertTrue(bad([0xF4, 0x90, 0x80, 0x80]))  // > U+10FFFF
        XCTAssertTrue(bad([0xE2, 0x82]))              // truncated
        XCTAssertTrue(bad([0x80]))                    // stray continuation
        XCTAssertFalse(bad(Array("é€😀\u{FEFF}".utf8)))
        XCTAssertThrowsError(try TextIO.decodeLines(Array("ok\nok\nbad\u{1}".utf8) + [0xFF] + [0x0A], name: "f.txt")) { e in
            XCTAssertEqual(e as? DataError, .invalidUTF8(path: "f.txt", line: 3, byteOffset: 10))
        }
    }

    func testGzipReading() throws {
        let d = TestData.tempDir()
        defer { try? FileManager.default.removeItem(atPath: d) }
        let plain = d + "/x.txt"
        _ = FileManager.default.createFile(atPath: plain, contents: Data("eins\nzwei\ndrei\n".utf8))
        let p = Process()
        p.executableURL = URL(fileURLWithPath: TextIO.gzipCandidates.first { FileManager.default.isExecutableFile(atPath: $0) }!)
        p.arguments = ["-k", plain]
        try p.run(); p.waitUntilExit()
        XCTAssertEqual(try TextIO.readLines(plain + ".gz"), ["eins", "zwei", "drei"])
        let broken = d + "/broken.gz"
        _ = FileManager.default.createFile(atPath: broken, contents: Data("not gzip at all".utf8))
        XCTAssertThrowsError(try TextIO.readLines(broken)) { e in
            guard case .gzipFailed(let path, _, _)? = e as? DataError else { return XCTFail("\(e)") }
            XCTAssertEqual(path, broken)
        }
    }

    func testAtomicWrite() throws {
        let d = TestData.tempDir()
        defer { try? FileManager.default.removeItem(atPath: d) }
        try TextIO.writeLines(["a", "b"], to: d + "/sub/f.txt")
        XCTAssertEqual(try TextIO.readLines(d + "/sub/f.txt"), ["a", "b"])
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: d + "/sub"), ["f.txt"])
    }
}
