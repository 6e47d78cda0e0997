// Instruments: random filter-normalized directions for loss-landscape plots (Li et al. 2018).
//
// Protocol (docs/landscape.md §1, read from tomgoldstein/loss-landscape `net_plotter.py`):
//   * one Gaussian draw per entry of every parameter tensor, in parameter order (`get_random_weights`);
//   * `normalize_direction(norm='filter')`: for every slice along the FIRST dimension (a Linear weight's output
//     row, an embedding's token row) d_j ← d_j · ‖w_j‖ / (‖d_j‖ + 1e-10);
//   * `ignore='biasbn'`: every tensor with dim ≤ 1 (biases, LayerNorm γ/β) gets the zero direction.
// Draws for 1-D tensors are still consumed from the stream (as torch.randn fills them before they are zeroed), so
// adding or removing a bias does not shift the directions of the other tensors only if the layout is unchanged —
// the layout is part of what a direction seed means; the HDF5 record stores both.
import Foundation

/// One named tensor inside a flat parameter vector: a generic (name, shape, offset) view, decoupled from the
/// engine so that the instruments can be tested on synthetic layouts. `ParameterLayout.init(engine:)` builds it
/// from the engine's size table.
public struct InstrumentTensor: Sendable, Equatable, Codable {
    public var name: String
    public var shape: [Int]
    public var offset: Int
    public var count: Int { shape.reduce(1, *) }
    /// Number of slices along the first dimension (1 for a scalar).
    public var rows: Int { shape.first ?? 1 }
    public var rowLength: Int { shape.count <= 1 ? count : shape.dropFirst().reduce(1, *) }
    public init(name: String, shape: [Int], offset: Int) {
        self.name = name; self.shape = shape; self.offset = offset
    }
}

/// A list of tensors that tile a flat vector.
public struct ParameterLayout: Sendable, Equatable, Codable {
    public var tensors: [InstrumentTensor]
    public var totalCount: Int

    /// Builds a layout from (name, shape) pairs laid out back to back.
    public init(packing entries: [(name: String, shape: [Int])]) {
        var off = 0
        var ts: [InstrumentTensor] = []
        for e in entries {
            let t = InstrumentTensor(name: e.name, shape: e.shape, offset: off)
            off += t.count
            ts.append(t)
        }
        tensors = ts
        totalCount = off
    }

    /// Uses explicit offsets (the engine's size table). `totalCount` is the end of the last tensor.
    public init(tensors: [InstrumentTensor]) {
        self.tensors = tensors
        totalCount = tensors.map { $0.offset + $0.count }.max() ?? 0
    }

    public func tensor(named name: String) -> InstrumentTensor? { tensors.first { $0.name == name } }
}

/// How a random direction is rescaled (docs/landscape.md §1.2; only the modes used by the DeepNet figures).
public enum DirectionNormalization: String, Sendable, Codable {
    /// per first-dimension slice: ‖d_j‖ = ‖w_j‖ (the README recipe, `--xnorm filter`)
    case filter
    /// whole tensor: ‖d‖ = ‖w‖ (`--xnorm layer`)
    case layer
    /// no rescaling (raw N(0,1))
    case none
}

/// What happens to tensors with dim ≤ 1 (docs/landscape.md §1.3).
public enum OneDimensionalPolicy: String, Sendable, Codable {
    /// `--xignore biasbn`: direction = 0 (the README recipe)
    case zero
    /// no ignore flag: direction = the weight itself (`d.copy_(w)`)
    case copyWeights
}

public struct DirectionOptions: Sendable, Codable, Equatable {
    public var normalization: DirectionNormalization = .filter
    public var oneDimensional: OneDimensionalPolicy = .zero
    /// The epsilon of `normalize_direction` (1e-10 in the reference code).
    public var epsilon: Double = 1e-10
    public init(normalization: DirectionNormalization = .filter, oneDimensional: OneDimensionalPolicy = .zero,
                epsilon: Double = 1e-10) {
        self.normalization = normalization; self.oneDimensional = oneDimensional; self.epsilon = epsilon
    }
}

public enum FilterNormalizedDirections {
    /// Draws one direction from `rng` (N(0,1) per entry, layout order) and normalizes it against `weights`.
    public static func random(layout: ParameterLayout, weights: [Float], options: DirectionOptions = .init(),
                              rng: inout InstrumentRNG) -> [Float] {
        precondition(weights.count >= layout.totalCount, "weights shorter than the layout")
        var d = [Float](repeating: 0, count: weights.count)
        for t in layout.tensors {
            for i in t.offset..<(t.offset + t.count) { d[i] = Float(rng.nextNormal()) }
        }
        normalize(&d, layout: layout, weights: weights, options: options)
        return d
    }

    /// `count` directions from one seeded stream, drawn one after the other (as `plot_surface.py` does after a
    /// single `torch.manual_seed(123)`).
    public static func random(count: Int, seed: UInt64, layout: ParameterLayout, weights: [Float],
                              options: DirectionOptions = .init()) -> [[Float]] {
        var rng = InstrumentRNG(seed: seed)
        return (0..<count).map { _ in random(layout: layout, weights: weights, options: options, rng: &rng) }
    }

    /// In-place normalization of an arbitrary direction (also used for target directions when asked).
    public static func normalize(_ d: inout [Float], layout: ParameterLayout, weights: [Float],
                                 options: DirectionOptions = .init()) {
        for t in layout.tensors {
            if t.shape.count <= 1 {
                for i in t.offset..<(t.offset + t.count) {
                    d[i] = options.oneDimensional == .zero ? 0 : weights[i]
                }
                continue
            }
            switch options.normalization {
            case .none:
                continue
            case .layer:
                scaleSlice(&d, weights, t.offset, t.count, options.epsilon)
            case .filter:
                let len = t.rowLength
                for r in 0..<t.rows { scaleSlice(&d, weights, t.offset + r * len, len, options.epsilon) }
            }
        }
    }

    @inline(__always)
    private static func scaleSlice(_ d: inout [Float], _ w: [Float], _ start: Int, _ n: Int, _ eps: Double) {
        var dn = 0.0, wn = 0.0
        for i in start..<(start + n) {
            dn += Double(d[i]) * Double(d[i]); wn += Double(w[i]) * Double(w[i])
        }
        let s = wn.squareRoot() / (dn.squareRoot() + eps)
        for i in start..<(start + n) { d[i] = Float(Double(d[i]) * s) }
    }

    /// Cosine similarity of two flat vectors (printed by `plot_surface.py` for the two random axes; ≈ 0).
    public static func cosine(_ a: [Float], _ b: [Float]) -> Double {
        precondition(a.count == b.count)
        var ab = 0.0, aa = 0.0, bb = 0.0
        for i in 0..<a.count {
            let x = Double(a[i]), y = Double(b[i])
            ab += x * y; aa += x * x; bb += y * y
        }
        let den = (aa * bb).squareRoot()
        return den > 0 ? ab / den : 0
    }

    /// Euclidean norm of a flat vector, accumulated in Double.
    public static func norm(_ a: [Float]) -> Double {
        var s = 0.0
        for x in a { s += Double(x) * Double(x) }
        return s.squareRoot()
    }
}
