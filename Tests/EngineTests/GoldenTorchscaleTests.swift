// Golden-file tests against torchscale 0.3.0 (fixtures from scripts/make_golden_fixtures.py).
//
// Each Fixtures/golden_<variant>.h5 holds a torchscale EncoderDecoder as a DeepNet checkpoint, a right-padded
// batch, and float64 reference results: fairseq label-smoothed CE (eps 0.1, sum / ntokens), logits and every
// gradient. post-ln / pre-ln / deepnorm: 6L-6L, d=16, ffn=32, 4 heads, vocab 48, shared embeddings, learned
// positions, relu, dropout 0. post-ln-sinusoidal: 2L-2L, fairseq sinusoidal positions, separate decoder input
// embedding and output projection, gelu.
// The engine loads torchscale's weights, so only forward/backward semantics are compared (not the init).
//
// Tolerances: loss and nll_loss within 1e-5 relative; each gradient within 1e-3 relative L2 error, where the
// denominator is max(‖ref‖, 1e-4·max_t ‖ref_t‖): k_proj.bias has an exactly-zero true gradient (softmax is
// shift-invariant), so its reference is rounding noise and is compared against that floor. Logits are compared
// (1e-4 relative L2) on rows whose target is not pad; pad rows differ by construction (torchscale gives pad
// tokens real positions, fairseq/our engine use the pad row) and carry no loss.
import DeepNetEngine
import Foundation
import HDF5Store
import XCTest

final class GoldenTorchscaleTests: XCTestCase {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")

    struct Report: CustomStringConvertible {
        var method: String
        var lossRelErr: Double
        var nllRelErr: Double
        var logitsRelL2: Double
        var maxGradRelL2: Double
        var worstTensor: String
        /// Largest plain relative L2 error over tensors whose reference norm is above the floor.
        var maxGradRelL2Unfloored: Double
        var worstUnflooredTensor: String
        var tensors: Int
        var description: String {
            String(format: "golden %@: loss rel err %.2e, nll rel err %.2e, logits rel L2 %.2e, max grad rel L2 %.2e (%@); excluding floored tensors %.2e (%@); %d tensors",
                   method, lossRelErr, nllRelErr, logitsRelL2, maxGradRelL2, worstTensor, maxGradRelL2Unfloored, worstUnflooredTensor, tensors)
        }
    }

    static func readBatch(_ f: HDF5File) throws -> TokenBatch {
        let src = try f.readInt32s(at: "batch/src_tokens")
        let prev = try f.readInt32s(at: "batch/prev_output_tokens")
        let tgt = try f.readInt32s(at: "batch/target")
        return TokenBatch(batchSize: src.shape[0], sourceLength: src.shape[1], targetLength: tgt.shape[1],
                          source: src.values, prevOutput: prev.values, target: tgt.values)
    }

    static func relL2(_ a: ArraySlice<Float>, _ b: [Float], floor: Double = 0) -> Double {
        var num = 0.0, den = 0.0
        for (x, y) in zip(a, b) { let d = Double(x) - Double(y); num += d * d; den += Double(y) * Double(y) }
        return num.squareRoot() / max(den.squareRoot(), floor, .leastNonzeroMagnitude)
    }

    /// Loads a fixture into the engine, runs forward/backward and compares. `method` overrides the fixture's.
    func check(_ fixture: String, method: String? = nil, file: StaticString = #filePath, line: UInt = #line) throws -> Report {
        let url = Self.fixtures.appendingPathComponent("golden_\(fixture).h5")
        let f = try HDF5File.open(url)
        defer { f.close() }
        var (config, fromFile) = try Checkpoint.readConfig(f)
        XCTAssertTrue(fromFile.contains("method"), "fixture has no model attributes", file: file, line: line)
        if let method { config.method = method }
        let model = try TransformerModel(config: config, seed: 7)
        try Checkpoint.load(into: model, from: f, strict: true)
        let batch = try Self.readBatch(f)
        let stats = try model.forwardBackward(batch, training: false, dropoutSeed: 0)

        let refLoss = try f.readDoubles(at: "reference/loss").values[0]
        let refNll = try f.readDoubles(at: "reference/nll_loss").values[0]
        let refTokens = try f.readInt64s(at: "reference/ntokens").values[0]
        XCTAssertEqual(stats.tokens, Int(refTokens), "ntokens", file: file, line: line)
        let lossErr = abs(stats.loss - refLoss) / abs(refLoss)
        let nllErr = abs(stats.nllLoss - refNll) / abs(refNll)
        XCTAssertLessThanOrEqual(lossErr, 1e-5, "\(fixture): loss \(stats.loss) vs torchscale \(refLoss)", file: file, line: line)
        XCTAssertLessThanOrEqual(nllErr, 1e-5, "\(fixture): nll_loss \(stats.nllLoss) vs torchscale \(refNll)", file: file, line: line)

        // Logits on non-pad target rows.
        let (refLogits, lshape) = try f.readFloats(at: "reference/logits")
        let V = config.vocabSize
        XCTAssertEqual(lshape, [batch.batchSize, batch.targetLength, V], file: file, line: line)
        let logits = model.logits()
        var a: [Float] = [], b: [Float] = []
        for r in 0..<(batch.batchSize * batch.targetLength) where Int(batch.target[r]) != config.padIndex {
            a += logits[(r * V)..<((r + 1) * V)]
            b += refLogits[(r * V)..<((r + 1) * V)]
        }
        let logitsErr = Self.relL2(a[...], b)
        XCTAssertLessThanOrEqual(logitsErr, 1e-4, "\(fixture): logits (non-pad rows) rel L2 \(logitsErr)", file: file, line: line)

        // Gradients, tensor by tensor (owners; tied tensors are one parameter in both frameworks).
        let refNames = try f.children(of: "reference/grads")
        var refs: [String: [Float]] = [:]
        var maxNorm = 0.0
        for n in refNames {
            let g = try f.readFloats(at: "reference/grads/" + n).values
            refs[n] = g
            maxNorm = max(maxNorm, g.reduce(0.0) { $0 + Double($1) * Double($1) }.squareRoot())
        }
        let floor = 1e-4 * maxNorm
        var worst = 0.0, worstName = "-", worstPlain = 0.0, worstPlainName = "-"
        var matched = Set<String>()
        let params = model.parameters
        for e in params.entries {
            let candidates = [e.name] + params.stateDictNames.filter { params.aliases[$0] == e.name }
            guard let key = candidates.first(where: { refs[$0] != nil }), let ref = refs[key] else {
                XCTFail("\(fixture): no torchscale gradient for parameter '\(e.name)'", file: file, line: line)
                continue
            }
            matched.insert(key)
            XCTAssertEqual(ref.count, e.count, "\(fixture): '\(e.name)' size", file: file, line: line)
            guard ref.count == e.count else { continue }
            let err = Self.relL2(model.gradients[e.offset..<(e.offset + e.count)], ref, floor: floor)
            if err > worst { worst = err; worstName = e.name }
            let refNorm = ref.reduce(0.0) { $0 + Double($1) * Double($1) }.squareRoot()
            if refNorm >= floor, err > worstPlain { worstPlain = err; worstPlainName = e.name }
            XCTAssertLessThanOrEqual(err, 1e-3, "\(fixture): gradient of '\(e.name)' has relative L2 error \(err)", file: file, line: line)
        }
        for n in refNames where !matched.contains(n) {
            XCTFail("\(fixture): torchscale parameter '\(n)' has no counterpart in the engine", file: file, line: line)
        }
        let report = Report(method: method.map { "\(fixture) as \($0)" } ?? fixture, lossRelErr: lossErr, nllRelErr: nllErr,
                            logitsRelL2: logitsErr, maxGradRelL2: worst, worstTensor: worstName,
                            maxGradRelL2Unfloored: worstPlain, worstUnflooredTensor: worstPlainName, tensors: params.entries.count)
        print(report)
        return report
    }

    func testFixturesArePresentAndSmall() throws {
        var total = 0
        for m in ["post-ln", "pre-ln", "deepnorm", "post-ln-sinusoidal"] {
            let url = Self.fixtures.appendingPathComponent("golden_\(m).h5")
            let size = try FileManager.default.attributesOfItem(atPath: url.path)[.size] as? Int ?? 0
            XCTAssertGreaterThan(size, 0, url.path)
            total += size
            let f = try HDF5File.open(url)
            XCTAssertEqual(try f.stringAttribute("torchscale_version"), "0.3.0")
            XCTAssertNotNil(try f.stringAttribute("torch_version"))
            f.close()
        }
        XCTAssertLessThan(total, 2_000_000)
    }

    func testPostLN() throws { _ = try check("post-ln") }
    func testPreLN() throws { _ = try check("pre-ln") }
    func testDeepNorm() throws { _ = try check("deepnorm") }
    /// Sinusoidal positions, untied decoder embeddings/output projection, gelu.
    func testPostLNSinusoidalUntiedGelu() throws { _ = try check("post-ln-sinusoidal") }
    /// The torchscale-init variant has the same forward/backward (only the init differs).
    func testDeepNormTorchscaleVariant() throws { _ = try check("deepnorm", method: "deepnorm-torchscale") }

    /// The comparison is sensitive: torchscale's DeepNorm weights run with α = 1 (post-ln) or with the final
    /// LayerNorms of pre-ln missing must NOT match the reference.
    func testGoldenComparisonDetectsWrongSemantics() throws {
        let f = try HDF5File.open(Self.fixtures.appendingPathComponent("golden_deepnorm.h5"))
        defer { f.close() }
        var (config, _) = try Checkpoint.readConfig(f)
        config.method = "post-ln"
        let model = try TransformerModel(config: config, seed: 0)
        try Checkpoint.load(into: model, from: f)
        let stats = try model.forwardBackward(try Self.readBatch(f), training: false, dropoutSeed: 0)
        let ref = try f.readDoubles(at: "reference/loss").values[0]
        XCTAssertGreaterThan(abs(stats.loss - ref) / ref, 1e-3, "deepnorm weights with alpha = 1 should not reproduce the deepnorm loss")
    }

    func testDeepNormAlphaMatchesFixture() throws {
        let f = try HDF5File.open(Self.fixtures.appendingPathComponent("golden_deepnorm.h5"))
        defer { f.close() }
        let encAlpha = try XCTUnwrap(try f.doubleAttribute("deepnorm_encoder_alpha"))
        let decAlpha = try XCTUnwrap(try f.doubleAttribute("deepnorm_decoder_alpha"))
        XCTAssertEqual(DeepNormConstants.alpha(.encoderDecoder, .encoder, N: 6, M: 6), encAlpha, accuracy: 1e-12)
        XCTAssertEqual(DeepNormConstants.alpha(.encoderDecoder, .decoder, N: 6, M: 6), decAlpha, accuracy: 1e-12)
    }
}
