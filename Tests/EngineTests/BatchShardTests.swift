import Foundation
import XCTest
@testable import DeepNetEngine

/// Batch shards (`TransformerModel.batchShards`): a sharded step computes what the whole batch computes — the same
/// dropout masks (drawn by global index), the same forward values and gradients up to float rounding (products over
/// fewer rows, and the two shards' weight gradients added at the end).
final class BatchShardTests: XCTestCase {
    func config(_ method: String, _ arch: Architecture) -> ModelConfig {
        var c = tinyConfig(method, arch)
        c.dropout = 0.1; c.attentionDropout = 0.1; c.activationDropout = 0.1
        return c
    }

    func testShardedStepEqualsWholeBatch() throws {
        for arch in [Architecture.encoderDecoder, .encoderOnly, .decoderOnly] {
            for method in ["deepnorm", "post-ln", "dlcl"] {
              for p in [0.0, 0.1] {
                var c = config(method, arch)
                c.dropout = p; c.attentionDropout = p; c.activationDropout = p
                let b = randomBatch(c, batch: 7, source: 6, target: 5, seed: 11)   // odd: shards of 3 and 4 sentences
                let sharded = try TransformerModel(config: c, seed: 5), whole = try TransformerModel(config: c, seed: 5)
                XCTAssertEqual(sharded.batchShards, 2)
                XCTAssertEqual(sharded.shardRanges(batch: 7, whole: false), [0..<3, 3..<7])
                let s1 = try sharded.run(b, training: true, dropoutSeed: 77, backward: true)
                let s2 = try whole.run(b, training: true, dropoutSeed: 77, backward: true, whole: true)
                let label = "\(method) \(arch) p=\(p)"
                XCTAssertEqual(sharded.lastWorkspaces.count, 2, label)
                XCTAssertEqual(whole.lastWorkspaces.count, 1, label)
                // OpenBLAS may take another kernel path for fewer rows, so products can differ in the last bit;
                // a dropout mask drawn from the wrong indices would move the loss by ~1e-2, not 1e-6.
                XCTAssertEqual(s1.loss, s2.loss, accuracy: 1e-6 * s2.loss, label)
                XCTAssertEqual(s1.nllLoss, s2.nllLoss, accuracy: 1e-6 * s2.nllLoss, label)
                XCTAssertEqual(s1.tokens, s2.tokens, label)
                let l1 = sharded.logits(), l2 = whole.logits()
                XCTAssertEqual(l1.count, l2.count, label)
                var worstLogit: Float = 0
                for (x, y) in zip(l1, l2) { worstLogit = max(worstLogit, abs(x - y)) }
                XCTAssertLessThan(worstLogit, 1e-5, "logits differ: \(label)")
                var worst: Float = 0, norm: Float = 0
                for (x, y) in zip(sharded.gradients, whole.gradients) { worst = max(worst, abs(x - y)); norm = max(norm, abs(y)) }
                XCTAssertGreaterThan(norm, 0, label)
                XCTAssertLessThan(worst, 1e-5 * norm, "gradients differ beyond summation order: \(label)")
              }
            }
        }
    }

    /// A shard of sentences [a, b) drops exactly the elements the whole batch drops in those rows: the dropout mask of
    /// a site is a function of the global element index.
    func testDropoutSiteOffsetIsTheGlobalIndex() {
        let whole = DropoutSite(p: 0.5, seed: 3, stream: 9), shard = DropoutSite(p: 0.5, seed: 3, stream: 9, offset: 640)
        for i in 0..<256 { XCTAssertEqual(shard.multiplier(i), whole.multiplier(640 + i)) }
    }

    /// Admin's profiling forward needs variances over the whole batch, so that batch is not sharded; later ones are.
    func testAdminProfilingBatchIsNotSharded() throws {
        let c = config("admin", .encoderDecoder)
        let model = try TransformerModel(config: c, seed: 2)
        let t = Trainer(model: model, optimizer: OptimizerConfig(lr: 1e-3), seed: 1)
        _ = try t.step(randomBatch(c, batch: 6, source: 5, target: 5, seed: 1))
        XCTAssertEqual(model.lastWorkspaces.count, 1)
        _ = try t.step(randomBatch(c, batch: 6, source: 5, target: 5, seed: 2))
        XCTAssertEqual(model.lastWorkspaces.count, 2)
    }

    /// Wide models keep one shard (their products split by blocks); the rule depends on the configuration only.
    func testShardCountDependsOnTheConfigurationOnly() {
        var c = ModelConfig()
        c.embedDim = 256; XCTAssertEqual(TransformerModel.batchShards(c), 2)
        c.embedDim = 512; XCTAssertEqual(TransformerModel.batchShards(c), 1)
    }
}
