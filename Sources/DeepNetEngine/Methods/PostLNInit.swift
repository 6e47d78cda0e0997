// Post-LN-init (DeepNet §3 analysis baseline, docs/methods.md §4): vanilla Post-LN whose lower layers start smaller.
// Every Linear starts exactly as `post-ln`'s (`Init.fairseqModern`, same per-tensor random stream), then the weight
// matrices of layer l (1-based, per stack) are divided by k_l = L − l + 1: the bottom layer by L, the top layer by 1,
// so the top layer *is* vanilla Post-LN's initialization (Fig. 2 compares the top layers of the two). Reading
// adopted: all Linears of the layer, encoder with N and decoder with M; biases are left as Post-LN's (the paper
// scales "the weights").
public final class PostLNInit: ResidualMethod {
    public static let name = "post-ln-init"
    public static let summary = "Post-LN with the Linear weights of layer l divided by L-l+1 (top layer = Post-LN init)"
    public init(_ c: MethodContext) throws { try c.checkOptions(allowed: [], method: Self.name) }
    public func ops(at hook: Hook, of s: SublayerInfo) -> [ActivationOp] {
        hook == .sublayerOutput ? [LayerNormOp(s.normName, width: s.embedDim)] : []
    }
    public func residualCombine(for s: SublayerInfo) -> ResidualCombineOp { ScaledResidual(alpha: 1) }
    public func initializeLinear(_ l: LinearInfo, weight: UnsafeMutableBufferPointer<Float>, bias: UnsafeMutableBufferPointer<Float>?, rng: inout SplitMix64) {
        Init.fairseqModern(l, weight, bias, &rng)
        let k = Double(l.sublayer.stack.layers - l.sublayer.layer)   // L − (layer+1) + 1; 1 at the top layer
        if k != 1 { for i in weight.indices { weight[i] = Float(Double(weight[i]) / k) } }
    }
}
