// Admin (Liu et al. 2020), METHODS.md §7: x_i = LN(Dropout(f_i(x_{i-1})) + ω_i ⊙ x_{i-1}) with a learnable
// vector ω_i per sublayer, set by profiling the FIRST training forward pass (train mode, dropout on):
// a running scalar r (1.0 at the start of each stack) gives ω_i := r, then r := sqrt(var(ω_i·x) + var(f_i)),
// variances over all elements incl. padding (np.var). Old-fairseq init. Parameter names follow
// Transformer-Clinic: encoder `attention_ratio_change`, `fc_ratio_change`; decoder `self_ratio_change`,
// `encoder_ratio_change`, `fc_ratio_change`.
// Options: "admin-profile" (default 1). With 0, ω is admin-torch's closed form sqrt((n+1)/ln(n+1) − 1) with
// n = number of residual sublayers of the stack ("O(logn)").
import Foundation

/// ω ⊙ x + h whose ω is filled on the first profiled forward.
final class AdminResidual: VectorGateResidual {
    unowned let owner: Admin
    let stack: StackKind
    init(_ name: String, width: Int, initial: Float, owner: Admin, stack: StackKind) {
        self.owner = owner; self.stack = stack
        super.init(name, width: width, initial: initial)
    }
    override func forward(x: FloatPtr, h: FloatPtr, out: FloatPtr, rows: Int, width: Int, params: FloatPtr, context: OpContext) {
        if owner.profiling {
            let r = owner.ratio[stack] ?? 1
            for j in 0..<width { params[off + j] = Float(r) }
            let n = rows * width
            var sx = 0.0, sxx = 0.0, sh = 0.0, shh = 0.0
            for i in 0..<n {
                let a = Double(x[i]) * r, b = Double(h[i])
                sx += a; sxx += a * a; sh += b; shh += b * b
            }
            let vx = sxx / Double(n) - (sx / Double(n)) * (sx / Double(n))
            let vh = shh / Double(n) - (sh / Double(n)) * (sh / Double(n))
            owner.ratio[stack] = (max(vx, 0) + max(vh, 0)).squareRoot()
            owner.profile.append((name, r))
        }
        super.forward(x: x, h: h, out: out, rows: rows, width: width, params: params, context: context)
    }
}

public final class Admin: ResidualMethod {
    public static let name = "admin"
    public static let summary = "Admin: LN(f(x) + omega*x), omega profiled on the first training batch"
    let profileEnabled: Bool
    let ctx: MethodContext
    var profiled = false
    var profiling = false
    var ratio: [StackKind: Double] = [:]
    /// (ω tensor name, profiled value) in profile order (Transformer-Clinic's profile.ratio.init).
    public var profile: [(String, Double)] = []
    public init(_ c: MethodContext) throws {
        try c.checkOptions(allowed: ["admin-profile"], method: Self.name)
        ctx = c
        profileEnabled = c.option("admin-profile", default: 1) != 0
    }
    public func ops(at hook: Hook, of s: SublayerInfo) -> [ActivationOp] {
        hook == .sublayerOutput ? [LayerNormOp(s.normName, width: s.embedDim)] : []
    }
    public func residualCombine(for s: SublayerInfo) -> ResidualCombineOp {
        let suffix: String
        switch (s.stack.kind, s.kind) {
        case (.encoder, .selfAttention): suffix = "attention_ratio_change"
        case (.decoder, .selfAttention): suffix = "self_ratio_change"
        case (_, .crossAttention): suffix = "encoder_ratio_change"
        case (_, .feedForward): suffix = "fc_ratio_change"
        }
        let perLayer = s.stack.kind == .decoder && s.stack.architecture == .encoderDecoder ? 3 : 2
        let n = Double(perLayer * s.stack.layers)
        let closed = Float(((n + 1) / Foundation.log(n + 1) - 1).squareRoot())
        return AdminResidual(s.layerPrefix + "." + suffix, width: s.embedDim, initial: profileEnabled ? 1 : closed,
                             owner: self, stack: s.stack.kind)
    }
    public func initializeLinear(_ l: LinearInfo, weight: UnsafeMutableBufferPointer<Float>, bias: UnsafeMutableBufferPointer<Float>?, rng: inout SplitMix64) {
        Init.fairseqOld(l, weight, bias, &rng)
    }
    public func willRunForward(training: Bool) {
        profiling = profileEnabled && training && !profiled
        if profiling { ratio = [:]; profile = [] }
    }
    /// The profiling forward measures variances over the whole batch.
    public var needsWholeBatch: Bool { profiling }
    public func didRunForward(training: Bool) {
        if profiling { profiled = true; profiling = false }
    }
    /// Whether ω was profiled: a resumed run must not profile again (that would overwrite the learned ω).
    public var trainingState: [String: Double] { ["admin_profiled": profiled ? 1 : 0] }
    public func restoreTrainingState(_ state: [String: Double]) throws {
        for k in state.keys where k != "admin_profiled" {
            throw ConfigError(message: "method 'admin' has no training state '\(k)'")
        }
        profiled = (state["admin_profiled"] ?? 0) != 0
    }
}
