// Float32 kernels in llm.c style: one forward and one backward function per op over flat buffers.
// Shapes are given in the comment above each kernel; R = B·T rows. Forward functions write their
// outputs (and the caches backward needs); backward functions ACCUMULATE (+=) into input and parameter
// gradients, so callers zero gradient buffers first. Loops that split work across threads use
// `Parallel.forRanges` with a static partition and per-element arithmetic that does not depend on the
// partition, and products go through `GEMM.multiply` (shape-determined blocks, single-threaded BLAS), so results
// are bit-identical whatever the thread count.
import CBLAS
import Foundation

public typealias FloatPtr = UnsafeMutablePointer<Float>

// MARK: - Vector helpers (explicit SIMD so reductions vectorize without fast-math)

@inline(__always) func loadV(_ p: FloatPtr, _ i: Int) -> SIMD8<Float> {
    UnsafeRawPointer(p + i).loadUnaligned(as: SIMD8<Float>.self)
}
@inline(__always) func storeV(_ p: FloatPtr, _ i: Int, _ v: SIMD8<Float>) {
    UnsafeMutableRawPointer(p + i).storeBytes(of: v, as: SIMD8<Float>.self)
}

/// Σ a[i]·b[i], fixed summation order (two SIMD8 accumulators then scalar tail).
@inline(__always) func dot(_ a: FloatPtr, _ b: FloatPtr, _ n: Int) -> Float {
    var acc0 = SIMD8<Float>(), acc1 = SIMD8<Float>()
    var i = 0
    while i + 16 <= n { acc0 += loadV(a, i) * loadV(b, i); acc1 += loadV(a, i + 8) * loadV(b, i + 8); i += 16 }
    if i + 8 <= n { acc0 += loadV(a, i) * loadV(b, i); i += 8 }
    var s = (acc0 + acc1).sum()
    while i < n { s += a[i] * b[i]; i += 1 }
    return s
}

/// Σ a[i], fixed order.
@inline(__always) func vsum(_ a: FloatPtr, _ n: Int) -> Float {
    var acc0 = SIMD8<Float>(), acc1 = SIMD8<Float>()
    var i = 0
    while i + 16 <= n { acc0 += loadV(a, i); acc1 += loadV(a, i + 8); i += 16 }
    if i + 8 <= n { acc0 += loadV(a, i); i += 8 }
    var s = (acc0 + acc1).sum()
    while i < n { s += a[i]; i += 1 }
    return s
}

/// e^x in each lane: Cephes expf's range reduction (x = n·ln2 + r, ln2 split in two for an exact n·C1) and its
/// degree-7 polynomial, relative error < 2e-7 (`ExpTests` checks it against `expf` over the whole range). One
/// vector of eight instead of eight calls of `expf`: softmax and the label-smoothed loss make ~2 M exponentials a
/// step on 64-wide models. Lanes below −87.33 give 0 (e^x would be subnormal, < 1.2e-38, negligible beside the
/// e^0 = 1 every softmax row has); lanes above 88 or NaN go to `expf`, so +∞ and NaN come out as before.
@inline(__always) func expV(_ x: SIMD8<Float>) -> SIMD8<Float> {
    let lo = SIMD8<Float>(repeating: -87.33654), hi = SIMD8<Float>(repeating: 88)
    let special = (x .> hi) .| (x .!= x)
    let xc = x.replacing(with: 0, where: special .| (x .< lo))
    let fx = (xc * 1.44269504088896341 + 0.5).rounded(.down)
    var r = xc - fx * 0.693359375          // exact: fx is an integer of at most 8 bits, C1 has 9
    r = r + fx * 2.12194440e-4
    var y = SIMD8<Float>(repeating: 1.9875691500e-4)
    y = y * r + 1.3981999507e-3
    y = y * r + 8.3334519073e-3
    y = y * r + 4.1665795894e-2
    y = y * r + 1.6666665459e-1
    y = y * r + 5.0000001201e-1
    y = y * (r * r) + r + 1
    let n = SIMD8<Int32>(fx, rounding: .towardZero)
    let scale = unsafeBitCast((n &+ 127) &<< 23, to: SIMD8<Float>.self)
    var out = (y * scale).replacing(with: 0, where: x .< lo)
    if any(special) { for l in 0..<8 where special[l] { out[l] = expf(x[l]) } }
    return out
}

/// Writes e^(z[j] − shift) to out (when given; out may be z) and returns Σ_j e^(z[j] − shift), summed in eight
/// lanes then across them. Training and evaluation both call this, so their losses agree to the bit.
@inline(__always) func expShiftSum(_ out: FloatPtr?, _ z: FloatPtr, _ n: Int, shift: Float) -> Float {
    let sv = SIMD8<Float>(repeating: shift)
    var acc = SIMD8<Float>()
    var i = 0
    while i + 8 <= n {
        let e = expV(loadV(z, i) - sv)
        if let out { storeV(out, i, e) }
        acc += e
        i += 8
    }
    if i < n {
        // Tail lanes padded with −∞, whose exponential is 0.
        var t = SIMD8<Float>(repeating: -.infinity)
        for l in 0..<(n - i) { t[l] = z[i + l] }
        let e = expV(t - sv)
        if let out { for l in 0..<(n - i) { out[i + l] = e[l] } }
        acc += e
    }
    return acc.sum()
}

/// y[i] += a·x[i]
@inline(__always) func axpy(_ y: FloatPtr, _ a: Float, _ x: FloatPtr, _ n: Int) {
    var i = 0
    let av = SIMD8<Float>(repeating: a)
    while i + 8 <= n { storeV(y, i, loadV(y, i) + av * loadV(x, i)); i += 8 }
    while i < n { y[i] += a * x[i]; i += 1 }
}

@inline(__always) func zero(_ p: FloatPtr, _ n: Int) { if n > 0 { p.update(repeating: 0, count: n) } }

// MARK: - Linear (one sgemm over all rows)

/// out[R, OC] = inp[R, C] · weight[OC, C]ᵀ + bias[OC]   (PyTorch nn.Linear layout)
public func linearForward(_ out: FloatPtr, _ inp: FloatPtr, _ weight: FloatPtr, _ bias: FloatPtr?,
                          rows: Int, inDim: Int, outDim: Int) {
    var beta: Float = 0
    if let bias {
        for r in 0..<rows { (out + r * outDim).update(from: bias, count: outDim) }
        beta = 1
    }
    GEMM.multiply(transA: false, transB: true, m: rows, n: outDim, k: inDim, alpha: 1, a: inp, lda: inDim,
                  b: weight, ldb: inDim, beta: beta, c: out, ldc: outDim)
}

/// dinp[R, C] += dout[R, OC]·weight;  dweight[OC, C] += doutᵀ·inp;  dbias[OC] += Σ_r dout[r, :]
public func linearBackward(dinp: FloatPtr?, dweight: FloatPtr, dbias: FloatPtr?, dout: FloatPtr, inp: FloatPtr,
                           weight: FloatPtr, rows: Int, inDim: Int, outDim: Int) {
    if let dinp {
        GEMM.multiply(transA: false, transB: false, m: rows, n: inDim, k: outDim, alpha: 1, a: dout, lda: outDim,
                      b: weight, ldb: inDim, beta: 1, c: dinp, ldc: inDim)
    }
    GEMM.multiply(transA: true, transB: false, m: outDim, n: inDim, k: rows, alpha: 1, a: dout, lda: outDim,
                  b: inp, ldb: inDim, beta: 1, c: dweight, ldc: inDim)
    if let dbias { columnSumAccumulate(dbias, dout, rows: rows, cols: outDim) }
}

/// acc[c] += Σ_r m[r, c]; columns are split across threads, each column summed over rows in order.
func columnSumAccumulate(_ acc: FloatPtr, _ m: FloatPtr, rows: Int, cols: Int) {
    Parallel.forRanges((cols + 7) / 8, grain: max(1, 4096 / max(rows, 1))) { blocks in
        let c0 = blocks.lowerBound * 8, c1 = min(cols, blocks.upperBound * 8)
        var c = c0
        while c + 8 <= c1 {
            var s = SIMD8<Float>()
            for r in 0..<rows { s += loadV(m, r * cols + c) }
            storeV(acc, c, loadV(acc, c) + s)
            c += 8
        }
        while c < c1 {
            var s: Float = 0
            for r in 0..<rows { s += m[r * cols + c] }
            acc[c] += s
            c += 1
        }
    }
}

/// acc[c] += Σ_r a[r, c]·b[r, c]  (column-split like `columnSumAccumulate`)
func columnDotAccumulate(_ acc: FloatPtr, _ a: FloatPtr, _ b: FloatPtr, rows: Int, cols: Int) {
    Parallel.forRanges((cols + 7) / 8, grain: max(1, 4096 / max(rows, 1))) { blocks in
        let c0 = blocks.lowerBound * 8, c1 = min(cols, blocks.upperBound * 8)
        var c = c0
        while c + 8 <= c1 {
            var s = SIMD8<Float>()
            for r in 0..<rows { s += loadV(a, r * cols + c) * loadV(b, r * cols + c) }
            storeV(acc, c, loadV(acc, c) + s)
            c += 8
        }
        while c < c1 {
            var s: Float = 0
            for r in 0..<rows { s += a[r * cols + c] * b[r * cols + c] }
            acc[c] += s
            c += 1
        }
    }
}

// MARK: - LayerNorm (torch.nn.LayerNorm, biased variance, eps 1e-5)

/// out[R, C] = (inp - mean)·rstd·weight + bias; caches mean[R], rstd[R]
public func layerNormForward(_ out: FloatPtr, mean: FloatPtr, rstd: FloatPtr, _ inp: FloatPtr,
                             weight: FloatPtr, bias: FloatPtr, rows: Int, dim: Int, eps: Float = 1e-5) {
    Parallel.forRanges(rows, grain: max(1, 8192 / dim)) { range in
        for r in range {
            let x = inp + r * dim, y = out + r * dim
            let m = vsum(x, dim) / Float(dim)
            var v: Float = 0
            var acc = SIMD8<Float>()
            var i = 0
            let mv = SIMD8<Float>(repeating: m)
            while i + 8 <= dim { let d = loadV(x, i) - mv; acc += d * d; i += 8 }
            v = acc.sum()
            while i < dim { let d = x[i] - m; v += d * d; i += 1 }
            let s = 1 / (v / Float(dim) + eps).squareRoot()
            mean[r] = m; rstd[r] = s
            for j in 0..<dim { y[j] = (x[j] - m) * s * weight[j] + bias[j] }
        }
    }
}

/// dinp += ∂L/∂inp; dweight[C] += Σ dout·x̂; dbias[C] += Σ dout.  `scratch` holds R·C floats (x̂).
public func layerNormBackward(dinp: FloatPtr, dweight: FloatPtr, dbias: FloatPtr, dout: FloatPtr, inp: FloatPtr,
                              weight: FloatPtr, mean: FloatPtr, rstd: FloatPtr, rows: Int, dim: Int, scratch: FloatPtr) {
    let xhatAll = scratch
    Parallel.forRanges(rows, grain: max(1, 8192 / dim)) { range in
        for r in range {
            let x = inp + r * dim, dy = dout + r * dim, dx = dinp + r * dim, xh = xhatAll + r * dim
            let m = mean[r], s = rstd[r]
            var sumD: Float = 0, sumDX: Float = 0
            for j in 0..<dim { xh[j] = (x[j] - m) * s }
            // g = dy·weight; dx = s·(g - mean(g) - x̂·mean(g·x̂))
            var a0 = SIMD8<Float>(), a1 = SIMD8<Float>()
            var j = 0
            while j + 8 <= dim {
                let g = loadV(dy, j) * loadV(weight, j)
                a0 += g; a1 += g * loadV(xh, j); j += 8
            }
            sumD = a0.sum(); sumDX = a1.sum()
            while j < dim { let g = dy[j] * weight[j]; sumD += g; sumDX += g * xh[j]; j += 1 }
            let mD = sumD / Float(dim), mDX = sumDX / Float(dim)
            for j in 0..<dim { dx[j] += s * (dy[j] * weight[j] - mD - xh[j] * mDX) }
        }
    }
    columnDotAccumulate(dweight, dout, xhatAll, rows: rows, cols: dim)
    columnSumAccumulate(dbias, dout, rows: rows, cols: dim)
}

// MARK: - Activations fused with activation dropout

@inline(__always) func geluValue(_ x: Float) -> Float { 0.5 * x * (1 + erff(x * 0.70710678118654752)) }
@inline(__always) func geluDerivative(_ x: Float) -> Float {
    0.5 * (1 + erff(x * 0.70710678118654752)) + x * expf(-0.5 * x * x) * 0.39894228040143268
}

/// out[n] = dropout(act(pre[n]))   (torch F.relu / F.gelu erf form; dropout after the activation)
public func activationForward(_ out: FloatPtr, _ pre: FloatPtr, count n: Int, kind: Activation, dropout: DropoutSite) {
    Parallel.forRanges(n, grain: 16384) { range in
        switch kind {
        case .relu:
            if dropout.active { for i in range { out[i] = max(pre[i], 0) * dropout.multiplier(i) } }
            else { for i in range { out[i] = max(pre[i], 0) } }
        case .gelu:
            if dropout.active { for i in range { out[i] = geluValue(pre[i]) * dropout.multiplier(i) } }
            else { for i in range { out[i] = geluValue(pre[i]) } }
        }
    }
}

/// dpre[n] += dout·mask·act'(pre)
public func activationBackward(dpre: FloatPtr, dout: FloatPtr, pre: FloatPtr, count n: Int, kind: Activation, dropout: DropoutSite) {
    Parallel.forRanges(n, grain: 16384) { range in
        switch kind {
        case .relu:
            if dropout.active {
                for i in range where pre[i] > 0 { dpre[i] += dout[i] * dropout.multiplier(i) }
            } else {
                // Branch-free select so the loop vectorizes; adding +0 where pre <= 0 leaves dpre unchanged.
                var i = range.lowerBound
                let zeroV = SIMD8<Float>()
                while i + 8 <= range.upperBound {
                    let g = loadV(dout, i).replacing(with: zeroV, where: .!(loadV(pre, i) .> zeroV))
                    storeV(dpre, i, loadV(dpre, i) + g)
                    i += 8
                }
                while i < range.upperBound { if pre[i] > 0 { dpre[i] += dout[i] }; i += 1 }
            }
        case .gelu:
            for i in range { dpre[i] += dout[i] * (dropout.active ? dropout.multiplier(i) : 1) * geluDerivative(pre[i]) }
        }
    }
}

// MARK: - Dropout

/// out[n] = inp[n]·mask[n] (inverted dropout; mask from the counter-based site)
public func dropoutForward(_ out: FloatPtr, _ inp: FloatPtr, count n: Int, site: DropoutSite) {
    if !site.active { out.update(from: inp, count: n); return }
    Parallel.forRanges(n, grain: 16384) { range in for i in range { out[i] = inp[i] * site.multiplier(i) } }
}

/// dinp[n] += dout[n]·mask[n]
public func dropoutBackward(dinp: FloatPtr, dout: FloatPtr, count n: Int, site: DropoutSite) {
    Parallel.forRanges(n, grain: 16384) { range in
        if site.active { for i in range { dinp[i] += dout[i] * site.multiplier(i) } }
        else { for i in range { dinp[i] += dout[i] } }
    }
}

// MARK: - Embeddings and positions

/// fairseq `utils.make_positions`: non-pad tokens get padIndex + (count of non-pad tokens so far),
/// pad tokens get padIndex.  tokens [B, T] -> positions [B, T]
public func makePositions(_ tokens: UnsafePointer<Int32>, batch: Int, length: Int, padIndex: Int,
                          into positions: UnsafeMutablePointer<Int32>, startOffset: Int = 0) {
    for b in 0..<batch {
        var count = startOffset
        for t in 0..<length {
            let tok = Int(tokens[b * length + t])
            if tok == padIndex { positions[b * length + t] = Int32(padIndex) }
            else { count += 1; positions[b * length + t] = Int32(padIndex + count) }
        }
    }
}

/// fairseq SinusoidalPositionalEmbedding.get_embedding: rows [numEmbeddings, dim]; half sin, half cos,
/// frequency step log(10000)/(half-1); odd dim gets a zero last column; row padIndex is zero.
public func sinusoidalTable(numEmbeddings: Int, dim: Int, padIndex: Int) -> [Float] {
    let half = dim / 2
    let step = Foundation.log(10000.0) / Double(half - 1)
    var table = [Float](repeating: 0, count: numEmbeddings * dim)
    // torch computes the frequencies and products in float32; reproduce that rounding.
    let freqs = (0..<half).map { Float(Foundation.exp(Double($0) * -step)) }
    for pos in 0..<numEmbeddings where pos != padIndex {
        for i in 0..<half {
            let angle = Float(pos) * freqs[i]
            table[pos * dim + i] = sinf(angle)
            table[pos * dim + half + i] = cosf(angle)
        }
    }
    return table
}

/// out[R, C] = scale·table[tok[r], :] (+ positions[pos[r], :] if given)
public func embeddingForward(_ out: FloatPtr, tokens: UnsafePointer<Int32>, table: FloatPtr, rows: Int, dim: Int,
                             scale: Float, positionTable: FloatPtr?, positions: UnsafePointer<Int32>?) {
    Parallel.forRanges(rows, grain: max(1, 8192 / dim)) { range in
        for r in range {
            let e = table + Int(tokens[r]) * dim, y = out + r * dim
            if let positionTable, let positions {
                let p = positionTable + Int(positions[r]) * dim
                for j in 0..<dim { y[j] = scale * e[j] + p[j] }
            } else {
                for j in 0..<dim { y[j] = scale * e[j] }
            }
        }
    }
}

/// dtable[tok[r], :] += scale·dout[r, :] for non-pad tokens (nn.Embedding(padding_idx) gives the pad row no
/// gradient).  Sequential scatter-add: deterministic.
public func embeddingBackward(dtable: FloatPtr, dout: FloatPtr, tokens: UnsafePointer<Int32>, rows: Int, dim: Int,
                              scale: Float, padIndex: Int) {
    for r in 0..<rows where Int(tokens[r]) != padIndex { axpy(dtable + Int(tokens[r]) * dim, scale, dout + r * dim, dim) }
}

// MARK: - Multi-head attention core (after the q/k/v projections, before out_proj)

/// One row of a small GEMM: out[0..<n] (+)= Σ_{c<k} a[c·lda] · b[c·ldb + 0..<n].
/// Vectorized over the n outputs (register accumulators, no horizontal reductions); every output element is
/// summed over c in increasing order starting from 0 (or from its old value when `accumulate`), so the result
/// does not depend on how callers split work.
@inline(__always) func rowGemm(_ out: FloatPtr, _ a: FloatPtr, lda: Int, _ b: FloatPtr, ldb: Int, k: Int, n: Int,
                               accumulate: Bool) {
    var j = 0
    while j + 32 <= n {
        var s0 = SIMD8<Float>(), s1 = SIMD8<Float>(), s2 = SIMD8<Float>(), s3 = SIMD8<Float>()
        if accumulate { s0 = loadV(out, j); s1 = loadV(out, j + 8); s2 = loadV(out, j + 16); s3 = loadV(out, j + 24) }
        for c in 0..<k {
            let av = SIMD8<Float>(repeating: a[c * lda]), bp = b + c * ldb + j
            s0 += av * loadV(bp, 0); s1 += av * loadV(bp, 8); s2 += av * loadV(bp, 16); s3 += av * loadV(bp, 24)
        }
        storeV(out, j, s0); storeV(out, j + 8, s1); storeV(out, j + 16, s2); storeV(out, j + 24, s3)
        j += 32
    }
    while j + 8 <= n {
        var s0 = accumulate ? loadV(out, j) : SIMD8<Float>()
        for c in 0..<k { s0 += SIMD8<Float>(repeating: a[c * lda]) * loadV(b + c * ldb, j) }
        storeV(out, j, s0)
        j += 8
    }
    while j < n {
        var s: Float = accumulate ? out[j] : 0
        for c in 0..<k { s += a[c * lda] * b[c * ldb + j] }
        out[j] = s
        j += 1
    }
}

/// Shapes: q [B, Tq, D] (already scaled by head_dim^-1/2), k/v rows b·kBatchStride + j·D (normally
/// kBatchStride = Tk·D), probs [B, H, Tq, Tk] (softmax output before dropout), ctx [B, Tq, D] (written).
/// keyPad [B, Tk]: nonzero = masked key. causalOffset: query i sees keys j <= i + offset (nil = no causal mask).
/// A query whose keys are all masked gets zero probabilities (PyTorch would give NaN).
public struct AttentionShape {
    public var batch: Int, queries: Int, keys: Int, dim: Int, heads: Int
    public var kBatchStride: Int
    public var causalOffset: Int?
    public var headDim: Int { dim / heads }
    public init(batch: Int, queries: Int, keys: Int, dim: Int, heads: Int, kBatchStride: Int? = nil, causalOffset: Int? = nil) {
        self.batch = batch; self.queries = queries; self.keys = keys; self.dim = dim; self.heads = heads
        self.kBatchStride = kBatchStride ?? keys * dim; self.causalOffset = causalOffset
    }
    /// Number of keys query i may see (causal prefix or all).
    @inline(__always) func limit(_ i: Int) -> Int { causalOffset.map { min(keys, max(0, i + $0 + 1)) } ?? keys }
}

/// Per (batch, head) task: S = Q·Kᵀ [Tq, Tk] (Kᵀ packed once per head so score rows are vectorized over keys),
/// row softmax with masks, ctx = P_drop·V [Tq, hd]. Heads write disjoint ctx columns, so tasks never share outputs.
public func attentionForward(ctx: FloatPtr, probs: FloatPtr, q: FloatPtr, k: FloatPtr, v: FloatPtr,
                             shape s: AttentionShape, keyPad: UnsafePointer<UInt8>?, dropout: DropoutSite) {
    let H = s.heads, Tq = s.queries, Tk = s.keys, D = s.dim, hd = s.headDim
    Parallel.forRanges(s.batch * H, grain: 1) { range in
        withUnsafeTemporaryAllocation(of: Float.self, capacity: hd * Tk + Tk) { tmp in
            let kt = tmp.baseAddress!          // [hd, Tk] this head's keys, transposed
            let pd = kt + hd * Tk              // [Tk] dropped-out probabilities of one query
            for bh in range {
                let b = bh / H, h = bh % H
                let kh = k + b * s.kBatchStride + h * hd, vh = v + b * s.kBatchStride + h * hd
                for j in 0..<Tk { for c in 0..<hd { kt[c * Tk + j] = kh[j * D + c] } }
                for i in 0..<Tq {
                    let qi = q + (b * Tq + i) * D + h * hd
                    let prow = probs + (bh * Tq + i) * Tk
                    let ci = ctx + (b * Tq + i) * D + h * hd
                    let limit = s.limit(i)
                    rowGemm(prow, qi, lda: 1, kt, ldb: Tk, k: hd, n: limit, accumulate: false)
                    var mx = -Float.infinity
                    var anyKey = false
                    for j in 0..<limit {
                        if let keyPad, keyPad[b * Tk + j] != 0 { prow[j] = -.infinity; continue }
                        anyKey = true
                        if !(prow[j] <= mx) { mx = prow[j] }   // written so that a NaN score propagates
                    }
                    if !anyKey { zero(prow, Tk); zero(ci, hd); continue }
                    let sum = expShiftSum(prow, prow, limit, shift: mx)
                    let inv = 1 / sum
                    for j in 0..<limit { prow[j] *= inv }
                    for j in limit..<Tk { prow[j] = 0 }
                    var p = prow
                    if dropout.active {
                        let base = (bh * Tq + i) * Tk
                        for j in 0..<limit { pd[j] = prow[j] * dropout.multiplier(base + j) }
                        p = pd
                    }
                    rowGemm(ci, p, lda: 1, vh, ldb: D, k: limit, n: hd, accumulate: false)
                }
            }
        }
    }
}

/// dq, dk, dv += gradients (dk/dv indexed like k/v). dctx [B, Tq, D].
/// Per (batch, head) task, like forward: dP_drop = dCtx·Vᵀ, dS = P∘(dP − rowsum(P∘dP)), dQ += dS·K, dK += dSᵀ·Q,
/// dV += P_dropᵀ·dCtx. A head touches only its own hd columns of dq/dk/dv, so tasks never share outputs.
public func attentionBackward(dq: FloatPtr, dk: FloatPtr, dv: FloatPtr, dctx: FloatPtr, probs: FloatPtr,
                              q: FloatPtr, k: FloatPtr, v: FloatPtr, shape s: AttentionShape,
                              dropout: DropoutSite) {
    let H = s.heads, Tq = s.queries, Tk = s.keys, D = s.dim, hd = s.headDim
    Parallel.forRanges(s.batch * H, grain: 1) { range in
        withUnsafeTemporaryAllocation(of: Float.self, capacity: hd * Tk + 2 * Tq * Tk) { tmp in
            let vt = tmp.baseAddress!          // [hd, Tk] this head's values, transposed
            let ds = vt + hd * Tk              // [Tq, Tk] dS (zero where P = 0)
            let pdAll = ds + Tq * Tk           // [Tq, Tk] P_drop = P·mask (only with dropout)
            for bh in range {
                let b = bh / H, h = bh % H
                let kh = k + b * s.kBatchStride + h * hd, vh = v + b * s.kBatchStride + h * hd
                let dkh = dk + b * s.kBatchStride + h * hd, dvh = dv + b * s.kBatchStride + h * hd
                let qh = q + b * Tq * D + h * hd, dqh = dq + b * Tq * D + h * hd, dch = dctx + b * Tq * D + h * hd
                let P = probs + bh * Tq * Tk
                for j in 0..<Tk { for c in 0..<hd { vt[c * Tk + j] = vh[j * D + c] } }
                for i in 0..<Tq {
                    let prow = P + i * Tk, dsr = ds + i * Tk
                    let limit = s.limit(i)
                    let base = (bh * Tq + i) * Tk
                    // dP_drop[j] = dctx_i·v_j, then dP = dP_drop·mask (stored in dsr until dS is formed)
                    rowGemm(dsr, dch + i * D, lda: 1, vt, ldb: Tk, k: hd, n: limit, accumulate: false)
                    var dotPdP: Float = 0
                    for j in 0..<limit {
                        let p = prow[j]
                        if p == 0 { dsr[j] = 0; continue }
                        if dropout.active { dsr[j] *= dropout.multiplier(base + j) }
                        dotPdP += p * dsr[j]
                    }
                    // dS_j = P_j (dP_j - Σ P·dP)
                    for j in 0..<limit where prow[j] != 0 { dsr[j] = prow[j] * (dsr[j] - dotPdP) }
                    for j in limit..<Tk { dsr[j] = 0 }
                    if dropout.active {
                        let pdr = pdAll + i * Tk
                        for j in 0..<Tk { pdr[j] = prow[j] == 0 ? 0 : prow[j] * dropout.multiplier(base + j) }
                    }
                    // dq_i += Σ_j dS_j k_j
                    rowGemm(dqh + i * D, dsr, lda: 1, kh, ldb: D, k: limit, n: hd, accumulate: true)
                }
                let pd = dropout.active ? pdAll : P
                for j in 0..<Tk {
                    // dk_j += Σ_i dS[i, j] q_i ;  dv_j += Σ_i P_drop[i, j] dctx_i
                    rowGemm(dkh + j * D, ds + j, lda: Tk, qh, ldb: D, k: Tq, n: hd, accumulate: true)
                    rowGemm(dvh + j * D, pd + j, lda: Tk, dch, ldb: D, k: Tq, n: hd, accumulate: true)
                }
            }
        }
    }
}

// MARK: - Label-smoothed cross-entropy (fairseq label_smoothed_nll_loss)

/// logits [R, V], targets [R]. For rows with target != pad:
///   nll = -logp[t], smooth = -Σ_v logp[v], eps_i = eps/(V-1), loss = (1-eps-eps_i)·nll + eps_i·smooth.
/// Writes dlogits [R, V] = gradScale·∂loss/∂logits (zero rows for pad targets), rowLoss[R], rowNll[R].
/// dlogits must not alias logits (it is used as scratch for exp(z − max) before the gradient is formed).
public func labelSmoothedCrossEntropy(logits: FloatPtr, targets: UnsafePointer<Int32>, rows: Int, vocab V: Int,
                                      epsilon: Float, padIndex: Int, gradScale: Float, dlogits: FloatPtr?,
                                      rowLoss: FloatPtr, rowNll: FloatPtr) {
    let epsI = epsilon / Float(V - 1)
    let wNll = 1 - epsilon - epsI
    Parallel.forRanges(rows, grain: max(1, 16384 / V)) { range in
        for r in range {
            let z = logits + r * V
            let t = Int(targets[r])
            if t == padIndex {
                rowLoss[r] = 0; rowNll[r] = 0
                if let dlogits { zero(dlogits + r * V, V) }
                continue
            }
            var mx = -Float.infinity
            for j in 0..<V where !(z[j] <= mx) { mx = z[j] }   // NaN propagates
            // With gradients, keep exp(z - max) in dlogits so the gradient pass needs no second expf.
            let ez = dlogits.map { $0 + r * V }
            let sumExp = expShiftSum(ez, z, V, shift: mx)
            let lse = mx + logf(sumExp)
            let sumZ = vsum(z, V)
            let nll = lse - z[t]
            let smooth = Float(V) * lse - sumZ
            rowNll[r] = nll
            rowLoss[r] = wNll * nll + epsI * smooth
            if let dz = ez {
                let invSum = 1 / sumExp
                // d/dz_j = wNll·(p_j - [j==t]) + epsI·(V·p_j - 1);  dz[j] holds exp(z_j - max) here
                let cp = (wNll + epsI * Float(V)) * gradScale
                for j in 0..<V { dz[j] = cp * dz[j] * invSum - epsI * gradScale }
                dz[t] -= wNll * gradScale
            }
        }
    }
}

/// out[R, V] = log_softmax(logits) row-wise.
public func logSoftmax(_ out: FloatPtr, _ logits: FloatPtr, rows: Int, vocab V: Int) {
    Parallel.forRanges(rows, grain: 1) { range in
        for r in range {
            let z = logits + r * V, y = out + r * V
            var mx = -Float.infinity
            for j in 0..<V where !(z[j] <= mx) { mx = z[j] }
            var s: Float = 0
            for j in 0..<V { s += expf(z[j] - mx) }
            let lse = mx + logf(s)
            for j in 0..<V { y[j] = z[j] - lse }
        }
    }
}
