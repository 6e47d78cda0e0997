// Model configuration, token batches, loss statistics and engine errors.
import Foundation

/// Bump whenever a change alters any number the engine produces (init, kernels, RNG streams, optimizer).
/// Run-identity hashes include it, so cached results are invalidated when the numerics change.
/// 2: matrix products in shape-determined blocks on single-threaded OpenBLAS (GEMM.swift), so results no longer
///    depend on the thread count; the last bits of every product differ from version 1's.
/// 3: batches of models up to 256 wide run in two shards of sentences, one per thread, with their weight gradients
///    summed at the end (`TransformerModel.batchShards`).
/// 4: `post-ln-init` starts from `post-ln`'s initialization (then the weights of layer l are divided by L − l + 1)
///    instead of xavier_normal/(L − l + 1) with zero biases; no other method's numbers change, but run identities
///    have no per-method version, so this is what keeps old post-ln-init results from being reused.
public var engineNumericsVersion: String { "engine-numerics-4" }

public enum Architecture: String, Codable, Choice {
    case encoderDecoder = "encoder-decoder", encoderOnly = "encoder-only", decoderOnly = "decoder-only"
}

public enum PositionKind: String, Codable, Choice { case sinusoidal, learned, none }

public enum Activation: String, Codable, Choice { case relu, gelu }

/// Everything that defines a model. Field names follow fairseq/torchscale flags where one exists.
public struct ModelConfig: Codable, Hashable, Sendable {
    public var architecture: Architecture = .encoderDecoder
    /// N: encoder layers (ignored for decoder-only).
    public var encoderLayers: Int = 6
    /// M: decoder layers (ignored for encoder-only).
    public var decoderLayers: Int = 6
    public var embedDim: Int = 64
    public var ffnDim: Int = 128
    public var heads: Int = 2
    public var vocabSize: Int = 1000
    /// Largest sequence length the learned position table supports (fairseq `max_source_positions`).
    public var maxPositions: Int = 1024
    public var positions: PositionKind = .sinusoidal
    /// Multiply token embeddings by sqrt(embedDim) (fairseq default; `--no-scale-embedding` turns it off).
    public var scaleEmbedding: Bool = true
    /// Encoder input, decoder input and decoder output share one matrix (`--share-all-embeddings`).
    public var shareAllEmbeddings: Bool = false
    /// Decoder input and output projection share one matrix (`--share-decoder-input-output-embed`).
    /// For encoder-only models it ties `encoder.output_projection` to `encoder.embed_tokens`.
    public var shareDecoderInputOutputEmbed: Bool = false
    public var activation: Activation = .relu
    public var dropout: Double = 0
    public var attentionDropout: Double = 0
    public var activationDropout: Double = 0
    public var labelSmoothing: Double = 0
    /// Residual/normalization/init method, by registry name (see `MethodRegistry`).
    public var method: String = "post-ln"
    /// DeepNorm-style methods: α = alphaMultiplier·α*, β = betaMultiplier·β*.
    public var alphaMultiplier: Double = 1
    public var betaMultiplier: Double = 1
    /// Method-specific knobs, e.g. "branchnorm-steps". Unknown keys are rejected by the method.
    public var methodOptions: [String: Double] = [:]
    public var padIndex: Int = 1

    public init(architecture: Architecture = .encoderDecoder, encoderLayers: Int = 6, decoderLayers: Int = 6,
                embedDim: Int = 64, ffnDim: Int = 128, heads: Int = 2, vocabSize: Int = 1000,
                maxPositions: Int = 1024, positions: PositionKind = .sinusoidal, scaleEmbedding: Bool = true,
                shareAllEmbeddings: Bool = false, shareDecoderInputOutputEmbed: Bool = false,
                activation: Activation = .relu, dropout: Double = 0, attentionDropout: Double = 0,
                activationDropout: Double = 0, labelSmoothing: Double = 0, method: String = "post-ln",
                alphaMultiplier: Double = 1, betaMultiplier: Double = 1, methodOptions: [String: Double] = [:],
                padIndex: Int = 1) {
        self.architecture = architecture; self.encoderLayers = encoderLayers; self.decoderLayers = decoderLayers
        self.embedDim = embedDim; self.ffnDim = ffnDim; self.heads = heads; self.vocabSize = vocabSize
        self.maxPositions = maxPositions; self.positions = positions; self.scaleEmbedding = scaleEmbedding
        self.shareAllEmbeddings = shareAllEmbeddings; self.shareDecoderInputOutputEmbed = shareDecoderInputOutputEmbed
        self.activation = activation; self.dropout = dropout; self.attentionDropout = attentionDropout
        self.activationDropout = activationDropout; self.labelSmoothing = labelSmoothing; self.method = method
        self.alphaMultiplier = alphaMultiplier; self.betaMultiplier = betaMultiplier
        self.methodOptions = methodOptions; self.padIndex = padIndex
    }

    /// The settings' external names — checkpoint attributes, `config_json`, the run configuration's `model`
    /// section, and the CLI's record of which flags were given — declared once, here: fairseq/torchscale's
    /// snake_case argument names where one exists.
    public enum CodingKeys: String, CodingKey, CaseIterable {
        case architecture, encoderLayers = "encoder_layers", decoderLayers = "decoder_layers", embedDim = "embed_dim"
        case ffnDim = "ffn_dim", heads, vocabSize = "vocab_size", maxPositions = "max_positions", positions
        case scaleEmbedding = "scale_embedding", shareAllEmbeddings = "share_all_embeddings"
        case shareDecoderInputOutputEmbed = "share_decoder_input_output_embed", activation, dropout
        case attentionDropout = "attention_dropout", activationDropout = "activation_dropout"
        case labelSmoothing = "label_smoothing", method, alphaMultiplier = "alpha_multiplier"
        case betaMultiplier = "beta_multiplier", methodOptions = "method_options", padIndex = "pad_index"

        /// The camelCase spelling that files written before the snake_case names (checkpoints' `config_json`,
        /// results of run-identity scheme ≤ 2) use.
        public var legacyName: String {
            let parts = rawValue.split(separator: "_").map(String.init)
            return parts[0] + parts.dropFirst().map { $0.prefix(1).uppercased() + $0.dropFirst() }.joined()
        }
    }

    /// Reads the snake_case names, or the legacy camelCase ones of older files; a missing field keeps its default.
    public init(from decoder: Decoder) throws {
        struct AnyKey: CodingKey {
            var stringValue: String; var intValue: Int? { nil }
            init(stringValue: String) { self.stringValue = stringValue }
            init?(intValue: Int) { nil }
        }
        let c = try decoder.container(keyedBy: AnyKey.self)
        func v<T: Decodable>(_ k: CodingKeys, _ current: T) throws -> T {
            for name in [k.rawValue, k.legacyName] where c.contains(AnyKey(stringValue: name)) {
                return try c.decode(T.self, forKey: AnyKey(stringValue: name))
            }
            return current
        }
        self.init()
        architecture = try v(.architecture, architecture); encoderLayers = try v(.encoderLayers, encoderLayers)
        decoderLayers = try v(.decoderLayers, decoderLayers); embedDim = try v(.embedDim, embedDim); ffnDim = try v(.ffnDim, ffnDim)
        heads = try v(.heads, heads); vocabSize = try v(.vocabSize, vocabSize); maxPositions = try v(.maxPositions, maxPositions)
        positions = try v(.positions, positions); scaleEmbedding = try v(.scaleEmbedding, scaleEmbedding)
        shareAllEmbeddings = try v(.shareAllEmbeddings, shareAllEmbeddings)
        shareDecoderInputOutputEmbed = try v(.shareDecoderInputOutputEmbed, shareDecoderInputOutputEmbed)
        activation = try v(.activation, activation); dropout = try v(.dropout, dropout)
        attentionDropout = try v(.attentionDropout, attentionDropout); activationDropout = try v(.activationDropout, activationDropout)
        labelSmoothing = try v(.labelSmoothing, labelSmoothing); method = try v(.method, method)
        alphaMultiplier = try v(.alphaMultiplier, alphaMultiplier); betaMultiplier = try v(.betaMultiplier, betaMultiplier)
        methodOptions = try v(.methodOptions, methodOptions); padIndex = try v(.padIndex, padIndex)
    }

    var hasEncoder: Bool { architecture != .decoderOnly }
    var hasDecoder: Bool { architecture != .encoderOnly }

    /// Throws `ConfigError` with a message that says what is wrong and what is allowed.
    public func validate() throws {
        func fail(_ s: String) throws -> Never { throw ConfigError(message: s) }
        if hasEncoder && encoderLayers <= 0 { try fail("encoderLayers must be > 0 for \(architecture.rawValue), got \(encoderLayers)") }
        if hasDecoder && decoderLayers <= 0 { try fail("decoderLayers must be > 0 for \(architecture.rawValue), got \(decoderLayers)") }
        if embedDim <= 0 { try fail("embedDim must be > 0, got \(embedDim)") }
        if ffnDim <= 0 { try fail("ffnDim must be > 0, got \(ffnDim)") }
        if heads <= 0 { try fail("heads must be > 0, got \(heads)") }
        if embedDim % heads != 0 { try fail("heads (\(heads)) must divide embedDim (\(embedDim))") }
        if vocabSize <= 1 { try fail("vocabSize must be > 1, got \(vocabSize)") }
        if padIndex < 0 || padIndex >= vocabSize { try fail("padIndex \(padIndex) outside [0, \(vocabSize))") }
        if maxPositions <= 0 { try fail("maxPositions must be > 0, got \(maxPositions)") }
        if positions == .sinusoidal && embedDim < 4 { try fail("sinusoidal positions need embedDim >= 4") }
        for (n, p) in [("dropout", dropout), ("attentionDropout", attentionDropout), ("activationDropout", activationDropout)] {
            if !(p >= 0 && p < 1) { try fail("\(n) must be in [0, 1), got \(p)") }
        }
        if !(labelSmoothing >= 0 && labelSmoothing < 1) { try fail("labelSmoothing must be in [0, 1), got \(labelSmoothing)") }
        if !(alphaMultiplier > 0) || !(betaMultiplier > 0) { try fail("alphaMultiplier and betaMultiplier must be > 0") }
        if shareAllEmbeddings && architecture != .encoderDecoder {
            try fail("shareAllEmbeddings needs an encoder-decoder model (use shareDecoderInputOutputEmbed)")
        }
        guard let type = MethodRegistry.type(named: method) else {
            try fail("unknown method '\(method)'; valid methods: \(MethodRegistry.names.joined(separator: ", "))")
        }
        _ = try type.init(MethodContext(config: self))   // lets the method reject its options
    }
}

public struct ConfigError: Error, CustomStringConvertible, Equatable {
    public var message: String
    public init(message: String) { self.message = message }
    public var description: String { "invalid configuration: \(message)" }
}

// TokenBatch lives in DeepNetBase (shared with DeepNetData), re-exported by this module (Random.swift).

public struct BatchError: Error, CustomStringConvertible {
    public var message: String
    public var description: String { "invalid batch: \(message)" }
}

public struct LossStats: Sendable {
    /// Label-smoothed loss per target token (natural log).
    public var loss: Double
    /// Negative log-likelihood per target token (natural log).
    public var nllLoss: Double
    /// Number of non-pad target tokens.
    public var tokens: Int
    public init(loss: Double, nllLoss: Double, tokens: Int) { self.loss = loss; self.nllLoss = nllLoss; self.tokens = tokens }
}

/// Thrown when the loss or any gradient is NaN/Inf. `tensor` is the first tensor in forward order that went
/// non-finite (an activation such as "encoder.layers.3.self_attn (output)" or a parameter gradient name).
public struct NonFiniteError: Error, CustomStringConvertible {
    public var step: Int
    public var tensor: String
    public var what: String
    public init(step: Int, tensor: String, what: String) { self.step = step; self.tensor = tensor; self.what = what }
    public var description: String { "non-finite \(what) at step \(step) in tensor \(tensor)" }
}
