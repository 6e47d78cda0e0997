// Model configuration, token batches, loss statistics and engine errors.
import Foundation

/// Bump whenever a change alters any number the engine produces (init, kernels, RNG streams, optimizer).
/// Run-identity hashes include it, so cached results are invalidated when the numerics change.
/// 2: matrix products in shape-determined blocks on single-threaded OpenBLAS (GEMM.swift), so results no longer
///    depend on the thread count; the last bits of every product differ from version 1's.
/// 3: batches of models up to 256 wide run in two shards of sentences, one per thread, with their weight gradients
///    summed at the end (`TransformerModel.batchShards`).
public var engineNumericsVersion: String { "engine-numerics-3" }

public enum Architecture: String, Codable, CaseIterable, Sendable {
    case encoderDecoder = "encoder-decoder", encoderOnly = "encoder-only", decoderOnly = "decoder-only"
}

public enum PositionKind: String, Codable, CaseIterable, Sendable { case sinusoidal, learned, none }

public enum Activation: String, Codable, CaseIterable, Sendable { case relu, gelu }

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

/// A batch of token ids, row-major, right-padded with `padIndex`.
/// Encoder-decoder: source [B,S], prevOutput [B,T], target [B,T].
/// Decoder-only: prevOutput [B,T], target [B,T] (source ignored).
/// Encoder-only (masked LM): source [B,S], target [B,S]; loss where target != pad.
public struct TokenBatch: Sendable {
    public var batchSize: Int
    public var sourceLength: Int
    public var targetLength: Int
    public var source: [Int32]
    public var prevOutput: [Int32]
    public var target: [Int32]
    public init(batchSize: Int, sourceLength: Int, targetLength: Int, source: [Int32], prevOutput: [Int32], target: [Int32]) {
        self.batchSize = batchSize; self.sourceLength = sourceLength; self.targetLength = targetLength
        self.source = source; self.prevOutput = prevOutput; self.target = target
    }
}

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
