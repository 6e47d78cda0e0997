// DeepNorm (docs/methods.md §3): x ← LN(α·x + Dropout(f(x))), no final LN.
import Foundation

/// α and β of DeepNorm for one stack (paper table, docs/methods.md §3.1 / §14).
public enum DeepNormConstants {
    public static func alpha(_ arch: Architecture, _ stack: StackKind, N: Int, M: Int) -> Double {
        switch (arch, stack) {
        case (.encoderDecoder, .encoder): return 0.81 * pow(pow(Double(N), 4) * Double(M), 1.0 / 16)
        case (.encoderDecoder, .decoder): return pow(3 * Double(M), 0.25)
        case (.encoderOnly, _): return pow(2 * Double(N), 0.25)
        case (.decoderOnly, _): return pow(2 * Double(M), 0.25)
        }
    }
    /// Paper β (xavier_normal gain).
    public static func beta(_ arch: Architecture, _ stack: StackKind, N: Int, M: Int) -> Double {
        switch (arch, stack) {
        case (.encoderDecoder, .encoder): return 0.87 * pow(pow(Double(N), 4) * Double(M), -1.0 / 16)
        case (.encoderDecoder, .decoder): return pow(12 * Double(M), -0.25)
        case (.encoderOnly, _): return pow(8 * Double(N), -0.25)
        case (.decoderOnly, _): return pow(8 * Double(M), -0.25)
        }
    }
    /// torchscale's effective β = 1/init_scale: identical except the enc-dec encoder, where torchscale divides
    /// by (N⁴M)^{1/16}/1.15, i.e. β = 1.15·(N⁴M)^{-1/16} (docs/methods.md §3.3).
    public static func betaTorchscale(_ arch: Architecture, _ stack: StackKind, N: Int, M: Int) -> Double {
        if arch == .encoderDecoder && stack == .encoder { return 1.15 * pow(pow(Double(N), 4) * Double(M), -1.0 / 16) }
        return beta(arch, stack, N: N, M: M)
    }
}

/// Shared structure of both DeepNorm variants: Post-LN with the residual up-weighted by α.
public class DeepNormBase {
    let ctx: MethodContext
    /// Per stack α and β after the multipliers.
    var alpha: [StackKind: Double] = [:]
    var beta: [StackKind: Double] = [:]
    init(_ c: MethodContext, torchscaleBeta: Bool, name: String) throws {
        try c.checkOptions(allowed: [], method: name)
        ctx = c
        for s in [StackKind.encoder, .decoder] where c.layers(s) > 0 {
            alpha[s] = DeepNormConstants.alpha(c.architecture, s, N: c.encoderLayers, M: c.decoderLayers) * c.alphaMultiplier
            let b = torchscaleBeta ? DeepNormConstants.betaTorchscale(c.architecture, s, N: c.encoderLayers, M: c.decoderLayers)
                                   : DeepNormConstants.beta(c.architecture, s, N: c.encoderLayers, M: c.decoderLayers)
            beta[s] = b * c.betaMultiplier
        }
    }
    public func ops(at hook: Hook, of s: SublayerInfo) -> [ActivationOp] {
        hook == .sublayerOutput ? [LayerNormOp(s.normName, width: s.embedDim)] : []
    }
    public func residualCombine(for s: SublayerInfo) -> ResidualCombineOp { ScaledResidual(alpha: Float(alpha[s.stack.kind]!)) }
    public var constants: [String: Double] {
        var d: [String: Double] = [:]
        for (k, v) in alpha { d["\(k.rawValue).alpha"] = v }
        for (k, v) in beta { d["\(k.rawValue).beta"] = v }
        return d
    }
}

/// Paper recipe: xavier_normal_(gain β) on fc1, fc2, v_proj, out_proj (incl. decoder cross-attn v/out),
/// xavier_normal_(gain 1) on q_proj, k_proj, all biases 0.
public final class DeepNorm: DeepNormBase, ResidualMethod {
    public static let name = "deepnorm"
    public static let summary = "DeepNorm, paper init: LN(alpha*x + f(x)), xavier_normal gain beta on ffn/v/out"
    public required init(_ c: MethodContext) throws { try super.init(c, torchscaleBeta: false, name: Self.name) }
    public func initializeLinear(_ l: LinearInfo, weight: UnsafeMutableBufferPointer<Float>, bias: UnsafeMutableBufferPointer<Float>?, rng: inout SplitMix64) {
        let gain: Double
        switch l.role {
        case .q, .k: gain = 1
        case .v, .out, .fc1, .fc2: gain = beta[l.sublayer.stack.kind]!
        }
        Init.xavierNormal(weight, fanIn: l.fanIn, fanOut: l.fanOut, gain: gain, &rng)
        Init.fill(bias, 0)
    }
}

/// torchscale 0.3.0 init: PyTorch default U(±1/sqrt(fan_in)) for every Linear weight and bias, then weights AND
/// biases of fc1, fc2, out_proj, v_proj divided by init_scale = 1/β (enc-dec encoder: the /1.15 quirk).
public final class DeepNormTorchscale: DeepNormBase, ResidualMethod {
    public static let name = "deepnorm-torchscale"
    public static let summary = "DeepNorm, torchscale init: PyTorch default then ffn/v/out weights+biases / init_scale"
    public required init(_ c: MethodContext) throws { try super.init(c, torchscaleBeta: true, name: Self.name) }
    public func initializeLinear(_ l: LinearInfo, weight: UnsafeMutableBufferPointer<Float>, bias: UnsafeMutableBufferPointer<Float>?, rng: inout SplitMix64) {
        Init.pytorchDefault(l, weight, bias, &rng)
        switch l.role {
        case .q, .k: break
        case .v, .out, .fc1, .fc2:
            let b = beta[l.sublayer.stack.kind]!
            Init.scale(weight, b); Init.scale(bias, b)
        }
    }
}
