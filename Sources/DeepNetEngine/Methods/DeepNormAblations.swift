// Table XI's two ablations of DeepNet (paper §5.4 / Table XI; docs/methods.md "DeepNorm ablations"), engine
// methods like the others so that every command (train, run, forward-backward) knows them:
//   "deepnorm-no-alpha": DeepNet's β-scaled initialization with a plain Post-LN residual (α = 1)  ("- DeepNorm")
//   "deepnorm-no-init":  DeepNorm's residual α with Xavier gain 1 everywhere (β = 1)              ("- Initialization")
import Foundation

public final class DeepNormWithoutAlpha: ResidualMethod {
    public static let name = "deepnorm-no-alpha"
    public static let summary = "Table XI ablation: DeepNet init (xavier_normal gain beta on ffn/v/out) with alpha = 1 (Post-LN residual)"
    let beta: [StackKind: Double]
    public init(_ c: MethodContext) throws {
        try c.checkOptions(allowed: [], method: Self.name)
        var b: [StackKind: Double] = [:]
        for s in [StackKind.encoder, .decoder] where c.layers(s) > 0 {
            b[s] = DeepNormConstants.beta(c.architecture, s, N: c.encoderLayers, M: c.decoderLayers) * c.betaMultiplier
        }
        beta = b
    }
    public func ops(at hook: Hook, of s: SublayerInfo) -> [ActivationOp] {
        hook == .sublayerOutput ? [LayerNormOp(s.normName, width: s.embedDim)] : []
    }
    public func residualCombine(for s: SublayerInfo) -> ResidualCombineOp { ScaledResidual(alpha: 1) }
    public func initializeLinear(_ l: LinearInfo, weight: UnsafeMutableBufferPointer<Float>, bias: UnsafeMutableBufferPointer<Float>?, rng: inout SplitMix64) {
        let gain: Double
        switch l.role {
        case .q, .k: gain = 1
        case .v, .out, .fc1, .fc2: gain = beta[l.sublayer.stack.kind] ?? 1
        }
        Init.xavierNormal(weight, fanIn: l.fanIn, fanOut: l.fanOut, gain: gain, &rng)
        Init.fill(bias, 0)
    }
    public var constants: [String: Double] {
        var d: [String: Double] = [:]
        for (k, v) in beta { d["\(k.rawValue).beta"] = v; d["\(k.rawValue).alpha"] = 1 }
        return d
    }
}

public final class DeepNormWithoutInit: ResidualMethod {
    public static let name = "deepnorm-no-init"
    public static let summary = "Table XI ablation: DeepNorm residual LN(alpha*x + f(x)) with xavier_normal gain 1 everywhere (beta = 1)"
    let alpha: [StackKind: Double]
    public init(_ c: MethodContext) throws {
        try c.checkOptions(allowed: [], method: Self.name)
        var a: [StackKind: Double] = [:]
        for s in [StackKind.encoder, .decoder] where c.layers(s) > 0 {
            a[s] = DeepNormConstants.alpha(c.architecture, s, N: c.encoderLayers, M: c.decoderLayers) * c.alphaMultiplier
        }
        alpha = a
    }
    public func ops(at hook: Hook, of s: SublayerInfo) -> [ActivationOp] {
        hook == .sublayerOutput ? [LayerNormOp(s.normName, width: s.embedDim)] : []
    }
    public func residualCombine(for s: SublayerInfo) -> ResidualCombineOp { ScaledResidual(alpha: Float(alpha[s.stack.kind] ?? 1)) }
    public func initializeLinear(_ l: LinearInfo, weight: UnsafeMutableBufferPointer<Float>, bias: UnsafeMutableBufferPointer<Float>?, rng: inout SplitMix64) {
        Init.xavierNormal(weight, fanIn: l.fanIn, fanOut: l.fanOut, gain: 1, &rng)
        Init.fill(bias, 0)
    }
    public var constants: [String: Double] {
        var d: [String: Double] = [:]
        for (k, v) in alpha { d["\(k.rawValue).alpha"] = v; d["\(k.rawValue).beta"] = 1 }
        return d
    }
}
