// `deepnet calibrate`: fit the cost model to the recorded wall-clock times of a results folder's finished runs, and
// show how far each run's estimate is from its measurement.
import ArgumentParser
import DeepNetHarness
import Foundation

struct Calibrate: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "calibrate",
        abstract: "Fit the time estimates to the recorded wall_seconds of finished runs and compare run by run.",
        discussion: """
        Fits the five terms of the wall-clock model (training FLOPs, their per-layer overhead, instrument FLOPs, \
        decoding per layer, a fixed cost per run; see CostCalibration) by least squares on relative error, then prints every run's measured and estimated time with the fitted constants and, for \
        comparison, the estimates of the calibration in use. --write stores the fit as <results>/cost-calibration.json, \
        which `deepnet list`, `run --dry-run` and the progress display of that folder use from then on.
        """)
    @Option(help: "Results folder whose finished runs to fit (default results/reduced).") var results = "results/reduced"
    @Flag(help: "Store the fit in <results>/cost-calibration.json.") var write = false

    func validate() throws { try requireNonEmptyPath(results, flag: "results") }

    func run() throws {
        let root = URL(fileURLWithPath: results)
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: root.path, isDirectory: &isDir), isDir.boolValue else {
            throw PlainError("results folder '\(results)' does not exist")
        }
        let store = ResultStore(root: root)
        let (samples, skipped) = CostFit.samples(store)
        let fitted = try CostFit.fit(samples, source: "\(samples.count) finished runs in \(results)")
        let inUse = CostModel.calibration
        func predict(_ c: CostCalibration, _ x: CalibrationSample) -> Double { c.seconds(x.features, dataset: x.dataset) }
        print("run id        measured   fitted  ratio   in use  ratio  run")
        var worstFit = 0.0, worstUse = 0.0
        for x in samples.sorted(by: { $0.measuredSeconds < $1.measuredSeconds }) {
            let pf = predict(fitted, x), pu = predict(inUse, x)
            worstFit = max(worstFit, abs(pf / x.measuredSeconds - 1)); worstUse = max(worstUse, abs(pu / x.measuredSeconds - 1))
            print(String(format: "%@  %8.0f %8.0f  %5.2f %8.0f  %5.2f  %@", String(x.runID.prefix(12)), x.measuredSeconds, pf,
                         pf / x.measuredSeconds, pu, pu / x.measuredSeconds, x.label))
        }
        for s in skipped { print("skipped \(s)") }
        print("\nfit: " + zip(CostCalibration.termNames, fitted.coefficients).map { String(format: "%.4g %@", $1, $0) }.joined(separator: ", ")
              + "; per run: " + fitted.secondsPerRun.sorted { $0.key < $1.key }.map { String(format: "%@ %.0f s", $0.key, $0.value) }.joined(separator: ", "))
        print(String(format: "worst |estimate/measured − 1|: fitted %.0f %%, in use %.0f %% (%@)", 100 * worstFit, 100 * worstUse, inUse.source))
        if write {
            try fitted.store(in: root)
            print("wrote \(root.appendingPathComponent(CostCalibration.fileName).relativePath)")
        }
    }
}
