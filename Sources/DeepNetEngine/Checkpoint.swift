// Checkpoints: a model's parameters (and optionally optimizer state and step) in one HDF5 file that h5py,
// h5dump and PyTorch users can read as a state_dict.
//
// File layout (format "deepnet-checkpoint", version 1)
//   /<state_dict key>               float32, torch shape convention (Linear weight [out, in], embedding
//                                    [rows, dim]), one dataset per OWNING tensor; tied keys (e.g.
//                                    decoder.output_projection.weight) are HDF5 hard links to their owner, so
//                                    h5py sees every state_dict key and no data is duplicated.
//   /optimizer/<buffer>/<key>       optional, float32, same shapes (e.g. exp_avg / exp_avg_sq); the optimizer's
//                                    name, step and scalars are attributes of /optimizer.
//   root attributes                 format, format_version, one attribute per ModelConfig field (snake_case:
//                                    architecture, encoder_layers, decoder_layers, embed_dim, ffn_dim, heads,
//                                    vocab_size, max_positions, positions, scale_embedding, share_all_embeddings,
//                                    share_decoder_input_output_embed, activation, dropout, attention_dropout,
//                                    activation_dropout, label_smoothing, method, alpha_multiplier,
//                                    beta_multiplier, method_options (JSON), pad_index), config_json (the
//                                    ModelConfig as JSON), step (when given), engine_numerics_version.
//   Booleans are int64 0/1; h5py's numpy bools are accepted when reading.
//
// Loading accepts files written by other tools (the reference case: a torchscale model's state_dict saved with
// h5py, keys as root dataset names containing '.'; nested groups "encoder/layers/0/..." are accepted too).
// Every owning tensor must be present with exactly the expected shape; tied keys present in the file must equal
// their owner; with `strict` (default) float datasets that are not parameters of the model are an error.
// Groups named optimizer, grads, batch, reference, results, meta, trainer, run and vocab (a model file's BPE codes and
// dictionaries, DeepNetHarness/Execution/ModelFile.swift) are never treated as parameters.
import Foundation
import HDF5Store

/// A checkpoint that does not fit the model, or is not a checkpoint. `description` names the file and tensor.
public struct CheckpointError: Error, CustomStringConvertible, Equatable, Sendable {
    public enum Kind: String, Sendable { case missingTensor, shapeMismatch, unexpectedTensors, tiedMismatch, badAttribute, configConflict, badInput }
    public var kind: Kind
    public var file: String
    public var tensor: String?
    public var message: String
    public init(_ kind: Kind, file: String, tensor: String? = nil, message: String) {
        self.kind = kind; self.file = file; self.tensor = tensor; self.message = message
    }
    public var description: String { "\(file): \(message)" }
}

/// Optimizer state in parameter layout: every buffer has `parameters.count` floats, carved like the parameters.
public struct OptimizerState: Sendable, Equatable {
    public var name: String
    /// Completed optimizer updates.
    public var step: Int
    /// Hyper-parameters and other scalars (e.g. "lr", "beta1").
    public var scalars: [String: Double]
    /// Per-parameter buffers, e.g. "exp_avg", "exp_avg_sq", each in the flat parameter layout.
    public var buffers: [String: [Float]]
    public init(name: String, step: Int, scalars: [String: Double] = [:], buffers: [String: [Float]] = [:]) {
        self.name = name; self.step = step; self.scalars = scalars; self.buffers = buffers
    }
}

/// What `Checkpoint.load` found besides the parameters.
public struct CheckpointContents: Sendable {
    public var step: Int?
    public var optimizer: OptimizerState?
    /// ModelConfig fields (snake_case attribute names) that were read from the file.
    public var configFieldsFromFile: Set<String>
    /// Parameter tensors read (owners).
    public var tensorsLoaded: Int
    /// Float datasets ignored because `strict` was off.
    public var ignoredTensors: [String]
}

public enum Checkpoint {
    public static let formatName = "deepnet-checkpoint"
    public static let formatVersion = 1
    /// Groups that never hold parameters.
    public static let reservedGroups: Set<String> = ["optimizer", "grads", "batch", "reference", "results", "meta", "trainer", "run", "vocab"]
    /// ModelConfig fields that change the parameter set or the forward computation's structure; a flag that
    /// contradicts the checkpoint on one of these is an error (`resolveConfig`).
    /// (Every setting except the dropouts and label smoothing, which a flag may override.)
    public static let structuralFields: Set<String> = Set(ModelConfig.CodingKeys.allCases.map(\.rawValue))
        .subtracting([ModelConfig.CodingKeys.dropout, .attentionDropout, .activationDropout, .labelSmoothing].map(\.rawValue))

    // MARK: Save

    /// Saves the model's parameters, config and optionally step and optimizer state, atomically.
    /// `extra` writes more groups into the same file before it is renamed into place (the trainer's and the run's
    /// resume state: one atomic file, so a kill never leaves a checkpoint and a state file that disagree).
    public static func save(_ model: TransformerModel, to url: URL, step: Int? = nil, optimizer: OptimizerState? = nil,
                            attributes: [String: HDF5AttributeValue] = [:], extra: ((HDF5File) throws -> Void)? = nil) throws {
        try HDF5File.writeAtomically(to: url) { f in
            try write(model.config, to: f)
            try f.setAttribute("engine_numerics_version", engineNumericsVersion)
            if let step { try f.setAttribute("step", step) }
            try writeTensors(model.parameters.values, layout: model.parameters, to: f, group: "/", links: true)
            if let opt = optimizer {
                try f.createGroup("optimizer")
                try f.setAttribute("name", opt.name, on: "optimizer")
                try f.setAttribute("step", opt.step, on: "optimizer")
                for (k, v) in opt.scalars.sorted(by: { $0.key < $1.key }) { try f.setAttribute(k, v, on: "optimizer") }
                for (name, buf) in opt.buffers.sorted(by: { $0.key < $1.key }) {
                    guard buf.count == model.parameters.count else {
                        throw CheckpointError(.badInput, file: url.relativePath, message: "optimizer buffer '\(name)' has \(buf.count) values, expected \(model.parameters.count)")
                    }
                    try writeTensors(buf, layout: model.parameters, to: f, group: "optimizer/" + name, links: false)
                }
            }
            for (k, v) in attributes.sorted(by: { $0.key < $1.key }) { try f.setAttribute(k, v) }
            try extra?(f)
        }
    }

    /// Writes a flat buffer in parameter layout as one float32 dataset per owning tensor under `group`
    /// (named by state_dict key, torch shape). With `links`, alias keys become hard links to their owner.
    /// Used for parameters, gradients (`grads/`) and optimizer buffers.
    public static func writeTensors(_ flat: [Float], layout: ParameterStore, to file: HDF5File, group: String, links: Bool) throws {
        precondition(flat.count == layout.count, "buffer does not match the parameter layout")
        let prefix = group == "/" || group.isEmpty ? "" : (group.hasSuffix("/") ? group : group + "/")
        if !prefix.isEmpty { try file.createGroup(prefix) }
        for e in layout.entries {
            try file.write(Array(flat[e.offset..<(e.offset + e.count)]), shape: e.shape, at: prefix + e.name)
        }
        if links {
            for name in layout.stateDictNames { if let owner = layout.aliases[name] { try file.createHardLink(at: prefix + name, to: prefix + owner) } }
        }
    }

    // MARK: Config attributes

    /// Writes `config` as root attributes: one per field (snake_case) plus `config_json`, `format`, `format_version`.
    public static func write(_ config: ModelConfig, to file: HDF5File, on path: String = "/") throws {
        try file.setAttribute("format", formatName, on: path)
        try file.setAttribute("format_version", formatVersion, on: path)
        for (k, v) in attributeValues(config) { try file.setAttribute(k, v, on: path) }
        let enc = JSONEncoder()
        enc.outputFormatting = [.sortedKeys]
        try file.setAttribute("config_json", String(decoding: try enc.encode(config), as: UTF8.self), on: path)
    }

    /// The per-field attributes of a config, in a fixed order.
    public static func attributeValues(_ c: ModelConfig) -> [(String, HDF5AttributeValue)] {
        let opts = (try? JSONSerialization.data(withJSONObject: c.methodOptions, options: [.sortedKeys])).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
        typealias K = ModelConfig.CodingKeys
        let values: [(K, HDF5AttributeValue)] = [
            (.architecture, .string(c.architecture.rawValue)), (.encoderLayers, .int(c.encoderLayers)),
            (.decoderLayers, .int(c.decoderLayers)), (.embedDim, .int(c.embedDim)), (.ffnDim, .int(c.ffnDim)),
            (.heads, .int(c.heads)), (.vocabSize, .int(c.vocabSize)), (.maxPositions, .int(c.maxPositions)),
            (.positions, .string(c.positions.rawValue)), (.scaleEmbedding, .int(c.scaleEmbedding ? 1 : 0)),
            (.shareAllEmbeddings, .int(c.shareAllEmbeddings ? 1 : 0)),
            (.shareDecoderInputOutputEmbed, .int(c.shareDecoderInputOutputEmbed ? 1 : 0)),
            (.activation, .string(c.activation.rawValue)), (.dropout, .double(c.dropout)),
            (.attentionDropout, .double(c.attentionDropout)), (.activationDropout, .double(c.activationDropout)),
            (.labelSmoothing, .double(c.labelSmoothing)), (.method, .string(c.method)),
            (.alphaMultiplier, .double(c.alphaMultiplier)), (.betaMultiplier, .double(c.betaMultiplier)),
            (.methodOptions, .string(opts)), (.padIndex, .int(c.padIndex)),
        ]
        return values.map { ($0.0.rawValue, $0.1) }
    }

    /// Reads the model settings stored in a file. Starts from `defaults`, overlays `config_json` (if present)
    /// and then every per-field attribute present. Returns the config and the set of fields taken from the file
    /// (empty when the file has no model attributes, e.g. a bare h5py state_dict).
    public static func readConfig(_ file: HDF5File, defaults: ModelConfig = ModelConfig()) throws -> (config: ModelConfig, fromFile: Set<String>) {
        let name = file.displayName
        func bad(_ attr: String, _ msg: String) -> CheckpointError {
            CheckpointError(.badAttribute, file: name, message: "attribute '\(attr)' \(msg)")
        }
        var c = defaults
        var from = Set<String>()
        if let json = try file.stringAttribute("config_json") {
            // Overlay onto the defaults so that fields missing from an older JSON keep their default.
            guard let fileObj = try? JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any] else {
                throw bad("config_json", "is not a JSON object")
            }
            let baseData = try JSONEncoder().encode(defaults)
            var merged = (try JSONSerialization.jsonObject(with: baseData) as? [String: Any]) ?? [:]
            // Older files spell the names in camelCase: map them onto the snake_case names before merging.
            let current = Dictionary(uniqueKeysWithValues: ModelConfig.CodingKeys.allCases.map { ($0.legacyName, $0.rawValue) })
            for (k, v) in fileObj { merged[current[k] ?? k] = v }
            do {
                c = try JSONDecoder().decode(ModelConfig.self, from: try JSONSerialization.data(withJSONObject: merged))
            } catch {
                throw bad("config_json", "does not decode as a ModelConfig: \(error)")
            }
            from.formUnion(attributeValues(c).map { $0.0 })
        }
        func int(_ key: ModelConfig.CodingKeys, _ set: (Int) -> Void) throws { let k = key.rawValue; if let v = try file.intAttribute(k) { set(v); from.insert(k) } }
        func dbl(_ key: ModelConfig.CodingKeys, _ set: (Double) -> Void) throws { let k = key.rawValue; if let v = try file.doubleAttribute(k) { set(v); from.insert(k) } }
        func bool(_ key: ModelConfig.CodingKeys, _ set: (Bool) -> Void) throws { let k = key.rawValue; if let v = try file.boolAttribute(k) { set(v); from.insert(k) } }
        func str(_ key: ModelConfig.CodingKeys, _ set: (String) throws -> Void) throws { let k = key.rawValue; if let v = try file.stringAttribute(k) { try set(v); from.insert(k) } }
        func choice<E: Choice>(_ k: String, _ s: String, _ t: E.Type) throws -> E {
            do { return try E(parsing: s, what: k) } catch let e as UnknownChoice {
                throw bad(k, "is '\(s)', expected one of \(e.valid.joined(separator: ", "))")
            }
        }
        try str(.architecture) { c.architecture = try choice(ModelConfig.CodingKeys.architecture.rawValue, $0, Architecture.self) }
        try int(.encoderLayers) { c.encoderLayers = $0 }
        try int(.decoderLayers) { c.decoderLayers = $0 }
        try int(.embedDim) { c.embedDim = $0 }
        try int(.ffnDim) { c.ffnDim = $0 }
        try int(.heads) { c.heads = $0 }
        try int(.vocabSize) { c.vocabSize = $0 }
        try int(.maxPositions) { c.maxPositions = $0 }
        try str(.positions) { c.positions = try choice(ModelConfig.CodingKeys.positions.rawValue, $0, PositionKind.self) }
        try bool(.scaleEmbedding) { c.scaleEmbedding = $0 }
        try bool(.shareAllEmbeddings) { c.shareAllEmbeddings = $0 }
        try bool(.shareDecoderInputOutputEmbed) { c.shareDecoderInputOutputEmbed = $0 }
        try str(.activation) { c.activation = try choice(ModelConfig.CodingKeys.activation.rawValue, $0, Activation.self) }
        try dbl(.dropout) { c.dropout = $0 }
        try dbl(.attentionDropout) { c.attentionDropout = $0 }
        try dbl(.activationDropout) { c.activationDropout = $0 }
        try dbl(.labelSmoothing) { c.labelSmoothing = $0 }
        try str(.method) { c.method = $0 }
        try dbl(.alphaMultiplier) { c.alphaMultiplier = $0 }
        try dbl(.betaMultiplier) { c.betaMultiplier = $0 }
        try str(.methodOptions) { s in
            guard let obj = try? JSONSerialization.jsonObject(with: Data(s.utf8)) as? [String: Any] else {
                throw bad(ModelConfig.CodingKeys.methodOptions.rawValue, "is not a JSON object: \(s)")
            }
            var d: [String: Double] = [:]
            for (k, v) in obj {
                guard let n = v as? NSNumber else { throw bad(ModelConfig.CodingKeys.methodOptions.rawValue, "has non-numeric value for '\(k)'") }
                d[k] = n.doubleValue
            }
            c.methodOptions = d
        }
        try int(.padIndex) { c.padIndex = $0 }
        return (c, from)
    }

    // MARK: Load

    /// Loads parameters (and optimizer state if present) into `model`. The model's config must already match
    /// the checkpoint (see `loadModel` / `readConfig`). Throws `CheckpointError` naming the tensor on a missing
    /// tensor or a wrong shape, `HDF5Error` for unreadable files.
    @discardableResult
    public static func load(into model: TransformerModel, from url: URL, strict: Bool = true) throws -> CheckpointContents {
        let f = try HDF5File.open(url, mode: .readOnly)
        defer { f.close() }
        return try load(into: model, from: f, strict: strict)
    }

    /// As `load(into:from:strict:)` on an open file.
    @discardableResult
    public static func load(into model: TransformerModel, from f: HDF5File, strict: Bool = true) throws -> CheckpointContents {
        let (_, fromFile) = try readConfig(f)
        var store = model.parameters
        let layout = store
        var values = layout.values
        let ignored = try readTensors(into: &values, layout: layout, from: f, group: "/", strict: strict,
                                      what: "model (method '\(model.config.method)')")
        store.values = values
        model.parameters = store
        var contents = CheckpointContents(step: try f.intAttribute("step"), optimizer: nil, configFieldsFromFile: fromFile,
                                          tensorsLoaded: store.entries.count, ignoredTensors: ignored)
        if f.kind(of: "optimizer") == .group {
            let name = try f.stringAttribute("name", on: "optimizer") ?? "unknown"
            let step = try f.intAttribute("step", on: "optimizer") ?? 0
            var scalars: [String: Double] = [:]
            for a in try f.attributeNames(on: "optimizer") where a != "name" && a != "step" {
                if let v = try? f.doubleAttribute(a, on: "optimizer") { scalars[a] = v }
            }
            var buffers: [String: [Float]] = [:]
            for b in try f.children(of: "optimizer") where f.kind(of: "optimizer/" + b) == .group {
                var flat = [Float](repeating: 0, count: store.count)
                _ = try readTensors(into: &flat, layout: store, from: f, group: "optimizer/" + b, strict: false,
                                    what: "optimizer buffer '\(b)'")
                buffers[b] = flat
            }
            contents.optimizer = OptimizerState(name: name, step: step, scalars: scalars, buffers: buffers)
        }
        return contents
    }

    /// Builds a model from a checkpoint: settings from the file's attributes (`fallback` supplies the fields the
    /// file does not have, e.g. for a bare h5py state_dict), then loads the parameters (the construction-time
    /// initialization is overwritten).
    public static func loadModel(from url: URL, fallback: ModelConfig = ModelConfig(), strict: Bool = true) throws -> (TransformerModel, CheckpointContents) {
        let f = try HDF5File.open(url, mode: .readOnly)
        defer { f.close() }
        let (config, _) = try readConfig(f, defaults: fallback)
        try checkTensors(f, against: config)   // attributes vs tensors before allocating (CheckpointConsistency.swift)
        let model = try TransformerModel(config: config, seed: 0)
        let contents = try load(into: model, from: f, strict: strict)
        return (model, contents)
    }

    /// Combines the file's settings with explicitly given flags. Non-structural fields (dropouts, label
    /// smoothing) given as flags override the file; a structural flag that differs from the file's value is a
    /// `.configConflict` error; fields absent from the file come from the flags (or the defaults).
    public static func resolveConfig(file: (config: ModelConfig, fromFile: Set<String>), flags: ModelConfig,
                                     explicitFlags: Set<String>, fileName: String) throws -> ModelConfig {
        var c = file.config
        let fileVals = Dictionary(uniqueKeysWithValues: attributeValues(file.config))
        let flagVals = Dictionary(uniqueKeysWithValues: attributeValues(flags))
        for k in explicitFlags {
            if file.fromFile.contains(k) && structuralFields.contains(k) && fileVals[k] != flagVals[k] {
                throw CheckpointError(.configConflict, file: fileName,
                                      message: "flag for '\(k)' is \(flagVals[k].map { "\($0)" } ?? "?") but the checkpoint says \(fileVals[k].map { "\($0)" } ?? "?")")
            }
        }
        func pick<T>(_ key: ModelConfig.CodingKeys, _ kp: WritableKeyPath<ModelConfig, T>) {
            let k = key.rawValue
            if explicitFlags.contains(k) || !file.fromFile.contains(k) { c[keyPath: kp] = flags[keyPath: kp] }
        }
        pick(.architecture, \.architecture); pick(.encoderLayers, \.encoderLayers); pick(.decoderLayers, \.decoderLayers)
        pick(.embedDim, \.embedDim); pick(.ffnDim, \.ffnDim); pick(.heads, \.heads); pick(.vocabSize, \.vocabSize)
        pick(.maxPositions, \.maxPositions); pick(.positions, \.positions); pick(.scaleEmbedding, \.scaleEmbedding)
        pick(.shareAllEmbeddings, \.shareAllEmbeddings); pick(.shareDecoderInputOutputEmbed, \.shareDecoderInputOutputEmbed)
        pick(.activation, \.activation); pick(.dropout, \.dropout); pick(.attentionDropout, \.attentionDropout)
        pick(.activationDropout, \.activationDropout); pick(.labelSmoothing, \.labelSmoothing); pick(.method, \.method)
        pick(.alphaMultiplier, \.alphaMultiplier); pick(.betaMultiplier, \.betaMultiplier)
        pick(.methodOptions, \.methodOptions); pick(.padIndex, \.padIndex)
        return c
    }

    /// Reads one dataset per owning tensor of `layout` from `group` into `flat` (parameter layout).
    /// Returns the float datasets that were ignored (only when `strict` is false).
    @discardableResult
    public static func readTensors(into flat: inout [Float], layout: ParameterStore, from f: HDF5File, group: String,
                                   strict: Bool, what: String = "model") throws -> [String] {
        precondition(flat.count == layout.count, "buffer does not match the parameter layout")
        let file = f.displayName
        let prefix = group == "/" || group.isEmpty ? "" : (group.hasSuffix("/") ? group : group + "/")
        if !prefix.isEmpty && f.kind(of: prefix) != .group {
            throw CheckpointError(.missingTensor, file: file, message: "group '\(group)' not found")
        }
        // Where a state_dict key lives in the file: "a.b.c" at the group, or nested "a/b/c".
        func locate(_ key: String) -> String? {
            let flatPath = prefix + key
            if f.kind(of: flatPath) == .dataset { return flatPath }
            let nested = prefix + key.replacingOccurrences(of: ".", with: "/")
            if f.kind(of: nested) == .dataset { return nested }
            return nil
        }
        var aliasesOf: [String: [String]] = [:]
        for n in layout.stateDictNames { if let o = layout.aliases[n] { aliasesOf[o, default: []].append(n) } }
        for e in layout.entries {
            let candidates = [e.name] + (aliasesOf[e.name] ?? [])
            let found = candidates.compactMap { k in locate(k).map { (k, $0) } }
            guard let (key, path) = found.first else {
                let alt = candidates.count > 1 ? " (or its tied names \(candidates.dropFirst().map { "'\($0)'" }.joined(separator: ", ")))" : ""
                throw CheckpointError(.missingTensor, file: file, tensor: e.name,
                                      message: "missing tensor '\(e.name)'\(alt) with shape \(e.shape), required by the \(what)")
            }
            let shape = try f.shape(of: path)
            guard shape == e.shape else {
                throw CheckpointError(.shapeMismatch, file: file, tensor: key,
                                      message: "tensor '\(key)' has shape \(shape), expected \(e.shape) for the \(what)")
            }
            let values = try f.read(Float.self, at: path).values
            flat.replaceSubrange(e.offset..<(e.offset + e.count), with: values)
            // Tied copies stored separately (h5py state_dict) must agree with the owner.
            for (otherKey, otherPath) in found.dropFirst() {
                let s2 = try f.shape(of: otherPath)
                guard s2 == e.shape else {
                    throw CheckpointError(.shapeMismatch, file: file, tensor: otherKey,
                                          message: "tensor '\(otherKey)' has shape \(s2), expected \(e.shape) (tied to '\(key)')")
                }
                let v2 = try f.read(Float.self, at: otherPath).values
                var maxDiff: Float = 0
                for i in 0..<v2.count { maxDiff = max(maxDiff, abs(v2[i] - values[i])) }
                if maxDiff != 0 || v2.contains(where: { $0.isNaN }) != values.contains(where: { $0.isNaN }) {
                    throw CheckpointError(.tiedMismatch, file: file, tensor: otherKey,
                                          message: "tensors '\(key)' and '\(otherKey)' are tied in this model but differ in the checkpoint (max |diff| = \(maxDiff)); check share_all_embeddings / share_decoder_input_output_embed")
                }
            }
        }
        // Unexpected float datasets.
        var known = Set(layout.stateDictNames)
        for n in layout.stateDictNames { known.insert(n.replacingOccurrences(of: ".", with: "/")) }
        var unexpected: [String] = []
        func walk(_ g: String, _ rel: String) throws {
            for child in try f.children(of: g.isEmpty ? "/" : g) {
                let path = g.isEmpty ? child : g + "/" + child
                let relName = rel.isEmpty ? child : rel + "/" + child
                if rel.isEmpty && prefix.isEmpty && reservedGroups.contains(child) { continue }
                switch f.kind(of: path) {
                case .group?: try walk(path, relName)
                case .dataset?:
                    let dotted = relName.replacingOccurrences(of: "/", with: ".")
                    if known.contains(relName) || known.contains(dotted) { continue }
                    if dotted.hasSuffix("._float_tensor") || dotted.hasSuffix(".version") || dotted == "version" { continue }
                    if let t = try? f.dataType(of: path), t.hasPrefix("float") { unexpected.append(relName) }
                default: continue
                }
            }
        }
        try walk(prefix.isEmpty ? "" : String(prefix.dropLast()), "")
        if strict && !unexpected.isEmpty {
            let shown = unexpected.prefix(5).map { "'\($0)'" }.joined(separator: ", ")
            throw CheckpointError(.unexpectedTensors, file: file, tensor: unexpected[0],
                                  message: "\(unexpected.count) tensor(s) are not parameters of the \(what): \(shown)\(unexpected.count > 5 ? ", ..." : "") (wrong method/architecture? load non-strictly to ignore them)")
        }
        return unexpected
    }
}
