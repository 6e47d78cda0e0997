// One residual sublayer (self-attention, cross-attention or FFN) with the method's hook ops, and its
// forward/backward over flat buffers. Parameters live in the model's flat store; activations in
// `SublayerActivations` so that training and incremental decoding can use separate workspaces.
import Foundation

struct LinearSlot {
    let info: LinearInfo
    let weight: Int
    let bias: Int?
    var inDim: Int { info.fanIn }
    var outDim: Int { info.fanOut }
}

/// Activations one sublayer keeps between forward and backward.
final class SublayerActivations {
    var hookOut: [[FloatBuffer]] = Array(repeating: [], count: Hook.allCases.count)
    var hookCache: [[FloatBuffer]] = Array(repeating: [], count: Hook.allCases.count)
    let q = FloatBuffer(), k = FloatBuffer(), v = FloatBuffer(), probs = FloatBuffer(), ctx = FloatBuffer()
    let a = FloatBuffer(), g = FloatBuffer(), branch = FloatBuffer(), hDrop = FloatBuffer(), combined = FloatBuffer()
    // Pointers recorded by forward for backward (inputs of each stage).
    var x: FloatPtr? = nil, u: FloatPtr? = nil, c: FloatPtr? = nil, a2: FloatPtr? = nil, g2: FloatPtr? = nil
    var bo: FloatPtr? = nil, h: FloatPtr? = nil, y: FloatPtr? = nil
    var hookInputs: [[FloatPtr]] = Array(repeating: [], count: Hook.allCases.count)
    init(_ ops: [[ActivationOp]]) {
        for (i, list) in ops.enumerated() {
            hookOut[i] = list.map { _ in FloatBuffer() }
            hookCache[i] = list.map { _ in FloatBuffer() }
        }
    }
}

/// Keys/values a sublayer attends to: its own projections (self-attention) or encoder memory (cross).
struct AttentionInputs {
    var batch: Int
    var queries: Int
    var keys: Int
    var causal: Bool
    /// [B, Tk], nonzero = pad key
    var keyPad: UnsafePointer<UInt8>?
    /// Cross-attention memory [B·Tk, d]; nil for self-attention.
    var memory: FloatPtr?
}

final class Sublayer {
    let info: SublayerInfo
    let ops: [[ActivationOp]]   // indexed by Hook.allCases order
    let combine: ResidualCombineOp
    var q: LinearSlot?, k: LinearSlot?, v: LinearSlot?, out: LinearSlot?, fc1: LinearSlot?, fc2: LinearSlot?
    let activation: Activation
    let dropout: Double, attentionDropout: Double, activationDropout: Double
    /// Base of this sublayer's dropout stream ids (3 sites: attention probs, activation, residual).
    let streamBase: UInt64
    var label: String { info.modulePrefix }

    init(info: SublayerInfo, method: ResidualMethod, config: ModelConfig, streamBase: UInt64) {
        self.info = info
        self.ops = Hook.allCases.map { method.ops(at: $0, of: info) }
        self.combine = method.residualCombine(for: info)
        self.activation = config.activation
        self.dropout = config.dropout; self.attentionDropout = config.attentionDropout
        self.activationDropout = config.activationDropout
        self.streamBase = streamBase
    }

    func hookOps(_ h: Hook) -> [ActivationOp] { ops[Hook.allCases.firstIndex(of: h)!] }
    static func hookIndex(_ h: Hook) -> Int { Hook.allCases.firstIndex(of: h)! }

    /// Linears of this sublayer in torchscale registration order (k, v, q, out / fc1, fc2).
    var linears: [LinearSlot] { [k, v, q, out, fc1, fc2].compactMap { $0 } }

    // MARK: forward

    /// Runs the op chain of `hook` on x [rows, width]; returns the chain output (x itself when empty).
    func runChain(_ hook: Hook, _ x: FloatPtr, rows: Int, width: Int, acts: SublayerActivations, params: FloatPtr, ctx: OpContext) -> FloatPtr {
        let hi = Sublayer.hookIndex(hook)
        let list = ops[hi]
        if list.isEmpty { return x }
        var cur = x
        acts.hookInputs[hi].removeAll(keepingCapacity: true)
        for (i, op) in list.enumerated() {
            acts.hookInputs[hi].append(cur)
            let y = acts.hookOut[hi][i].ensure(rows * width)
            let cache = acts.hookCache[hi][i].ensure(max(1, op.cacheSize(rows: rows, width: width)))
            op.forward(x: cur, y: y, rows: rows, width: width, params: params, cache: cache, context: ctx)
            cur = y
        }
        return cur
    }

    func forward(x: FloatPtr, inputs ai: AttentionInputs, acts: SublayerActivations, params: FloatPtr,
                 ctx: OpContext, dropoutSeed: UInt64) -> FloatPtr {
        let d = info.embedDim, R = ai.batch * ai.queries
        let training = ctx.training
        acts.x = x
        let u = runChain(.branchInput, x, rows: R, width: d, acts: acts, params: params, ctx: ctx)
        acts.u = u
        let branch = acts.branch.ensure(R * d)
        if info.isAttention {
            let q = q!, k = k!, v = v!, o = out!
            let Rk = ai.batch * ai.keys
            let qb = acts.q.ensure(R * d), kb = acts.k.ensure(Rk * d), vb = acts.v.ensure(Rk * d)
            linearForward(qb, u, params + q.weight, q.bias.map { params + $0 }, rows: R, inDim: d, outDim: d)
            let scaling = 1 / Float(d / info.heads).squareRoot()
            Parallel.forRanges(R * d, grain: 16384) { r in for i in r { qb[i] *= scaling } }
            let src = ai.memory ?? u
            linearForward(kb, src, params + k.weight, k.bias.map { params + $0 }, rows: Rk, inDim: d, outDim: d)
            linearForward(vb, src, params + v.weight, v.bias.map { params + $0 }, rows: Rk, inDim: d, outDim: d)
            let shape = AttentionShape(batch: ai.batch, queries: ai.queries, keys: ai.keys, dim: d, heads: info.heads,
                                       causalOffset: ai.causal ? ai.keys - ai.queries : nil)
            let probs = acts.probs.ensure(ai.batch * info.heads * ai.queries * ai.keys)
            let cb = acts.ctx.ensure(R * d)
            attentionForward(ctx: cb, probs: probs, q: qb, k: kb, v: vb, shape: shape, keyPad: ai.keyPad,
                             dropout: DropoutSite(p: training ? attentionDropout : 0, seed: dropoutSeed, stream: streamBase,
                                                 offset: ctx.firstRow * info.heads * ai.keys))
            let c = runChain(.attentionContext, cb, rows: R, width: d, acts: acts, params: params, ctx: ctx)
            acts.c = c
            linearForward(branch, c, params + o.weight, o.bias.map { params + $0 }, rows: R, inDim: d, outDim: d)
        } else {
            ffnBranch(u, branch: branch, rows: R, acts: acts, params: params, ctx: ctx, dropoutSeed: dropoutSeed)
        }
        return finish(x: x, branch: branch, rows: R, acts: acts, params: params, ctx: ctx, dropoutSeed: dropoutSeed)
    }

    /// FFN branch: fc2(hidden(actDrop(act(preAct(fc1(u)))))) into `branch`.
    func ffnBranch(_ u: FloatPtr, branch: FloatPtr, rows R: Int, acts: SublayerActivations, params: FloatPtr, ctx: OpContext, dropoutSeed: UInt64) {
        let d = info.embedDim, f = info.ffnDim, fc1 = fc1!, fc2 = fc2!
        let a = acts.a.ensure(R * f)
        linearForward(a, u, params + fc1.weight, fc1.bias.map { params + $0 }, rows: R, inDim: d, outDim: f)
        let a2 = runChain(.ffnPreActivation, a, rows: R, width: f, acts: acts, params: params, ctx: ctx)
        acts.a2 = a2
        let g = acts.g.ensure(R * f)
        activationForward(g, a2, count: R * f, kind: activation,
                          dropout: DropoutSite(p: ctx.training ? activationDropout : 0, seed: dropoutSeed, stream: streamBase + 1,
                                               offset: ctx.firstRow * info.ffnDim))
        let g2 = runChain(.ffnHidden, g, rows: R, width: f, acts: acts, params: params, ctx: ctx)
        acts.g2 = g2
        linearForward(branch, g2, params + fc2.weight, fc2.bias.map { params + $0 }, rows: R, inDim: f, outDim: d)
    }

    /// Shared tail: branch-output ops, residual dropout, combine, sublayer-output ops.
    func finish(x: FloatPtr, branch: FloatPtr, rows R: Int, acts: SublayerActivations, params: FloatPtr, ctx: OpContext, dropoutSeed: UInt64) -> FloatPtr {
        let d = info.embedDim, training = ctx.training
        let bo = runChain(.branchOutput, branch, rows: R, width: d, acts: acts, params: params, ctx: ctx)
        acts.bo = bo
        let site = DropoutSite(p: training ? dropout : 0, seed: dropoutSeed, stream: streamBase + 2, offset: ctx.firstRow * d)
        var h = bo
        if site.active { h = acts.hDrop.ensure(R * d); dropoutForward(h, bo, count: R * d, site: site) }
        acts.h = h
        let comb = acts.combined.ensure(R * d)
        combine.forward(x: x, h: h, out: comb, rows: R, width: d, params: params, context: ctx)
        let y = runChain(.sublayerOutput, comb, rows: R, width: d, acts: acts, params: params, ctx: ctx)
        acts.y = y
        return y
    }

    /// Incremental decoding of one new position per row (eval mode). Self-attention appends this position's
    /// k/v to the cache ([rows, capacity, d], `length` entries filled) and attends over all of it; cross-attention
    /// uses precomputed memory k/v [rows, S, d].
    func forwardStep(x: FloatPtr, rows: Int, acts: SublayerActivations, params: FloatPtr, ctx: OpContext,
                     cacheK: FloatPtr?, cacheV: FloatPtr?, capacity: Int, length: Int,
                     crossK: FloatPtr?, crossV: FloatPtr?, sourceLength: Int, keyPad: UnsafePointer<UInt8>?) -> FloatPtr {
        let d = info.embedDim, R = rows
        let u = runChain(.branchInput, x, rows: R, width: d, acts: acts, params: params, ctx: ctx)
        let branch = acts.branch.ensure(R * d)
        if info.isAttention {
            let q = q!, o = out!
            let qb = acts.q.ensure(R * d)
            linearForward(qb, u, params + q.weight, q.bias.map { params + $0 }, rows: R, inDim: d, outDim: d)
            let scaling = 1 / Float(d / info.heads).squareRoot()
            for i in 0..<(R * d) { qb[i] *= scaling }
            var kp: FloatPtr, vp: FloatPtr, keys: Int, stride: Int, pad: UnsafePointer<UInt8>? = nil
            if info.kind == .selfAttention {
                let k = k!, v = v!
                let kn = acts.k.ensure(R * d), vn = acts.v.ensure(R * d)
                linearForward(kn, u, params + k.weight, k.bias.map { params + $0 }, rows: R, inDim: d, outDim: d)
                linearForward(vn, u, params + v.weight, v.bias.map { params + $0 }, rows: R, inDim: d, outDim: d)
                for r in 0..<R {
                    (cacheK! + (r * capacity + length) * d).update(from: kn + r * d, count: d)
                    (cacheV! + (r * capacity + length) * d).update(from: vn + r * d, count: d)
                }
                kp = cacheK!; vp = cacheV!; keys = length + 1; stride = capacity * d
            } else {
                kp = crossK!; vp = crossV!; keys = sourceLength; stride = sourceLength * d; pad = keyPad
            }
            let shape = AttentionShape(batch: R, queries: 1, keys: keys, dim: d, heads: info.heads, kBatchStride: stride, causalOffset: nil)
            let probs = acts.probs.ensure(R * info.heads * keys)
            let cb = acts.ctx.ensure(R * d)
            attentionForward(ctx: cb, probs: probs, q: qb, k: kp, v: vp, shape: shape, keyPad: pad, dropout: DropoutSite(p: 0, seed: 0, stream: 0))
            let c = runChain(.attentionContext, cb, rows: R, width: d, acts: acts, params: params, ctx: ctx)
            linearForward(branch, c, params + o.weight, o.bias.map { params + $0 }, rows: R, inDim: d, outDim: d)
        } else {
            ffnBranch(u, branch: branch, rows: R, acts: acts, params: params, ctx: ctx, dropoutSeed: 0)
        }
        return finish(x: x, branch: branch, rows: R, acts: acts, params: params, ctx: ctx, dropoutSeed: 0)
    }

    // MARK: backward

    /// Backward through the chain of `hook`. Returns the gradient wrt the chain input; when `into` is given,
    /// that gradient is accumulated there (and `into` is returned).
    func backChain(_ hook: Hook, dy: FloatPtr, rows: Int, width: Int, acts: SublayerActivations, params: FloatPtr,
                   grads: FloatPtr, ctx: OpContext, arena: Arena, into: FloatPtr? = nil) -> FloatPtr {
        let hi = Sublayer.hookIndex(hook)
        let list = ops[hi]
        let n = rows * width
        if list.isEmpty {
            guard let into else { return dy }
            Parallel.forRanges(n, grain: 16384) { r in for i in r { into[i] += dy[i] } }
            return into
        }
        var cur = dy
        for i in stride(from: list.count - 1, through: 0, by: -1) {
            let dx = (i == 0 && into != nil) ? into! : arena.alloc(n)
            let cache = acts.hookCache[hi][i].ptr
            list[i].backward(dy: cur, dx: dx, x: acts.hookInputs[hi][i], y: acts.hookOut[hi][i].ptr, rows: rows, width: width,
                             params: params, grads: grads, cache: cache, context: ctx)
            cur = dx
        }
        return cur
    }

    /// dx (written, not accumulated) = ∂L/∂x given dy = ∂L/∂y. dMemory accumulates cross-attention memory gradients.
    func backward(dy: FloatPtr, dx: FloatPtr, inputs ai: AttentionInputs, dMemory: FloatPtr?, acts: SublayerActivations,
                  params: FloatPtr, grads: FloatPtr, ctx: OpContext, dropoutSeed: UInt64, arena: Arena) {
        let d = info.embedDim, R = ai.batch * ai.queries
        let training = ctx.training
        arena.reset()
        let dComb = backChain(.sublayerOutput, dy: dy, rows: R, width: d, acts: acts, params: params, grads: grads, ctx: ctx, arena: arena)
        zero(dx, R * d)
        let dH = arena.alloc(R * d)
        combine.backward(dout: dComb, x: acts.x!, h: acts.h!, dx: dx, dh: dH, rows: R, width: d, params: params, grads: grads, context: ctx)
        let site = DropoutSite(p: training ? dropout : 0, seed: dropoutSeed, stream: streamBase + 2, offset: ctx.firstRow * d)
        var dBO = dH
        if site.active { dBO = arena.alloc(R * d); dropoutBackward(dinp: dBO, dout: dH, count: R * d, site: site) }
        let dBranch = backChain(.branchOutput, dy: dBO, rows: R, width: d, acts: acts, params: params, grads: grads, ctx: ctx, arena: arena)
        let dU = arena.alloc(R * d)
        if info.isAttention {
            let q = q!, k = k!, v = v!, o = out!
            let Rk = ai.batch * ai.keys
            let dC = arena.alloc(R * d)
            linearBackward(dinp: dC, dweight: grads + o.weight, dbias: o.bias.map { grads + $0 }, dout: dBranch, inp: acts.c!,
                           weight: params + o.weight, rows: R, inDim: d, outDim: d)
            let dCtx = backChain(.attentionContext, dy: dC, rows: R, width: d, acts: acts, params: params, grads: grads, ctx: ctx, arena: arena)
            let dQ = arena.alloc(R * d), dK = arena.alloc(Rk * d), dV = arena.alloc(Rk * d)
            let shape = AttentionShape(batch: ai.batch, queries: ai.queries, keys: ai.keys, dim: d, heads: info.heads,
                                       causalOffset: ai.causal ? ai.keys - ai.queries : nil)
            attentionBackward(dq: dQ, dk: dK, dv: dV, dctx: dCtx, probs: acts.probs.ptr, q: acts.q.ptr, k: acts.k.ptr, v: acts.v.ptr,
                              shape: shape, dropout: DropoutSite(p: training ? attentionDropout : 0, seed: dropoutSeed, stream: streamBase,
                                                 offset: ctx.firstRow * info.heads * ai.keys))
            let scaling = 1 / Float(d / info.heads).squareRoot()
            Parallel.forRanges(R * d, grain: 16384) { r in for i in r { dQ[i] *= scaling } }
            linearBackward(dinp: dU, dweight: grads + q.weight, dbias: q.bias.map { grads + $0 }, dout: dQ, inp: acts.u!,
                           weight: params + q.weight, rows: R, inDim: d, outDim: d)
            let src = ai.memory ?? acts.u!
            let dSrc = ai.memory == nil ? dU : dMemory!
            linearBackward(dinp: dSrc, dweight: grads + k.weight, dbias: k.bias.map { grads + $0 }, dout: dK, inp: src,
                           weight: params + k.weight, rows: Rk, inDim: d, outDim: d)
            linearBackward(dinp: dSrc, dweight: grads + v.weight, dbias: v.bias.map { grads + $0 }, dout: dV, inp: src,
                           weight: params + v.weight, rows: Rk, inDim: d, outDim: d)
        } else {
            let f = info.ffnDim, fc1 = fc1!, fc2 = fc2!
            let dG2 = arena.alloc(R * f)
            linearBackward(dinp: dG2, dweight: grads + fc2.weight, dbias: fc2.bias.map { grads + $0 }, dout: dBranch, inp: acts.g2!,
                           weight: params + fc2.weight, rows: R, inDim: f, outDim: d)
            let dG = backChain(.ffnHidden, dy: dG2, rows: R, width: f, acts: acts, params: params, grads: grads, ctx: ctx, arena: arena)
            let dA2 = arena.alloc(R * f)
            activationBackward(dpre: dA2, dout: dG, pre: acts.a2!, count: R * f, kind: activation,
                               dropout: DropoutSite(p: training ? activationDropout : 0, seed: dropoutSeed, stream: streamBase + 1,
                                                   offset: ctx.firstRow * f))
            let dA = backChain(.ffnPreActivation, dy: dA2, rows: R, width: f, acts: acts, params: params, grads: grads, ctx: ctx, arena: arena)
            linearBackward(dinp: dU, dweight: grads + fc1.weight, dbias: fc1.bias.map { grads + $0 }, dout: dA, inp: acts.u!,
                           weight: params + fc1.weight, rows: R, inDim: d, outDim: f)
        }
        _ = backChain(.branchInput, dy: dU, rows: R, width: d, acts: acts, params: params, grads: grads, ctx: ctx, arena: arena, into: dx)
    }

    /// Upper bound on arena floats one backward needs.
    func arenaNeed(rows R: Int, keyRows Rk: Int) -> Int {
        let d = info.embedDim, f = info.ffnDim
        let chainOps = ops.reduce(0) { $0 + $1.count }
        return (8 * R * d + 3 * Rk * d + 3 * R * f + chainOps * R * max(d, f)) + 16 * 32
    }
}
