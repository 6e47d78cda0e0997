import Foundation
import XCTest
@testable import DeepNetEngine

/// Thread-count invariance (GEMM.multiply + Parallel.forRanges) and exact trainer save/restore.
final class ThreadInvarianceTests: XCTestCase {
    override func tearDown() { Parallel.threads = max(1, ProcessInfo.processInfo.activeProcessorCount) }

    /// Runs `body` with the engine's thread count set to `n`.
    func withThreads<T>(_ n: Int, _ body: () throws -> T) rethrows -> T {
        let old = Parallel.threads
        Parallel.threads = n
        defer { Parallel.threads = old }
        return try body()
    }

    func testBlocksDependOnlyOnShapeAndCoverTheOutput() {
        for (m, n, k) in [(2048, 64, 64), (64, 64, 2048), (7, 5, 3), (1000, 64, 2048), (37, 4000, 64), (4096, 512, 128)] {
            let (rows, b) = GEMM.blocks(m: m, n: n, k: k)
            XCTAssertEqual(rows, m >= n)
            XCTAssertEqual(b.first, 0); XCTAssertEqual(b.last, rows ? m : n)
            XCTAssertEqual(b, b.sorted(), "\(m)x\(n)x\(k)")
            XCTAssertTrue([2, 3, 5, 9].contains(b.count), "block count must be a power of two: \(b)")
            for x in b.dropLast() { XCTAssertEqual(x % GEMM.alignment, 0) }
        }
        XCTAssertEqual(GEMM.blocks(m: 2048, n: 64, k: 64).bounds.count - 1, GEMM.maxBlocks)   // split: 8M multiply-adds
        XCTAssertEqual(GEMM.blocks(m: 32, n: 32, k: 32).bounds.count - 1, 1)     // too small to split
    }

    /// Every transpose combination, split along rows and along columns: equal to a double-precision reference
    /// within float rounding, and bit-identical for 1, 2 and 3 threads.
    func testMultiplyMatchesReferenceAndIsThreadInvariant() {
        var rng = SplitMix64(seed: 3)
        for (m, n, k) in [(1024, 96, 64), (96, 1024, 64), (64, 64, 1500), (33, 17, 9)] {
            for ta in [false, true] {
                for tb in [false, true] {
                    let a = (0..<(m * k)).map { _ in Float(rng.nextNormal()) }
                    let b = (0..<(k * n)).map { _ in Float(rng.nextNormal()) }
                    let c0 = (0..<(m * n)).map { _ in Float(rng.nextNormal()) }
                    let lda = ta ? m : k, ldb = tb ? k : n
                    func run(_ threads: Int) -> [Float] {
                        withThreads(threads) {
                            var c = c0
                            a.withUnsafeBufferPointer { ap in b.withUnsafeBufferPointer { bp in c.withUnsafeMutableBufferPointer { cp in
                                GEMM.multiply(transA: ta, transB: tb, m: m, n: n, k: k, alpha: 0.5, a: ap.baseAddress!, lda: lda,
                                              b: bp.baseAddress!, ldb: ldb, beta: 1, c: cp.baseAddress!, ldc: n)
                            } } }
                            return c
                        }
                    }
                    let one = run(1), two = run(2), three = run(3)
                    let label = "\(m)x\(n)x\(k) ta=\(ta) tb=\(tb)"
                    XCTAssertEqual(one.map(\.bitPattern), two.map(\.bitPattern), label)
                    XCTAssertEqual(one.map(\.bitPattern), three.map(\.bitPattern), label)
                    var worst = 0.0
                    for i in stride(from: 0, to: m, by: max(1, m / 13)) {
                        for j in stride(from: 0, to: n, by: max(1, n / 11)) {
                            var s = 0.0
                            for p in 0..<k {
                                let av = ta ? a[p * lda + i] : a[i * lda + p], bv = tb ? b[j * ldb + p] : b[p * ldb + j]
                                s += Double(av) * Double(bv)
                            }
                            let want = 0.5 * s + Double(c0[i * n + j])
                            worst = max(worst, abs(want - Double(one[i * n + j])) / (1 + abs(want)))
                        }
                    }
                    XCTAssertLessThan(worst, 1e-4, label)
                }
            }
        }
    }

    /// A model large enough that its products are split into blocks trains to bit-identical parameters, losses and
    /// gradient norms with 1, 2 and 3 engine threads (dropout on).
    func testTrainingIsBitIdenticalAcrossThreadCounts() throws {
        var c = ModelConfig()
        c.encoderLayers = 2; c.decoderLayers = 2; c.embedDim = 64; c.ffnDim = 256; c.heads = 4; c.vocabSize = 300
        c.dropout = 0.1; c.attentionDropout = 0.1; c.method = "deepnorm"
        XCTAssertGreaterThan(GEMM.blocks(m: 16 * 40, n: 256, k: 64).bounds.count - 1, 1, "the test must exercise split products")
        func train(_ threads: Int) throws -> ([UInt32], [UInt64]) {
            try withThreads(threads) {
                let model = try TransformerModel(config: c, seed: 4)
                let t = Trainer(model: model, optimizer: OptimizerConfig(lr: 1e-3, warmupUpdates: 2, clipNorm: 1), seed: 9)
                var stats: [UInt64] = []
                for s in 0..<3 {
                    let st = try t.step(randomBatch(c, batch: 16, source: 40, target: 40, seed: UInt64(s)))
                    stats += [st.loss.bitPattern, st.gradNorm.bitPattern]
                }
                return (model.parameters.values.map(\.bitPattern), stats)
            }
        }
        let one = try train(1), two = try train(2), three = try train(3)
        XCTAssertEqual(one.1, two.1); XCTAssertEqual(one.1, three.1)
        XCTAssertTrue(one.0 == two.0 && one.0 == three.0, "parameters differ between thread counts")
    }
}

final class TrainerStateTests: XCTestCase {
    func tempFile(_ name: String) -> URL {
        FileManager.default.temporaryDirectory.appendingPathComponent("trainer-state-\(name)-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).h5")
    }

    /// Train 6 steps straight vs 3 steps, save, restore into a NEW model and trainer, 3 more steps: bit-identical
    /// parameters, moments and losses — for every optimizer, with dropout, and for Admin (whose profiled ω must not
    /// be profiled again after the restore).
    func testSaveRestoreContinuesBitIdentically() throws {
        let cases: [(String, OptimizerConfig)] = [
            ("deepnorm", OptimizerConfig(kind: .adam, lr: 2e-3, weightDecay: 0.01, warmupUpdates: 3, clipNorm: 0.5)),
            ("pre-ln", OptimizerConfig(kind: .adamw, lr: 2e-3, weightDecay: 0.01, warmupUpdates: 3)),
            ("post-ln", OptimizerConfig(kind: .sgd, lr: 1e-2, momentum: 0.9, schedule: .constant)),
            ("admin", OptimizerConfig(kind: .adam, lr: 3e-3, warmupUpdates: 2)),
        ]
        for (method, opt) in cases {
            var c = tinyConfig(method, .encoderDecoder)
            c.dropout = 0.1; c.attentionDropout = 0.1
            let batches = (0..<6).map { randomBatch(c, batch: 4, source: 6, target: 5, seed: UInt64(100 + $0)) }
            let straightModel = try TransformerModel(config: c, seed: 21)
            let straight = Trainer(model: straightModel, optimizer: opt, seed: 8)
            let straightLoss = try batches.map { try straight.step($0).loss }

            let firstModel = try TransformerModel(config: c, seed: 21)
            let first = Trainer(model: firstModel, optimizer: opt, seed: 8)
            for b in batches.prefix(3) { _ = try first.step(b) }
            let url = tempFile(method)
            defer { try? FileManager.default.removeItem(at: url) }
            try first.save(to: url)

            let resumedModel = try TransformerModel(config: c, seed: 21)   // fresh init, overwritten by restore
            let resumed = Trainer(model: resumedModel, optimizer: opt, seed: 8)
            try resumed.restore(from: url)
            XCTAssertEqual(resumed.step, 3)
            let resumedLoss = try batches.suffix(3).map { try resumed.step($0).loss }
            XCTAssertEqual(resumedLoss.map(\.bitPattern), straightLoss.suffix(3).map(\.bitPattern), method)
            XCTAssertTrue(resumedModel.parameters.values.map(\.bitPattern) == straightModel.parameters.values.map(\.bitPattern), method)
            XCTAssertTrue(resumed.m.map(\.bitPattern) == straight.m.map(\.bitPattern), method)
            XCTAssertTrue(resumed.v.map(\.bitPattern) == straight.v.map(\.bitPattern), method)
            if method == "admin" { XCTAssertEqual(resumedModel.method.trainingState["admin_profiled"], 1) }
        }
    }

    /// A restored Admin run keeps its learned ω: before the fix a resumed run re-profiled on its first step.
    func testAdminOmegaIsNotReprofiledAfterRestore() throws {
        let c = tinyConfig("admin", .encoderDecoder)
        let model = try TransformerModel(config: c, seed: 2)
        let t = Trainer(model: model, optimizer: OptimizerConfig(lr: 1e-3, warmupUpdates: 1), seed: 1)
        _ = try t.step(randomBatch(c, batch: 4, source: 6, target: 5, seed: 1))
        let omega = model.parameters.entries.first { $0.name.hasSuffix("fc_ratio_change") }!
        var p = model.parameters.values
        for i in omega.offset..<(omega.offset + omega.count) { p[i] = 5 }   // a "learned" value profiling would overwrite
        model.parameters.values = p
        let url = tempFile("admin-omega")
        defer { try? FileManager.default.removeItem(at: url) }
        try t.save(to: url)
        let m2 = try TransformerModel(config: c, seed: 2)
        let t2 = Trainer(model: m2, optimizer: OptimizerConfig(lr: 0, warmupUpdates: 0, schedule: .constant), seed: 1)
        try t2.restore(from: url)
        _ = try t2.step(randomBatch(c, batch: 4, source: 6, target: 5, seed: 2))   // lr 0: ω may only change by profiling
        XCTAssertEqual(m2.parameters.values[omega.offset], 5)
    }

    func testRestoreRejectsAnotherRunsState() throws {
        let c = tinyConfig("deepnorm", .encoderDecoder)
        let t = Trainer(model: try TransformerModel(config: c, seed: 1), optimizer: OptimizerConfig(), seed: 1)
        _ = try t.step(randomBatch(c, batch: 2, source: 4, target: 4, seed: 1))
        let url = tempFile("reject")
        defer { try? FileManager.default.removeItem(at: url) }
        try t.save(to: url)
        var other = c; other.ffnDim = 32
        let t2 = Trainer(model: try TransformerModel(config: other, seed: 1), optimizer: OptimizerConfig(), seed: 1)
        XCTAssertThrowsError(try t2.restore(from: url)) { XCTAssertTrue("\($0)".contains("model settings differ"), "\($0)") }
        let t3 = Trainer(model: try TransformerModel(config: c, seed: 1), optimizer: OptimizerConfig(kind: .sgd), seed: 1)
        XCTAssertThrowsError(try t3.restore(from: url)) { XCTAssertTrue("\($0)".contains("optimizer 'adam', expected 'sgd'"), "\($0)") }
        let t4 = Trainer(model: try TransformerModel(config: c, seed: 1), optimizer: OptimizerConfig(), seed: 2)
        XCTAssertThrowsError(try t4.restore(from: url)) { XCTAssertTrue("\($0)".contains("seed differs"), "\($0)") }
    }
}
