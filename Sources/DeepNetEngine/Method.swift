// The extension point for residual / normalization / initialization methods.
//
// HOW TO ADD A METHOD (one new file, no edit of the model code):
//  1. Create Sources/DeepNetEngine/Methods/MyMethod.swift with `final class MyMethod: ResidualMethod`.
//  2. `static let name = "my-method"`; `init(_ ctx: MethodContext) throws` computes constants from
//     ctx.encoderLayers / ctx.decoderLayers / ctx.architecture and rejects unknown ctx.options keys.
//  3. Say which ops run at each hook of a sublayer: `ops(at: .branchInput / .sublayerOutput / ..., of:)`
//     (e.g. a `LayerNormOp` at .sublayerOutput = Post-LN, at .branchInput = Pre-LN), and what ends a stack
//     (`stackOutputOps`, e.g. the final LN of Pre-LN).
//  4. Return the residual combine `out = combine(x, branch)` from `residualCombine(for:)` (ScaledResidual(α),
//     VectorGateResidual, BranchScaleResidual, or your own `ResidualCombineOp` with its parameters).
//  5. Initialize weights in `initializeLinear` / `initializeEmbedding` using the helpers in `Init`.
//  6. New learnable tensors are declared by the ops/combines through `parameters: [ParameterSpec]`
//     (state_dict-style names); the model carves them from the flat buffer and trains them.
//  7. Register the type: append `MyMethod.self` to `MethodRegistry.builtin` (Methods/Registry.swift), or call
//     `MethodRegistry.register(MyMethod.self)` at start-up from outside the engine.
//  8. Test it: the generic gradient-check and whole-model tests iterate over `MethodRegistry.names`.
import Foundation

public enum StackKind: String, Sendable { case encoder, decoder }

public enum SublayerKind: String, Sendable { case selfAttention, crossAttention, feedForward }

public struct StackInfo: Sendable {
    public var kind: StackKind
    /// Number of layers in this stack (N for the encoder, M for the decoder).
    public var layers: Int
    public var architecture: Architecture
    public var prefix: String { kind.rawValue }
}

public struct SublayerInfo: Sendable {
    public var stack: StackInfo
    /// 0-based layer index within the stack.
    public var layer: Int
    public var kind: SublayerKind
    /// Sublayer index within the layer (0: self-attn, then cross-attn if any, then FFN).
    public var indexInLayer: Int
    /// Sublayer index within the stack, 0-based (Admin's profile index − 1).
    public var indexInStack: Int
    public var embedDim: Int
    public var ffnDim: Int
    public var heads: Int
    /// "encoder.layers.3"
    public var layerPrefix: String { "\(stack.prefix).layers.\(layer)" }
    /// "encoder.layers.3.self_attn" / "decoder.layers.0.encoder_attn" / "encoder.layers.3.ffn"
    public var modulePrefix: String {
        switch kind {
        case .selfAttention: return layerPrefix + ".self_attn"
        case .crossAttention: return layerPrefix + ".encoder_attn"
        case .feedForward: return layerPrefix + ".ffn"
        }
    }
    /// The fairseq/torchscale name of this sublayer's LayerNorm ("...self_attn_layer_norm" etc.).
    public var normName: String {
        switch kind {
        case .selfAttention: return layerPrefix + ".self_attn_layer_norm"
        case .crossAttention: return layerPrefix + ".encoder_attn_layer_norm"
        case .feedForward: return layerPrefix + ".final_layer_norm"
        }
    }
    public var isAttention: Bool { kind != .feedForward }
}

public enum LinearRole: String, Sendable { case q = "q_proj", k = "k_proj", v = "v_proj", out = "out_proj", fc1, fc2 }

public struct LinearInfo: Sendable {
    public var sublayer: SublayerInfo
    public var role: LinearRole
    public var fanIn: Int
    public var fanOut: Int
    /// Module path, e.g. "encoder.layers.3.self_attn.v_proj"; the tensors are `name + ".weight"`/".bias".
    public var name: String { sublayer.modulePrefix + "." + role.rawValue }
}

public enum EmbeddingKind: String, Sendable { case tokens, learnedPositions, outputProjection }

public struct EmbeddingInfo: Sendable {
    public var name: String
    public var kind: EmbeddingKind
    public var stack: StackKind
    public var rows: Int
    public var dim: Int
    public var padIndex: Int
}

/// Points inside a sublayer where a method may insert activation ops.
///   u = branchInput(x) → attention: q,k,v(u) → ctx → attentionContext(ctx) → out_proj
///                      → FFN: fc1(u) → ffnPreActivation → act → activation dropout → ffnHidden → fc2
///   h = Dropout(branchOutput(branch)) ; y = sublayerOutput(combine(x, h))
public enum Hook: String, Sendable, CaseIterable {
    case branchInput, attentionContext, ffnPreActivation, ffnHidden, branchOutput, sublayerOutput
}

/// Per-call information for ops.
public struct OpContext {
    public var training: Bool
    /// Number of optimizer updates completed before this forward (BranchNorm's t).
    public var step: Int
    /// Scratch of at least rows·max(embedDim, ffnDim) floats, free for the duration of one op call.
    public var scratch: FloatPtr
    /// Row of the whole batch that row 0 of this call is (0 unless the batch runs in shards): dropout masks are
    /// drawn by global element index, so a shard drops exactly what the whole batch would.
    public var firstRow: Int
    public init(training: Bool, step: Int, scratch: FloatPtr, firstRow: Int = 0) {
        self.training = training; self.step = step; self.scratch = scratch; self.firstRow = firstRow
    }
}

/// An op applied to a [rows, width] activation at a hook point. Forward writes y (never in place);
/// backward ACCUMULATES into dx and into parameter gradients.
public protocol ActivationOp: AnyObject {
    var parameters: [ParameterSpec] { get }
    /// Called once after the parameter buffer is laid out; look up your offsets by name.
    func bind(offsetOf: (String) -> Int)
    /// Floats of per-call cache this op needs for a given activation shape.
    func cacheSize(rows: Int, width: Int) -> Int
    func forward(x: FloatPtr, y: FloatPtr, rows: Int, width: Int, params: FloatPtr, cache: FloatPtr, context: OpContext)
    func backward(dy: FloatPtr, dx: FloatPtr, x: FloatPtr, y: FloatPtr, rows: Int, width: Int, params: FloatPtr,
                  grads: FloatPtr, cache: FloatPtr, context: OpContext)
}

/// The residual connection `out = combine(x, h)` where x is the sublayer input (residual stream) and h the
/// dropped-out branch output. Backward ACCUMULATES into dx, dh and parameter gradients.
public protocol ResidualCombineOp: AnyObject {
    var parameters: [ParameterSpec] { get }
    func bind(offsetOf: (String) -> Int)
    func forward(x: FloatPtr, h: FloatPtr, out: FloatPtr, rows: Int, width: Int, params: FloatPtr, context: OpContext)
    func backward(dout: FloatPtr, x: FloatPtr, h: FloatPtr, dx: FloatPtr, dh: FloatPtr, rows: Int, width: Int,
                  params: FloatPtr, grads: FloatPtr, context: OpContext)
}

/// Layer-level mixing of previous layer outputs (DLCL). The model keeps y_0 (embedding output) … y_l and asks
/// the mixer for the input of layer l+1 and for the stack output.
public protocol LayerHistoryMixer: AnyObject {
    var parameters: [ParameterSpec] { get }
    func bind(offsetOf: (String) -> Int)
    /// Ops applied to y_k when it is pushed to the history (k = 0 is the embedding output). Output width = d.
    func pushOps(index k: Int) -> [ActivationOp]
    /// Ops applied to the mixed value before it becomes layer l's input (l = layers means the stack output).
    func mixOps(index l: Int) -> [ActivationOp]
    /// Weight of history entry k in the input of layer l (l in 0...layers, k in 0...l).
    func weightOffset(layer l: Int, entry k: Int) -> Int
}

/// Everything a method may use to compute its constants.
public struct MethodContext: Sendable {
    public var architecture: Architecture
    public var encoderLayers: Int
    public var decoderLayers: Int
    public var embedDim: Int
    public var ffnDim: Int
    public var heads: Int
    public var alphaMultiplier: Double
    public var betaMultiplier: Double
    public var options: [String: Double]
    public var shareAllEmbeddings: Bool
    public var tiedOutputProjection: Bool
    public init(config c: ModelConfig) {
        architecture = c.architecture
        encoderLayers = c.architecture == .decoderOnly ? 0 : c.encoderLayers
        decoderLayers = c.architecture == .encoderOnly ? 0 : c.decoderLayers
        embedDim = c.embedDim; ffnDim = c.ffnDim; heads = c.heads
        alphaMultiplier = c.alphaMultiplier; betaMultiplier = c.betaMultiplier; options = c.methodOptions
        shareAllEmbeddings = c.shareAllEmbeddings
        tiedOutputProjection = c.shareAllEmbeddings || c.shareDecoderInputOutputEmbed
    }
    public func layers(_ s: StackKind) -> Int { s == .encoder ? encoderLayers : decoderLayers }
    /// Rejects option keys the method does not know.
    public func checkOptions(allowed: [String], method: String) throws {
        for k in options.keys where !allowed.contains(k) {
            throw ConfigError(message: "method '\(method)' has no option '\(k)'; its options: \(allowed.isEmpty ? "none" : allowed.joined(separator: ", "))")
        }
    }
    public func option(_ k: String, default d: Double) -> Double { options[k] ?? d }
}

public protocol ResidualMethod: AnyObject {
    static var name: String { get }
    /// One line for listings and the README.
    static var summary: String { get }
    init(_ context: MethodContext) throws
    func ops(at hook: Hook, of sublayer: SublayerInfo) -> [ActivationOp]
    /// Ops run on the last layer's output of a stack (e.g. Pre-LN's final `encoder.layer_norm`).
    func stackOutputOps(_ stack: StackInfo) -> [ActivationOp]
    func residualCombine(for sublayer: SublayerInfo) -> ResidualCombineOp
    func linearHasBias(_ linear: LinearInfo) -> Bool
    func initializeLinear(_ linear: LinearInfo, weight: UnsafeMutableBufferPointer<Float>,
                          bias: UnsafeMutableBufferPointer<Float>?, rng: inout SplitMix64)
    func initializeEmbedding(_ e: EmbeddingInfo, table: UnsafeMutableBufferPointer<Float>, rng: inout SplitMix64)
    /// Optional DLCL-style layer mixing per stack.
    func layerHistoryMixer(_ stack: StackInfo) -> LayerHistoryMixer?
    func willRunForward(training: Bool)
    func didRunForward(training: Bool)
    /// True when the coming forward (after `willRunForward`) computes statistics over the whole batch, so the batch
    /// must not be split into shards (`TransformerModel.batchShards`).
    var needsWholeBatch: Bool { get }
    /// Named constants for logs and tests (e.g. "encoder.alpha").
    var constants: [String: Double] { get }
    /// State the method keeps outside the parameters that later updates depend on (Admin: whether ω has been
    /// profiled). `Trainer.save` stores it and `Trainer.restore` gives it back, so a resumed run continues exactly.
    var trainingState: [String: Double] { get }
    /// Restores `trainingState`; a key the method does not know is an error (a checkpoint of another method).
    func restoreTrainingState(_ state: [String: Double]) throws
}

public extension ResidualMethod {
    static var summary: String { name }
    func stackOutputOps(_ stack: StackInfo) -> [ActivationOp] { [] }
    func linearHasBias(_ linear: LinearInfo) -> Bool { true }
    func initializeEmbedding(_ e: EmbeddingInfo, table: UnsafeMutableBufferPointer<Float>, rng: inout SplitMix64) {
        Init.standardEmbedding(e, table, &rng)
    }
    func layerHistoryMixer(_ stack: StackInfo) -> LayerHistoryMixer? { nil }
    func willRunForward(training: Bool) {}
    func didRunForward(training: Bool) {}
    var needsWholeBatch: Bool { false }
    var constants: [String: Double] { [:] }
    var trainingState: [String: Double] { [:] }
    func restoreTrainingState(_ state: [String: Double]) throws {
        if let k = state.keys.sorted().first {
            throw ConfigError(message: "method '\(Self.name)' keeps no training state, but the checkpoint has '\(k)'")
        }
    }
}

/// Name -> method type. Unknown names produce an error listing the valid ones.
public enum MethodRegistry {
    nonisolated(unsafe) static var registered: [ResidualMethod.Type] = builtinMethods
    public static var names: [String] { registered.map { $0.name } }
    public static func type(named n: String) -> ResidualMethod.Type? { registered.first { $0.name == n } }
    /// Registers a method defined outside the engine. Duplicate names are an error (as in fairseq).
    public static func register(_ t: ResidualMethod.Type) throws {
        if type(named: t.name) != nil { throw ConfigError(message: "method '\(t.name)' is already registered") }
        registered.append(t)
    }
    public static func make(_ config: ModelConfig) throws -> ResidualMethod {
        guard let t = type(named: config.method) else {
            throw ConfigError(message: "unknown method '\(config.method)'; valid methods: \(names.joined(separator: ", "))")
        }
        return try t.init(MethodContext(config: config))
    }
}
