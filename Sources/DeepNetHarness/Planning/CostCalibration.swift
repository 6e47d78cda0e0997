// Fitting the cost model to reality: the recorded wall-clock seconds of finished runs (`metrics/wall_seconds`)
// against the model's FLOP counts. `deepnet calibrate` prints the fit and the per-run comparison, and can store the
// fit beside the results (`cost-calibration.json`), where `deepnet list`, `--dry-run` and the progress display
// find it.
import Foundation

/// The coefficients of the wall-clock model, one per term of `CostModel.features`, and a fixed cost per run by data set:
///   seconds = c₀·F + c₁·F·L/N + c₂·F_inst + c₃·F_pca + c₄·F_dec·L/N + s(data set)
/// F: training + validation FLOPs, N: compute parameters, L: layers; F_inst: instrument FLOPs (landscapes, probes),
/// F_pca: the same for landscapes along a trajectory (PCA); F_dec: beam-search FLOPs. c₀ = 1/(GEMM rate); c₁ a
/// per-layer overhead that dominates thin models (LayerNorm, softmax, attention loops); decoding is charged per layer
/// and decoded token (a beam-search step is all overhead at these widths); s the cost of starting a run, which is
/// mostly reading the data set and learning its BPE, so it is fitted per data set (`fixedSeconds`).
public struct CostCalibration: Codable, Sendable, Equatable {
    public var coefficients: [Double]
    public var secondsPerRun: [String: Double]
    /// Where the constants come from, for the notes printed with estimates.
    public var source: String
    public static let termNames = ["s/FLOP", "s/(FLOP·L/N)", "s/instrument FLOP", "s/trajectory-landscape FLOP", "s/(decode FLOP·L/N)"]
    public init(coefficients: [Double], secondsPerRun: [String: Double], source: String) {
        self.coefficients = coefficients; self.secondsPerRun = secondsPerRun; self.source = source
    }
    public var gemmFLOPsPerSecond: Double { 1 / coefficients[0] }
    public var overheadParametersPerLayer: Double { coefficients[1] / coefficients[0] }
    public func seconds(_ features: [Double], dataset: String) -> Double {
        zip(coefficients, features).reduce(0) { $0 + $1.0 * $1.1 } + fixedSeconds(dataset)
    }
    /// The fixed cost of a run on `dataset`: fitted, else 0 for the synthetic task (generated in memory, no BPE),
    /// else the largest fitted one (an unseen corpus is read and its BPE learned).
    public func fixedSeconds(_ dataset: String) -> Double {
        if let s = secondsPerRun[dataset] { return s }
        return dataset == "synthetic" ? 0 : secondsPerRun.values.max() ?? 0
    }

    /// File name of a stored calibration inside a results folder.
    public static let fileName = "cost-calibration.json"

    /// The stored calibration of a results folder, if there is one. A file that does not decode is an error
    /// naming the file (an estimate silently taken from elsewhere would mislead).
    public static func stored(in root: URL) throws -> CostCalibration? {
        let url = root.appendingPathComponent(fileName)
        guard FileManager.default.fileExists(atPath: url.path) else { return nil }
        let c: CostCalibration
        do { c = try JSONDecoder().decode(CostCalibration.self, from: Data(contentsOf: url)) } catch {
            throw CalibrationError(message: "\(url.path) is not a cost calibration (\(error)); delete it or run `deepnet calibrate --write`")
        }
        guard c.coefficients.count == termNames.count, c.coefficients.allSatisfy({ $0 >= 0 && $0.isFinite }), c.coefficients[0] > 0,
              c.secondsPerRun.values.allSatisfy({ $0 >= 0 && $0.isFinite }) else {
            throw CalibrationError(message: "\(url.path): expected \(termNames.count) finite non-negative coefficients with a positive first one; delete it or run `deepnet calibrate --write`")
        }
        return c
    }

    public func store(in root: URL) throws {
        let enc = JSONEncoder()
        enc.outputFormatting = [.prettyPrinted, .sortedKeys]
        try AtomicFile.write(try enc.encode(self), to: root.appendingPathComponent(Self.fileName))
    }
}

public struct CalibrationError: Error, CustomStringConvertible {
    public var message: String
    public var description: String { "calibrate: \(message)" }
}

/// One finished run as the fit sees it.
public struct CalibrationSample: Sendable {
    public var runID: String
    public var label: String
    public var measuredSeconds: Double
    /// `CostModel.features` of the run's configuration, and its data set.
    public var features: [Double]
    public var dataset: String
    public init(runID: String, label: String, measuredSeconds: Double, features: [Double], dataset: String) {
        self.runID = runID; self.label = label; self.measuredSeconds = measuredSeconds; self.features = features
        self.dataset = dataset
    }
}

public enum CostFit {
    /// The samples of the finished runs of a results folder: status ok, every step done, wall time recorded.
    public static func samples(_ store: ResultStore) -> (samples: [CalibrationSample], skipped: [String]) {
        var out: [CalibrationSample] = [], skipped: [String] = []
        for id in store.runFileIDs() {
            guard let r = try? store.read(id) else { skipped.append("\(id.prefix(12)): unreadable"); continue }
            guard r.status == .ok, r.metrics.stepsCompleted == r.config.training.steps, r.metrics.wallSeconds > 0 else {
                skipped.append("\(id.prefix(12)): \(r.status.rawValue), \(r.metrics.stepsCompleted)/\(r.config.training.steps) steps"); continue
            }
            let f = CostModel.features(r.config)
            var label = "\(r.config.depthLabel) \(r.config.model.method) d=\(r.config.model.embedDim) \(r.config.training.steps) steps"
            if f[2] > 0 { label += " +instruments" }
            if f[3] > 0 { label += " +trajectory landscape" }
            if f[4] > 0 { label += " +decode" }
            label += " (\(r.config.data.dataset))"
            out.append(CalibrationSample(runID: id, label: label, measuredSeconds: r.metrics.wallSeconds, features: f,
                                         dataset: r.config.data.dataset.rawValue))
        }
        return (out, skipped)
    }

    /// Least squares on relative error (each run counts alike, whatever its length), coefficients ≥ 0: every
    /// subset of the terms is fitted and the best admissible one kept (terms no run exercises stay 0).
    public static func fit(_ s: [CalibrationSample], source: String) throws -> CostCalibration {
        guard s.count >= 3 else { throw CalibrationError(message: "\(s.count) finished runs with recorded times; at least 3 are needed") }
        // Columns: the FLOP terms, then one indicator per data set (its fixed cost per run).
        let datasets = Array(Set(s.map(\.dataset))).sorted()
        let k = CostCalibration.termNames.count, m = k + datasets.count
        func row(_ x: CalibrationSample) -> [Double] { x.features + datasets.map { $0 == x.dataset ? 1 : 0 } }
        func calibration(_ coef: [Double]) -> CostCalibration {
            CostCalibration(coefficients: Array(coef.prefix(k)),
                            secondsPerRun: Dictionary(uniqueKeysWithValues: datasets.enumerated().map { ($1, coef[k + $0]) }), source: source)
        }
        var best: (coef: [Double], err: Double)? = nil
        for mask in 1..<(1 << m) where mask & 1 != 0 {
            let idx = (0..<m).filter { mask & (1 << $0) != 0 }
            let n = idx.count
            var a = [[Double]](repeating: [Double](repeating: 0, count: n), count: n), b = [Double](repeating: 0, count: n)
            for x in s {
                let w = 1 / (x.measuredSeconds * x.measuredSeconds), r = row(x)
                for i in 0..<n {
                    b[i] += w * r[idx[i]] * x.measuredSeconds
                    for j in 0..<n { a[i][j] += w * r[idx[i]] * r[idx[j]] }
                }
            }
            guard let sol = solve(a, b), sol.allSatisfy({ $0 >= 0 && $0.isFinite }), sol[0] > 0 else { continue }
            var coef = [Double](repeating: 0, count: m)
            for (i, t) in idx.enumerated() { coef[t] = sol[i] }
            let c = calibration(coef)
            let err = s.reduce(0.0) { $0 + pow((c.seconds($1.features, dataset: $1.dataset) - $1.measuredSeconds) / $1.measuredSeconds, 2) }
            if best == nil || err < best!.err - 1e-12 { best = (coef, err) }
        }
        guard let c = best?.coef else {
            throw CalibrationError(message: "no fit with a positive GEMM rate; the recorded times do not grow with the FLOPs")
        }
        return calibration(c)
    }

    /// Gaussian elimination with partial pivoting; nil when singular.
    static func solve(_ a0: [[Double]], _ b0: [Double]) -> [Double]? {
        var a = a0, b = b0
        let n = b.count
        for col in 0..<n {
            guard let p = (col..<n).max(by: { abs(a[$0][col]) < abs(a[$1][col]) }), abs(a[p][col]) > 1e-300 else { return nil }
            a.swapAt(col, p); b.swapAt(col, p)
            for r in (col + 1)..<max(col + 1, n) {
                let f = a[r][col] / a[col][col]
                for k in col..<n { a[r][k] -= f * a[col][k] }
                b[r] -= f * b[col]
            }
        }
        var x = [Double](repeating: 0, count: n)
        for r in stride(from: n - 1, through: 0, by: -1) {
            var s = b[r]
            for k in (r + 1)..<max(r + 1, n) { s -= a[r][k] * x[k] }
            x[r] = s / a[r][r]
        }
        return x
    }
}
