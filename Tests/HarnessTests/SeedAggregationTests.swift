import DeepNetBase
import DeepNetData
import DeepNetHarness
import Foundation
import XCTest

final class SeedAggregationTests: XCTestCase {
    // MARK: f. seeds

    func testRecordsMatchingAndMeanOverSeeds() throws {
        let r = verdictResults(axes: ["method", "seed"], [
            (["A", "1"], verdictRecord("a1", bleu: 28.1)), (["A", "2"], verdictRecord("a2", bleu: 28.7)), (["A", "3"], verdictRecord("a3", bleu: 28.4)),
            (["A", "4"], verdictRecord("a4", status: .diverged, divergedAt: 9)), (["A", "5"], nil),
            (["B", "1"], verdictRecord("b1", bleu: 20)),
        ])
        XCTAssertEqual(r.records(matching: ["method": "A"]).map(\.runID), ["a1", "a2", "a3", "a4"])
        XCTAssertEqual(r.records(matching: ["method": "A", "seed": "2"]).map(\.runID), ["a2"])
        XCTAssertEqual(r.records(matching: [:]).count, 5)
        let m = try XCTUnwrap(r.meanValue(.bleu, matching: ["method": "A"]))
        XCTAssertEqual(m.values.map(\.label), ["1", "2", "3"])
        XCTAssertEqual(m.mean, 28.4, accuracy: 1e-12)
        XCTAssertEqual(m.spread, 0.6, accuracy: 1e-12)
        XCTAssertEqual(m.excluded, ["4: diverged", "5: not run"])
        XCTAssertEqual(m.text(), "28.40 (seed 1: 28.10, seed 2: 28.70, seed 3: 28.40; spread 0.60)")
        XCTAssertEqual(r.meanValue(.bleu, matching: ["method": "B"])?.spread, 0)
        XCTAssertNil(r.meanValue(.bleu, matching: ["method": "C"]))
    }

}
