// Glue between run configurations and the data module (data-set registry, BPE, batcher).
import DeepNetData
import Foundation

public enum DataGlue {
    /// Content fingerprint of the data a run reads. `synthetic` is defined by its generator parameters.
    public static func fingerprint(_ spec: DataSpec, dataRoot: URL?) throws -> String {
        var h = SHA256()
        h.update("dataset=\(spec.dataset);src=\(spec.sourceLanguage);tgt=\(spec.targetLanguage)")
        return "placeholder:" + h.hexDigest()
    }
}
