// Reusable activation ops, residual combines and initializers that methods compose.
import Foundation

// MARK: - Activation ops

/// torch.nn.LayerNorm(width, eps 1e-5) with parameters `<name>.weight` (ones) and `<name>.bias` (zeros).
public final class LayerNormOp: ActivationOp {
    public let name: String
    let width: Int
    var wOff = 0, bOff = 0
    public init(_ name: String, width: Int) { self.name = name; self.width = width }
    public var parameters: [ParameterSpec] {
        [ParameterSpec(name + ".weight", [width], .ones), ParameterSpec(name + ".bias", [width], .zeros)]
    }
    public func bind(offsetOf: (String) -> Int) { wOff = offsetOf(name + ".weight"); bOff = offsetOf(name + ".bias") }
    public func cacheSize(rows: Int, width: Int) -> Int { 2 * rows }
    public func forward(x: FloatPtr, y: FloatPtr, rows: Int, width: Int, params: FloatPtr, cache: FloatPtr, context: OpContext) {
        layerNormForward(y, mean: cache, rstd: cache + rows, x, weight: params + wOff, bias: params + bOff, rows: rows, dim: width)
    }
    public func backward(dy: FloatPtr, dx: FloatPtr, x: FloatPtr, y: FloatPtr, rows: Int, width: Int, params: FloatPtr,
                         grads: FloatPtr, cache: FloatPtr, context: OpContext) {
        layerNormBackward(dinp: dx, dweight: grads + wOff, dbias: grads + bOff, dout: dy, inp: x, weight: params + wOff,
                          mean: cache, rstd: cache + rows, rows: rows, dim: width, scratch: context.scratch)
    }
}

/// y = x − b with one learnable scalar b (Fixup's "shift"/bias before a layer). Parameter `<name>` shape [1].
public final class ScalarShiftOp: ActivationOp {
    public let name: String
    var off = 0
    public init(_ name: String) { self.name = name }
    public var parameters: [ParameterSpec] { [ParameterSpec(name, [1], .zeros)] }
    public func bind(offsetOf: (String) -> Int) { off = offsetOf(name) }
    public func cacheSize(rows: Int, width: Int) -> Int { 0 }
    public func forward(x: FloatPtr, y: FloatPtr, rows: Int, width: Int, params: FloatPtr, cache: FloatPtr, context: OpContext) {
        let b = params[off], n = rows * width
        Parallel.forRanges(n, grain: 16384) { r in for i in r { y[i] = x[i] - b } }
    }
    public func backward(dy: FloatPtr, dx: FloatPtr, x: FloatPtr, y: FloatPtr, rows: Int, width: Int, params: FloatPtr,
                         grads: FloatPtr, cache: FloatPtr, context: OpContext) {
        let n = rows * width
        Parallel.forRanges(n, grain: 16384) { r in for i in r { dx[i] += dy[i] } }
        grads[off] -= vsum(dy, n)
    }
}

/// y[r, h·hd + c] = x[r, h·hd + c]·c[h] with a learnable per-head vector `<name>` [H] (NormFormer c_attn).
public final class PerHeadScaleOp: ActivationOp {
    public let name: String
    let heads: Int
    var off = 0
    public init(_ name: String, heads: Int) { self.name = name; self.heads = heads }
    public var parameters: [ParameterSpec] { [ParameterSpec(name, [heads], .ones)] }
    public func bind(offsetOf: (String) -> Int) { off = offsetOf(name) }
    public func cacheSize(rows: Int, width: Int) -> Int { 0 }
    public func forward(x: FloatPtr, y: FloatPtr, rows: Int, width: Int, params: FloatPtr, cache: FloatPtr, context: OpContext) {
        let hd = width / heads, c = params + off
        Parallel.forRanges(rows, grain: 64) { rr in
            for r in rr { for j in 0..<width { y[r * width + j] = x[r * width + j] * c[j / hd] } }
        }
    }
    public func backward(dy: FloatPtr, dx: FloatPtr, x: FloatPtr, y: FloatPtr, rows: Int, width: Int, params: FloatPtr,
                         grads: FloatPtr, cache: FloatPtr, context: OpContext) {
        let hd = width / heads, c = params + off
        Parallel.forRanges(rows, grain: 64) { rr in
            for r in rr { for j in 0..<width { dx[r * width + j] += dy[r * width + j] * c[j / hd] } }
        }
        for h in 0..<heads {
            var s: Float = 0
            for r in 0..<rows { s += dot(dy + r * width + h * hd, x + r * width + h * hd, hd) }
            grads[off + h] += s
        }
    }
}

// MARK: - Residual combines

/// out = α·x + h  (α = 1: plain residual; DeepNorm: α = α*·multiplier). No parameters.
public final class ScaledResidual: ResidualCombineOp {
    public let alpha: Float
    public init(alpha: Float = 1) { self.alpha = alpha }
    public var parameters: [ParameterSpec] { [] }
    public func bind(offsetOf: (String) -> Int) {}
    public func forward(x: FloatPtr, h: FloatPtr, out: FloatPtr, rows: Int, width: Int, params: FloatPtr, context: OpContext) {
        let a = alpha, n = rows * width
        Parallel.forRanges(n, grain: 16384) { r in for i in r { out[i] = x[i] * a + h[i] } }
    }
    public func backward(dout: FloatPtr, x: FloatPtr, h: FloatPtr, dx: FloatPtr, dh: FloatPtr, rows: Int, width: Int,
                         params: FloatPtr, grads: FloatPtr, context: OpContext) {
        let a = alpha, n = rows * width
        Parallel.forRanges(n, grain: 16384) { r in for i in r { dx[i] += a * dout[i]; dh[i] += dout[i] } }
    }
}

/// out = ω ⊙ x + h with a learnable vector ω = `<name>` [width] (Admin ω, NormFormer w_resid).
public class VectorGateResidual: ResidualCombineOp {
    public let name: String
    let width: Int
    let initial: Float
    var off = 0
    public init(_ name: String, width: Int, initial: Float = 1) { self.name = name; self.width = width; self.initial = initial }
    public var parameters: [ParameterSpec] { [ParameterSpec(name, [width], .constant(initial))] }
    public func bind(offsetOf: (String) -> Int) { off = offsetOf(name) }
    public func forward(x: FloatPtr, h: FloatPtr, out: FloatPtr, rows: Int, width: Int, params: FloatPtr, context: OpContext) {
        let w = params + off
        Parallel.forRanges(rows, grain: 64) { rr in
            for r in rr { for j in 0..<width { out[r * width + j] = w[j] * x[r * width + j] + h[r * width + j] } }
        }
    }
    public func backward(dout: FloatPtr, x: FloatPtr, h: FloatPtr, dx: FloatPtr, dh: FloatPtr, rows: Int, width: Int,
                         params: FloatPtr, grads: FloatPtr, context: OpContext) {
        let w = params + off
        Parallel.forRanges(rows, grain: 64) { rr in
            for r in rr {
                for j in 0..<width { dx[r * width + j] += w[j] * dout[r * width + j]; dh[r * width + j] += dout[r * width + j] }
            }
        }
        columnDotAccumulate(grads + off, dout, x, rows: rows, cols: width)
    }
}

/// out = x + w·h with a learnable scalar w = `<name>` [1] (ReZero resweight, Fixup scale). Several sublayers
/// may share one name (ReZero: one scalar per layer); gradients then accumulate into the same tensor.
public final class BranchScaleResidual: ResidualCombineOp {
    public let name: String
    let initial: Float
    var off = 0
    public init(_ name: String, initial: Float) { self.name = name; self.initial = initial }
    public var parameters: [ParameterSpec] { [ParameterSpec(name, [1], .constant(initial))] }
    public func bind(offsetOf: (String) -> Int) { off = offsetOf(name) }
    public func forward(x: FloatPtr, h: FloatPtr, out: FloatPtr, rows: Int, width: Int, params: FloatPtr, context: OpContext) {
        let w = params[off], n = rows * width
        Parallel.forRanges(n, grain: 16384) { r in for i in r { out[i] = x[i] + w * h[i] } }
    }
    public func backward(dout: FloatPtr, x: FloatPtr, h: FloatPtr, dx: FloatPtr, dh: FloatPtr, rows: Int, width: Int,
                         params: FloatPtr, grads: FloatPtr, context: OpContext) {
        let w = params[off], n = rows * width
        Parallel.forRanges(n, grain: 16384) { r in for i in r { dx[i] += dout[i]; dh[i] += w * dout[i] } }
        grads[off] += dot(dout, h, n)
    }
}

// MARK: - Initializers

/// Weight initializers over PyTorch-layout weights [fanOut, fanIn].
public enum Init {
    public static func uniform(_ w: UnsafeMutableBufferPointer<Float>, bound: Double, _ rng: inout SplitMix64) {
        for i in w.indices { w[i] = Float((rng.nextUnit() * 2 - 1) * bound) }
    }
    public static func normal(_ w: UnsafeMutableBufferPointer<Float>, std: Double, _ rng: inout SplitMix64) {
        for i in w.indices { w[i] = Float(rng.nextNormal() * std) }
    }
    public static func fill(_ w: UnsafeMutableBufferPointer<Float>?, _ v: Float) {
        guard let w else { return }
        for i in w.indices { w[i] = v }
    }
    public static func scale(_ w: UnsafeMutableBufferPointer<Float>?, _ s: Double) {
        guard let w else { return }
        for i in w.indices { w[i] = Float(Double(w[i]) * s) }
    }
    /// torch.nn.init.xavier_uniform_: bound = gain·sqrt(6/(fanIn+fanOut)).
    public static func xavierUniform(_ w: UnsafeMutableBufferPointer<Float>, fanIn: Int, fanOut: Int, gain: Double, _ rng: inout SplitMix64) {
        uniform(w, bound: gain * (6.0 / Double(fanIn + fanOut)).squareRoot(), &rng)
    }
    /// torch.nn.init.xavier_normal_: std = gain·sqrt(2/(fanIn+fanOut)).
    public static func xavierNormal(_ w: UnsafeMutableBufferPointer<Float>, fanIn: Int, fanOut: Int, gain: Double, _ rng: inout SplitMix64) {
        normal(w, std: gain * (2.0 / Double(fanIn + fanOut)).squareRoot(), &rng)
    }
    /// PyTorch nn.Linear.reset_parameters: weight and bias ~ U(±1/sqrt(fanIn)).
    public static func pytorchDefault(_ l: LinearInfo, _ w: UnsafeMutableBufferPointer<Float>, _ b: UnsafeMutableBufferPointer<Float>?, _ rng: inout SplitMix64) {
        let bound = 1 / Double(l.fanIn).squareRoot()
        uniform(w, bound: bound, &rng)
        if let b { uniform(b, bound: bound, &rng) }
    }
    /// Modern fairseq (docs/methods.md §2): q/k/v xavier_uniform gain 1/√2 with PyTorch-default biases; out_proj
    /// xavier_uniform gain 1 with bias 0; fc1/fc2 PyTorch default.
    public static func fairseqModern(_ l: LinearInfo, _ w: UnsafeMutableBufferPointer<Float>, _ b: UnsafeMutableBufferPointer<Float>?, _ rng: inout SplitMix64) {
        switch l.role {
        case .q, .k, .v:
            xavierUniform(w, fanIn: l.fanIn, fanOut: l.fanOut, gain: 1 / 2.0.squareRoot(), &rng)
            if let b { uniform(b, bound: 1 / Double(l.fanIn).squareRoot(), &rng) }
        case .out:
            xavierUniform(w, fanIn: l.fanIn, fanOut: l.fanOut, gain: 1, &rng)
            fill(b, 0)
        case .fc1, .fc2:
            pytorchDefault(l, w, b, &rng)
        }
    }
    /// Old fairseq (~0.9; Transformer-Clinic / T-Fixup base): every weight xavier_uniform (q/k/v as one fused
    /// 3d×d matrix = gain 1/√2 per block), every bias 0.
    public static func fairseqOld(_ l: LinearInfo, _ w: UnsafeMutableBufferPointer<Float>, _ b: UnsafeMutableBufferPointer<Float>?, _ rng: inout SplitMix64) {
        let gain = (l.role == .q || l.role == .k || l.role == .v) ? 1 / 2.0.squareRoot() : 1
        xavierUniform(w, fanIn: l.fanIn, fanOut: l.fanOut, gain: gain, &rng)
        fill(b, 0)
    }
    /// fairseq/torchscale embeddings: N(0, d^-1/2) with the pad row zeroed (tokens, learned positions);
    /// an untied output projection is N(0, d^-1/2).
    public static func standardEmbedding(_ e: EmbeddingInfo, _ t: UnsafeMutableBufferPointer<Float>, _ rng: inout SplitMix64) {
        normal(t, std: 1 / Double(e.dim).squareRoot(), &rng)
        if e.kind != .outputProjection && e.padIndex < e.rows {
            for j in 0..<e.dim { t[e.padIndex * e.dim + j] = 0 }
        }
    }
}

/// y = s·x with one learnable scalar s = `<name>` [1] (Fixup "scale"), initialised to `initial`.
public final class ScalarScaleOp: ActivationOp {
    public let name: String
    let initial: Float
    var off = 0
    public init(_ name: String, initial: Float = 1) { self.name = name; self.initial = initial }
    public var parameters: [ParameterSpec] { [ParameterSpec(name, [1], .constant(initial))] }
    public func bind(offsetOf: (String) -> Int) { off = offsetOf(name) }
    public func cacheSize(rows: Int, width: Int) -> Int { 0 }
    public func forward(x: FloatPtr, y: FloatPtr, rows: Int, width: Int, params: FloatPtr, cache: FloatPtr, context: OpContext) {
        let s = params[off], n = rows * width
        Parallel.forRanges(n, grain: 16384) { r in for i in r { y[i] = s * x[i] } }
    }
    public func backward(dy: FloatPtr, dx: FloatPtr, x: FloatPtr, y: FloatPtr, rows: Int, width: Int, params: FloatPtr,
                         grads: FloatPtr, cache: FloatPtr, context: OpContext) {
        let s = params[off], n = rows * width
        Parallel.forRanges(n, grain: 16384) { r in for i in r { dx[i] += s * dy[i] } }
        grads[off] += dot(dy, x, n)
    }
}
