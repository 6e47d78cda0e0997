// Admission before allocation: an estimate of the memory a model (and a workload on it) will need, computed
// from the configuration alone — nothing of the model's size is allocated — and a check against the memory the
// machine can give (MemAvailable, the cgroup limit). Without it an oversized configuration that passes
// `validate()` ends in `Fatal error: failed to allocate` or the OOM killer, after possibly hours of training.
//
// What is counted (float32 = 4 bytes):
//   parameters P (+ `.values` initialisers the store keeps, e.g. DLCL's history matrix), gradients P,
//   optimizer moments (Adam 2P, SGD P), transient copies while a checkpoint with optimizer state is loaded (3P),
//   per-sublayer activation buffers for the batch shape (they are kept between forward and backward and never
//   shrink), the model's shared work buffers (streams, arenas, logits and their gradient), the decoding
//   workspace (encoder run on a chunk of test sentences, per-layer key/value caches for beam × sentences rows),
//   a loss-landscape evaluator's own model when one is run, and a per-sublayer constant for the Swift objects
//   (ops, buffers, names) measured on this engine. Batch-sized buffers carry a 1.2 allocator slack (see below).
// The per-layer structure is enumerated once (layer 0) through the method's own hooks and multiplied by the
// layer count, so a 1,000,000-layer configuration costs no more to estimate than a 6-layer one.
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The token batch a model will be run on (rows are padded lengths).
public struct BatchShape: Sendable, Equatable, Codable {
    public var batchSize: Int
    public var sourceLength: Int
    public var targetLength: Int
    public init(batchSize: Int, sourceLength: Int, targetLength: Int) {
        self.batchSize = batchSize; self.sourceLength = sourceLength; self.targetLength = targetLength
    }
}

/// Incremental decoding of test sentences: `sentences` per chunk, `beam` rows each, sources of at most
/// `sourceLength` tokens (with EOS), outputs of at most `maxOutputLength` tokens.
public struct DecodeShape: Sendable, Equatable, Codable {
    public var sentences: Int
    public var beam: Int
    public var sourceLength: Int
    public var maxOutputLength: Int
    public init(sentences: Int, beam: Int, sourceLength: Int, maxOutputLength: Int) {
        self.sentences = sentences; self.beam = beam; self.sourceLength = sourceLength; self.maxOutputLength = maxOutputLength
    }
}

/// What will be done with the model.
public struct MemoryWorkload: Sendable, Equatable {
    /// Largest batch run through forward (and backward); nil = the model only.
    public var batch: BatchShape?
    public var backward: Bool = true
    public var dropout: Bool = false
    /// Optimizer buffers in parameter layout (Adam/AdamW 2, SGD 1, none 0).
    public var optimizerBuffers: Int = 0
    /// A checkpoint with `optimizerBuffers` buffers may be loaded (resumption): transient copies while reading.
    public var checkpointLoad: Bool = false
    /// Further full copies of the parameters held by the caller (instrument snapshots, landscape directions).
    public var parameterCopies: Int = 0
    /// Further models of the same configuration run forward on the batch (the loss-landscape evaluator's own copy).
    public var evaluatorModels: Int = 0
    public var decode: DecodeShape?
    /// The caller also runs the batch whole (probes that read activations): a sharded model then keeps a whole-batch
    /// workspace beside its shard workspaces (`TransformerModel.batchShards`).
    public var wholeBatchForward: Bool = false
    public init(batch: BatchShape? = nil, backward: Bool = true, dropout: Bool = false, optimizerBuffers: Int = 0,
                checkpointLoad: Bool = false, parameterCopies: Int = 0, decode: DecodeShape? = nil) {
        self.batch = batch; self.backward = backward; self.dropout = dropout; self.optimizerBuffers = optimizerBuffers
        self.checkpointLoad = checkpointLoad; self.parameterCopies = parameterCopies; self.decode = decode
    }
}

public struct MemoryEstimate: Sendable, CustomStringConvertible {
    public struct Term: Sendable {
        public var name: String
        public var bytes: Double
        /// The settings this term grows with, e.g. "encoderLayers=10000, embedDim=512" (for error messages).
        public var settings: String
    }
    /// Parameter floats (owning tensors), computed without building the model.
    public var parameterCount: Double
    public var terms: [Term]
    public var total: Double { terms.reduce(0) { $0 + $1.bytes } }
    /// The dominant cost, for the refusal message. The buffers of the parameters' size (gradients, optimizer
    /// moments, checkpoint copies, snapshots) count as one term: they share a cause and a remedy.
    public var largest: Term {
        let perParameter: Set<String> = ["parameters", "gradients", "optimizer state", "checkpoint loading", "parameter snapshots"]
        let group = terms.filter { perParameter.contains($0.name) }
        var candidates = terms.filter { !perParameter.contains($0.name) }
        if let p = group.first {
            candidates.append(Term(name: group.count > 1 ? "parameters with \(group.dropFirst().map(\.name).joined(separator: ", "))" : p.name,
                                   bytes: group.reduce(0) { $0 + $1.bytes }, settings: p.settings))
        }
        return candidates.max { $0.bytes < $1.bytes }!
    }
    public var description: String {
        let shown: [Term] = terms.filter { $0.bytes >= 1e6 }.sorted { $0.bytes > $1.bytes }
        let parts: [String] = shown.map { t in t.name + " " + MemoryEstimate.format(t.bytes) }
        return MemoryEstimate.format(total) + " (" + parts.joined(separator: ", ") + ")"
    }

    public static func format(_ bytes: Double) -> String {
        if bytes >= 1e12 { return String(format: "%.1f TB", bytes / 1e12) }
        if bytes >= 1e9 { return String(format: "%.1f GB", bytes / 1e9) }
        if bytes >= 1e6 { return String(format: "%.0f MB", bytes / 1e6) }
        return String(format: "%.0f kB", bytes / 1e3)
    }

    /// Bytes of the Swift objects of one sublayer (Sublayer, its ops, SublayerActivations with its buffer
    /// objects, parameter-store entries and names). Measured: a 1000L-1000L d=8 model's RSS growth per sublayer.
    static let bytesPerSublayer = 6_000.0
    /// Batch-sized buffers are grow-only and reallocated as batch shapes vary from step to step; the freed blocks
    /// stay resident for a while (glibc raises its mmap threshold after the first frees, later ones come from the
    /// heap). Measured on 18L-18L and 50L-50L runs: peak RSS 5-10 % above the live buffers; 1.2 keeps the estimate
    /// an upper bound.
    static let allocatorSlack = 1.2

    /// The estimate for `config` under `workload`. Throws `ConfigError` when the configuration is invalid.
    public static func estimate(_ config: ModelConfig, _ w: MemoryWorkload) throws -> MemoryEstimate {
        try config.validate()
        let layout = try StructureCount(config)
        let c = config
        let d = Double(c.embedDim), f = Double(c.ffnDim), V = Double(c.vocabSize), H = Double(c.heads)
        let P = layout.parameters
        let fl = 4.0
        var terms: [Term] = []
        let shapeSettings = "encoderLayers=\(c.encoderLayers), decoderLayers=\(c.decoderLayers), embedDim=\(c.embedDim), ffnDim=\(c.ffnDim), vocabSize=\(c.vocabSize)"
        let depthSettings = c.architecture == .encoderDecoder ? "encoderLayers=\(c.encoderLayers), decoderLayers=\(c.decoderLayers)"
            : c.architecture == .encoderOnly ? "encoderLayers=\(c.encoderLayers)" : "decoderLayers=\(c.decoderLayers)"
        terms.append(Term(name: "parameters", bytes: (P + layout.initialValues) * fl, settings: shapeSettings))
        terms.append(Term(name: "gradients", bytes: P * fl, settings: shapeSettings))
        if w.optimizerBuffers > 0 {
            terms.append(Term(name: "optimizer state", bytes: Double(w.optimizerBuffers) * P * fl, settings: shapeSettings))
        }
        if w.checkpointLoad {
            // Checkpoint.load reads into a copy of the parameters and a fresh buffer per optimizer state.
            terms.append(Term(name: "checkpoint loading", bytes: Double(1 + w.optimizerBuffers) * P * fl, settings: shapeSettings))
        }
        if w.parameterCopies > 0 {
            terms.append(Term(name: "parameter snapshots", bytes: Double(w.parameterCopies) * P * fl, settings: shapeSettings))
        }
        terms.append(Term(name: "model objects", bytes: layout.sublayers * bytesPerSublayer, settings: depthSettings))

        var train = 0.0, shared = 0.0, logits = 0.0
        let sharded = TransformerModel.batchShards(c) > 1
        if let b = w.batch {
            let B = Double(b.batchSize)
            let S = c.hasEncoder ? Double(b.sourceLength) : 0
            let T = c.architecture == .encoderOnly ? Double(b.sourceLength) : Double(b.targetLength)
            train = layout.activationFloats(B: B, S: S, T: T, H: H, dropout: w.dropout) * fl * allocatorSlack
            let maxRows = B * max(S, T), wide = max(d, f)
            // streamA/B, opScratch, arena (Sublayer.arenaNeed), stackArena, dMemory, DLCL's dHistory.
            let streams: Double = 2 * maxRows * d + maxRows * wide                        // streamA/B, opScratch
            let arena: Double = 11 * maxRows * d + 3 * maxRows * f + layout.maxChainOps * maxRows * wide
            let stackArena: Double = 8 * maxRows * wide
            let dMemory: Double = c.hasEncoder && c.hasDecoder ? B * S * d : 0
            let dHistory: Double = layout.mixerDepth * maxRows * d
            // attentionBackward's per-thread temporaries (one head: values transposed, dS and P·mask).
            let len = max(S, T), threads = Double(ProcessInfo.processInfo.activeProcessorCount)
            let attentionTemp: Double = threads * (d / H * len + 2 * len * len)
            shared = (streams + arena + stackArena + dMemory + dHistory + attentionTemp) * fl * allocatorSlack
            logits = B * T * V * (w.backward ? 2 : 1) * fl * allocatorSlack
            let batchSettings = "batch \(b.batchSize)×\(max(b.sourceLength, b.targetLength)) tokens, \(depthSettings), embedDim=\(c.embedDim), ffnDim=\(c.ffnDim)"
            terms.append(Term(name: "activations", bytes: train, settings: batchSettings))
            terms.append(Term(name: "work buffers", bytes: shared, settings: batchSettings))
            terms.append(Term(name: "logits", bytes: logits, settings: "batch \(b.batchSize)×\(Int(T)) tokens, vocabSize=\(c.vocabSize)"))
            if sharded && w.backward {
                // Shards after the first accumulate into gradient buffers of their own, summed after the backward.
                terms.append(Term(name: "shard gradients", bytes: Double(TransformerModel.batchShards(c) - 1) * P * fl, settings: shapeSettings))
            }
            if sharded && (w.wholeBatchForward || (c.method == Admin.name && (c.methodOptions["admin-profile"] ?? 1) != 0)) {
                // Shard workspaces together hold one batch; a whole-batch forward (probes, Admin's profiling step)
                // fills the primary workspace as well.
                terms.append(Term(name: "whole-batch workspace", bytes: train + shared + logits, settings: batchSettings))
            }
            if w.evaluatorModels > 0 {
                // Parameters, gradients and the forward buffers of each further model (no logits gradient).
                let one = 2 * P * fl + train + shared + logits / (w.backward ? 2 : 1)
                terms.append(Term(name: "evaluator models", bytes: Double(w.evaluatorModels) * one, settings: batchSettings))
            }
        }
        if let dec = w.decode, c.hasDecoder {
            let n = Double(dec.sentences), rows = n * Double(max(1, dec.beam))
            let S = c.hasEncoder ? Double(dec.sourceLength) : 0
            // Encoder activations of the chunk (the training buffers grow to it if it is larger).
            let enc = c.hasEncoder ? layout.encoderActivationFloats(B: n, S: S, H: H) * fl * allocatorSlack : 0
            // (Decoding runs in the primary workspace, which a sharded model does not train in.)
            let extraEnc = sharded ? enc : max(0, enc - train)
            // Self-attention caches grow by doubling from 16 positions: capacity ≤ 2 × max output length; a
            // growth or beam reorder copies one buffer at a time.
            var capacity = 16.0
            while capacity < Double(dec.maxOutputLength + 1) { capacity *= 2 }
            let selfCache = layout.decoderSelfAttention * 2 * rows * capacity * d
            let crossCache = layout.decoderCrossAttention * 2 * rows * S * d
            let step = rows * (layout.decoderSublayerWidthFloats + 3 * V) + H * rows * max(capacity, S) + rows * capacity * d
            let decodeBytes = extraEnc + (selfCache + crossCache + step + n * S * d) * fl * allocatorSlack
            terms.append(Term(name: "decoding", bytes: decodeBytes,
                              settings: "beam \(dec.beam) × \(dec.sentences) sentences, test sources ≤ \(dec.sourceLength) tokens, outputs ≤ \(dec.maxOutputLength) tokens, decoderLayers=\(c.decoderLayers)"))
        }
        return MemoryEstimate(parameterCount: P, terms: terms)
    }
}

/// Parameter and buffer counts of a configuration, from one enumerated layer per stack.
struct StructureCount {
    var parameters = 0.0
    /// Floats kept by the store as explicit initial values (`ParameterInit.values`).
    var initialValues = 0.0
    var sublayers = 0.0
    var maxChainOps = 0.0
    var mixerDepth = 0.0
    var decoderSelfAttention = 0.0, decoderCrossAttention = 0.0
    /// Floats per row of one decoder layer's step buffers.
    var decoderSublayerWidthFloats = 0.0
    let config: ModelConfig
    /// Per stack: (layers, per-layer sublayer templates).
    var stacks: [(kind: StackKind, layers: Double, subs: [SublayerTemplate], outputOps: [(floats: Double, cacheRows: Double)], mixer: Bool)] = []

    struct SublayerTemplate {
        var kind: SublayerKind
        /// (width, cache floats per row) of each hook op.
        var hookOps: [(width: Double, cachePerRow: Double)]
    }

    init(_ c: ModelConfig) throws {
        config = c
        let method = try MethodRegistry.make(c)
        let d = c.embedDim, V = Double(c.vocabSize), pad = c.padIndex
        let positionRows = Double(c.maxPositions + pad + 1)
        for kind in [StackKind.encoder, .decoder] where kind == .encoder ? c.hasEncoder : c.hasDecoder {
            let L = kind == .encoder ? c.encoderLayers : c.decoderLayers
            let info = StackInfo(kind: kind, layers: L, architecture: c.architecture)
            // Stack-level tensors (as TransformerModel.init declares them; aliases own nothing).
            if !(kind == .decoder && c.shareAllEmbeddings) { parameters += V * Double(d) }
            if c.positions == .learned { parameters += positionRows * Double(d) }
            let hasOutput = kind == .decoder || c.architecture == .encoderOnly
            if hasOutput && !(c.shareAllEmbeddings || c.shareDecoderInputOutputEmbed) { parameters += V * Double(d) }
            // One layer through the method's hooks; tensors with the same name within a layer are one tensor.
            let specs = StructureCount.layerSpecs(c, method: method, stack: info, layer: 0)
            parameters += Double(L) * specs.reduce(0) { $0 + Double($1.count) }
            initialValues += Double(L) * specs.reduce(0) { acc, s in if case .values = s.initial { return acc + Double(s.count) }; return acc }
            var subs: [SublayerTemplate] = []
            for (j, sk) in StructureCount.kinds(c, kind).enumerated() {
                let si = SublayerInfo(stack: info, layer: 0, kind: sk, indexInLayer: j, indexInStack: j, embedDim: d, ffnDim: c.ffnDim, heads: c.heads)
                var ops: [(Double, Double)] = []
                for hook in Hook.allCases {
                    let width = Double(hook == .ffnPreActivation || hook == .ffnHidden ? c.ffnDim : d)
                    for op in method.ops(at: hook, of: si) { ops.append((width, Double(op.cacheSize(rows: 1, width: Int(width))))) }
                }
                maxChainOps = max(maxChainOps, Double(ops.count))
                subs.append(SublayerTemplate(kind: sk, hookOps: ops))
            }
            sublayers += Double(L * subs.count)
            let outOps = method.stackOutputOps(info)
            for op in outOps { parameters += op.parameters.reduce(0) { $0 + Double($1.count) } }
            // A layer-history mixer (DLCL) may grow quadratically with depth: count it at 1, 2 and 3 layers (fresh
            // method instances, so nothing of the real depth is built) and extrapolate the quadratic.
            var hasMixer = false
            var counts: [Double] = [], initCounts: [Double] = []
            for k in 1...3 {
                var small = c
                if kind == .encoder { small.encoderLayers = k } else { small.decoderLayers = k }
                let m = try MethodRegistry.make(small)
                guard let mixer = m.layerHistoryMixer(StackInfo(kind: kind, layers: k, architecture: c.architecture)) else { break }
                hasMixer = true
                var n = 0.0, v = 0.0
                var seen = Set<String>()
                var specsK = mixer.parameters
                for i in 0...k { for op in mixer.pushOps(index: i) + mixer.mixOps(index: i) { specsK += op.parameters } }
                for s in specsK where seen.insert(s.name).inserted {
                    n += Double(s.count)
                    if case .values = s.initial { v += Double(s.count) }   // kept again as the initial value
                }
                counts.append(n); initCounts.append(v)
            }
            if hasMixer && counts.count == 3 {
                // Quadratic through (1, c1), (2, c2), (3, c3), evaluated at L.
                func quadratic(_ c: [Double], at x: Double) -> Double {
                    let a = (c[2] - 2 * c[1] + c[0]) / 2, b = c[1] - c[0] - 3 * a, c0 = c[0] - a - b
                    return a * x * x + b * x + c0
                }
                let x = Double(L)
                parameters += quadratic(counts, at: x)
                initialValues += quadratic(initCounts, at: x)
                mixerDepth += 3 * (x + 1)   // mixed values, pushed/mixed chain outputs and dHistory per layer
            }
            let outputs = outOps.map { op in (floats: 1.0, cacheRows: Double(op.cacheSize(rows: 1, width: d))) }
            stacks.append((kind, Double(L), subs, outputs, hasMixer))
            if kind == .decoder {
                decoderSelfAttention = Double(L) * Double(subs.filter { $0.kind == .selfAttention }.count)
                decoderCrossAttention = Double(L) * Double(subs.filter { $0.kind == .crossAttention }.count)
                decoderSublayerWidthFloats = Double(L) * subs.reduce(0.0) { acc, s in
                    acc + (s.kind == .feedForward ? 2 * Double(c.ffnDim) + 4 * Double(d) : 6 * Double(d))
                        + s.hookOps.reduce(0.0) { $0 + $1.width + $1.cachePerRow }
                }
            }
        }
    }

    static func kinds(_ c: ModelConfig, _ kind: StackKind) -> [SublayerKind] {
        kind == .encoder ? [.selfAttention, .feedForward]
            : (c.architecture == .encoderDecoder ? [.selfAttention, .crossAttention, .feedForward] : [.selfAttention, .feedForward])
    }

    /// The tensors of one layer in the order TransformerModel.init declares them (deduplicated by name).
    static func layerSpecs(_ c: ModelConfig, method: ResidualMethod, stack info: StackInfo, layer l: Int) -> [ParameterSpec] {
        let d = c.embedDim, kinds = kinds(c, info.kind)
        var out: [ParameterSpec] = []
        var seen = Set<String>()
        func add(_ s: ParameterSpec) { if seen.insert(s.name).inserted { out.append(s) } }
        for (j, sk) in kinds.enumerated() {
            let si = SublayerInfo(stack: info, layer: l, kind: sk, indexInLayer: j, indexInStack: l * kinds.count + j,
                                  embedDim: d, ffnDim: c.ffnDim, heads: c.heads)
            func linear(_ role: LinearRole, _ fin: Int, _ fout: Int) {
                let li = LinearInfo(sublayer: si, role: role, fanIn: fin, fanOut: fout)
                add(ParameterSpec(li.name + ".weight", [fout, fin], .byHook))
                if method.linearHasBias(li) { add(ParameterSpec(li.name + ".bias", [fout], .zeros)) }
            }
            if sk == .feedForward {
                linear(.fc1, d, c.ffnDim); linear(.fc2, c.ffnDim, d)
            } else {
                linear(.k, d, d); linear(.v, d, d); linear(.q, d, d); linear(.out, d, d)
            }
            for hook in [Hook.attentionContext, .ffnPreActivation, .ffnHidden, .branchInput, .branchOutput, .sublayerOutput] {
                for op in method.ops(at: hook, of: si) { for s in op.parameters { add(s) } }
            }
            for s in method.residualCombine(for: si).parameters { add(s) }
        }
        return out
    }

    /// Floats of the per-sublayer activation buffers of a forward (+ backward) pass over B×S sources and
    /// B×T targets (see Sublayer.forward / SublayerActivations; probabilities are B·heads·queries·keys).
    func activationFloats(B: Double, S: Double, T: Double, H: Double, dropout: Bool) -> Double {
        var total = 0.0
        for s in stacks {
            let len = s.kind == .encoder ? S : T
            total += s.layers * sublayerFloats(s.subs, B: B, len: len, memoryLen: S, H: H, dropout: dropout)
            let R = B * len, d = Double(config.embedDim)
            total += 2 * R * d + s.outputOps.reduce(0.0) { $0 + R * d + $1.cacheRows * R }
        }
        return total
    }

    /// The encoder's part of `activationFloats` (decoding runs the encoder alone on the test chunk).
    func encoderActivationFloats(B: Double, S: Double, H: Double) -> Double {
        guard let s = stacks.first(where: { $0.kind == .encoder }) else { return 0 }
        let d = Double(config.embedDim)
        return s.layers * sublayerFloats(s.subs, B: B, len: S, memoryLen: S, H: H, dropout: false) + 2 * B * S * d + B * S * d
    }

    func sublayerFloats(_ subs: [SublayerTemplate], B: Double, len: Double, memoryLen: Double, H: Double, dropout: Bool) -> Double {
        let d = Double(config.embedDim), f = Double(config.ffnDim), R = B * len
        var total = 0.0
        for sub in subs {
            switch sub.kind {
            case .selfAttention: total += 6 * R * d + B * H * len * len
            case .crossAttention: total += 4 * R * d + 2 * B * memoryLen * d + B * H * len * memoryLen
            case .feedForward: total += 2 * R * f + 2 * R * d
            }
            if dropout { total += R * d }
            total += sub.hookOps.reduce(0.0) { $0 + R * $1.width + R * $1.cachePerRow }
        }
        return total
    }
}

/// Memory this process may still allocate.
public struct MemoryBudget: Sendable, CustomStringConvertible {
    public var bytes: Double
    /// Where the number comes from, e.g. "MemAvailable in /proc/meminfo" or "cgroup memory.max − memory.current".
    public var source: String
    public var description: String { "\(MemoryEstimate.format(bytes)) (\(source))" }
    public init(bytes: Double, source: String) { self.bytes = bytes; self.source = source }

    /// The smallest of: MemAvailable (/proc/meminfo), the cgroup limit minus its usage (v2 or v1), the address-space
    /// limit (`ulimit -v`) minus this process's size, and DEEPNET_MEMORY_LIMIT (bytes, or with a K/M/G suffix) — an
    /// explicit cap for shared machines and for tests that must see a refusal without allocating anything.
    public static func current(environment: [String: String] = ProcessInfo.processInfo.environment) -> MemoryBudget {
        var best: MemoryBudget? = nil
        func offer(_ b: Double?, _ source: String) {
            guard let b, b.isFinite, b >= 0 else { return }
            if best == nil || b < best!.bytes { best = MemoryBudget(bytes: b, source: source) }
        }
        if let mi = try? String(contentsOfFile: "/proc/meminfo", encoding: .utf8) { offer(kB(mi, "MemAvailable:"), "MemAvailable in /proc/meminfo") }
        func number(_ path: String) -> Double? {
            guard let s = try? String(contentsOfFile: path, encoding: .utf8) else { return nil }
            return Double(s.trimmingCharacters(in: .whitespacesAndNewlines))   // "max" → nil (no limit)
        }
        for root in cgroupDirectories() {
            if let lim = number(root + "/memory.max"), let cur = number(root + "/memory.current") {
                offer(lim - cur, "cgroup \(root)/memory.max − memory.current")
            }
            if let lim = number(root + "/memory.limit_in_bytes"), lim < 1e18, let cur = number(root + "/memory.usage_in_bytes") {
                offer(lim - cur, "cgroup \(root)/memory.limit_in_bytes − usage")
            }
        }
        var rl = rlimit()
        if getrlimit(__rlimit_resource_t(RLIMIT_AS.rawValue), &rl) == 0, rl.rlim_cur != rlim_t.max,
           let st = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8), let vm = kB(st, "VmSize:") {
            offer(Double(rl.rlim_cur) - vm, "address-space limit (ulimit -v) minus this process's size")
        }
        if let s = environment["DEEPNET_MEMORY_LIMIT"], let v = parseBytes(s) { offer(v, "DEEPNET_MEMORY_LIMIT=\(s)") }
        return best ?? MemoryBudget(bytes: .infinity, source: "no memory information found")
    }

    /// This process's peak resident set size (VmHWM), in bytes; nil where /proc is unavailable.
    public static func peakRSS() -> Double? {
        (try? String(contentsOfFile: "/proc/self/status", encoding: .utf8)).flatMap { kB($0, "VmHWM:") }
    }
    /// This process's current resident set size (VmRSS), in bytes.
    public static func currentRSS() -> Double? {
        (try? String(contentsOfFile: "/proc/self/status", encoding: .utf8)).flatMap { kB($0, "VmRSS:") }
    }

    static func kB(_ text: String, _ key: String) -> Double? {
        for line in text.split(separator: "\n") where line.hasPrefix(key) {
            let parts = line.dropFirst(key.count).split(whereSeparator: { $0 == " " || $0 == "\t" })   // status uses tabs
            if let v = parts.first.flatMap({ Double($0) }) { return v * 1024 }
        }
        return nil
    }

    /// "2G", "512M", "100000" → bytes.
    public static func parseBytes(_ s: String) -> Double? {
        let t = s.trimmingCharacters(in: .whitespaces).uppercased()
        let mult: [(String, Double)] = [("T", 1_099_511_627_776), ("G", 1_073_741_824), ("M", 1_048_576), ("K", 1024)]
        for (suffix, m) in mult where t.hasSuffix(suffix) || t.hasSuffix(suffix + "B") {
            let num = t.hasSuffix("B") ? t.dropLast(2) : t.dropLast()
            return Double(num).map { $0 * m }
        }
        return Double(t)
    }

    /// This process's cgroup directories (v2 unified path, v1 memory controller), when mounted.
    static func cgroupDirectories() -> [String] {
        guard let text = try? String(contentsOfFile: "/proc/self/cgroup", encoding: .utf8) else { return [] }
        var out: [String] = []
        for line in text.split(separator: "\n") {
            let p = line.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
            guard p.count == 3 else { continue }
            if p[1].isEmpty { out.append("/sys/fs/cgroup" + (p[2] == "/" ? "" : String(p[2]))) }
            else if p[1].split(separator: ",").contains("memory") { out.append("/sys/fs/cgroup/memory" + (p[2] == "/" ? "" : String(p[2]))) }
        }
        // Inside a container the path is often "/" relative to a namespaced mount.
        if !out.contains("/sys/fs/cgroup") { out.append("/sys/fs/cgroup") }
        return out
    }
}

/// A configuration refused before allocation because its estimated memory exceeds what is available.
public struct AdmissionError: Error, CustomStringConvertible, Sendable {
    /// What was being admitted, e.g. "training run 3f2a…" or "model in checkpoint.h5".
    public var what: String
    public var estimate: MemoryEstimate
    public var budget: MemoryBudget
    public var description: String {
        let big = estimate.largest
        return "\(what) needs an estimated \(estimate) but only \(budget) is available; "
            + "refused before allocating. The largest term, \(big.name) (\(MemoryEstimate.format(big.bytes))), grows with \(big.settings): reduce it."
    }
}

public enum MemoryAdmission {
    /// Throws `AdmissionError` when `estimate` does not fit `budget`. Returns the estimate otherwise.
    @discardableResult
    public static func check(_ what: String, _ config: ModelConfig, _ workload: MemoryWorkload,
                             budget: MemoryBudget = .current()) throws -> MemoryEstimate {
        let e = try MemoryEstimate.estimate(config, workload)
        if e.total > budget.bytes { throw AdmissionError(what: what, estimate: e, budget: budget) }
        return e
    }
}
