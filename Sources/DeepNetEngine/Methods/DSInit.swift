// DS-Init (Zhang, Titov, Sennrich 2019), docs/methods.md §6: Post-LN; every weight of layer l (1-based, per stack)
// ~ U(±γ·α·l^{-e}) with γ = sqrt(6/(fan_in+fan_out)) (Xavier bound); biases 0.
// Options: "dsinit-alpha" (α, default 1); "dsinit-exponent" (e, default 0.5 = the paper's 1/√l;
// 0.25 reproduces the TensorFlow reference code's variance_scaling bound).
import Foundation

public final class DSInit: ResidualMethod {
    public static let name = "ds-init"
    public static let summary = "Post-LN with depth-scaled uniform init U(+-xavier_bound*alpha/sqrt(l))"
    let alpha: Double, exponent: Double
    public init(_ c: MethodContext) throws {
        try c.checkOptions(allowed: ["dsinit-alpha", "dsinit-exponent"], method: Self.name)
        alpha = c.option("dsinit-alpha", default: 1); exponent = c.option("dsinit-exponent", default: 0.5)
    }
    public func ops(at hook: Hook, of s: SublayerInfo) -> [ActivationOp] {
        hook == .sublayerOutput ? [LayerNormOp(s.normName, width: s.embedDim)] : []
    }
    public func residualCombine(for s: SublayerInfo) -> ResidualCombineOp { ScaledResidual(alpha: 1) }
    public func initializeLinear(_ l: LinearInfo, weight: UnsafeMutableBufferPointer<Float>, bias: UnsafeMutableBufferPointer<Float>?, rng: inout SplitMix64) {
        let layer = Double(l.sublayer.layer + 1)
        let bound = (6.0 / Double(l.fanIn + l.fanOut)).squareRoot() * alpha * pow(layer, -exponent)
        Init.uniform(weight, bound: bound, &rng)
        Init.fill(bias, 0)
    }
    public var constants: [String: Double] { ["alpha": alpha, "exponent": exponent] }
}
