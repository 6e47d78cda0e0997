// ReZero (Bachlechner et al. 2020), docs/methods.md §8: no LayerNorm; x ← x + resweight·Dropout(f(x)) with ONE
// learnable scalar `resweight` per layer (init 0) shared by its sublayers. torch nn.MultiheadAttention init:
// q/k/v xavier_uniform over the fused 3d×d in_proj (= gain 1/√2 per block), in_proj bias 0, out_proj default
// weight with bias 0; FFN linears PyTorch default.
// Option "rezero-postln" (default 0): keep the Post-LN LayerNorms (Transformer-Clinic `rezero_postln`).
public final class ReZero: ResidualMethod {
    public static let name = "rezero"
    public static let summary = "ReZero: x + w*f(x), one scalar w per layer initialised to 0, no LayerNorm"
    let postLN: Bool
    public init(_ c: MethodContext) throws {
        try c.checkOptions(allowed: ["rezero-postln"], method: Self.name)
        postLN = c.option("rezero-postln", default: 0) != 0
    }
    public func ops(at hook: Hook, of s: SublayerInfo) -> [ActivationOp] {
        postLN && hook == .sublayerOutput ? [LayerNormOp(s.normName, width: s.embedDim)] : []
    }
    public func residualCombine(for s: SublayerInfo) -> ResidualCombineOp {
        BranchScaleResidual(s.layerPrefix + ".resweight", initial: 0)
    }
    public func initializeLinear(_ l: LinearInfo, weight: UnsafeMutableBufferPointer<Float>, bias: UnsafeMutableBufferPointer<Float>?, rng: inout SplitMix64) {
        switch l.role {
        case .q, .k, .v:
            Init.xavierUniform(weight, fanIn: l.fanIn, fanOut: l.fanOut, gain: 1 / 2.0.squareRoot(), &rng); Init.fill(bias, 0)
        case .out:
            Init.uniform(weight, bound: 1 / Double(l.fanIn).squareRoot(), &rng); Init.fill(bias, 0)
        case .fc1, .fc2:
            Init.pytorchDefault(l, weight, bias, &rng)
        }
    }
}
