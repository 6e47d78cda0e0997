// A checkpoint's settings against its own tensors, before a model is built from them. The attributes are
// only a claim: `encoder_layers = 1000000` on a file that holds six layers used to build (or try to build) a
// million-layer model first and report the missing tensor afterwards — or die allocating it.
import Foundation
import HDF5Store

extension Checkpoint {
    /// Checks `config` (the file's attributes, possibly completed by flags) against the tensors stored in `f`:
    /// embedding / output-projection shapes are [vocab_size, embed_dim]; each stack holds at least as many
    /// layers (`<stack>.layers.<i>.…`) as the config says; layer 0's and the last layer's tensors have the
    /// shapes the config implies (e.g. fc1 [ffn_dim, embed_dim]). Allocates nothing of the model's size.
    /// Throws `CheckpointError` naming the file, the tensor, the setting and what was expected.
    public static func checkTensors(_ f: HDF5File, against config: ModelConfig) throws {
        let file = f.displayName
        do { try config.validate() } catch let e as ConfigError {
            throw CheckpointError(.badAttribute, file: file, message: "the checkpoint's settings are invalid: \(e.message)")
        }
        let c = config
        let method = try MethodRegistry.make(c)
        func locate(_ key: String) -> String? {
            if f.kind(of: key) == .dataset { return key }
            let nested = key.replacingOccurrences(of: ".", with: "/")
            return f.kind(of: nested) == .dataset ? nested : nil
        }
        func expectShape(_ key: String, _ shape: [Int], because why: String) throws {
            guard let path = locate(key) else { return }   // absence is reported by `load`, which knows the tied names
            let s = try f.shape(of: path)
            if s != shape {
                throw CheckpointError(.shapeMismatch, file: file, tensor: key,
                                      message: "tensor '\(key)' has shape \(s), expected \(shape) (\(why))")
            }
        }
        let vd = "vocab_size = \(c.vocabSize), embed_dim = \(c.embedDim)"
        for stack in ["encoder", "decoder"] {
            for t in ["embed_tokens", "output_projection"] { try expectShape("\(stack).\(t).weight", [c.vocabSize, c.embedDim], because: vd) }
        }
        let rootNames = try f.children(of: "/")
        for kind in [StackKind.encoder, .decoder] where kind == .encoder ? c.hasEncoder : c.hasDecoder {
            let L = kind == .encoder ? c.encoderLayers : c.decoderLayers
            let setting = (kind == .encoder ? ModelConfig.CodingKeys.encoderLayers : .decoderLayers).rawValue
            let info = StackInfo(kind: kind, layers: L, architecture: c.architecture)
            // Layer indices present, as flat keys ("encoder.layers.3.…") or nested groups ("encoder/layers/3/…").
            var present = Set<Int>()
            let flatPrefix = "\(kind.rawValue).layers."
            for n in rootNames where n.hasPrefix(flatPrefix) {
                if let i = Int(n.dropFirst(flatPrefix.count).prefix { $0 != "." }) { present.insert(i) }
            }
            if f.kind(of: "\(kind.rawValue)/layers") == .group {
                for n in try f.children(of: "\(kind.rawValue)/layers") { if let i = Int(n) { present.insert(i) } }
            }
            var firstMissing = 0
            while present.contains(firstMissing) { firstMissing += 1 }
            if firstMissing < L {
                let spec = StructureCount.layerSpecs(c, method: method, stack: info, layer: firstMissing).first!
                let holds = firstMissing == 0 ? "no \(kind.rawValue) layers"
                    : "\(kind.rawValue) layers 0…\(firstMissing - 1) only (\(kind.rawValue).layers.0 … \(kind.rawValue).layers.\(firstMissing - 1))"
                throw CheckpointError(.missingTensor, file: file, tensor: spec.name,
                                      message: "missing tensor '\(spec.name)' with shape \(spec.shape): \(setting) is \(L) but the file holds \(holds); the settings do not match the tensors (nothing was allocated)")
            }
            for l in Set([0, L - 1]).sorted() {
                for spec in StructureCount.layerSpecs(c, method: method, stack: info, layer: l) {
                    try expectShape(spec.name, spec.shape, because: "embed_dim = \(c.embedDim), ffn_dim = \(c.ffnDim), heads = \(c.heads), method '\(c.method)'")
                }
            }
        }
    }
}
