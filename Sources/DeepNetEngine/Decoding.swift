// Incremental decoding: the encoder runs once; each decoder step processes one new position per row, with the
// decoder self-attention keys/values cached so a step costs one position (plus attention over the cache).
import Foundation

public final class DecoderSession {
    let model: TransformerModel
    /// Number of hypotheses (rows) currently decoded.
    public private(set) var rows: Int
    /// Positions decoded so far.
    public private(set) var length: Int = 0
    let sourceLength: Int
    var capacity: Int
    let acts: StackActivations
    /// Per decoder sublayer: self-attention caches [rows, capacity, d] or cross-attention memory k/v [rows, S, d].
    var cacheK: [FloatBuffer?], cacheV: [FloatBuffer?]
    var keyPad: [UInt8]
    let tokensBuf = FloatBuffer()
    var history: [FloatBuffer] = []

    init(model: TransformerModel, memory: FloatPtr?, keyPad: [UInt8], rows: Int, sourceLength: Int) {
        self.model = model; self.rows = rows; self.sourceLength = sourceLength; self.keyPad = keyPad
        let dec = model.decoder!
        acts = StackActivations(dec)
        capacity = 16
        let d = model.config.embedDim
        cacheK = []; cacheV = []
        model.parameters.values.withUnsafeMutableBufferPointer { pb in
            let params = pb.baseAddress!
            for sub in dec.sublayers {
                switch sub.info.kind {
                case .selfAttention:
                    cacheK.append(FloatBuffer(rows * capacity * d)); cacheV.append(FloatBuffer(rows * capacity * d))
                case .crossAttention:
                    let kb = FloatBuffer(rows * sourceLength * d), vb = FloatBuffer(rows * sourceLength * d)
                    let k = sub.k!, v = sub.v!
                    linearForward(kb.ptr, memory!, params + k.weight, k.bias.map { params + $0 }, rows: rows * sourceLength, inDim: d, outDim: d)
                    linearForward(vb.ptr, memory!, params + v.weight, v.bias.map { params + $0 }, rows: rows * sourceLength, inDim: d, outDim: d)
                    cacheK.append(kb); cacheV.append(vb)
                case .feedForward:
                    cacheK.append(nil); cacheV.append(nil)
                }
            }
        }
    }

    /// Feeds the last token of every row (position `length`) and returns log-probabilities [rows, V] for the next token.
    /// Assumes no pad tokens inside the prefix (positions are padIndex + 1 + step).
    public func step(lastTokens: [Int32]) throws -> [Float] {
        let c = model.config, d = c.embedDim, V = c.vocabSize
        guard lastTokens.count == rows else { throw BatchError(message: "lastTokens has \(lastTokens.count) ids, expected rows = \(rows)") }
        for (i, t) in lastTokens.enumerated() where t < 0 || Int(t) >= V {
            throw BatchError(message: "lastTokens[\(i)] = \(t) is outside [0, \(V))")
        }
        if c.positions == .learned && length + 1 > c.maxPositions {
            throw BatchError(message: "decoding step \(length + 1) exceeds maxPositions \(c.maxPositions)")
        }
        if length >= capacity { grow(to: capacity * 2) }
        let dec = model.decoder!
        let ctx = OpContext(training: false, step: model.updateCount, scratch: model.opScratch.ensure(rows * max(d, c.ffnDim)))
        var out = [Float](repeating: 0, count: rows * V)
        model.parameters.values.withUnsafeMutableBufferPointer { pb in
            let params = pb.baseAddress!
            // Embedding of the new position.
            let x = acts.emb.ensure(rows * d)
            let scale: Float = c.scaleEmbedding ? Float(d).squareRoot() : 1
            let pos = Int32(c.padIndex + 1 + length)
            let positions = [Int32](repeating: pos, count: rows)
            lastTokens.withUnsafeBufferPointer { tp in
                positions.withUnsafeBufferPointer { pp in
                    if c.positions == .none {
                        embeddingForward(x, tokens: tp.baseAddress!, table: params + dec.tokenTable, rows: rows, dim: d, scale: scale, positionTable: nil, positions: nil)
                    } else if let lp = dec.learnedPositions {
                        embeddingForward(x, tokens: tp.baseAddress!, table: params + dec.tokenTable, rows: rows, dim: d, scale: scale, positionTable: params + lp, positions: pp.baseAddress!)
                    } else {
                        if dec.sinusoid.count < (Int(pos) + 1) * d {
                            dec.sinusoid = sinusoidalTable(numEmbeddings: Int(pos) + 64, dim: d, padIndex: c.padIndex)
                        }
                        dec.sinusoid.withUnsafeMutableBufferPointer { sp in
                            embeddingForward(x, tokens: tp.baseAddress!, table: params + dec.tokenTable, rows: rows, dim: d, scale: scale, positionTable: sp.baseAddress!, positions: pp.baseAddress!)
                        }
                    }
                }
            }
            keyPad.withUnsafeBufferPointer { kp in
                let h = model.runLayers(model.primary, dec, acts, x, rows: rows, params: params, ctx: ctx) { sub, i, input in
                    sub.forwardStep(x: input, rows: rows, acts: acts.sub[i], params: params, ctx: ctx,
                                    cacheK: cacheK[i]?.ptr, cacheV: cacheV[i]?.ptr, capacity: capacity, length: length,
                                    crossK: cacheK[i]?.ptr, crossV: cacheV[i]?.ptr, sourceLength: sourceLength, keyPad: kp.baseAddress)
                }
                let f = runOps(dec.outputOps, acts.output, h, rows: rows, width: d, params: params, ctx: ctx)
                let logits = model.logitsBuf.ensure(rows * V)
                linearForward(logits, f, params + model.outputProjection, nil, rows: rows, inDim: d, outDim: V)
                out.withUnsafeMutableBufferPointer { ob in logSoftmax(ob.baseAddress!, logits, rows: rows, vocab: V) }
            }
        }
        model.primary.trace.removeAll(keepingCapacity: true)
        length += 1
        return out
    }

    func grow(to newCap: Int) {
        let d = model.config.embedDim
        for (i, sub) in model.decoder!.sublayers.enumerated() where sub.info.kind == .selfAttention {
            for buf in [cacheK[i]!, cacheV[i]!] {
                let old = [Float](UnsafeBufferPointer(start: buf.ptr, count: rows * capacity * d))
                let p = buf.ensure(rows * newCap * d)
                old.withUnsafeBufferPointer { ob in
                    for r in 0..<rows { (p + r * newCap * d).update(from: ob.baseAddress! + r * capacity * d, count: length * d) }
                }
            }
        }
        capacity = newCap
    }

    /// Beam reorder/expand: new row i takes old row rowIndices[i]'s caches and encoder memory.
    public func reorder(_ rowIndices: [Int]) {
        let d = model.config.embedDim
        let newRows = rowIndices.count
        precondition(rowIndices.allSatisfy { $0 >= 0 && $0 < rows }, "reorder index out of range")
        for (i, sub) in model.decoder!.sublayers.enumerated() {
            let per: Int
            switch sub.info.kind {
            case .selfAttention: per = capacity * d
            case .crossAttention: per = sourceLength * d
            case .feedForward: continue
            }
            for buf in [cacheK[i]!, cacheV[i]!] {
                let old = [Float](UnsafeBufferPointer(start: buf.ptr, count: rows * per))
                let p = buf.ensure(newRows * per)
                old.withUnsafeBufferPointer { ob in
                    for (r, src) in rowIndices.enumerated() { (p + r * per).update(from: ob.baseAddress! + src * per, count: per) }
                }
            }
        }
        let S = sourceLength
        let oldPad = keyPad
        keyPad = [UInt8](repeating: 0, count: newRows * S)
        for (r, src) in rowIndices.enumerated() { for j in 0..<S { keyPad[r * S + j] = oldPad[src * S + j] } }
        rows = newRows
    }
}

extension TransformerModel {
    /// Runs the encoder once (eval mode) and returns a session for incremental decoding of `batchSize` rows.
    /// Decoder-only models pass an empty source (sourceLength 0).
    public func makeDecoderSession(source: [Int32], batchSize: Int, sourceLength: Int) throws -> DecoderSession {
        guard decoder != nil else { throw ConfigError(message: "makeDecoderSession needs a model with a decoder") }
        guard batchSize > 0 else { throw BatchError(message: "batchSize must be > 0") }
        if encoder == nil {
            return DecoderSession(model: self, memory: nil, keyPad: [], rows: batchSize, sourceLength: 0)
        }
        guard source.count == batchSize * sourceLength, sourceLength > 0 else {
            throw BatchError(message: "source has \(source.count) ids, expected batchSize × sourceLength = \(batchSize * sourceLength)")
        }
        for (i, t) in source.enumerated() where t < 0 || Int(t) >= config.vocabSize {
            throw BatchError(message: "source[\(i)] = \(t) is outside [0, \(config.vocabSize))")
        }
        let d = config.embedDim, R = batchSize * sourceLength
        primary.streamA.ensure(R * d); primary.streamB.ensure(R * d); primary.opScratch.ensure(R * max(d, config.ffnDim))
        let ctx = OpContext(training: false, step: updateCount, scratch: primary.opScratch.ptr)
        var memoryCopy = [Float]()
        var pad = [UInt8]()
        parameters.values.withUnsafeMutableBufferPointer { pb in
            let mem = stackForward(primary, encoder!, encAct!, tokens: source, batch: batchSize, length: sourceLength, memory: nil,
                                   memoryKeyPad: nil, memoryLength: 0, params: pb.baseAddress!, ctx: ctx, seed: 0)
            memoryCopy = Array(UnsafeBufferPointer(start: mem, count: R * d))
            pad = encAct!.keyPad
        }
        primary.trace.removeAll(keepingCapacity: true)
        return memoryCopy.withUnsafeMutableBufferPointer { mb in
            DecoderSession(model: self, memory: mb.baseAddress!, keyPad: pad, rows: batchSize, sourceLength: sourceLength)
        }
    }
}
