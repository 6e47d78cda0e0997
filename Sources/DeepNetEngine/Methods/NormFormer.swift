// NormFormer (Shleifer et al. 2021, fairseq --scale-attn --scale-fc --scale-heads [--scale-resids]),
// docs/methods.md §11. Pre-LN base (+ final LN). Self-attention: h = attn_ln(c_attn-scaled out_proj output) where the
// head scale is applied to the post-W_O output viewed as H chunks (fairseq code, not the paper's pre-W_O form);
// FFN: ffn_layernorm (over ffn_dim) after the activation dropout; optional w_resid ⊙ residual on the FFN.
// fairseq implements it in the decoder layer only; here it is applied to every self-attention/FFN sublayer of
// every stack (so encoder-only models get it too). Cross-attention is plain Pre-LN. Modern-fairseq init.
// Option "normformer-scale-resids" (default 0).
public final class NormFormer: ResidualMethod {
    public static let name = "normformer"
    public static let summary = "NormFormer: Pre-LN + head scale, post-attention LN, FFN LN (+ optional residual scale)"
    let scaleResids: Bool
    let embedDim: Int
    public init(_ c: MethodContext) throws {
        try c.checkOptions(allowed: ["normformer-scale-resids"], method: Self.name)
        scaleResids = c.option("normformer-scale-resids", default: 0) != 0
        embedDim = c.embedDim
    }
    public func ops(at hook: Hook, of s: SublayerInfo) -> [ActivationOp] {
        switch (hook, s.kind) {
        case (.branchInput, _): return [LayerNormOp(s.normName, width: s.embedDim)]
        case (.branchOutput, .selfAttention):
            return [PerHeadScaleOp(s.layerPrefix + ".c_attn", heads: s.heads), LayerNormOp(s.layerPrefix + ".attn_ln", width: s.embedDim)]
        case (.ffnHidden, .feedForward): return [LayerNormOp(s.layerPrefix + ".ffn_layernorm", width: s.ffnDim)]
        default: return []
        }
    }
    public func stackOutputOps(_ stack: StackInfo) -> [ActivationOp] { [LayerNormOp(stack.prefix + ".layer_norm", width: embedDim)] }
    public func residualCombine(for s: SublayerInfo) -> ResidualCombineOp {
        if scaleResids && s.kind == .feedForward { return VectorGateResidual(s.layerPrefix + ".w_resid", width: s.embedDim) }
        return ScaledResidual(alpha: 1)
    }
    public func initializeLinear(_ l: LinearInfo, weight: UnsafeMutableBufferPointer<Float>, bias: UnsafeMutableBufferPointer<Float>?, rng: inout SplitMix64) {
        Init.fairseqModern(l, weight, bias, &rng)
    }
}
