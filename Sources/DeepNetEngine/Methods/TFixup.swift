// T-Fixup (Huang et al. 2020), docs/methods.md §9: every LayerNorm removed, x ← x + Dropout(f(x)), no final LN.
// Init: fc1/fc2 xavier_uniform bias 0; q/k/v xavier_uniform gain 1/√2 with PyTorch-default biases; out_proj
// xavier_uniform bias 0. Encoder: fc1, fc2, out_proj ×0.67·N^{-1/4}; v_proj ×0.67·N^{-1/4}·√2. Decoder: fc1,
// fc2, out_proj (self and cross) ×(9M)^{-1/4}; v_proj ×(9M)^{-1/4}·√2. Token embeddings N(0, d^{-1/2}) then
// encoder ×(9N)^{-1/4}, decoder ×(9M)^{-1/4} (skipped when all embeddings are shared: the decoder table is the
// encoder's). Positions and an untied output projection are not scaled.
import Foundation

public final class TFixup: ResidualMethod {
    public static let name = "t-fixup"
    public static let summary = "T-Fixup: no LayerNorm, depth-scaled xavier init and embeddings"
    let ctx: MethodContext
    public init(_ c: MethodContext) throws { try c.checkOptions(allowed: [], method: Self.name); ctx = c }
    public func ops(at hook: Hook, of s: SublayerInfo) -> [ActivationOp] { [] }
    public func residualCombine(for s: SublayerInfo) -> ResidualCombineOp { ScaledResidual(alpha: 1) }
    func layerScale(_ s: StackKind) -> Double {
        let L = Double(ctx.layers(s))
        return s == .encoder ? 0.67 * pow(L, -0.25) : pow(9 * L, -0.25)
    }
    public func initializeLinear(_ l: LinearInfo, weight: UnsafeMutableBufferPointer<Float>, bias: UnsafeMutableBufferPointer<Float>?, rng: inout SplitMix64) {
        let sc = layerScale(l.sublayer.stack.kind)
        switch l.role {
        case .q, .k:
            Init.xavierUniform(weight, fanIn: l.fanIn, fanOut: l.fanOut, gain: 1 / 2.0.squareRoot(), &rng)
            if let bias { Init.uniform(bias, bound: 1 / Double(l.fanIn).squareRoot(), &rng) }
        case .v:
            Init.xavierUniform(weight, fanIn: l.fanIn, fanOut: l.fanOut, gain: 1 / 2.0.squareRoot(), &rng)
            if let bias { Init.uniform(bias, bound: 1 / Double(l.fanIn).squareRoot(), &rng) }
            Init.scale(weight, sc * 2.0.squareRoot())
        case .out, .fc1, .fc2:
            Init.xavierUniform(weight, fanIn: l.fanIn, fanOut: l.fanOut, gain: 1, &rng)
            Init.fill(bias, 0)
            Init.scale(weight, sc)
        }
    }
    public func initializeEmbedding(_ e: EmbeddingInfo, table: UnsafeMutableBufferPointer<Float>, rng: inout SplitMix64) {
        Init.standardEmbedding(e, table, &rng)
        if e.kind == .tokens { Init.scale(table, pow(9 * Double(ctx.layers(e.stack)), -0.25)) }
    }
    public var constants: [String: Double] {
        var d: [String: Double] = [:]
        if ctx.encoderLayers > 0 { d["encoder.scale"] = layerScale(.encoder) }
        if ctx.decoderLayers > 0 { d["decoder.scale"] = layerScale(.decoder) }
        return d
    }
}
