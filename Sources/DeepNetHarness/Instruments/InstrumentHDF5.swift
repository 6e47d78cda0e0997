// Instruments: HDF5 (de)serialization of landscapes, trajectory PCAs, scaling-law fits and diagnostic arrays, for
// use outside the run files (e.g. a landscape saved next to its run, or a cross-run fit saved by a report).
// Layout under `group`:
//   LossSurface         values [nx, ny] | [n] float64; x [nx]; y [ny]; trajectory [k, 2]; trajectory_steps; trajectory_loss;
//                       attributes as in InstrumentDiagnostics (protocol, seed, labels, roughness, …)
//   TrajectoryPCAResult directions [c, D] float32 (optional); coordinates [k, c]; explained_variance(_ratio) [c]
//   ScalingLawFit       scalar attributes a, b, se_a, se_b, r2, n, …; intervals as attributes; data depths/values
import Foundation
import HDF5Store

public enum InstrumentHDF5 {
    /// Writes a list of diagnostic arrays as float64 datasets under `group` (attributes as strings).
    public static func write(_ arrays: [DiagnosticArray], to file: HDF5File, group: String) throws {
        try file.createGroup(group)
        for a in arrays {
            let path = "\(group)/\(a.name)"
            try file.write(a.values, shape: a.shape, at: path)
            for (k, v) in a.attributes.sorted(by: { $0.key < $1.key }) { try file.setAttribute(k, v, on: path) }
        }
    }

    /// Reads every dataset directly under `group` back as diagnostic arrays (string attributes only), name order.
    public static func readArrays(from file: HDF5File, group: String) throws -> [DiagnosticArray] {
        var out: [DiagnosticArray] = []
        for name in try file.children(of: group) {
            let path = "\(group)/\(name)"
            guard file.kind(of: path) == .dataset else { continue }
            let (vals, shape) = try file.readDoubles(at: path)
            var attrs: [String: String] = [:]
            for an in try file.attributeNames(on: path) {
                if let s = try file.stringAttribute(an, on: path) { attrs[an] = s }
            }
            out.append(DiagnosticArray(name: name, shape: shape, values: vals, attributes: attrs))
        }
        return out
    }
}

extension LossSurface {
    /// Stores the surface under `group` (datasets named without the tag prefix).
    public func write(to file: HDF5File, group: String) throws {
        let arrays = InstrumentDiagnostics.arrays(for: self, tag: "s").map { a -> DiagnosticArray in
            var b = a; b.name = String(a.name.dropFirst(2)); return b
        }
        try InstrumentHDF5.write(arrays, to: file, group: group)
    }

    public static func read(from file: HDF5File, group: String) throws -> LossSurface? {
        let arrays = try InstrumentHDF5.readArrays(from: file, group: group).map { a -> DiagnosticArray in
            var b = a; b.name = "s." + a.name; return b
        }
        return InstrumentDiagnostics.surface(from: arrays, tag: "s")
    }
}

extension TrajectoryPCAResult {
    /// Stores coordinates and variances; the D-dimensional axes only when `includeDirections` (float32).
    public func write(to file: HDF5File, group: String, steps: [Int], includeDirections: Bool = true) throws {
        try InstrumentHDF5.write(InstrumentDiagnostics.arrays(for: self, steps: steps), to: file, group: group)
        if includeDirections, let d = directions.first?.count {
            try file.write(directions.flatMap { $0 }, shape: [directions.count, d], at: "\(group)/directions")
        }
    }

    public static func read(from file: HDF5File, group: String) throws -> (result: TrajectoryPCAResult, steps: [Int]) {
        let coords = try file.readDoubles(at: "\(group)/coordinates")
        let k = coords.shape.first ?? 0, c = coords.shape.count > 1 ? coords.shape[1] : 0
        let rows = (0..<k).map { Array(coords.values[($0 * c)..<(($0 + 1) * c)]) }
        var dirs: [[Float]] = []
        if file.exists("\(group)/directions") {
            let d = try file.readFloats(at: "\(group)/directions")
            let n = d.shape.count > 1 ? d.shape[1] : 0
            dirs = (0..<(d.shape.first ?? 0)).map { Array(d.values[($0 * n)..<(($0 + 1) * n)]) }
        }
        let r = TrajectoryPCAResult(directions: dirs,
                                    explainedVarianceRatio: try file.readDoubles(at: "\(group)/explained_variance_ratio").values,
                                    explainedVariance: try file.readDoubles(at: "\(group)/explained_variance").values,
                                    coordinates: rows)
        let steps = try file.readDoubles(at: "\(group)/steps").values.map { Int($0) }
        return (r, steps)
    }
}

extension ScalingLawFit {
    /// Stores the coefficients and intervals as attributes of `group`, and the fitted data as datasets.
    public func write(to file: HDF5File, group: String, depths: [Double], values: [Double], metric: String) throws {
        try file.createGroup(group)
        try file.write(depths, shape: [depths.count], at: "\(group)/depths")
        try file.write(values, shape: [values.count], at: "\(group)/values")
        let attrs: [(String, Double)] = [("a", a), ("b", b), ("se_a", standardErrorA), ("se_b", standardErrorB),
                                         ("r2", rSquared), ("residual_sd", residualStandardDeviation),
                                         ("confidence", confidence), ("log_base", logBase)]
        for (k, v) in attrs { try file.setAttribute(k, v, on: group) }
        try file.setAttribute("n", n, on: group)
        try file.setAttribute("bootstrap_samples", bootstrapSamples, on: group)
        try file.setAttribute("bootstrap_seed", String(bootstrapSeed), on: group)
        for (k, v) in [("t_interval_a", tIntervalA), ("t_interval_b", tIntervalB),
                       ("bootstrap_interval_a", bootstrapIntervalA), ("bootstrap_interval_b", bootstrapIntervalB)]
            where !v.isEmpty { try file.setAttribute(k, v, on: group) }
        try file.setAttribute("metric", metric, on: group)
        try file.setAttribute("formula", formula(metric: metric), on: group)
    }

    public static func read(from file: HDF5File, group: String) throws -> ScalingLawFit {
        func d(_ k: String) throws -> Double { try file.doubleAttribute(k, on: group) ?? .nan }
        func ds(_ k: String) throws -> [Double] { try file.doublesAttribute(k, on: group) ?? [] }
        return ScalingLawFit(a: try d("a"), b: try d("b"), standardErrorA: try d("se_a"), standardErrorB: try d("se_b"),
                             rSquared: try d("r2"), residualStandardDeviation: try d("residual_sd"),
                             n: try file.intAttribute("n", on: group) ?? 0,
                             tIntervalA: try ds("t_interval_a"), tIntervalB: try ds("t_interval_b"),
                             bootstrapIntervalA: try ds("bootstrap_interval_a"), bootstrapIntervalB: try ds("bootstrap_interval_b"),
                             bootstrapSamples: try file.intAttribute("bootstrap_samples", on: group) ?? 0,
                             bootstrapSeed: UInt64(try file.stringAttribute("bootstrap_seed", on: group) ?? "0") ?? 0,
                             confidence: try d("confidence"), logBase: try d("log_base"))
    }
}
