import XCTest
import DeepNetEngine

/// Central finite differences for every kernel/op: loss = Σ w·y with random w; backward is fed dy = w.
/// Differences are computed in float32 with h = 1e-2 on O(1) inputs; tolerance is relative to the gradient norm.
final class KernelGradientTests: XCTestCase {
    /// Independent pointer copies of test inputs (avoids overlapping inout access to nested arrays; leaked on purpose).
    func ptrs(_ a: [[Float]]) -> [UnsafeMutablePointer<Float>] {
        a.map { arr in let p = UnsafeMutablePointer<Float>.allocate(capacity: max(arr.count, 1)); p.initialize(from: arr, count: arr.count); return p }
    }
    func unptrs(_ p: [UnsafeMutablePointer<Float>], _ like: [[Float]]) -> [[Float]] {
        p.enumerated().map { Array(UnsafeBufferPointer(start: $1, count: like[$0].count)) }
    }
    typealias Fwd = ([[Float]]) -> [Float]
    typealias Bwd = ([[Float]], [Float]) -> [[Float]]

    func rand(_ n: Int, _ rng: inout SplitMix64, scale: Float = 1) -> [Float] { (0..<n).map { _ in Float(rng.nextNormal()) * scale } }

    func check(_ name: String, _ inputs: [[Float]], h: Float = 1e-2, tol: Double = 2e-2,
               forward: Fwd, backward: Bwd, checkInputs: [Int]? = nil, file: StaticString = #filePath, line: UInt = #line) {
        var rng = SplitMix64(seed: 5)
        let y0 = forward(inputs)
        let w = rand(y0.count, &rng)
        let grads = backward(inputs, w)
        func loss(_ x: [[Float]]) -> Double { zip(forward(x), w).reduce(0) { $0 + Double($1.0) * Double($1.1) } }
        for k in checkInputs ?? Array(inputs.indices) {
            var maxErr = 0.0, maxG = 0.0
            for i in inputs[k].indices {
                var xp = inputs, xm = inputs
                xp[k][i] += h; xm[k][i] -= h
                let num = (loss(xp) - loss(xm)) / Double(2 * h)
                maxErr = max(maxErr, abs(num - Double(grads[k][i])))
                maxG = max(maxG, abs(num))
            }
            XCTAssert(maxErr <= tol * max(maxG, 1e-3), "\(name) input \(k): max |num-ana| \(maxErr), max |g| \(maxG)", file: file, line: line)
        }
    }

    func testLinear() {
        var r = SplitMix64(seed: 1)
        let R = 5, C = 4, O = 3
        check("linear", [rand(R * C, &r), rand(O * C, &r), rand(O, &r)], forward: { x in
            let X = ptrs(x); var y = [Float](repeating: 0, count: R * O)
            linearForward(&y, X[0], X[1], X[2], rows: R, inDim: C, outDim: O); return y
        }, backward: { x, dy in
            let X = ptrs(x); var dy = dy
            let G = ptrs(x.map { [Float](repeating: 0, count: $0.count) })
            linearBackward(dinp: G[0], dweight: G[1], dbias: G[2], dout: &dy, inp: X[0], weight: X[1], rows: R, inDim: C, outDim: O)
            return unptrs(G, x)
        })
    }

    func testLayerNorm() {
        var r = SplitMix64(seed: 2)
        let R = 4, C = 7
        check("layernorm", [rand(R * C, &r), rand(C, &r), rand(C, &r)], h: 5e-3, forward: { x in
            let X = ptrs(x); var y = [Float](repeating: 0, count: R * C), m = [Float](repeating: 0, count: R), s = m
            layerNormForward(&y, mean: &m, rstd: &s, X[0], weight: X[1], bias: X[2], rows: R, dim: C); return y
        }, backward: { x, dy in
            let X = ptrs(x); var dy = dy
            var y = [Float](repeating: 0, count: R * C), m = [Float](repeating: 0, count: R), s = m, scratch = y
            layerNormForward(&y, mean: &m, rstd: &s, X[0], weight: X[1], bias: X[2], rows: R, dim: C)
            let G = ptrs(x.map { [Float](repeating: 0, count: $0.count) })
            layerNormBackward(dinp: G[0], dweight: G[1], dbias: G[2], dout: &dy, inp: X[0], weight: X[1], mean: &m, rstd: &s, rows: R, dim: C, scratch: &scratch)
            return unptrs(G, x)
        })
    }

    func testActivations() {
        for kind in Activation.allCases {
            var r = SplitMix64(seed: 3)
            var x0 = rand(40, &r)
            for i in x0.indices where abs(x0[i]) < 0.05 { x0[i] += 0.2 }   // keep ReLU away from its kink
            let site = DropoutSite(p: 0.3, seed: 9, stream: 1)
            check("\(kind) + activation dropout", [x0], h: 1e-3, forward: { x in
                let X = ptrs(x); var y = [Float](repeating: 0, count: 40)
                activationForward(&y, X[0], count: 40, kind: kind, dropout: site); return y
            }, backward: { x, dy in
                let X = ptrs(x); var dy = dy; var g = [Float](repeating: 0, count: 40)
                activationBackward(dpre: &g, dout: &dy, pre: X[0], count: 40, kind: kind, dropout: site); return [g]
            })
        }
    }

    func testDropout() {
        var r = SplitMix64(seed: 4)
        let site = DropoutSite(p: 0.5, seed: 3, stream: 7)
        check("dropout", [rand(64, &r)], forward: { x in
            let X = ptrs(x); var y = [Float](repeating: 0, count: 64); dropoutForward(&y, X[0], count: 64, site: site); return y
        }, backward: { _, dy in
            var dy = dy; var g = [Float](repeating: 0, count: 64); dropoutBackward(dinp: &g, dout: &dy, count: 64, site: site); return [g]
        })
        // The mask is a pure function of (seed, stream, index) and keeps ≈ 1-p.
        var kept = 0
        for i in 0..<10000 where site.multiplier(i) != 0 { kept += 1; XCTAssertEqual(site.multiplier(i), 2) }
        XCTAssert(abs(kept - 5000) < 250)
    }

    func testEmbeddingAndPositions() {
        var r = SplitMix64(seed: 6)
        let V = 6, d = 4, pad = 1
        let tokens: [Int32] = [3, 0, 1, 5, 1, 2]    // B=2, T=3 with pads
        var positions = [Int32](repeating: 0, count: 6)
        tokens.withUnsafeBufferPointer { tp in positions.withUnsafeMutableBufferPointer { pp in
            makePositions(tp.baseAddress!, batch: 2, length: 3, padIndex: pad, into: pp.baseAddress!) } }
        XCTAssertEqual(positions, [2, 3, 1, 2, 1, 3])   // fairseq make_positions: cumsum of non-pad, pads -> padIndex
        let P = 5
        check("embedding (token table, learned positions)", [rand(V * d, &r), rand(P * d, &r)], forward: { x in
            var x = x; var y = [Float](repeating: 0, count: 6 * d)
            // The pad rows are fixed zeros under nn.Embedding(padding_idx) (never trained); pin them so the
            // finite difference matches that semantics.
            for j in 0..<d { x[0][pad * d + j] = 0; x[1][pad * d + j] = 0 }
            let X = ptrs(x)
            embeddingForward(&y, tokens: tokens, table: X[0], rows: 6, dim: d, scale: 2, positionTable: X[1], positions: positions); return y
        }, backward: { _, dy in
            var dy = dy; var gt = [Float](repeating: 0, count: V * d), gp = [Float](repeating: 0, count: P * d)
            embeddingBackward(dtable: &gt, dout: &dy, tokens: tokens, rows: 6, dim: d, scale: 2, padIndex: pad)
            embeddingBackward(dtable: &gp, dout: &dy, tokens: positions, rows: 6, dim: d, scale: 1, padIndex: pad)
            return [gt, gp]
        })
        // Sinusoidal table = fairseq get_embedding (half sin, half cos; pad row zero).
        let t = sinusoidalTable(numEmbeddings: 4, dim: 6, padIndex: 1)
        XCTAssertEqual(t[6..<12].allSatisfy { $0 == 0 }, true)
        let step = log(10000.0) / 2
        XCTAssertEqual(Double(t[2 * 6 + 1]), sin(2 * exp(-step)), accuracy: 1e-6)
        XCTAssertEqual(Double(t[2 * 6 + 3 + 1]), cos(2 * exp(-step)), accuracy: 1e-6)
    }

    func testAttentionBothMasks() {
        var r = SplitMix64(seed: 7)
        let B = 2, H = 2, D = 8
        for (Tq, Tk, causal, padded, pdrop) in [(3, 3, true, false, 0.0), (3, 4, false, true, 0.0), (4, 4, true, true, 0.3)] {
            var pad = [UInt8](repeating: 0, count: B * Tk)
            if padded { pad[Tk - 1] = 1; pad[Tk + Tk - 2] = 1 }
            let shape = AttentionShape(batch: B, queries: Tq, keys: Tk, dim: D, heads: H, causalOffset: causal ? Tk - Tq : nil)
            let site = DropoutSite(p: pdrop, seed: 1, stream: 2)
            check("attention causal=\(causal) pad=\(padded) drop=\(pdrop)", [rand(B * Tq * D, &r), rand(B * Tk * D, &r), rand(B * Tk * D, &r)],
                  h: 5e-3, forward: { x in
                let X = ptrs(x); var ctx = [Float](repeating: 0, count: B * Tq * D), probs = [Float](repeating: 0, count: B * H * Tq * Tk)
                attentionForward(ctx: &ctx, probs: &probs, q: X[0], k: X[1], v: X[2], shape: shape, keyPad: padded ? pad : nil, dropout: site)
                return ctx
            }, backward: { x, dy in
                let X = ptrs(x); var dy = dy
                var ctx = [Float](repeating: 0, count: B * Tq * D), probs = [Float](repeating: 0, count: B * H * Tq * Tk)
                attentionForward(ctx: &ctx, probs: &probs, q: X[0], k: X[1], v: X[2], shape: shape, keyPad: padded ? pad : nil, dropout: site)
                let G = ptrs(x.map { [Float](repeating: 0, count: $0.count) })
                attentionBackward(dq: G[0], dk: G[1], dv: G[2], dctx: &dy, probs: &probs, q: X[0], k: X[1], v: X[2], shape: shape, dropout: site)
                return unptrs(G, x)
            })
        }
    }

    func testLabelSmoothedCrossEntropy() {
        var r = SplitMix64(seed: 8)
        let R = 4, V = 6, pad = 1
        let targets: [Int32] = [0, 1, 5, 3]   // row 1 is pad
        let eps: Float = 0.1
        check("label-smoothed CE", [rand(R * V, &r)], h: 5e-3, forward: { x in
            let X = ptrs(x); var l = [Float](repeating: 0, count: R), n = l
            labelSmoothedCrossEntropy(logits: X[0], targets: targets, rows: R, vocab: V, epsilon: eps, padIndex: pad, gradScale: 1, dlogits: nil, rowLoss: &l, rowNll: &n)
            return [l.reduce(0, +)]
        }, backward: { x, dy in
            let X = ptrs(x); var l = [Float](repeating: 0, count: R), n = l, g = [Float](repeating: 0, count: R * V)
            labelSmoothedCrossEntropy(logits: X[0], targets: targets, rows: R, vocab: V, epsilon: eps, padIndex: pad, gradScale: dy[0], dlogits: &g, rowLoss: &l, rowNll: &n)
            return [g]
        })
        // Value check against the fairseq formula computed in double.
        var z = rand(V, &r)
        var l: [Float] = [0], n: [Float] = [0]
        labelSmoothedCrossEntropy(logits: &z, targets: [2], rows: 1, vocab: V, epsilon: eps, padIndex: pad, gradScale: 1, dlogits: nil, rowLoss: &l, rowNll: &n)
        let lse = log(z.map { exp(Double($0)) }.reduce(0, +))
        let logp = z.map { Double($0) - lse }
        let epsI = Double(eps) / Double(V - 1)
        let expect = (1 - Double(eps) - epsI) * -logp[2] + epsI * -logp.reduce(0, +)
        XCTAssertEqual(Double(l[0]), expect, accuracy: 1e-5)
        XCTAssertEqual(Double(n[0]), -logp[2], accuracy: 1e-5)
    }

    func testMethodOpsAndCombines() {
        var r = SplitMix64(seed: 9)
        let R = 3, C = 8, H = 2
        let ctx = { (s: UnsafeMutablePointer<Float>) in OpContext(training: true, step: 3, scratch: s) }
        func opCheck(_ name: String, _ op: ActivationOp, width: Int = C) {
            let specs = op.parameters
            var offsets: [String: Int] = [:]; var total = 0
            for s in specs { offsets[s.name] = total; total += s.count }
            op.bind(offsetOf: { offsets[$0]! })
            let cacheN = max(1, op.cacheSize(rows: R, width: width))
            check(name, [rand(R * width, &r), rand(max(total, 1), &r, scale: 0.5).map { $0 + 1 }], h: 5e-3, forward: { x in
                let X = ptrs(x); var y = [Float](repeating: 0, count: R * width), cache = [Float](repeating: 0, count: cacheN)
                var scratch = [Float](repeating: 0, count: R * width)
                op.forward(x: X[0], y: &y, rows: R, width: width, params: X[1], cache: &cache, context: ctx(&scratch)); return y
            }, backward: { x, dy in
                let X = ptrs(x); var dy = dy
                var y = [Float](repeating: 0, count: R * width), cache = [Float](repeating: 0, count: cacheN)
                var scratch = [Float](repeating: 0, count: R * width)
                op.forward(x: X[0], y: &y, rows: R, width: width, params: X[1], cache: &cache, context: ctx(&scratch))
                let G = ptrs(x.map { [Float](repeating: 0, count: $0.count) })
                op.backward(dy: &dy, dx: G[0], x: X[0], y: &y, rows: R, width: width, params: X[1], grads: G[1], cache: &cache, context: ctx(&scratch))
                return unptrs(G, x)
            }, checkInputs: total > 0 ? [0, 1] : [0])
        }
        opCheck("LayerNormOp", LayerNormOp("ln", width: C))
        opCheck("ScalarShiftOp", ScalarShiftOp("shift"))
        opCheck("ScalarScaleOp", ScalarScaleOp("scale"))
        opCheck("PerHeadScaleOp", PerHeadScaleOp("c_attn", heads: H))
        opCheck("BranchNormScaleOp", BranchNormScaleOp(maxNormStep: 10))
        func combineCheck(_ name: String, _ op: ResidualCombineOp) {
            var offsets: [String: Int] = [:]; var total = 0
            for s in op.parameters { offsets[s.name] = total; total += s.count }
            op.bind(offsetOf: { offsets[$0]! })
            var scratch = [Float](repeating: 0, count: 1)
            let c = ctx(&scratch)
            check(name, [rand(R * C, &r), rand(R * C, &r), rand(max(total, 1), &r)], forward: { x in
                let X = ptrs(x); var y = [Float](repeating: 0, count: R * C)
                op.forward(x: X[0], h: X[1], out: &y, rows: R, width: C, params: X[2], context: c); return y
            }, backward: { x, dy in
                let X = ptrs(x); var dy = dy; let G = ptrs(x.map { [Float](repeating: 0, count: $0.count) })
                op.backward(dout: &dy, x: X[0], h: X[1], dx: G[0], dh: G[1], rows: R, width: C, params: X[2], grads: G[2], context: c)
                return unptrs(G, x)
            }, checkInputs: total > 0 ? [0, 1, 2] : [0, 1])
        }
        combineCheck("ScaledResidual α=1.7", ScaledResidual(alpha: 1.7))
        combineCheck("VectorGateResidual (Admin ω / NormFormer w_resid)", VectorGateResidual("w", width: C))
        combineCheck("BranchScaleResidual (ReZero / Fixup scale)", BranchScaleResidual("s", initial: 0.3))
    }
}
