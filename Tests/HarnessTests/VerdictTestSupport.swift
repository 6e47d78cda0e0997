import DeepNetBase
import DeepNetData
import DeepNetHarness
import Foundation
import XCTest

// Hand-made records for the pre-registered rules. Each test is built so that a plausible wrong rule (a strict
// point comparison, "diverged only", a ≥ where the rule says >, a missing condition) gives a different answer.

func verdictRecord(_ id: String, status: RunStatus = .ok, best: Double? = nil, bleu: Double? = nil, divergedAt: Int? = nil,
                    stats: [BLEUStats] = []) -> RunRecord {
    var r = RunRecord(runID: id, config: RunConfig(), dataFingerprint: "fp", engineNumericsVersion: "e", status: status,
                      divergedAtStep: divergedAt, bleuSentenceStats: stats)
    r.metrics.bestValidLoss = best
    r.metrics.bleu = bleu ?? (stats.isEmpty ? nil : TestSetBLEU.corpusBLEU(stats, tokenize: r.config.decode.bleuTokenize))
    return r
}

func verdictResults(axes: [String], _ rows: [([String], RunRecord?)]) -> ExperimentResults {
    let entries = rows.map { labels, rec in
        ResultEntry(coordinates: Coordinates(axes: axes, labels: labels), paperKeys: Dictionary(uniqueKeysWithValues: zip(axes, labels)),
                    runID: rec?.runID ?? labels.joined(separator: "-"), record: rec)
    }
    return ExperimentResults(experiment: tinyExperiment(id: "prereg"), profile: nil, axes: axes, entries: entries)
}

/// A synthetic test set of `sentences` sentences whose corpus BLEU (13a scoring, BP = 1) is within 0.01 of
/// `target`. Sentence difficulty is shared by every system (seed 7: the "test set"); each system adds its own
/// ±20 % per-sentence variation (`system`), so two systems are correlated the way two MT systems on one test set are.
func syntheticBLEUSystem(target: Double, sentences: Int, system: UInt64) -> [BLEUStats] {
    var shared = SplitMix64(seed: 7), own = SplitMix64(seed: 1000 + system)
    let lens = (0..<sentences).map { _ in 10 + shared.nextInt(below: 31) }
    let difficulty = (0..<sentences).map { _ in 0.3 + 1.4 * shared.nextUnit() }
    let noise = (0..<sentences).map { _ in 0.8 + 0.4 * own.nextUnit() }
    let base = [1.6, 1.0, 0.65, 0.45]
    func make(_ s: Double) -> [BLEUStats] {
        (0..<sentences).map { i in
            var st = BLEUStats()
            st.sysLen = lens[i]; st.refLen = lens[i]
            for n in 0..<4 {
                let total = lens[i] - n
                st.total[n] = total
                st.correct[n] = Int((Double(total) * min(1, s * base[n] * difficulty[i] * noise[i])).rounded())
            }
            return st
        }
    }
    var lo = 0.0, hi = 2.0
    for _ in 0..<60 {
        let mid = (lo + hi) / 2
        if TestSetBLEU.corpusBLEU(make(mid), tokenize: .mteval13a) < target { lo = mid } else { hi = mid }
    }
    let out = make(hi)
    precondition(abs(TestSetBLEU.corpusBLEU(out, tokenize: .mteval13a) - target) < 0.01, "synthetic system missed \(target)")
    return out
}

/// Statistics of a uniform toy test set: `n` sentences of 10 tokens with `matches` unigram matches each (and as
/// many higher-order matches as a contiguous run of that length gives).
func toyBLEUStats(_ n: Int, matches: (Int) -> Int) -> [BLEUStats] {
    (0..<n).map { i in
        var s = BLEUStats()
        s.sysLen = 10; s.refLen = 10
        let m = matches(i)
        for k in 0..<4 { s.total[k] = 10 - k; s.correct[k] = max(0, m - k) }
        return s
    }
}


/// The `deepnet` executable built next to the test bundle (the CLI tests run it); skips the test when it is absent.
func builtDeepnetExecutable() throws -> URL {
    let products = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
    for candidate in [products, products.deletingLastPathComponent()] {
        let exe = candidate.appendingPathComponent("deepnet")
        if FileManager.default.isExecutableFile(atPath: exe.path) { return exe }
    }
    throw XCTSkip("deepnet executable not found next to the test bundle (\(products.path))")
}
