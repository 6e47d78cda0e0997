// Probes: training-dynamics measurements of Section II / Figs. 2–4 of the paper, recorded on demand.
//
//  * gradient norm per layer and per sublayer (self-attn, cross-attn, FFN), encoder and decoder separately
//    (Fig. 2, Fig. 3d) — from the gradients of the last training step, as left in `model.gradients` by
//    `Trainer.step` (before clipping: the Trainer scales during the update, not in place);
//  * model update ‖ΔF‖ = ‖F(x, θ_i) − F(x, θ_0)‖₂ (Eq. 1, Fig. 3a, Fig. 4) on a fixed probe batch in eval mode.
//    F is the model's output *before the softmax projection*: the final hidden states of the decoder (the input of
//    `output_projection`; for Pre-LN after the final LayerNorm) — the paper defines F as "the model" F_ed(x, y, θ)
//    whose update Theorem 3 bounds, and the bound is derived on the hidden states, not on the vocabulary logits. The
//    encoder's final hidden states (the memory the decoder attends to) are reported next to it. Per batch, we report
//    the mean over non-pad positions t of ‖F_t(θ_i) − F_t(θ_0)‖₂ (independent of the probe-batch size) and the
//    Frobenius norm over all non-pad positions. F(x, θ_0) is evaluated once when the probes are created (so it is
//    exactly the initialization when created before the first step), and θ_0 is kept as a frozen copy for
//    ‖θ_i − θ_0‖ and the theory bound;
//  * the same model update measured *before the last LayerNorm*: ‖F_pre(x, θ_i) − F_pre(x, θ_0)‖ with F_pre the
//    input of the last LayerNorm the stack output passes through (Post-LN, DeepNorm, Post-LN-init, DS-Init, Admin,
//    BranchNorm: x + f(x) of the top sublayer, before its LN; Pre-LN, Sub-LN, NormFormer, DLCL: the input of the
//    stack's final `layer_norm`). A method with no LayerNorm on that path (ReZero, T-Fixup, R-Fixup) has F_pre = F.
//    F is a LayerNorm output, so its distance from F(θ_0) saturates near √(2d) per token once the two decorrelate;
//    F_pre is not bounded that way. Same normalisation as ‖ΔF‖ (per-token mean, and the Frobenius norm);
//  * mean L2 norm of the input of every LayerNorm (Fig. 3b, 3c), encoder and decoder separately, on the same probe
//    batch in eval mode: mean over non-pad positions t of ‖x_t‖₂ (the paper compares it with √d).
//
// Cost: nothing unless a `TrainingProbes` is created (the harness creates one only when a run asks for one of these
// measurements); when created, one eval forward of the probe batch plus O(#parameters) work per recorded step.
// The eval forward reuses the model's activation buffers but changes no parameter, gradient, optimizer state or
// update counter, so the training trajectory is bit-for-bit the same with probes on or off (tested).
import Foundation

public struct ProbeOptions: Sendable, Codable, Equatable {
    public var gradientNorms: Bool
    public var modelUpdate: Bool
    public var lnInputs: Bool
    /// Record every this many optimizer steps (step 0 = initialization is always a recording step).
    public var every: Int
    /// Only up to this step (the paper's "early stage of training"); 0 = the whole run.
    public var earlySteps: Int

    public init(gradientNorms: Bool = true, modelUpdate: Bool = true, lnInputs: Bool = true, every: Int = 10,
                earlySteps: Int = 0) {
        self.gradientNorms = gradientNorms; self.modelUpdate = modelUpdate; self.lnInputs = lnInputs
        self.every = max(1, every); self.earlySteps = earlySteps
    }

    public var anyEnabled: Bool { gradientNorms || modelUpdate || lnInputs }
    var needsForward: Bool { modelUpdate || lnInputs }
}

public final class TrainingProbes {
    public let options: ProbeOptions
    public let probeBatch: TokenBatch
    /// θ_0: the parameters when the probes were created (frozen copy).
    public let initialParameters: [Float]
    /// F(x, θ_0) per stack on the probe batch, row-major [rows, d] (all rows, pads included).
    public private(set) var initialOutputs: [StackKind: [Float]] = [:]
    /// F_pre(x, θ_0) per stack (the input of the stack output's last LayerNorm, `preNormOutput`), same layout. Empty
    /// for a stack when a resumed run's checkpoint predates this measurement (its pre-LN update is then not recorded).
    public private(set) var initialPreLNOutputs: [StackKind: [Float]] = [:]

    /// Per parameter entry: where its gradient goes.
    struct Slot { var offset: Int; var count: Int; var stack: StackKind?; var layer: Int?; var sublayer: String? }
    let slots: [Slot]
    let layerCounts: [StackKind: Int]
    let sublayerLabels: [StackKind: [String]]

    /// θ_0 and F(x, θ_0) of a run that is being resumed (from `initialParameters` / `initialOutputs` saved with it).
    public struct Reference: Sendable {
        public var parameters: [Float]
        public var outputs: [StackKind: [Float]]
        /// F_pre(x, θ_0) per stack; a stack missing here (an older checkpoint) records no pre-LN update.
        public var preLNOutputs: [StackKind: [Float]]
        public init(parameters: [Float], outputs: [StackKind: [Float]], preLNOutputs: [StackKind: [Float]] = [:]) {
            self.parameters = parameters; self.outputs = outputs; self.preLNOutputs = preLNOutputs
        }
    }

    /// `reference` nil: θ_0 is the model now. A resumed run passes the reference saved at its start, so ‖ΔF‖ and
    /// ‖θ − θ_0‖ keep measuring from the run's initialization, not from the checkpoint.
    public init(model: TransformerModel, probeBatch: TokenBatch, options: ProbeOptions = ProbeOptions(),
                reference: Reference? = nil) throws {
        self.options = options
        self.probeBatch = probeBatch
        if let reference, reference.parameters.count != model.parameters.count {
            throw ProbeError(message: "saved θ_0 has \(reference.parameters.count) values, the model \(model.parameters.count)")
        }
        initialParameters = reference?.parameters ?? model.parameters.values
        var slots: [Slot] = []
        for e in model.parameters.entries {
            let p = ParameterPlacement.of(e.name)
            var label: String? = nil
            if let s = p.stack, let l = p.layer, let k = p.sublayer {
                label = SublayerKey(stack: s, layer: l, kind: k).kindLabel
            }
            slots.append(Slot(offset: e.offset, count: e.count, stack: p.stack, layer: p.layer, sublayer: label))
        }
        self.slots = slots
        var lc: [StackKind: Int] = [:], labels: [StackKind: [String]] = [:]
        if let e = model.encoder { lc[.encoder] = e.info.layers; labels[.encoder] = ["self_attn", "ffn"] }
        if let d = model.decoder {
            lc[.decoder] = d.info.layers
            labels[.decoder] = model.config.architecture == .encoderDecoder ? ["self_attn", "encoder_attn", "ffn"] : ["self_attn", "ffn"]
        }
        layerCounts = lc
        sublayerLabels = labels
        if let reference {
            if options.modelUpdate {
                for (kind, rows) in stackRows(model) {
                    guard let out = reference.outputs[kind], out.count == rows * model.config.embedDim else {
                        throw ProbeError(message: "saved F(x, θ_0) of the \(kind.rawValue) is missing or has the wrong size")
                    }
                    initialOutputs[kind] = out
                    if let pre = reference.preLNOutputs[kind] {
                        guard pre.count == out.count else {
                            throw ProbeError(message: "saved F_pre(x, θ_0) of the \(kind.rawValue) has the wrong size")
                        }
                        initialPreLNOutputs[kind] = pre
                    }
                }
            }
        } else if options.modelUpdate {
            _ = try model.forwardWholeBatch(probeBatch)
            for (kind, rows) in stackRows(model) {
                guard let p = Self.stackOutput(model, kind), let q = Self.preNormOutput(model, kind) else { continue }
                initialOutputs[kind] = Array(UnsafeBufferPointer(start: p, count: rows * model.config.embedDim))
                initialPreLNOutputs[kind] = Array(UnsafeBufferPointer(start: q, count: rows * model.config.embedDim))
            }
        }
    }

    /// Whether `step` (number of completed updates) is a recording step.
    public func shouldRecord(step: Int) -> Bool {
        if options.earlySteps > 0 && step > options.earlySteps { return false }
        return step % options.every == 0
    }

    /// Measures everything enabled at the current state of `model`. `step` = updates completed so far.
    public func record(step: Int, model: TransformerModel) throws -> ProbeRecord {
        var rec = ProbeRecord(step: step)
        var stacks: [StackKind: StackProbe] = [:]
        for k in layerCounts.keys { stacks[k] = StackProbe(stack: k.rawValue) }
        if options.gradientNorms {
            rec.totalGradNorm = gradientNorms(model, into: &stacks)
        }
        if options.needsForward {
            _ = try model.forwardWholeBatch(probeBatch)
            let rowsBy = stackRows(model)
            for (kind, rows) in rowsBy {
                let pad = Self.padMask(model, kind)
                if options.lnInputs {
                    let (names, norms) = layerNormInputNorms(model, kind, rows: rows, pad: pad)
                    stacks[kind]?.lnNames = names
                    stacks[kind]?.lnInputNorm = norms
                }
                if options.modelUpdate, let ref = initialOutputs[kind], let p = Self.stackOutput(model, kind) {
                    let u = Self.update(p, ref, rows: rows, width: model.config.embedDim, pad: pad)
                    stacks[kind]?.outputUpdate = u.mean
                    stacks[kind]?.outputUpdateFrobenius = u.frobenius
                }
                if options.modelUpdate, let ref = initialPreLNOutputs[kind], let p = Self.preNormOutput(model, kind) {
                    let u = Self.update(p, ref, rows: rows, width: model.config.embedDim, pad: pad)
                    stacks[kind]?.preLNOutputUpdate = u.mean
                    stacks[kind]?.preLNOutputUpdateFrobenius = u.frobenius
                }
            }
            if options.modelUpdate {
                let main: StackKind = model.config.architecture == .encoderOnly ? .encoder : .decoder
                rec.modelUpdate = stacks[main]?.outputUpdate
                rec.modelUpdatePreLN = stacks[main]?.preLNOutputUpdate
                var s = 0.0
                let cur = model.parameters.values
                for i in 0..<cur.count { let x = Double(cur[i]) - Double(initialParameters[i]); s += x * x }
                rec.parameterDistance = s.squareRoot()
            }
        }
        rec.encoder = stacks[.encoder]
        rec.decoder = stacks[.decoder]
        return rec
    }

    // MARK: - pieces

    func gradientNorms(_ model: TransformerModel, into stacks: inout [StackKind: StackProbe]) -> Double {
        var layerSq: [StackKind: [Double]] = [:], subSq: [StackKind: [String: [Double]]] = [:]
        for (k, n) in layerCounts {
            layerSq[k] = [Double](repeating: 0, count: n)
            subSq[k] = Dictionary(uniqueKeysWithValues: (sublayerLabels[k] ?? []).map { ($0, [Double](repeating: 0, count: n)) })
        }
        var total = 0.0
        model.gradients.withUnsafeBufferPointer { g in
            for s in slots {
                var sq = 0.0
                for i in s.offset..<(s.offset + s.count) { let x = Double(g[i]); sq += x * x }
                total += sq
                guard let st = s.stack, let l = s.layer, l < (layerCounts[st] ?? 0) else { continue }
                layerSq[st]![l] += sq
                if let lab = s.sublayer { subSq[st]![lab]?[l] += sq }
            }
        }
        for (k, v) in layerSq {
            stacks[k]?.layerGradNorm = v.map { $0.squareRoot() }
            stacks[k]?.sublayerGradNorm = subSq[k]!.mapValues { $0.map { $0.squareRoot() } }
        }
        return total.squareRoot()
    }

    /// Rows (B·length) of each stack in the last forward of the probe batch.
    func stackRows(_ model: TransformerModel) -> [(StackKind, Int)] {
        let b = probeBatch
        var out: [(StackKind, Int)] = []
        if model.encoder != nil { out.append((.encoder, b.batchSize * b.sourceLength)) }
        if model.decoder != nil { out.append((.decoder, b.batchSize * b.targetLength)) }
        return out
    }

    static func activations(_ model: TransformerModel, _ kind: StackKind) -> (StackModule, StackActivations)? {
        switch kind {
        case .encoder: if let s = model.encoder, let a = model.encAct { return (s, a) }
        case .decoder: if let s = model.decoder, let a = model.decAct { return (s, a) }
        }
        return nil
    }

    /// The stack's output after its output ops (what the output projection or the cross-attention reads).
    static func stackOutput(_ model: TransformerModel, _ kind: StackKind) -> FloatPtr? {
        guard let (s, a) = activations(model, kind) else { return nil }
        if s.outputOps.isEmpty { return a.finalHidden }
        return a.output.outs[s.outputOps.count - 1].ptr
    }

    /// Mean over non-pad rows of ‖x_r − ref_r‖₂, and the Frobenius norm over the same rows.
    static func update(_ x: FloatPtr, _ ref: [Float], rows: Int, width d: Int, pad: [UInt8]) -> (mean: Double, frobenius: Double) {
        var sumRow = 0.0, sumSq = 0.0, n = 0
        for r in 0..<rows where pad[r] == 0 {
            var s = 0.0
            for j in 0..<d { let v = Double(x[r * d + j]) - Double(ref[r * d + j]); s += v * v }
            sumRow += s.squareRoot(); sumSq += s; n += 1
        }
        return (n > 0 ? sumRow / Double(n) : 0, sumSq.squareRoot())
    }

    /// F_pre: the input of the last LayerNorm the stack output passes through, searched backwards along the residual
    /// stream — the stack's output ops (Pre-LN's final `layer_norm`), else the last history mix (DLCL), else the top
    /// sublayer's sublayer-output ops (Post-LN's LN(x + f(x))). LayerNorms inside a branch (Pre-LN's branch input,
    /// Sub-LN's inner ones) are not on this path. No LayerNorm on the path: the stack output itself (F_pre = F).
    static func preNormOutput(_ model: TransformerModel, _ kind: StackKind) -> FloatPtr? {
        guard let (s, a) = activations(model, kind) else { return nil }
        func lastLN(_ ops: [ActivationOp], _ inputs: [FloatPtr]) -> FloatPtr? {
            guard let i = ops.lastIndex(where: { $0 is LayerNormOp }), i < inputs.count else { return nil }
            return inputs[i]
        }
        if let p = lastLN(s.outputOps, a.output.inputs) { return p }
        if let m = s.mixer {
            let L = s.info.layers
            if L < a.mixChains.count, let p = lastLN(m.mixOps(index: L), a.mixChains[L].inputs) { return p }
        } else if let top = s.sublayers.last, let acts = a.sub.last {
            let hi = Sublayer.hookIndex(.sublayerOutput)
            if let p = lastLN(top.ops[hi], acts.hookInputs[hi]) { return p }
        }
        return stackOutput(model, kind)
    }

    /// 1 for pad positions of the stack's input tokens in the last forward.
    static func padMask(_ model: TransformerModel, _ kind: StackKind) -> [UInt8] {
        activations(model, kind)?.1.keyPad ?? []
    }

    /// Mean non-pad row norm of the input of every LayerNormOp of the stack, in forward order.
    func layerNormInputNorms(_ model: TransformerModel, _ kind: StackKind, rows: Int, pad: [UInt8]) -> ([String], [Double]) {
        guard let (s, a) = Self.activations(model, kind) else { return ([], []) }
        let d = model.config.embedDim, f = model.config.ffnDim
        var names: [String] = [], norms: [Double] = []
        func measure(_ name: String, _ x: FloatPtr, width: Int) {
            var sum = 0.0, n = 0
            for r in 0..<rows where r >= pad.count || pad[r] == 0 {
                var sq = 0.0
                for j in 0..<width { let v = Double(x[r * width + j]); sq += v * v }
                sum += sq.squareRoot(); n += 1
            }
            names.append(name); norms.append(n > 0 ? sum / Double(n) : 0)
        }
        func chain(_ ops: [ActivationOp], _ st: ChainState, width: Int) {
            for (i, op) in ops.enumerated() {
                if let ln = op as? LayerNormOp, i < st.inputs.count { measure(ln.name, st.inputs[i], width: width) }
            }
        }
        let per = s.sublayersPerLayer
        for l in 0..<s.info.layers {
            if let m = s.mixer, l < a.mixChains.count { chain(m.mixOps(index: l), a.mixChains[l], width: d) }
            for j in 0..<per {
                let sub = s.sublayers[l * per + j], acts = a.sub[l * per + j]
                for (hi, hook) in Hook.allCases.enumerated() {
                    let width = (hook == .ffnPreActivation || hook == .ffnHidden) ? f : d
                    for (i, op) in sub.ops[hi].enumerated() {
                        if let ln = op as? LayerNormOp, i < acts.hookInputs[hi].count {
                            measure(ln.name, acts.hookInputs[hi][i], width: width)
                        }
                    }
                }
            }
        }
        if let m = s.mixer, s.info.layers < a.mixChains.count { chain(m.mixOps(index: s.info.layers), a.mixChains[s.info.layers], width: d) }
        chain(s.outputOps, a.output, width: d)
        return (names, norms)
    }
}

public struct ProbeError: Error, CustomStringConvertible, Sendable {
    public var message: String
    public init(message: String) { self.message = message }
    public var description: String { "training probes: \(message)" }
}
