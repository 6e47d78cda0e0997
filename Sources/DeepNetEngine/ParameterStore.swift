// All parameters in ONE flat [Float] buffer carved by a size table (llm.c style); gradients and optimizer
// moments use the same layout, so "zero grad" is one fill and an optimizer step is one loop.

/// How a parameter is filled before a method's own initialization hooks run.
public enum ParameterInit: Hashable, Sendable {
    case zeros, ones
    case constant(Float)
    /// Explicit values, row-major (e.g. DLCL's lower-triangular averaging matrix).
    case values([Float])
    /// The tensor is initialized by a model/method hook (linears, embeddings).
    case byHook
}

/// One parameter tensor a component asks for.
public struct ParameterSpec: Hashable, Sendable {
    public var name: String
    public var shape: [Int]
    public var initial: ParameterInit
    public init(_ name: String, _ shape: [Int], _ initial: ParameterInit) { self.name = name; self.shape = shape; self.initial = initial }
    public var count: Int { shape.reduce(1, *) }
}

public struct ParameterEntry: Hashable, Sendable, Codable {
    /// torchscale/fairseq state_dict key of the owning tensor.
    public var name: String
    public var shape: [Int]
    public var offset: Int
    public var count: Int
}

public struct ParameterStore {
    /// Owning tensors, in declaration (≈ torchscale state_dict) order.
    public private(set) var entries: [ParameterEntry] = []
    /// Tied tensors: alias state_dict key -> owning key in `entries`
    /// (e.g. "decoder.output_projection.weight" -> "decoder.embed_tokens.weight").
    public private(set) var aliases: [String: String] = [:]
    /// Every state_dict key (owners and aliases) in order, as torchscale's state_dict lists them.
    public private(set) var stateDictNames: [String] = []
    public var values: [Float] = []
    var index: [String: Int] = [:]
    var initials: [ParameterInit] = []

    public init() {}

    public var count: Int { values.count }

    /// Declares a tensor (idempotent for the same name and shape) and returns its offset.
    @discardableResult
    mutating func declare(_ spec: ParameterSpec) -> Int {
        if let i = index[spec.name] {
            precondition(entries[i].shape == spec.shape, "parameter \(spec.name) declared twice with different shapes")
            return entries[i].offset
        }
        let offset = values.count
        index[spec.name] = entries.count
        entries.append(ParameterEntry(name: spec.name, shape: spec.shape, offset: offset, count: spec.count))
        initials.append(spec.initial)
        stateDictNames.append(spec.name)
        values.append(contentsOf: repeatElement(0, count: spec.count))
        return offset
    }

    mutating func alias(_ name: String, to owner: String) {
        let target = aliases[owner] ?? owner
        precondition(index[target] != nil, "alias target \(target) not declared")
        aliases[name] = target
        stateDictNames.append(name)
    }

    /// Entry for a state_dict key, resolving aliases.
    public func entry(_ name: String) -> ParameterEntry? {
        guard let i = index[aliases[name] ?? name] else { return nil }
        return entries[i]
    }

    public func offset(of name: String) -> Int {
        guard let e = entry(name) else { preconditionFailure("no parameter named \(name)") }
        return e.offset
    }

    /// Copy of one tensor's values.
    public func tensor(_ name: String) -> [Float]? {
        guard let e = entry(name) else { return nil }
        return Array(values[e.offset..<(e.offset + e.count)])
    }

    /// Overwrites one tensor (count must match).
    public mutating func setTensor(_ name: String, _ data: [Float]) throws {
        guard let e = entry(name) else { throw ConfigError(message: "no parameter named \(name)") }
        guard data.count == e.count else { throw ConfigError(message: "\(name): expected \(e.count) values, got \(data.count)") }
        values.replaceSubrange(e.offset..<(e.offset + e.count), with: data)
    }

    func initial(at i: Int) -> ParameterInit { initials[i] }
}
