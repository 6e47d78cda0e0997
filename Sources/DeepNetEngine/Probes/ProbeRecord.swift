// Probes: the values one `TrainingProbes.record(step:model:)` call produces (plain structs, no HDF5 dependency;
// `ProbeRecord.write(to:group:)` in ProbeHDF5.swift and the harness's diagnostics both store them).

/// Per-stack training-dynamics values at one step.
public struct StackProbe: Sendable, Codable, Equatable {
    public var stack: String
    /// ‖∂L/∂θ‖₂ over every tensor under "<stack>.layers.<l>." (branch weights and biases, LayerNorms, method tensors),
    /// one per layer l = 0..<L.
    public var layerGradNorm: [Double]
    /// ‖∂L/∂θ‖₂ over the residual-branch tensors of one sublayer kind ("self_attn", "encoder_attn", "ffn"), per layer.
    public var sublayerGradNorm: [String: [Double]]
    /// Mean over the probe batch's non-pad positions of ‖x_t‖₂, x = the input of each LayerNorm of the stack, in
    /// forward order (`lnNames`); the stack's final LayerNorm (Pre-LN) is last when present.
    public var lnInputNorm: [Double]
    public var lnNames: [String]
    /// Mean over non-pad positions of ‖F_t(x, θ_i) − F_t(x, θ_0)‖₂ with F = this stack's final hidden states
    /// (nil when the model update was not measured).
    public var outputUpdate: Double?
    /// ‖F(x, θ_i) − F(x, θ_0)‖ as one Frobenius norm over all non-pad positions.
    public var outputUpdateFrobenius: Double?
    /// As `outputUpdate`, with F replaced by F_pre, the input of the last LayerNorm the stack output passes through
    /// (`TrainingProbes.preNormOutput`; equal to F for methods without one). Not capped near √(2d) as F is.
    public var preLNOutputUpdate: Double?
    /// As `outputUpdateFrobenius`, for F_pre.
    public var preLNOutputUpdateFrobenius: Double?

    public init(stack: String, layerGradNorm: [Double] = [], sublayerGradNorm: [String: [Double]] = [:],
                lnInputNorm: [Double] = [], lnNames: [String] = [], outputUpdate: Double? = nil,
                outputUpdateFrobenius: Double? = nil, preLNOutputUpdate: Double? = nil,
                preLNOutputUpdateFrobenius: Double? = nil) {
        self.stack = stack; self.layerGradNorm = layerGradNorm; self.sublayerGradNorm = sublayerGradNorm
        self.lnInputNorm = lnInputNorm; self.lnNames = lnNames; self.outputUpdate = outputUpdate
        self.outputUpdateFrobenius = outputUpdateFrobenius
        self.preLNOutputUpdate = preLNOutputUpdate; self.preLNOutputUpdateFrobenius = preLNOutputUpdateFrobenius
    }

    /// Mean of `lnInputNorm` (the "average input of LNs" of Fig. 3b/3c), nil when none.
    public var meanLNInputNorm: Double? {
        lnInputNorm.isEmpty ? nil : lnInputNorm.reduce(0, +) / Double(lnInputNorm.count)
    }
}

/// Everything recorded at one step.
public struct ProbeRecord: Sendable, Codable, Equatable {
    /// Number of optimizer updates completed (0 = at initialization).
    public var step: Int
    /// ‖∂L/∂θ‖₂ over all parameters (from the gradients of the last training step; 0 at step 0).
    public var totalGradNorm: Double
    public var encoder: StackProbe?
    public var decoder: StackProbe?
    /// The model update of Fig. 3a / Fig. 4: the decoder's (encoder-decoder and decoder-only) or the encoder's
    /// (encoder-only) `outputUpdate`.
    public var modelUpdate: Double?
    /// ‖θ_i − θ_0‖₂ over all parameters.
    public var parameterDistance: Double?
    /// The model update measured before the last LayerNorm: the same stack's `preLNOutputUpdate`.
    public var modelUpdatePreLN: Double?

    public init(step: Int, totalGradNorm: Double = 0, encoder: StackProbe? = nil, decoder: StackProbe? = nil,
                modelUpdate: Double? = nil, parameterDistance: Double? = nil, modelUpdatePreLN: Double? = nil) {
        self.step = step; self.totalGradNorm = totalGradNorm; self.encoder = encoder; self.decoder = decoder
        self.modelUpdate = modelUpdate; self.parameterDistance = parameterDistance
        self.modelUpdatePreLN = modelUpdatePreLN
    }
}
