// R-Fixup = Fixup applied to the Transformer (hongyi-zhang/Fixup `transformer_zero`), docs/methods.md §10.
// No LayerNorm, every Linear without bias. L = number of residual branches (2N+3M enc-dec, 2N encoder-only,
// 2M decoder-only). Attention branch: s·Dropout(MHA(x − b)); FFN branch: s·Dropout(W2(ActDrop(act(W1(x − b1)
// − b2)) − b3)); scalar shifts b init 0, scalar scales s init 1. Init: q/k/v xavier_uniform over the fused 3d×d
// in_proj (gain 1/√2 per block) × L^{-1/6}, out_proj = 0, W1 xavier_uniform × L^{-1/2}, W2 = 0.
// Quirk kept from the reference: cross-attention uses L = 12 (option "rfixup-cross-attn-blocks").
// Stack outputs: encoder scale0(shift0(x)), decoder shift0(x). An untied output projection is initialised to 0.
import Foundation

public final class RFixup: ResidualMethod {
    public static let name = "r-fixup"
    public static let summary = "Fixup for Transformers: no LN, no biases, scalar shifts/scales, zero-init outputs"
    let blocks: Double, crossBlocks: Double
    public init(_ c: MethodContext) throws {
        try c.checkOptions(allowed: ["rfixup-cross-attn-blocks"], method: Self.name)
        let perDecoder = c.architecture == .encoderDecoder ? 3 : 2
        blocks = Double(2 * c.encoderLayers + perDecoder * c.decoderLayers)
        crossBlocks = c.option("rfixup-cross-attn-blocks", default: 12)
    }
    public func ops(at hook: Hook, of s: SublayerInfo) -> [ActivationOp] {
        switch (hook, s.kind) {
        case (.branchInput, _): return [ScalarShiftOp(s.modulePrefix + ".input_shift")]
        case (.ffnPreActivation, .feedForward): return [ScalarShiftOp(s.modulePrefix + ".hidden_shift")]
        case (.ffnHidden, .feedForward): return [ScalarShiftOp(s.modulePrefix + ".output_shift")]
        default: return []
        }
    }
    public func stackOutputOps(_ stack: StackInfo) -> [ActivationOp] {
        stack.kind == .encoder ? [ScalarShiftOp("encoder.shift0"), ScalarScaleOp("encoder.scale0")]
                               : [ScalarShiftOp("decoder.shift0")]
    }
    public func residualCombine(for s: SublayerInfo) -> ResidualCombineOp { BranchScaleResidual(s.modulePrefix + ".branch_scale", initial: 1) }
    public func linearHasBias(_ linear: LinearInfo) -> Bool { false }
    public func initializeLinear(_ l: LinearInfo, weight: UnsafeMutableBufferPointer<Float>, bias: UnsafeMutableBufferPointer<Float>?, rng: inout SplitMix64) {
        let L = l.sublayer.kind == .crossAttention ? crossBlocks : blocks
        switch l.role {
        case .q, .k, .v:
            Init.xavierUniform(weight, fanIn: l.fanIn, fanOut: l.fanOut, gain: 1 / 2.0.squareRoot(), &rng)
            Init.scale(weight, pow(L, -1.0 / 6))
        case .out, .fc2: Init.fill(weight, 0)
        case .fc1:
            Init.xavierUniform(weight, fanIn: l.fanIn, fanOut: l.fanOut, gain: 1, &rng)
            Init.scale(weight, pow(L, -0.5))
        }
        Init.fill(bias, 0)
    }
    public func initializeEmbedding(_ e: EmbeddingInfo, table: UnsafeMutableBufferPointer<Float>, rng: inout SplitMix64) {
        if e.kind == .outputProjection { Init.fill(table, 0) } else { Init.standardEmbedding(e, table, &rng) }
    }
    public var constants: [String: Double] { ["L": blocks, "crossL": crossBlocks] }
}
