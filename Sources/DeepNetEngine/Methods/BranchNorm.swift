// BranchNorm (Liu et al. 2023), the project's WORKING DEFINITION from docs/methods.md §13 (no reference code exists):
//   x_{l+1} = LN( x_l + Dropout( F(x_l) / sqrt((1 − λ_t)·(Var(F(x_l)) + eps) + λ_t) ) ),  λ_t = min(t/T, 1)
// Choices recorded here (docs/methods.md §13 asks for them):
//  * eps = 1e-5 inside the square root, added to the variance (so λ=1 gives exactly vanilla Post-LN and λ=0 is
//    F/sqrt(Var+eps), like LayerNorm without centering or affine);
//  * Var is the biased (1/d) per-token variance over the hidden dimension (LayerNorm statistics);
//  * gradients DO flow through Var(F) (exact derivative of the formula);
//  * the rescaling is part of the branch: residual dropout is applied after it;
//  * init: plain Post-LN (modern fairseq) init, no DeepNorm β scaling;
//  * t = number of completed optimizer updates (model.updateCount); T = option "branchnorm-steps" (default 4000).
import Foundation

/// y = x / sqrt((1−λ)(var_row(x) + eps) + λ), per row.
public final class BranchNormScaleOp: ActivationOp {
    let maxNormStep: Double
    let eps: Float = 1e-5
    public init(maxNormStep: Double) { self.maxNormStep = maxNormStep }
    public var parameters: [ParameterSpec] { [] }
    public func bind(offsetOf: (String) -> Int) {}
    public func cacheSize(rows: Int, width: Int) -> Int { 2 * rows }
    func lambda(_ ctx: OpContext) -> Float { Float(min(Double(ctx.step) / maxNormStep, 1)) }
    public func forward(x: FloatPtr, y: FloatPtr, rows: Int, width: Int, params: FloatPtr, cache: FloatPtr, context: OpContext) {
        let lam = lambda(context), eps = self.eps
        Parallel.forRanges(rows, grain: 64) { rr in
            for r in rr {
                let xr = x + r * width
                let m = vsum(xr, width) / Float(width)
                var v: Float = 0
                for j in 0..<width { let d = xr[j] - m; v += d * d }
                v /= Float(width)
                let s = 1 / ((1 - lam) * (v + eps) + lam).squareRoot()
                cache[r] = m; cache[rows + r] = s
                for j in 0..<width { y[r * width + j] = xr[j] * s }
            }
        }
    }
    public func backward(dy: FloatPtr, dx: FloatPtr, x: FloatPtr, y: FloatPtr, rows: Int, width: Int, params: FloatPtr,
                         grads: FloatPtr, cache: FloatPtr, context: OpContext) {
        // dx_j = s·dy_j − (1−λ)·s³·(Σ_i dy_i x_i)·(x_j − m)/d
        let lam = lambda(context)
        Parallel.forRanges(rows, grain: 64) { rr in
            for r in rr {
                let xr = x + r * width, dyr = dy + r * width, dxr = dx + r * width
                let m = cache[r], s = cache[rows + r]
                let g = dot(dyr, xr, width)
                let c = (1 - lam) * s * s * s * g / Float(width)
                for j in 0..<width { dxr[j] += s * dyr[j] - c * (xr[j] - m) }
            }
        }
    }
}

public final class BranchNorm: ResidualMethod {
    public static let name = "branchnorm"
    public static let summary = "BranchNorm (project working definition): LN(x + F/sqrt((1-l)Var(F)+l)), l = min(t/T, 1)"
    let steps: Double
    public init(_ c: MethodContext) throws {
        try c.checkOptions(allowed: ["branchnorm-steps"], method: Self.name)
        steps = c.option("branchnorm-steps", default: 4000)
        if !(steps > 0) { throw ConfigError(message: "branchnorm-steps must be > 0") }
    }
    public func ops(at hook: Hook, of s: SublayerInfo) -> [ActivationOp] {
        switch hook {
        case .branchOutput: return [BranchNormScaleOp(maxNormStep: steps)]
        case .sublayerOutput: return [LayerNormOp(s.normName, width: s.embedDim)]
        default: return []
        }
    }
    public func residualCombine(for s: SublayerInfo) -> ResidualCombineOp { ScaledResidual(alpha: 1) }
    public func initializeLinear(_ l: LinearInfo, weight: UnsafeMutableBufferPointer<Float>, bias: UnsafeMutableBufferPointer<Float>?, rng: inout SplitMix64) {
        Init.fairseqModern(l, weight, bias, &rng)
    }
    public var constants: [String: Double] { ["T": steps] }
}
