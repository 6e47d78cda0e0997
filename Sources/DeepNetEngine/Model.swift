// The Transformer: encoder–decoder, encoder-only (masked LM) and decoder-only (causal LM), with the residual
// method supplied by a `ResidualMethod`. Forward and backward are explicit sequences of kernel calls.
import Foundation

/// One encoder or decoder stack: embeddings, layers (as a flat list of sublayers), output ops.
final class StackModule {
    let info: StackInfo
    let tokenTable: Int
    let learnedPositions: Int?
    var sinusoid: [Float] = []
    let sublayers: [Sublayer]
    let sublayersPerLayer: Int
    let outputOps: [ActivationOp]
    let mixer: LayerHistoryMixer?
    let embedStream: UInt64
    init(info: StackInfo, tokenTable: Int, learnedPositions: Int?, sublayers: [Sublayer], perLayer: Int,
         outputOps: [ActivationOp], mixer: LayerHistoryMixer?, embedStream: UInt64) {
        self.info = info; self.tokenTable = tokenTable; self.learnedPositions = learnedPositions
        self.sublayers = sublayers; self.sublayersPerLayer = perLayer; self.outputOps = outputOps
        self.mixer = mixer; self.embedStream = embedStream
    }
}

/// Activations of one stack for one batch shape.
final class StackActivations {
    let emb = FloatBuffer(), embDrop = FloatBuffer()
    var positions: [Int32] = []
    var keyPad: [UInt8] = []
    let sub: [SublayerActivations]
    let output: ChainState
    // DLCL history: pushed values h_k, their chains, mixed values z_l and mix chains.
    var pushChains: [ChainState] = [], mixChains: [ChainState] = []
    var mixed: [FloatBuffer] = []
    var history: [FloatPtr] = []
    var x0: FloatPtr? = nil
    var layerOutputs: [FloatPtr] = []
    var finalHidden: FloatPtr? = nil
    init(_ s: StackModule) {
        sub = s.sublayers.map { SublayerActivations($0.ops) }
        output = ChainState(count: s.outputOps.count)
        if let m = s.mixer {
            let L = s.info.layers
            pushChains = (0...L).map { ChainState(count: m.pushOps(index: $0).count) }
            mixChains = (0...L).map { ChainState(count: m.mixOps(index: $0).count) }
            mixed = (0...L).map { _ in FloatBuffer() }
        }
    }
}

public final class TransformerModel {
    public let config: ModelConfig
    public var parameters: ParameterStore
    public var gradients: [Float]
    /// Number of optimizer updates applied so far (the Trainer advances it); BranchNorm's t.
    public var updateCount: Int = 0
    public let method: ResidualMethod

    var encoder: StackModule?
    var decoder: StackModule?
    var outputProjection: Int = 0
    /// The whole-batch workspace: unsharded batches, probes that read activations, incremental decoding.
    var primary: Workspace!
    /// One workspace per batch shard (created on first sharded batch); see `batchShards`.
    var shardWorkspaces: [Workspace] = []
    /// Workspaces of the last forward, in batch order (what `logits()` and non-finite reports read).
    var lastWorkspaces: [Workspace] = []
    var encAct: StackActivations? { primary.encAct }
    var decAct: StackActivations? { primary.decAct }
    var opScratch: FloatBuffer { primary.opScratch }
    var logitsBuf: FloatBuffer { primary.logitsBuf }
    var lastLogitRows: Int { lastWorkspaces.reduce(0) { $0 + $1.logitRows } }

    public init(config: ModelConfig, seed: UInt64) throws {
        try config.validate()
        // Admission before allocation: parameters + gradients of an oversized configuration are refused here, with
        // the estimate and the memory available, instead of dying in the allocator (MemoryEstimate.swift).
        try MemoryAdmission.check("the model (\(config.architecture.rawValue), encoderLayers=\(config.encoderLayers), decoderLayers=\(config.decoderLayers), embedDim=\(config.embedDim))", config, MemoryWorkload())
        self.config = config
        let method = try MethodRegistry.make(config)
        self.method = method
        var outputProjection = 0
        var store = ParameterStore()
        let d = config.embedDim, V = config.vocabSize, pad = config.padIndex
        let positionRows = config.maxPositions + pad + 1
        var stream: UInt64 = 1
        var linears: [(LinearInfo, Int, Int?)] = []
        var embeddings: [EmbeddingInfo] = []

        func buildStack(_ kind: StackKind) -> StackModule {
            let L = kind == .encoder ? config.encoderLayers : config.decoderLayers
            let info = StackInfo(kind: kind, layers: L, architecture: config.architecture)
            let p = info.prefix
            // Token embeddings (shared with the encoder when all embeddings are shared).
            let tokName = p + ".embed_tokens.weight"
            let tokenTable: Int
            if kind == .decoder && config.shareAllEmbeddings {
                store.alias(tokName, to: "encoder.embed_tokens.weight")
                tokenTable = store.offset(of: tokName)
            } else {
                tokenTable = store.declare(ParameterSpec(tokName, [V, d], .byHook))
                embeddings.append(EmbeddingInfo(name: tokName, kind: .tokens, stack: kind, rows: V, dim: d, padIndex: pad))
            }
            var learned: Int? = nil
            if config.positions == .learned {
                let n = p + ".embed_positions.weight"
                learned = store.declare(ParameterSpec(n, [positionRows, d], .byHook))
                embeddings.append(EmbeddingInfo(name: n, kind: .learnedPositions, stack: kind, rows: positionRows, dim: d, padIndex: pad))
            }
            // Output projection (decoder; encoder only in encoder-only models), declared before the layers as
            // torchscale's Decoder does.
            let hasOutput = kind == .decoder || config.architecture == .encoderOnly
            if hasOutput {
                let n = p + ".output_projection.weight"
                if config.shareAllEmbeddings || config.shareDecoderInputOutputEmbed {
                    store.alias(n, to: tokName)
                    outputProjection = store.offset(of: n)
                } else {
                    outputProjection = store.declare(ParameterSpec(n, [V, d], .byHook))
                    embeddings.append(EmbeddingInfo(name: n, kind: .outputProjection, stack: kind, rows: V, dim: d, padIndex: pad))
                }
            }
            let kinds: [SublayerKind] = kind == .encoder ? [.selfAttention, .feedForward]
                : (config.architecture == .encoderDecoder ? [.selfAttention, .crossAttention, .feedForward] : [.selfAttention, .feedForward])
            var subs: [Sublayer] = []
            for l in 0..<L {
                for (j, sk) in kinds.enumerated() {
                    let si = SublayerInfo(stack: info, layer: l, kind: sk, indexInLayer: j, indexInStack: l * kinds.count + j,
                                          embedDim: d, ffnDim: config.ffnDim, heads: config.heads)
                    let s = Sublayer(info: si, method: method, config: config, streamBase: stream)
                    stream += 4
                    func linear(_ role: LinearRole, _ fin: Int, _ fout: Int) -> LinearSlot {
                        let li = LinearInfo(sublayer: si, role: role, fanIn: fin, fanOut: fout)
                        let w = store.declare(ParameterSpec(li.name + ".weight", [fout, fin], .byHook))
                        var b: Int? = nil
                        if method.linearHasBias(li) { b = store.declare(ParameterSpec(li.name + ".bias", [fout], .zeros)) }
                        linears.append((li, w, b))
                        return LinearSlot(info: li, weight: w, bias: b)
                    }
                    if sk == .feedForward {
                        s.fc1 = linear(.fc1, d, config.ffnDim)
                        s.fc2 = linear(.fc2, config.ffnDim, d)
                    } else {
                        s.k = linear(.k, d, d); s.v = linear(.v, d, d); s.q = linear(.q, d, d); s.out = linear(.out, d, d)
                    }
                    for hook in [Hook.attentionContext, .ffnPreActivation, .ffnHidden, .branchInput, .branchOutput, .sublayerOutput] {
                        for op in s.hookOps(hook) { for spec in op.parameters { store.declare(spec) } }
                    }
                    for spec in s.combine.parameters { store.declare(spec) }
                    subs.append(s)
                }
            }
            let outOps = method.stackOutputOps(info)
            for op in outOps { for spec in op.parameters { store.declare(spec) } }
            let mixer = method.layerHistoryMixer(info)
            if let mixer {
                for spec in mixer.parameters { store.declare(spec) }
                for i in 0...L { for op in mixer.pushOps(index: i) + mixer.mixOps(index: i) { for spec in op.parameters { store.declare(spec) } } }
            }
            let m = StackModule(info: info, tokenTable: tokenTable, learnedPositions: learned, sublayers: subs,
                                perLayer: kinds.count, outputOps: outOps, mixer: mixer, embedStream: stream)
            stream += 4
            if config.positions == .sinusoidal {
                m.sinusoid = sinusoidalTable(numEmbeddings: positionRows, dim: d, padIndex: pad)
            }
            return m
        }
        let encoder = config.hasEncoder ? buildStack(.encoder) : nil
        let decoder = config.hasDecoder ? buildStack(.decoder) : nil

        // Bind every op to its offsets.
        let lookup: (String) -> Int = { store.offset(of: $0) }
        for s in [encoder, decoder].compactMap({ $0 }) {
            for sub in s.sublayers {
                for list in sub.ops { for op in list { op.bind(offsetOf: lookup) } }
                sub.combine.bind(offsetOf: lookup)
            }
            for op in s.outputOps { op.bind(offsetOf: lookup) }
            if let m = s.mixer {
                m.bind(offsetOf: lookup)
                for i in 0...s.info.layers { for op in m.pushOps(index: i) + m.mixOps(index: i) { op.bind(offsetOf: lookup) } }
            }
        }

        // Initialization: constants first, then method hooks with one RNG stream per tensor.
        for (i, e) in store.entries.enumerated() {
            switch store.initial(at: i) {
            case .zeros: for j in 0..<e.count { store.values[e.offset + j] = 0 }
            case .ones: for j in 0..<e.count { store.values[e.offset + j] = 1 }
            case .constant(let c): for j in 0..<e.count { store.values[e.offset + j] = c }
            case .values(let v): for j in 0..<e.count { store.values[e.offset + j] = v[j] }
            case .byHook: break
            }
        }
        // Offsets are looked up before taking the mutable buffer: reading `store` inside the
        // closure would overlap the exclusive access to `store.values` (a runtime trap in debug).
        let embeddingOffsets = embeddings.map { store.entries[store.index[$0.name]!].offset }
        store.values.withUnsafeMutableBufferPointer { vals in
            for (e, off) in zip(embeddings, embeddingOffsets) {
                var rng = SplitMix64(seed: seed ^ stableHash(e.name))
                method.initializeEmbedding(e, table: UnsafeMutableBufferPointer(rebasing: vals[off..<(off + e.rows * e.dim)]), rng: &rng)
            }
            for (li, w, b) in linears {
                var rng = SplitMix64(seed: seed ^ stableHash(li.name))
                let wb = UnsafeMutableBufferPointer(rebasing: vals[w..<(w + li.fanIn * li.fanOut)])
                let bb = b.map { UnsafeMutableBufferPointer(rebasing: vals[$0..<($0 + li.fanOut)]) }
                method.initializeLinear(li, weight: wb, bias: bb, rng: &rng)
            }
        }
        parameters = store
        gradients = [Float](repeating: 0, count: store.count)
        self.encoder = encoder
        self.decoder = decoder
        self.outputProjection = outputProjection
        primary = Workspace(encoder: encoder, decoder: decoder)
        lastWorkspaces = [primary]
    }

    public var parameterCount: Int { parameters.count }

    // MARK: - Batch validation

    func check(_ b: TokenBatch) throws {
        let V = config.vocabSize
        func ids(_ a: [Int32], _ name: String, _ n: Int) throws {
            guard a.count == n else { throw BatchError(message: "\(name) has \(a.count) ids, expected \(n) (batchSize × length)") }
            for (i, t) in a.enumerated() where t < 0 || Int(t) >= V {
                throw BatchError(message: "\(name)[\(i)] = \(t) is outside [0, \(V)) (vocabSize \(V))")
            }
        }
        guard b.batchSize > 0 else { throw BatchError(message: "batchSize must be > 0") }
        switch config.architecture {
        case .encoderDecoder:
            guard b.sourceLength > 0, b.targetLength > 0 else { throw BatchError(message: "sourceLength and targetLength must be > 0") }
            try ids(b.source, "source", b.batchSize * b.sourceLength)
            try ids(b.prevOutput, "prevOutput", b.batchSize * b.targetLength)
            try ids(b.target, "target", b.batchSize * b.targetLength)
        case .encoderOnly:
            guard b.sourceLength > 0 else { throw BatchError(message: "sourceLength must be > 0") }
            try ids(b.source, "source", b.batchSize * b.sourceLength)
            try ids(b.target, "target", b.batchSize * b.sourceLength)
        case .decoderOnly:
            guard b.targetLength > 0 else { throw BatchError(message: "targetLength must be > 0") }
            try ids(b.prevOutput, "prevOutput", b.batchSize * b.targetLength)
            try ids(b.target, "target", b.batchSize * b.targetLength)
        }
        let maxLen = max(config.hasEncoder ? b.sourceLength : 0, config.hasDecoder && config.architecture != .encoderOnly ? b.targetLength : 0)
        if config.positions == .learned && maxLen > config.maxPositions {
            throw BatchError(message: "sequence length \(maxLen) exceeds maxPositions \(config.maxPositions)")
        }
    }

    // MARK: - Public entry points

    /// Training (or eval with `training: false`) forward + backward. Zeroes and fills `gradients`.
    public func forwardBackward(_ b: TokenBatch, training: Bool, dropoutSeed: UInt64) throws -> LossStats {
        try check(b)
        return try run(b, training: training, dropoutSeed: dropoutSeed, backward: true)
    }

    /// Eval-mode forward (no dropout), loss only.
    public func forward(_ b: TokenBatch) throws -> LossStats {
        try check(b)
        return try run(b, training: false, dropoutSeed: 0, backward: false)
    }

    /// Logits of the last forward, row-major [rows, vocab] (rows = B·T, or B·S for encoder-only).
    public func logits() -> [Float] {
        lastWorkspaces.flatMap { Array(UnsafeBufferPointer(start: $0.logitsBuf.ptr, count: $0.logitRows * config.vocabSize)) }
    }
    public var logitRows: Int { lastLogitRows }

    // MARK: - Core

    /// Shards a batch's sentences are split into for a training or evaluation step. Sentences are independent
    /// until the weight gradients: each shard runs forward and backward on one thread, with single-threaded BLAS
    /// and its own workspace and gradient buffer, and the shards' gradients are summed at the end, so a step has two
    /// joins instead of one per op (the hand-offs dominated 64-wide models). The count is a function of the
    /// configuration, never of the thread count (with one thread the shards run one after the other), so results
    /// do not depend on it. Dropout masks are drawn by global element index, so a shard drops what the whole batch
    /// would; values differ from an unsharded step only by float rounding (products over fewer rows, weight gradients
    /// summed over the shards). Wide models keep one shard: their GEMMs split
    /// well by blocks (`GEMM`), and a second gradient buffer would cost memory.
    public var batchShards: Int { Self.batchShards(config) }
    public static func batchShards(_ c: ModelConfig) -> Int { c.embedDim <= 256 ? 2 : 1 }

    /// Sentence ranges of the shards `b` runs in: one when the method needs whole-batch statistics (Admin's
    /// profiling forward), when the caller reads the activations afterwards (probes), or for one sentence.
    func shardRanges(batch B: Int, whole: Bool) -> [Range<Int>] {
        let n = whole || method.needsWholeBatch || B < 2 ? 1 : batchShards
        return (0..<n).map { (B * $0 / n)..<(B * ($0 + 1) / n) }
    }

    /// Eval-mode forward of the whole batch in the primary workspace, so that its activations can be read after.
    func forwardWholeBatch(_ b: TokenBatch) throws -> LossStats {
        try check(b)
        return try run(b, training: false, dropoutSeed: 0, backward: false, whole: true)
    }

    func run(_ b: TokenBatch, training: Bool, dropoutSeed: UInt64, backward: Bool, whole: Bool = false) throws -> LossStats {
        let B = b.batchSize
        let S = config.hasEncoder ? b.sourceLength : 0
        let T = config.architecture == .encoderOnly ? b.sourceLength : b.targetLength
        method.willRunForward(training: training)
        let ranges = shardRanges(batch: B, whole: whole)
        var shards: [BatchShard] = []
        if ranges.count == 1 {
            shards = [BatchShard(ws: primary, batch: b, firstSentence: 0)]
        } else {
            while shardWorkspaces.count < ranges.count { shardWorkspaces.append(Workspace(encoder: encoder, decoder: decoder)) }
            shards = ranges.enumerated().map { i, r in
                BatchShard(ws: shardWorkspaces[i], batch: b.sentences(r, sourceLength: S, targetLength: T), firstSentence: r.lowerBound)
            }
        }
        lastWorkspaces = shards.map(\.ws)
        var stats = LossStats(loss: 0, nllLoss: 0, tokens: 0)
        for t in b.target where Int(t) != config.padIndex { stats.tokens += 1 }
        let gradScale: Float = stats.tokens > 0 ? 1 / Float(stats.tokens) : 0
        let gradientsCount = gradients.count
        try parameters.values.withUnsafeMutableBufferPointer { pbuf in
            let params = pbuf.baseAddress!
            Self.forEach(shards.count) { i in
                forwardShard(shards[i], params: params, training: training, backward: backward, gradScale: gradScale, seed: dropoutSeed)
            }
            // Loss sums in batch order, as one pass over all rows would add them.
            var sumLoss = 0.0, sumNll = 0.0
            for sh in shards {
                let rl = sh.ws.rowLoss.ptr, rn = sh.ws.rowNll.ptr
                for r in 0..<sh.ws.logitRows { sumLoss += Double(rl[r]); sumNll += Double(rn[r]) }
            }
            let denom = Double(max(stats.tokens, 1))
            stats.loss = sumLoss / denom; stats.nllLoss = sumNll / denom
            method.didRunForward(training: training)
            if !stats.loss.isFinite {
                throw NonFiniteError(step: updateCount, tensor: firstNonFiniteInForward(params: params), what: "loss")
            }
            guard backward else { return }
            for sh in shards.dropFirst() { sh.ws.shardGradients.ensure(gradientsCount) }
            gradients.withUnsafeMutableBufferPointer { gbuf in
                let g0 = gbuf.baseAddress!
                Self.forEach(shards.count) { i in
                    let grads = i == 0 ? g0 : shards[i].ws.shardGradients.ptr
                    zero(grads, gradientsCount)
                    backwardShard(shards[i], params: params, grads: grads)
                }
                guard shards.count > 1 else { return }
                let others = shards.dropFirst().map { $0.ws.shardGradients.ptr }
                Parallel.forRanges(gradientsCount, grain: 16384) { r in
                    for g in others { for i in r { g0[i] += g[i] } }
                }
            }
        }
        return stats
    }

    /// body(0..<n) over the pool, or inline for one shard.
    static func forEach(_ n: Int, _ body: (Int) -> Void) {
        if n == 1 { body(0); return }
        Parallel.forRanges(n, grain: 1) { r in for i in r { body(i) } }
    }

    /// Forward of one shard: both stacks, logits and the label-smoothed loss (with dlogits when training).
    func forwardShard(_ sh: BatchShard, params: FloatPtr, training: Bool, backward: Bool, gradScale: Float, seed: UInt64) {
        let ws = sh.ws, b = sh.batch
        let d = config.embedDim, V = config.vocabSize, B = b.batchSize
        let S = config.hasEncoder ? b.sourceLength : 0
        let T = config.architecture == .encoderOnly ? b.sourceLength : b.targetLength
        let maxRows = B * max(S, T), lossRows = B * T
        // Size the shard's buffers (grow-only).
        ws.streamA.ensure(maxRows * d); ws.streamB.ensure(maxRows * d)
        ws.opScratch.ensure(maxRows * max(d, config.ffnDim))
        var need = 0
        for s in [encoder, decoder].compactMap({ $0 }) {
            for sub in s.sublayers { need = max(need, sub.arenaNeed(rows: maxRows, keyRows: maxRows)) }
        }
        ws.arena.reserve(need)
        ws.stackArena.reserve(8 * maxRows * max(d, config.ffnDim) + 64)
        ws.trace.removeAll(keepingCapacity: true)
        ws.training = training; ws.seed = seed; ws.backward = backward
        ws.firstSentence = sh.firstSentence
        let ctx = OpContext(training: training, step: updateCount, scratch: ws.opScratch.ptr)
        var features: FloatPtr
        var memory: FloatPtr? = nil
        if let enc = encoder, let ea = ws.encAct {
            memory = stackForward(ws, enc, ea, tokens: b.source, batch: B, length: S, memory: nil, memoryKeyPad: nil,
                                  memoryLength: 0, params: params, ctx: ctx, seed: seed)
            features = memory!
        }
        if let dec = decoder, let da = ws.decAct {
            features = stackForward(ws, dec, da, tokens: b.prevOutput, batch: B, length: T, memory: memory,
                                    memoryKeyPad: ws.encAct?.keyPad, memoryLength: S, params: params, ctx: ctx, seed: seed)
        } else {
            features = memory!
        }
        ws.memory = memory; ws.features = features
        // Output projection and loss.
        let logits = ws.logitsBuf.ensure(lossRows * V)
        linearForward(logits, features, params + outputProjection, nil, rows: lossRows, inDim: d, outDim: V)
        ws.logitRows = lossRows
        ws.trace.append(("logits", logits, lossRows * V))
        let dlogits: FloatPtr? = backward ? ws.dlogitsBuf.ensure(lossRows * V) : nil
        let rl = ws.rowLoss.ensure(lossRows), rn = ws.rowNll.ensure(lossRows)
        b.target.withUnsafeBufferPointer { tp in
            labelSmoothedCrossEntropy(logits: logits, targets: tp.baseAddress!, rows: lossRows, vocab: V,
                                      epsilon: Float(config.labelSmoothing), padIndex: config.padIndex,
                                      gradScale: gradScale, dlogits: dlogits, rowLoss: rl, rowNll: rn)
        }
    }

    /// Backward of one shard into `grads` (zeroed by the caller): logits -> features -> decoder -> encoder.
    func backwardShard(_ sh: BatchShard, params: FloatPtr, grads: FloatPtr) {
        let ws = sh.ws, b = sh.batch
        let d = config.embedDim, V = config.vocabSize, B = b.batchSize
        let S = config.hasEncoder ? b.sourceLength : 0
        let T = config.architecture == .encoderOnly ? b.sourceLength : b.targetLength
        let lossRows = B * T, seed = ws.seed
        let ctx = OpContext(training: ws.training, step: updateCount, scratch: ws.opScratch.ptr)
        let features = ws.features!, memory = ws.memory
        let dFeatures = ws.streamA.ptr
        zero(dFeatures, lossRows * d)
        linearBackward(dinp: dFeatures, dweight: grads + outputProjection, dbias: nil, dout: ws.dlogitsBuf.ptr, inp: features,
                       weight: params + outputProjection, rows: lossRows, inDim: d, outDim: V)
        if let dec = decoder, let da = ws.decAct {
            var dMem: FloatPtr? = nil
            if encoder != nil { dMem = ws.dMemory.ensure(B * S * d); zero(dMem!, B * S * d) }
            stackBackward(ws, dec, da, dOut: dFeatures, batch: B, length: T, memory: memory, memoryKeyPad: ws.encAct?.keyPad,
                          memoryLength: S, dMemory: dMem, tokens: b.prevOutput, params: params, grads: grads, ctx: ctx, seed: seed)
            if let enc = encoder, let ea = ws.encAct {
                stackBackward(ws, enc, ea, dOut: dMem!, batch: B, length: S, memory: nil, memoryKeyPad: nil, memoryLength: 0,
                              dMemory: nil, tokens: b.source, params: params, grads: grads, ctx: ctx, seed: seed)
            }
        } else if let enc = encoder, let ea = ws.encAct {
            stackBackward(ws, enc, ea, dOut: dFeatures, batch: B, length: S, memory: nil, memoryKeyPad: nil, memoryLength: 0,
                          dMemory: nil, tokens: b.source, params: params, grads: grads, ctx: ctx, seed: seed)
        }
    }

    func firstNonFiniteInForward(params: FloatPtr) -> String {
        for e in parameters.entries {
            for j in 0..<e.count where !params[e.offset + j].isFinite { return "\(e.name) (parameter)" }
        }
        // Tensor by tensor in forward order, each over all shards: the tensor the whole batch would name.
        let traces = lastWorkspaces.map(\.trace)
        for i in 0..<(traces.map(\.count).max() ?? 0) {
            for t in traces where i < t.count {
                let (name, p, n) = t[i]
                for j in 0..<n where !p[j].isFinite { return "\(name) (activation)" }
            }
        }
        return "unknown"
    }

    /// Name of the first parameter (in declaration = forward order) whose gradient is NaN/Inf, if any.
    public func firstNonFiniteGradient() -> String? {
        for e in parameters.entries {
            for j in 0..<e.count where !gradients[e.offset + j].isFinite { return e.name }
        }
        return nil
    }

    // MARK: - Stack forward / backward

    func embed(_ ws: Workspace, _ s: StackModule, _ a: StackActivations, tokens: [Int32], batch B: Int, length T: Int, params: FloatPtr,
               ctx: OpContext, seed: UInt64) -> FloatPtr {
        let d = config.embedDim, R = B * T, pad = config.padIndex
        if a.positions.count != R { a.positions = [Int32](repeating: 0, count: R); a.keyPad = [UInt8](repeating: 0, count: R) }
        tokens.withUnsafeBufferPointer { tp in
            a.positions.withUnsafeMutableBufferPointer { pp in
                makePositions(tp.baseAddress!, batch: B, length: T, padIndex: pad, into: pp.baseAddress!)
            }
        }
        for r in 0..<R { a.keyPad[r] = Int(tokens[r]) == pad ? 1 : 0 }
        let emb = a.emb.ensure(R * d)
        let scale: Float = config.scaleEmbedding ? Float(d).squareRoot() : 1
        tokens.withUnsafeBufferPointer { tp in
            a.positions.withUnsafeBufferPointer { pp in
                if config.positions == .none {
                    embeddingForward(emb, tokens: tp.baseAddress!, table: params + s.tokenTable, rows: R, dim: d, scale: scale,
                                     positionTable: nil, positions: nil)
                } else if let lp = s.learnedPositions {
                    embeddingForward(emb, tokens: tp.baseAddress!, table: params + s.tokenTable, rows: R, dim: d, scale: scale,
                                     positionTable: params + lp, positions: pp.baseAddress!)
                } else {
                    s.sinusoid.withUnsafeMutableBufferPointer { sp in
                        embeddingForward(emb, tokens: tp.baseAddress!, table: params + s.tokenTable, rows: R, dim: d, scale: scale,
                                         positionTable: sp.baseAddress!, positions: pp.baseAddress!)
                    }
                }
            }
        }
        let site = DropoutSite(p: ctx.training ? config.dropout : 0, seed: seed, stream: s.embedStream, offset: ctx.firstRow * d)
        var x = emb
        if site.active || s.info.kind == .encoder {
            x = a.embDrop.ensure(R * d)
            dropoutForward(x, emb, count: R * d, site: site)
            // torchscale Encoder: x = x * (1 - encoder_padding_mask)
            if s.info.kind == .encoder { for r in 0..<R where a.keyPad[r] != 0 { zero(x + r * d, d) } }
        }
        ws.trace.append(("\(s.info.prefix).embeddings", x, R * d))
        return x
    }

    func attentionInputs(_ sub: Sublayer, _ a: StackActivations, batch B: Int, length T: Int, memory: FloatPtr?,
                         memoryKeyPad: UnsafePointer<UInt8>?, memoryLength S: Int, ownKeyPad: UnsafePointer<UInt8>) -> AttentionInputs {
        switch sub.info.kind {
        case .crossAttention:
            return AttentionInputs(batch: B, queries: T, keys: S, causal: false, keyPad: memoryKeyPad, memory: memory)
        default:
            // Encoder self-attention masks pad keys; decoder self-attention is causal only (torchscale passes no
            // self_attn_padding_mask; with right padding no real query can see a pad key).
            let isDecoder = sub.info.stack.kind == .decoder
            return AttentionInputs(batch: B, queries: T, keys: T, causal: isDecoder, keyPad: isDecoder ? nil : ownKeyPad, memory: nil)
        }
    }

    func stackForward(_ ws: Workspace, _ s: StackModule, _ a: StackActivations, tokens: [Int32], batch B: Int, length T: Int, memory: FloatPtr?,
                      memoryKeyPad: [UInt8]?, memoryLength S: Int, params: FloatPtr, ctx: OpContext, seed: UInt64) -> FloatPtr {
        let d = config.embedDim, R = B * T
        var ctx = ctx
        ctx.firstRow = ws.firstSentence * T
        var x = embed(ws, s, a, tokens: tokens, batch: B, length: T, params: params, ctx: ctx, seed: seed)
        a.x0 = x
        a.keyPad.withUnsafeBufferPointer { kp in
            (memoryKeyPad ?? []).withUnsafeBufferPointer { mkp in
                x = runLayers(ws, s, a, x, rows: R, params: params, ctx: ctx) { sub, i, input in
                    let ai = attentionInputs(sub, a, batch: B, length: T, memory: memory, memoryKeyPad: mkp.baseAddress,
                                             memoryLength: S, ownKeyPad: kp.baseAddress!)
                    return sub.forward(x: input, inputs: ai, acts: a.sub[i], params: params, ctx: ctx, dropoutSeed: seed)
                }
            }
        }
        a.finalHidden = x
        let out = runOps(s.outputOps, a.output, x, rows: R, width: d, params: params, ctx: ctx)
        ws.trace.append(("\(s.info.prefix) (output)", out, R * d))
        return out
    }

    /// Runs the layers of a stack (with DLCL-style history mixing when the method has a mixer), calling
    /// `body(sublayer, index, input)` for each sublayer; returns the last hidden state before the output ops.
    func runLayers(_ ws: Workspace, _ s: StackModule, _ a: StackActivations, _ x0: FloatPtr, rows R: Int, params: FloatPtr, ctx: OpContext,
                   _ body: (Sublayer, Int, FloatPtr) -> FloatPtr) -> FloatPtr {
        let d = config.embedDim, L = s.info.layers, per = s.sublayersPerLayer
        var x = x0
        let mixer = s.mixer
        if let mixer {
            a.history.removeAll(keepingCapacity: true)
            a.history.append(runOps(mixer.pushOps(index: 0), a.pushChains[0], x, rows: R, width: d, params: params, ctx: ctx))
        }
        for l in 0..<L {
            if let mixer { x = mix(ws, mixer, a, layer: l, rows: R, params: params, ctx: ctx) }
            for j in 0..<per {
                let i = l * per + j
                x = body(s.sublayers[i], i, x)
                ws.trace.append((s.sublayers[i].label + " (output)", x, R * d))
            }
            if let mixer {
                a.history.append(runOps(mixer.pushOps(index: l + 1), a.pushChains[l + 1], x, rows: R, width: d, params: params, ctx: ctx))
            }
        }
        if let mixer { x = mix(ws, mixer, a, layer: L, rows: R, params: params, ctx: ctx) }
        return x
    }

    /// z_l = Σ_{k≤l} W[l,k]·h_k, then the mixer's ops for layer l.
    func mix(_ ws: Workspace, _ m: LayerHistoryMixer, _ a: StackActivations, layer l: Int, rows R: Int, params: FloatPtr, ctx: OpContext) -> FloatPtr {
        let d = config.embedDim
        let z = a.mixed[l].ensure(R * d)
        zero(z, R * d)
        for k in 0...l { axpy(z, params[m.weightOffset(layer: l, entry: k)], a.history[k], R * d) }
        return runOps(m.mixOps(index: l), a.mixChains[l], z, rows: R, width: d, params: params, ctx: ctx)
    }

    /// Backward of the mix for layer l: dH[k] += W[l,k]·dz, dW[l,k] += dz·h_k.
    func mixBackward(_ ws: Workspace, _ m: LayerHistoryMixer, _ a: StackActivations, layer l: Int, dOut: FloatPtr, rows R: Int, params: FloatPtr,
                     grads: FloatPtr, ctx: OpContext) {
        let d = config.embedDim
        let dz = backOps(m.mixOps(index: l), a.mixChains[l], dy: dOut, rows: R, width: d, params: params, grads: grads, ctx: ctx, arena: ws.stackArena)
        for k in 0...l {
            let w = m.weightOffset(layer: l, entry: k)
            axpy(ws.dHistory[k].ptr, params[w], dz, R * d)
            grads[w] += dot(dz, a.history[k], R * d)
        }
    }

    func stackBackward(_ ws: Workspace, _ s: StackModule, _ a: StackActivations, dOut: FloatPtr, batch B: Int, length T: Int, memory: FloatPtr?,
                       memoryKeyPad: [UInt8]?, memoryLength S: Int, dMemory: FloatPtr?, tokens: [Int32], params: FloatPtr,
                       grads: FloatPtr, ctx: OpContext, seed: UInt64) {
        let d = config.embedDim, R = B * T
        let L = s.info.layers, per = s.sublayersPerLayer
        var ctx = ctx
        ctx.firstRow = ws.firstSentence * T
        ws.stackArena.reset()
        // dOut may alias streamA; copy the gradient wrt the final hidden state into streamB first.
        var dy = ws.streamB.ptr
        let dHidden = backOps(s.outputOps, a.output, dy: dOut, rows: R, width: d, params: params, grads: grads, ctx: ctx, arena: ws.stackArena)
        dy.update(from: dHidden, count: R * d)
        var other = ws.streamA.ptr
        let mixer = s.mixer
        if mixer != nil {
            while ws.dHistory.count <= L { ws.dHistory.append(FloatBuffer()) }
            for k in 0...L { zero(ws.dHistory[k].ensure(R * d), R * d) }
        }
        a.keyPad.withUnsafeBufferPointer { kp in
            (memoryKeyPad ?? []).withUnsafeBufferPointer { mkp in
                if let mixer { mixBackward(ws, mixer, a, layer: L, dOut: dy, rows: R, params: params, grads: grads, ctx: ctx) }
                for l in stride(from: L - 1, through: 0, by: -1) {
                    if let mixer {
                        ws.stackArena.reset()
                        let g = backOps(mixer.pushOps(index: l + 1), a.pushChains[l + 1], dy: ws.dHistory[l + 1].ptr, rows: R, width: d,
                                        params: params, grads: grads, ctx: ctx, arena: ws.stackArena)
                        dy.update(from: g, count: R * d)
                    }
                    for j in stride(from: per - 1, through: 0, by: -1) {
                        let sub = s.sublayers[l * per + j]
                        let ai = attentionInputs(sub, a, batch: B, length: T, memory: memory, memoryKeyPad: mkp.baseAddress,
                                                 memoryLength: S, ownKeyPad: kp.baseAddress!)
                        sub.backward(dy: dy, dx: other, inputs: ai, dMemory: dMemory, acts: a.sub[l * per + j], params: params,
                                     grads: grads, ctx: ctx, dropoutSeed: seed, arena: ws.arena)
                        swap(&dy, &other)
                    }
                    if let mixer {
                        ws.stackArena.reset()
                        mixBackward(ws, mixer, a, layer: l, dOut: dy, rows: R, params: params, grads: grads, ctx: ctx)
                    }
                }
            }
        }
        if let mixer {
            ws.stackArena.reset()
            let g = backOps(mixer.pushOps(index: 0), a.pushChains[0], dy: ws.dHistory[0].ptr, rows: R, width: d, params: params,
                            grads: grads, ctx: ctx, arena: ws.stackArena)
            dy.update(from: g, count: R * d)
        }
        // Embedding backward: pad-row zeroing (encoder), dropout, token table, learned positions.
        if s.info.kind == .encoder { for r in 0..<R where a.keyPad[r] != 0 { zero(dy + r * d, d) } }
        let site = DropoutSite(p: ctx.training ? config.dropout : 0, seed: seed, stream: s.embedStream, offset: ctx.firstRow * d)
        let dEmb: FloatPtr
        if site.active {
            zero(other, R * d)
            dropoutBackward(dinp: other, dout: dy, count: R * d, site: site)
            dEmb = other
        } else { dEmb = dy }
        let scale: Float = config.scaleEmbedding ? Float(d).squareRoot() : 1
        tokens.withUnsafeBufferPointer { tp in
            embeddingBackward(dtable: grads + s.tokenTable, dout: dEmb, tokens: tp.baseAddress!, rows: R, dim: d, scale: scale,
                              padIndex: config.padIndex)
        }
        if let lp = s.learnedPositions {
            a.positions.withUnsafeBufferPointer { pp in
                embeddingBackward(dtable: grads + lp, dout: dEmb, tokens: pp.baseAddress!, rows: R, dim: d, scale: 1,
                                  padIndex: config.padIndex)
            }
        }
    }
}

/// A batch shard: its sentences (a sub-batch), where they start in the whole batch, and the workspace it runs in.
struct BatchShard {
    let ws: Workspace
    let batch: TokenBatch
    let firstSentence: Int
}

/// Buffers of one batch shard (or of the whole batch): activations of both stacks, streams, scratch, arenas,
/// logits, per-row losses, the non-finite trace, and (for shards after the first) a gradient buffer.
final class Workspace {
    let encAct: StackActivations?
    let decAct: StackActivations?
    let arena = Arena(), stackArena = Arena()
    let streamA = FloatBuffer(), streamB = FloatBuffer(), dMemory = FloatBuffer(), opScratch = FloatBuffer()
    let logitsBuf = FloatBuffer(), dlogitsBuf = FloatBuffer(), rowLoss = FloatBuffer(), rowNll = FloatBuffer()
    let shardGradients = FloatBuffer()
    var dHistory: [FloatBuffer] = []
    /// (tensor label, pointer, count) of activations in forward order, for NonFiniteError reports.
    var trace: [(String, FloatPtr, Int)] = []
    var logitRows = 0
    /// Set by forward for backward.
    var firstSentence = 0, training = false, backward = false, seed: UInt64 = 0
    var features: FloatPtr? = nil, memory: FloatPtr? = nil
    init(encoder: StackModule?, decoder: StackModule?) {
        encAct = encoder.map { StackActivations($0) }
        decAct = decoder.map { StackActivations($0) }
    }
}

extension TokenBatch {
    /// The sentences `r` of this batch as a batch of their own.
    func sentences(_ r: Range<Int>, sourceLength S: Int, targetLength T: Int) -> TokenBatch {
        func rows(_ a: [Int32], _ len: Int) -> [Int32] { len == 0 || a.isEmpty ? [] : Array(a[(r.lowerBound * len)..<(r.upperBound * len)]) }
        return TokenBatch(batchSize: r.count, sourceLength: sourceLength, targetLength: targetLength,
                          source: rows(source, sourceLength), prevOutput: rows(prevOutput, targetLength),
                          target: rows(target, T))
    }
}
