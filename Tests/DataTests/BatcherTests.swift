import DeepNetData
import DeepNetBase
import XCTest

final class BatcherTests: XCTestCase {
    func corpus(_ n: Int, seed: UInt64 = 3) -> EncodedSplit {
        var r = SplitMix64(seed: seed)
        var s: [[Int32]] = [], t: [[Int32]] = []
        for _ in 0..<n {
            s.append((0..<(1 + r.nextInt(below: 30))).map { _ in Int32(4 + r.nextInt(below: 50)) })
            t.append((0..<(1 + r.nextInt(below: 30))).map { _ in Int32(4 + r.nextInt(below: 50)) })
        }
        return EncodedSplit(source: s, target: t)
    }

    func testBudgetCoverageAndDeterminism() throws {
        let c = corpus(500)
        let b = try Batcher(split: c, maxTokens: 256, maxSentences: 40, seed: 9)
        for epoch in 1...3 {
            let idx = b.batchIndices(epoch: epoch)
            XCTAssertEqual(idx.flatMap { $0 }.sorted(), Array(0..<500), "every example exactly once")
            for batch in idx {
                let m = batch.map { b.size($0) }.max()!
                XCTAssertLessThanOrEqual(batch.count * m, 256)
                XCTAssertLessThanOrEqual(batch.count, 40)
            }
            XCTAssertEqual(idx, b.batchIndices(epoch: epoch))
            let again = try Batcher(split: c, maxTokens: 256, maxSentences: 40, seed: 9)
            XCTAssertEqual(idx, again.batchIndices(epoch: epoch))
            for tb in b.batches(epoch: epoch) { XCTAssertLessThanOrEqual(tb.batchSize * max(tb.sourceLength, tb.targetLength), 256) }
        }
        XCTAssertNotEqual(b.batchIndices(epoch: 1), b.batchIndices(epoch: 2))
        XCTAssertNotEqual(b.batchIndices(epoch: 1), try Batcher(split: c, maxTokens: 256, seed: 10).batchIndices(epoch: 1))
        // Length bucketing keeps padding low.
        var real = 0, padded = 0
        for tb in b.batches(epoch: 1) {
            padded += tb.batchSize * tb.sourceLength
            real += tb.source.filter { $0 != 1 }.count
        }
        XCTAssertGreaterThan(Double(real) / Double(padded), 0.6)
        // Evaluation order: deterministic and seed-independent.
        let e1 = try Batcher(split: c, maxTokens: 256, seed: 1, shuffle: false).batchIndices()
        let e2 = try Batcher(split: c, maxTokens: 256, seed: 2, shuffle: false).batchIndices()
        XCTAssertEqual(e1, e2)
    }

    func testFairseqLayout() throws {
        let tb = Batcher.makeBatch(sources: [[10, 11, 12], [20]], targets: [[30], [40, 41]])
        XCTAssertEqual(tb.batchSize, 2)
        XCTAssertEqual(tb.sourceLength, 4)
        XCTAssertEqual(tb.targetLength, 3)
        XCTAssertEqual(tb.source, [10, 11, 12, 2, 20, 2, 1, 1])
        XCTAssertEqual(tb.target, [30, 2, 1, 40, 41, 2])
        XCTAssertEqual(tb.prevOutput, [2, 30, 1, 2, 40, 41])
    }

    func testTooLongExample() {
        XCTAssertThrowsError(try Batcher(sources: [[5, 5, 5]], targets: [[5]], maxTokens: 3)) { e in
            XCTAssertEqual(e as? DataError, .exampleTooLong(index: 0, tokens: 4, maxTokens: 3))
        }
        XCTAssertThrowsError(try Batcher(sources: [[5]], targets: [], maxTokens: 3))
    }
}
