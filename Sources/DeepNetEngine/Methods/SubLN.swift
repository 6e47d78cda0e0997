// Sub-LN / Magneto (torchscale subln=True), docs/methods.md §5: Pre-LN plus an inner LN before out_proj
// (self-attention only: `self_attn.inner_attn_ln`) and an LN over ffn_dim before fc2 (`ffn.ffn_layernorm`),
// final LN per stack, α = 1. torchscale init: PyTorch default Linear init, then weights AND biases of fc1, fc2,
// out_proj, v_proj multiplied by γ: encoder-only sqrt(ln 2N), decoder-only sqrt(ln 2M), enc-dec encoder
// sqrt(ln(3M)·ln(2N)/3), enc-dec decoder sqrt(ln 3M) skipping every `encoder_attn` tensor.
import Foundation

public final class SubLN: ResidualMethod {
    public static let name = "sub-ln"
    public static let summary = "Sub-LN / Magneto: Pre-LN + inner LNs, torchscale gamma-scaled init"
    let ctx: MethodContext
    var gamma: [StackKind: Double] = [:]
    public init(_ c: MethodContext) throws {
        try c.checkOptions(allowed: [], method: Self.name)
        ctx = c
        let N = Double(c.encoderLayers), M = Double(c.decoderLayers)
        switch c.architecture {
        case .encoderOnly: gamma[.encoder] = log(2 * N).squareRoot()
        case .decoderOnly: gamma[.decoder] = log(2 * M).squareRoot()
        case .encoderDecoder:
            gamma[.encoder] = (log(3 * M) * log(2 * N) / 3).squareRoot()
            gamma[.decoder] = log(3 * M).squareRoot()
        }
    }
    public func ops(at hook: Hook, of s: SublayerInfo) -> [ActivationOp] {
        switch (hook, s.kind) {
        case (.branchInput, _): return [LayerNormOp(s.normName, width: s.embedDim)]
        case (.attentionContext, .selfAttention): return [LayerNormOp(s.modulePrefix + ".inner_attn_ln", width: s.embedDim)]
        case (.ffnHidden, .feedForward): return [LayerNormOp(s.modulePrefix + ".ffn_layernorm", width: s.ffnDim)]
        default: return []
        }
    }
    public func stackOutputOps(_ stack: StackInfo) -> [ActivationOp] { [LayerNormOp(stack.prefix + ".layer_norm", width: ctx.embedDim)] }
    public func residualCombine(for s: SublayerInfo) -> ResidualCombineOp { ScaledResidual(alpha: 1) }
    public func initializeLinear(_ l: LinearInfo, weight: UnsafeMutableBufferPointer<Float>, bias: UnsafeMutableBufferPointer<Float>?, rng: inout SplitMix64) {
        Init.pytorchDefault(l, weight, bias, &rng)
        if l.sublayer.kind == .crossAttention { return }
        switch l.role {
        case .q, .k: break
        case .v, .out, .fc1, .fc2:
            let g = gamma[l.sublayer.stack.kind]!
            Init.scale(weight, g); Init.scale(bias, g)
        }
    }
    public var constants: [String: Double] {
        var d: [String: Double] = [:]
        for (k, v) in gamma { d["\(k.rawValue).gamma"] = v }
        return d
    }
}
