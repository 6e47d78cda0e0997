// Probes: where a parameter sits in the model, read from its torchscale/fairseq state_dict name.
//
//   encoder.layers.3.self_attn.q_proj.weight      → stack encoder, layer 3, sublayer self-attention, role q_proj
//   decoder.layers.0.encoder_attn.v_proj.bias     → stack decoder, layer 0, sublayer cross-attention, role v_proj
//   encoder.layers.3.ffn.fc1.weight               → stack encoder, layer 3, sublayer FFN, role fc1
//   encoder.layers.3.self_attn_layer_norm.weight  → stack encoder, layer 3, LayerNorm of the self-attention sublayer
//   encoder.layers.3.final_layer_norm.bias        → LayerNorm of the FFN sublayer
//   decoder.embed_tokens.weight, encoder.layer_norm.weight → stack-level (no layer)
// Parameters of a sublayer's residual branch G_l (what Theorem 2 calls θ_l) are those under the sublayer's module
// prefix ("…self_attn.", "…encoder_attn.", "…ffn."). LayerNorms are outside G_l and are reported separately.
// Method-specific tensors under a layer but outside these prefixes (e.g. residual gates) count for the layer only.

/// Where one parameter tensor belongs.
public struct ParameterPlacement: Sendable, Equatable {
    public var stack: StackKind?
    public var layer: Int?
    /// Set when the tensor is inside a sublayer's residual branch (module prefix).
    public var sublayer: SublayerKind?
    /// Set when the tensor is the LayerNorm attached to that sublayer (self_attn_layer_norm, encoder_attn_layer_norm,
    /// final_layer_norm).
    public var layerNormOf: SublayerKind?
    /// "q_proj", "k_proj", "v_proj", "out_proj", "fc1", "fc2" when the tensor belongs to such a Linear.
    public var linearRole: String?
    /// The last name component: "weight", "bias", or a method-specific name.
    public var leaf: String

    public var isWeightMatrix: Bool { linearRole != nil && leaf == "weight" }

    public static func of(_ name: String) -> ParameterPlacement {
        let parts = name.split(separator: ".").map(String.init)
        var p = ParameterPlacement(stack: nil, layer: nil, sublayer: nil, layerNormOf: nil, linearRole: nil,
                                   leaf: parts.last ?? name)
        guard let first = parts.first else { return p }
        p.stack = first == "encoder" ? .encoder : (first == "decoder" ? .decoder : nil)
        guard parts.count >= 3, parts[1] == "layers", let l = Int(parts[2]) else { return p }
        p.layer = l
        guard parts.count >= 4 else { return p }
        let module = parts[3]
        switch module {
        case "self_attn": p.sublayer = .selfAttention
        case "encoder_attn": p.sublayer = .crossAttention
        case "ffn": p.sublayer = .feedForward
        case "self_attn_layer_norm": p.layerNormOf = .selfAttention
        case "encoder_attn_layer_norm": p.layerNormOf = .crossAttention
        case "final_layer_norm": p.layerNormOf = .feedForward
        // fairseq puts fc1/fc2 directly under the layer
        case "fc1", "fc2": p.sublayer = .feedForward; p.linearRole = module
        default: break
        }
        if p.sublayer != nil && p.linearRole == nil && parts.count >= 5 {
            let r = parts[4]
            if ["q_proj", "k_proj", "v_proj", "out_proj", "fc1", "fc2"].contains(r) { p.linearRole = r }
        }
        return p
    }
}

/// The key of a (stack, layer, sublayer) triple, ordered as the forward pass visits them.
public struct SublayerKey: Hashable, Sendable, Comparable, CustomStringConvertible {
    public var stack: StackKind
    public var layer: Int
    public var kind: SublayerKind

    public init(stack: StackKind, layer: Int, kind: SublayerKind) { self.stack = stack; self.layer = layer; self.kind = kind }

    static func rank(_ s: StackKind) -> Int { s == .encoder ? 0 : 1 }
    static func rank(_ k: SublayerKind) -> Int {
        switch k { case .selfAttention: return 0; case .crossAttention: return 1; case .feedForward: return 2 }
    }
    public static func < (a: SublayerKey, b: SublayerKey) -> Bool {
        (rank(a.stack), a.layer, rank(a.kind)) < (rank(b.stack), b.layer, rank(b.kind))
    }
    /// torchscale module prefix, e.g. "decoder.layers.2.encoder_attn".
    public var modulePrefix: String {
        let m: String
        switch kind { case .selfAttention: m = "self_attn"; case .crossAttention: m = "encoder_attn"; case .feedForward: m = "ffn" }
        return "\(stack.rawValue).layers.\(layer).\(m)"
    }
    /// Short label used in HDF5 attributes and plots: "self_attn", "encoder_attn", "ffn".
    public var kindLabel: String {
        switch kind { case .selfAttention: return "self_attn"; case .crossAttention: return "encoder_attn"; case .feedForward: return "ffn" }
    }
    public var description: String { modulePrefix }
}
