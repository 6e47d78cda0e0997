// Vanilla Post-LN and Pre-LN (fairseq `normalize_before`), docs/methods.md §2. Modern-fairseq init.

/// x ← LN(x + Dropout(f(x))); no final LN.
public final class PostLN: ResidualMethod {
    public static let name = "post-ln"
    public static let summary = "Post-LN: x <- LN(x + f(x)), modern fairseq init"
    public init(_ c: MethodContext) throws { try c.checkOptions(allowed: [], method: Self.name) }
    public func ops(at hook: Hook, of s: SublayerInfo) -> [ActivationOp] {
        hook == .sublayerOutput ? [LayerNormOp(s.normName, width: s.embedDim)] : []
    }
    public func residualCombine(for s: SublayerInfo) -> ResidualCombineOp { ScaledResidual(alpha: 1) }
    public func initializeLinear(_ l: LinearInfo, weight: UnsafeMutableBufferPointer<Float>, bias: UnsafeMutableBufferPointer<Float>?, rng: inout SplitMix64) {
        Init.fairseqModern(l, weight, bias, &rng)
    }
}

/// x ← x + Dropout(f(LN(x))); final LN `encoder.layer_norm` / `decoder.layer_norm` after the last layer.
public final class PreLN: ResidualMethod {
    public static let name = "pre-ln"
    public static let summary = "Pre-LN: x <- x + f(LN(x)), final LN per stack, modern fairseq init"
    let embedDim: Int
    public init(_ c: MethodContext) throws {
        try c.checkOptions(allowed: [], method: Self.name)
        embedDim = c.embedDim
    }
    public func ops(at hook: Hook, of s: SublayerInfo) -> [ActivationOp] {
        hook == .branchInput ? [LayerNormOp(s.normName, width: s.embedDim)] : []
    }
    public func stackOutputOps(_ stack: StackInfo) -> [ActivationOp] {
        [LayerNormOp(stack.prefix + ".layer_norm", width: embedDim)]
    }
    public func residualCombine(for s: SublayerInfo) -> ResidualCombineOp { ScaledResidual(alpha: 1) }
    public func initializeLinear(_ l: LinearInfo, weight: UnsafeMutableBufferPointer<Float>, bias: UnsafeMutableBufferPointer<Float>?, rng: inout SplitMix64) {
        Init.fairseqModern(l, weight, bias, &rng)
    }
}
