// Instruments: the model-update bound of Theorems 2 and 3 (paper §III-B), evaluated on the actual parameters, for
// comparison with the measured ‖ΔF‖ = ‖F(x, θ_i) − F(x, θ_0)‖₂.
//
// Theorem 2 (one stack, 2N sublayers):   ‖ΔF‖ = O( Σ_i √(v_i² + w_i²)/α · ‖θ_i* − θ_i‖ )
// Theorem 3 (encoder-decoder):           ‖ΔF_ed‖ = O( Σ_{j=1..M} v_{d,3j−1} w_{d,3j−1}/α_d · Σ_{i=1..2N} √(v_ei² + w_ei²)/α_e ‖Δθ_ei‖
//                                                    + Σ_{j=1..3M} √(v_dj² + w_dj²)/α_d ‖Δθ_dj‖ )
// (3j−1 = the cross-attention sublayer of decoder layer j.) The theorem is an O(·) statement; its constant is
// unknown, so the report compares shapes (growth with steps and depth) and prints the ratio measured/bound.
//
// What we plug in, and why:
//  * v, w — the paper reduces W^V, W^O (attention) and the two FFN matrices to scalars "with hidden dimension 1" and
//    states v = w = 1 for vanilla Post-LN "at Xavier initialization" and v = w = β for DeepNorm's init (xavier gain β).
//    The scalar that has exactly these values is the *Xavier-relative RMS*:
//        v = RMS(W) / σ_xavier = (‖W‖_F / √(m·n)) / √(2/(m + n))     for W ∈ R^{m×n}
//    (v_proj → v and out_proj → w for attention; fc1 → v and fc2 → w for the FFN). This is the default
//    (`VWEstimator.xavierRMS`). The alternative `.spectralRelative` uses the spectral norm (power iteration)
//    divided by its Xavier expectation σ_xavier(√m + √n) (Gordon's bound), which is also ≈ 1 at Xavier init but reacts
//    to low-rank growth of the update; both are stored when asked.
//    v and w are evaluated at the *current* parameters θ_i.
//  * ‖θ_i* − θ_i‖ — the Frobenius (L2) norm of the change of ALL tensors in the sublayer's residual branch
//    (q/k/v/out or fc1/fc2, weights and biases, plus any method tensor under the same module prefix) between the
//    reference parameters (θ_0 for the cumulative bound beside ‖F(θ_i) − F(θ_0)‖, or θ_{i−1} per step) and θ_i.
//    LayerNorm γ/β are outside G_l and are not included.
//  * α — the residual scale of the stack (DeepNorm's α, 1 for Post-LN), from the method's constants.
import Foundation
import DeepNetEngine

public enum VWEstimator: String, Sendable, Codable, CaseIterable {
    case xavierRMS = "xavier-rms"
    case spectralRelative = "spectral-relative"
}

public struct UpdateBoundTerm: Sendable, Codable, Equatable {
    public var stack: String
    public var layer: Int
    public var sublayer: String
    public var v: Double
    public var w: Double
    public var alpha: Double
    public var deltaNorm: Double
    /// √(v² + w²)/α · ‖Δθ‖
    public var term: Double
}

public struct UpdateBound: Sendable, Codable, Equatable {
    public var estimator: VWEstimator
    public var terms: [UpdateBoundTerm]
    /// Σ over encoder sublayers of √(v²+w²)/α_e ‖Δθ‖
    public var encoderSum: Double
    /// Σ over decoder sublayers of √(v²+w²)/α_d ‖Δθ‖
    public var decoderSum: Double
    /// Σ_j v_{d,3j−1} w_{d,3j−1} / α_d over the decoder's cross-attention sublayers (encoder-decoder only; else 0)
    public var crossAttentionFactor: Double
    /// Theorem 3 for encoder-decoder (crossFactor·encoderSum + decoderSum), Theorem 2 (the one stack's sum) otherwise.
    public var total: Double
}

public enum TheoryBound {
    /// - Parameters:
    ///   - layout: names and offsets of the flat parameter vector.
    ///   - current: θ_i.
    ///   - reference: θ_0 (cumulative) or θ_{i−1} (per step).
    ///   - alpha: residual scale per stack (missing ⇒ 1).
    public static func compute(layout: ParameterLayout, current: [Float], reference: [Float],
                               alpha: [StackKind: Double], architecture: Architecture,
                               estimator: VWEstimator = .xavierRMS) -> UpdateBound {
        precondition(current.count == reference.count)
        struct Acc { var delta2 = 0.0; var v: Double? = nil; var w: Double? = nil }
        var acc: [SublayerKey: Acc] = [:]
        for t in layout.tensors {
            let p = ParameterPlacement.of(t.name)
            guard let s = p.stack, let l = p.layer, let k = p.sublayer else { continue }
            let key = SublayerKey(stack: s, layer: l, kind: k)
            var a = acc[key] ?? Acc()
            var d2 = 0.0
            for i in t.offset..<(t.offset + t.count) {
                let d = Double(current[i]) - Double(reference[i]); d2 += d * d
            }
            a.delta2 += d2
            if p.isWeightMatrix && t.shape.count == 2 {
                let scale = scalar(current, offset: t.offset, rows: t.shape[0], cols: t.shape[1], estimator: estimator)
                switch p.linearRole {
                case "v_proj", "fc1": a.v = scale
                case "out_proj", "fc2": a.w = scale
                default: break
                }
            }
            acc[key] = a
        }
        var terms: [UpdateBoundTerm] = []
        var enc = 0.0, dec = 0.0, cross = 0.0
        for key in acc.keys.sorted() {
            let a = acc[key]!
            let al = alpha[key.stack] ?? 1
            let v = a.v ?? 0, w = a.w ?? 0
            let dn = a.delta2.squareRoot()
            let term = (v * v + w * w).squareRoot() / al * dn
            terms.append(UpdateBoundTerm(stack: key.stack.rawValue, layer: key.layer, sublayer: key.kindLabel,
                                         v: v, w: w, alpha: al, deltaNorm: dn, term: term))
            if key.stack == .encoder { enc += term } else { dec += term }
            if key.stack == .decoder && key.kind == .crossAttention { cross += v * w / al }
        }
        let total: Double
        switch architecture {
        case .encoderDecoder: total = cross * enc + dec
        case .encoderOnly: total = enc
        case .decoderOnly: total = dec
        }
        return UpdateBound(estimator: estimator, terms: terms, encoderSum: enc, decoderSum: dec,
                           crossAttentionFactor: cross, total: total)
    }

    /// v or w of one [rows × cols] matrix stored row-major at `offset` (rows = fan_out, cols = fan_in).
    public static func scalar(_ theta: [Float], offset: Int, rows m: Int, cols n: Int, estimator: VWEstimator) -> Double {
        let sigma = (2.0 / Double(m + n)).squareRoot()
        switch estimator {
        case .xavierRMS:
            var s = 0.0
            for i in offset..<(offset + m * n) { s += Double(theta[i]) * Double(theta[i]) }
            return (s / Double(m * n)).squareRoot() / sigma
        case .spectralRelative:
            return spectralNorm(theta, offset: offset, rows: m, cols: n) / (sigma * (Double(m).squareRoot() + Double(n).squareRoot()))
        }
    }

    /// Largest singular value by power iteration on WᵀW (fixed start vector, 50 iterations or relative change < 1e-9).
    public static func spectralNorm(_ theta: [Float], offset: Int, rows m: Int, cols n: Int) -> Double {
        var x = [Double](repeating: 0, count: n)
        var rng = InstrumentRNG(seed: 0x5EC7)
        for j in 0..<n { x[j] = rng.nextNormal() }
        var y = [Double](repeating: 0, count: m)
        var sigma = 0.0
        for _ in 0..<50 {
            var xn = 0.0
            for j in 0..<n { xn += x[j] * x[j] }
            xn = xn.squareRoot()
            if xn == 0 { return 0 }
            for j in 0..<n { x[j] /= xn }
            for i in 0..<m {
                var s = 0.0
                let row = offset + i * n
                for j in 0..<n { s += Double(theta[row + j]) * x[j] }
                y[i] = s
            }
            var yn = 0.0
            for i in 0..<m { yn += y[i] * y[i] }
            let next = yn.squareRoot()
            for j in 0..<n { x[j] = 0 }
            for i in 0..<m {
                let row = offset + i * n, yi = y[i]
                for j in 0..<n { x[j] += Double(theta[row + j]) * yi }
            }
            if abs(next - sigma) <= 1e-9 * max(next, 1e-300) { sigma = next; break }
            sigma = next
        }
        return sigma
    }
}
