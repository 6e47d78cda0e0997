// Post-LN-init (DeepNet §3 analysis baseline, docs/methods.md §4): Post-LN; after Xavier init every Linear of layer l
// (1-based) is divided by k_l = L − l + 1 (bottom layer by L, top layer by 1), per stack. Reading adopted: all
// Linears of the layer, xavier_normal (the paper's N(0, 1/(k² d'))), biases 0.
public final class PostLNInit: ResidualMethod {
    public static let name = "post-ln-init"
    public static let summary = "Post-LN with xavier_normal weights of layer l divided by L-l+1"
    public init(_ c: MethodContext) throws { try c.checkOptions(allowed: [], method: Self.name) }
    public func ops(at hook: Hook, of s: SublayerInfo) -> [ActivationOp] {
        hook == .sublayerOutput ? [LayerNormOp(s.normName, width: s.embedDim)] : []
    }
    public func residualCombine(for s: SublayerInfo) -> ResidualCombineOp { ScaledResidual(alpha: 1) }
    public func initializeLinear(_ l: LinearInfo, weight: UnsafeMutableBufferPointer<Float>, bias: UnsafeMutableBufferPointer<Float>?, rng: inout SplitMix64) {
        let k = Double(l.sublayer.stack.layers - l.sublayer.layer)   // L − (layer+1) + 1
        Init.xavierNormal(weight, fanIn: l.fanIn, fanOut: l.fanOut, gain: 1, &rng)
        Init.scale(weight, 1 / k)
        Init.fill(bias, 0)
    }
}
