// Token batches from HDF5 and forward/backward results to HDF5 (used by `deepnet forward-backward` and the
// golden tests).
//
// Batch file: integer datasets (any integer width), at the root or in a group (default: the root if it has
// `target`, else `batch/`):
//   encoder-decoder: src_tokens [B,S], prev_output_tokens [B,T], target [B,T]
//   decoder-only:    prev_output_tokens [B,T], target [B,T]
//   encoder-only:    src_tokens [B,S], target [B,S]      (masked LM: loss where target != pad)
//
// Forward/backward output file (written atomically):
//   /loss, /nll_loss      float64 scalars, per non-pad target token (natural log); loss is label-smoothed
//   /ntokens              int64 scalar
//   /logits               float32 [B, T, V]  ([B, S, V] for encoder-only)
//   /grads/<state_dict key>   float32, d loss / d parameter, torch shapes, one per owning tensor (tied
//                         parameters appear once, under the owner's name, e.g. encoder.embed_tokens.weight)
//   root attributes       the model's config attributes (as in a checkpoint), engine_numerics_version,
//                         tied_parameters ("alias=owner" strings), plus whatever the caller adds.
import Foundation
import HDF5Store

public enum BatchFile {
    /// Reads and validates a token batch for a model with `config`. Errors name the file, dataset and, for
    /// out-of-range ids, the [row, column] of the first offending id.
    public static func read(_ f: HDF5File, config: ModelConfig, group: String? = nil) throws -> TokenBatch {
        let file = f.displayName
        func bad(_ tensor: String?, _ msg: String) -> CheckpointError { CheckpointError(.badInput, file: file, tensor: tensor, message: msg) }
        let g: String
        if let group {
            guard f.kind(of: group) == .group || group == "/" else { throw bad(nil, "batch group '\(group)' not found") }
            g = group == "/" ? "" : group + "/"
        } else if f.kind(of: "target") == .dataset {
            g = ""
        } else if f.kind(of: "batch/target") == .dataset {
            g = "batch/"
        } else {
            throw bad("target", "no 'target' dataset at the root or in group 'batch' (expected src_tokens, prev_output_tokens, target)")
        }
        let V = config.vocabSize
        func tokens(_ name: String) throws -> (values: [Int32], shape: [Int]) {
            let path = g + name
            guard f.kind(of: path) == .dataset else { throw bad(path, "missing dataset '\(path)'") }
            let type = try f.dataType(of: path)
            guard type.hasPrefix("int") || type.hasPrefix("uint") else {
                throw bad(path, "dataset '\(path)' has type \(type), expected integer token ids")
            }
            let (v, s) = try f.read(Int64.self, at: path)
            guard s.count == 2, s[0] > 0, s[1] > 0 else { throw bad(path, "dataset '\(path)' has shape \(s), expected [batch, length] with both > 0") }
            var out = [Int32](repeating: 0, count: v.count)
            for (i, t) in v.enumerated() {
                guard t >= 0 && t < Int64(V) else {
                    throw bad(path, "\(path)[\(i / s[1]), \(i % s[1])] = \(t) is outside [0, \(V)) (vocab_size \(V))")
                }
                out[i] = Int32(t)
            }
            return (out, s)
        }
        func sameShape(_ a: [Int], _ an: String, _ b: [Int], _ bn: String) throws {
            guard a == b else { throw bad(g + bn, "dataset '\(g + bn)' has shape \(b), expected \(a) (the shape of '\(g + an)')") }
        }
        func sameRows(_ a: [Int], _ an: String, _ b: [Int], _ bn: String) throws {
            guard a[0] == b[0] else { throw bad(g + bn, "dataset '\(g + bn)' has \(b[0]) rows, expected \(a[0]) (the batch size of '\(g + an)')") }
        }
        let batch: TokenBatch
        switch config.architecture {
        case .encoderDecoder:
            let src = try tokens("src_tokens"), prev = try tokens("prev_output_tokens"), tgt = try tokens("target")
            try sameShape(tgt.shape, "target", prev.shape, "prev_output_tokens")
            try sameRows(tgt.shape, "target", src.shape, "src_tokens")
            batch = TokenBatch(batchSize: tgt.shape[0], sourceLength: src.shape[1], targetLength: tgt.shape[1],
                               source: src.values, prevOutput: prev.values, target: tgt.values)
        case .decoderOnly:
            let prev = try tokens("prev_output_tokens"), tgt = try tokens("target")
            try sameShape(tgt.shape, "target", prev.shape, "prev_output_tokens")
            batch = TokenBatch(batchSize: tgt.shape[0], sourceLength: 0, targetLength: tgt.shape[1],
                               source: [], prevOutput: prev.values, target: tgt.values)
        case .encoderOnly:
            let src = try tokens("src_tokens"), tgt = try tokens("target")
            try sameShape(src.shape, "src_tokens", tgt.shape, "target")
            batch = TokenBatch(batchSize: src.shape[0], sourceLength: src.shape[1], targetLength: src.shape[1],
                               source: src.values, prevOutput: [], target: tgt.values)
        }
        if config.positions == .learned {
            let len = max(batch.sourceLength, batch.targetLength)
            if len > config.maxPositions {
                throw bad(nil, "sequence length \(len) exceeds max_positions \(config.maxPositions) of the learned position table")
            }
        }
        return batch
    }

    /// Writes a batch in the layout `read` expects (int64 datasets) under `group` ("" = root).
    public static func write(_ b: TokenBatch, architecture: Architecture, to f: HDF5File, group: String = "") throws {
        let g = group.isEmpty || group == "/" ? "" : group + "/"
        let src = b.source.map { Int64($0) }, prev = b.prevOutput.map { Int64($0) }, tgt = b.target.map { Int64($0) }
        switch architecture {
        case .encoderDecoder:
            try f.write(src, shape: [b.batchSize, b.sourceLength], at: g + "src_tokens")
            try f.write(prev, shape: [b.batchSize, b.targetLength], at: g + "prev_output_tokens")
            try f.write(tgt, shape: [b.batchSize, b.targetLength], at: g + "target")
        case .decoderOnly:
            try f.write(prev, shape: [b.batchSize, b.targetLength], at: g + "prev_output_tokens")
            try f.write(tgt, shape: [b.batchSize, b.targetLength], at: g + "target")
        case .encoderOnly:
            try f.write(src, shape: [b.batchSize, b.sourceLength], at: g + "src_tokens")
            try f.write(tgt, shape: [b.batchSize, b.sourceLength], at: g + "target")
        }
    }
}

public enum ForwardBackwardOutput {
    /// Writes loss, nll_loss, ntokens, logits and every parameter gradient of the model's last
    /// `forwardBackward` atomically to `url` (nothing is left behind on error).
    public static func write(to url: URL, model: TransformerModel, stats: LossStats, batch: TokenBatch,
                             attributes: [String: HDF5AttributeValue] = [:]) throws {
        let V = model.config.vocabSize
        let rows = model.logitRows
        let length = model.config.architecture == .encoderOnly ? batch.sourceLength : batch.targetLength
        precondition(rows == batch.batchSize * length, "logits do not belong to this batch")
        try HDF5File.writeAtomically(to: url) { f in
            try Checkpoint.write(model.config, to: f)
            try f.setAttribute("format", "deepnet-forward-backward")
            try f.setAttribute("engine_numerics_version", engineNumericsVersion)
            let tied = model.parameters.stateDictNames.compactMap { n in model.parameters.aliases[n].map { "\(n)=\($0)" } }
            try f.setAttribute("tied_parameters", tied)
            for (k, v) in attributes.sorted(by: { $0.key < $1.key }) { try f.setAttribute(k, v) }
            try f.write(scalar: stats.loss, at: "loss")
            try f.write(scalar: stats.nllLoss, at: "nll_loss")
            try f.write(scalar: Int64(stats.tokens), at: "ntokens")
            try f.write(model.logits(), shape: [batch.batchSize, length, V], at: "logits")
            try Checkpoint.writeTensors(model.gradients, layout: model.parameters, to: f, group: "grads", links: false)
        }
    }
}
