// DLCL, Dynamic Linear Combination of Layers (Wang et al. 2019), docs/methods.md §12. Layer-level history:
// y_0 = embedding output, y_k = output of layer k; weights W [(L+1)×(L+1)] lower-triangular learnable scalars
// initialised 'avg' (W[i, :i+1] = 1/(i+1)), not normalised.
//  * pre-norm (default; option "dlcl-post-norm" = 0): Pre-LN layers; each y_k (k ≥ 1) is normalised by its own
//    LN when pushed (`<stack>.history.layer_norms.<k-1>`), y_0 is not; layer l input = Σ_k W[l,k]·LN_k(y_k);
//    stack output = LN_final(Σ_k W[L,k]·LN_k(y_k)) (`<stack>.layer_norm`).
//  * post-norm ("dlcl-post-norm" = 1): Post-LN layers; layer l input = LN_l(Σ_k W[l,k]·y_k) for l ≥ 1 (l = 0 is
//    the identity), stack output = LN_L(Σ_k W[L,k]·y_k).
// Old-fairseq init. Weights tensor: `<stack>.history.weight`.
final class DLCLMixer: LayerHistoryMixer {
    let prefix: String, layers: Int, width: Int, postNorm: Bool
    var off = 0
    var push: [[ActivationOp]] = [], mixes: [[ActivationOp]] = []
    init(prefix: String, layers: Int, width: Int, postNorm: Bool) {
        self.prefix = prefix; self.layers = layers; self.width = width; self.postNorm = postNorm
        for k in 0...layers {
            if postNorm {
                push.append([])
                mixes.append(k == 0 ? [] : [LayerNormOp("\(prefix).history.layer_norms.\(k - 1)", width: width)])
            } else {
                push.append(k == 0 ? [] : [LayerNormOp("\(prefix).history.layer_norms.\(k - 1)", width: width)])
                mixes.append(k == layers ? [LayerNormOp("\(prefix).layer_norm", width: width)] : [])
            }
        }
    }
    var parameters: [ParameterSpec] {
        let n = layers + 1
        var w = [Float](repeating: 0, count: n * n)
        for i in 0..<n { for k in 0...i { w[i * n + k] = 1 / Float(i + 1) } }
        return [ParameterSpec(prefix + ".history.weight", [n, n], .values(w))]
    }
    func bind(offsetOf: (String) -> Int) { off = offsetOf(prefix + ".history.weight") }
    func pushOps(index k: Int) -> [ActivationOp] { push[k] }
    func mixOps(index l: Int) -> [ActivationOp] { mixes[l] }
    func weightOffset(layer l: Int, entry k: Int) -> Int { off + l * (layers + 1) + k }
}

public final class DLCL: ResidualMethod {
    public static let name = "dlcl"
    public static let summary = "DLCL: layer input = learned linear combination of all previous layer outputs"
    let postNorm: Bool
    let embedDim: Int
    var mixers: [StackKind: DLCLMixer] = [:]
    public init(_ c: MethodContext) throws {
        try c.checkOptions(allowed: ["dlcl-post-norm"], method: Self.name)
        postNorm = c.option("dlcl-post-norm", default: 0) != 0
        embedDim = c.embedDim
    }
    public func ops(at hook: Hook, of s: SublayerInfo) -> [ActivationOp] {
        if postNorm { return hook == .sublayerOutput ? [LayerNormOp(s.normName, width: s.embedDim)] : [] }
        return hook == .branchInput ? [LayerNormOp(s.normName, width: s.embedDim)] : []
    }
    public func residualCombine(for s: SublayerInfo) -> ResidualCombineOp { ScaledResidual(alpha: 1) }
    public func layerHistoryMixer(_ stack: StackInfo) -> LayerHistoryMixer? {
        if let m = mixers[stack.kind] { return m }
        let m = DLCLMixer(prefix: stack.prefix, layers: stack.layers, width: embedDim, postNorm: postNorm)
        mixers[stack.kind] = m
        return m
    }
    public func initializeLinear(_ l: LinearInfo, weight: UnsafeMutableBufferPointer<Float>, bias: UnsafeMutableBufferPointer<Float>?, rng: inout SplitMix64) {
        Init.fairseqOld(l, weight, bias, &rng)
    }
}
