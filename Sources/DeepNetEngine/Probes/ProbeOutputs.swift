// Probes: public read access to what the probes measure, for direct recomputation (tests, one-off analyses).
import Foundation

extension TransformerModel {
    /// Runs an eval-mode forward of `batch` and returns each stack's final hidden states (the decoder's are the
    /// input of `output_projection`, i.e. the model output before the softmax projection), row-major
    /// [batch·length, embedDim], pads included, plus each stack's pad mask (1 = pad position).
    public func probeFinalHiddenStates(_ batch: TokenBatch) throws -> [StackKind: (hidden: [Float], pad: [UInt8])] {
        _ = try forwardWholeBatch(batch)
        var out: [StackKind: (hidden: [Float], pad: [UInt8])] = [:]
        let d = config.embedDim
        if encoder != nil, let p = TrainingProbes.stackOutput(self, .encoder) {
            let rows = batch.batchSize * batch.sourceLength
            out[.encoder] = (Array(UnsafeBufferPointer(start: p, count: rows * d)), TrainingProbes.padMask(self, .encoder))
        }
        if decoder != nil, let p = TrainingProbes.stackOutput(self, .decoder) {
            let rows = batch.batchSize * batch.targetLength
            out[.decoder] = (Array(UnsafeBufferPointer(start: p, count: rows * d)), TrainingProbes.padMask(self, .decoder))
        }
        return out
    }

    /// As `probeFinalHiddenStates`, but each stack's F_pre: the input of the last LayerNorm its output passes through
    /// (the top sublayer's x + f(x) for Post-LN-like methods, the input of the final `layer_norm` for Pre-LN-like
    /// ones; the final hidden states themselves for methods without a LayerNorm there). What the model-update probe's
    /// pre-LN measurement (`preLNOutputUpdate`) compares.
    public func probePreNormHiddenStates(_ batch: TokenBatch) throws -> [StackKind: (hidden: [Float], pad: [UInt8])] {
        _ = try forwardWholeBatch(batch)
        var out: [StackKind: (hidden: [Float], pad: [UInt8])] = [:]
        let d = config.embedDim
        if encoder != nil, let p = TrainingProbes.preNormOutput(self, .encoder) {
            let rows = batch.batchSize * batch.sourceLength
            out[.encoder] = (Array(UnsafeBufferPointer(start: p, count: rows * d)), TrainingProbes.padMask(self, .encoder))
        }
        if decoder != nil, let p = TrainingProbes.preNormOutput(self, .decoder) {
            let rows = batch.batchSize * batch.targetLength
            out[.decoder] = (Array(UnsafeBufferPointer(start: p, count: rows * d)), TrainingProbes.padMask(self, .decoder))
        }
        return out
    }

    /// The method's residual scale α per stack ("encoder.alpha"/"decoder.alpha" in its constants; 1 when the
    /// method has none, as for Post-LN and Pre-LN).
    public var residualAlphas: [StackKind: Double] {
        var a: [StackKind: Double] = [:]
        if encoder != nil { a[.encoder] = method.constants["encoder.alpha"] ?? 1 }
        if decoder != nil { a[.decoder] = method.constants["decoder.alpha"] ?? 1 }
        return a
    }
}
