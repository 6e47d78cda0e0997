import DeepNetBase
import DeepNetData
import DeepNetHarness
import Experiments
import Foundation
import XCTest

final class PreregisteredVerdictTests: XCTestCase {
    // MARK: c. failure pattern

    func paperTable() -> PaperTable {
        PaperTable(caption: "t", columns: ["6L", "18L", "50L"], rows: [
            PaperRow("Post-LN", [.value(28.1), .diverged, .diverged]),
            PaperRow("Admin", [.value(27.9), .value(28.8), .diverged]),
            PaperRow("ReZero", [.value(26.9), .diverged, .diverged]),
            PaperRow("DeepNet", [.value(27.8), .value(28.8), .value(29.0)]),
        ])
    }
    let families = ["Post-LN": ["Post-LN", "Admin"], "No-LN": ["ReZero"], "DeepNorm": ["DeepNet"]]

    func testFailurePatternCountsStallsAndScoresPerFamily() {
        let r = verdictResults(axes: ["method", "depth"], [
            (["Post-LN", "6L"], verdictRecord("p6", best: 4.1)), (["Post-LN", "18L"], verdictRecord("p18", best: 6.0)),   // stalled vs 4.0
            (["Admin", "6L"], verdictRecord("a6", best: 4.0)), (["Admin", "18L"], verdictRecord("a18", status: .diverged, divergedAt: 50)),
            (["ReZero", "6L"], verdictRecord("r6", best: 4.0)), (["ReZero", "18L"], verdictRecord("r18", best: 4.0)),
            (["DeepNet", "6L"], verdictRecord("d6", best: 3.9)), (["DeepNet", "18L"], verdictRecord("d18", best: 4.0)),
        ])
        let v = Verdicts.failurePatternMatches(r, claim: "c", table: paperTable(), rows: "method", families: families,
                                               exclude: ["ReZero": "fp16 in the paper"])
        // 5 of 6: Post-LN 18L agrees only because a stall counts as failure; Admin 18L is the one mismatch.
        XCTAssertEqual(v.status, .reproduced, v.evidence)
        XCTAssertTrue(v.evidence.hasPrefix("5 of 6 compared cells agree (83 %; needs ≥ 80 %)"), v.evidence)
        XCTAssertTrue(v.evidence.contains("per family: DeepNorm 2/2, Post-LN 3/4"), v.evidence)
        XCTAssertTrue(v.evidence.contains("Admin / 18L: paper converged (28.8), ours diverged at step 50"), v.evidence)
        XCTAssertTrue(v.evidence.contains("excluded: ReZero (fp16 in the paper)"), v.evidence)
        XCTAssertTrue(v.evidence.contains("Post-LN / 50L (not in this profile's grid)"), v.evidence)
        XCTAssertFalse(v.evidence.contains("ReZero / 50L"), v.evidence)

        // One more mismatch (Post-LN 6L stalls: 5.5 > 1.25 × DeepNet's 3.9) → 4 of 6 = 67 % < 80 %.
        var entries = r.entries
        entries[0].record = verdictRecord("p6", best: 5.5)
        let worse = Verdicts.failurePatternMatches(ExperimentResults(experiment: r.experiment, profile: nil, axes: r.axes, entries: entries),
                                                   claim: "c", table: paperTable(), rows: "method", families: families, exclude: ["ReZero": "fp16"])
        XCTAssertEqual(worse.status, .notReproduced, worse.evidence)
        XCTAssertTrue(worse.evidence.contains("Post-LN / 6L: paper converged (28.1), ours stalled (best valid loss 5.50 vs DeepNet 3.90, > 1.25×)"), worse.evidence)
    }

    func testFailurePatternThresholdIsInclusiveAndWaitsForTheWholeGrid() {
        // 4 of 5 agree = exactly 80 %: reproduced. Admin 18L failed in the harness: listed, not counted.
        var cells: [([String], RunRecord?)] = [
            (["Post-LN", "6L"], verdictRecord("p6", best: 4.0)), (["Post-LN", "18L"], verdictRecord("p18", best: 4.0)),   // mismatch: trained
            (["Admin", "6L"], verdictRecord("a6", best: 4.0)), (["Admin", "18L"], verdictRecord("a18", status: .failed)),
            (["DeepNet", "6L"], verdictRecord("d6", best: 4.0)), (["DeepNet", "18L"], verdictRecord("d18", best: 4.0)),
        ]
        let r = verdictResults(axes: ["method", "depth"], cells)
        let v = Verdicts.failurePatternMatches(r, claim: "c", table: paperTable(), rows: "method", families: families)
        XCTAssertEqual(v.status, .reproduced, v.evidence)
        XCTAssertTrue(v.evidence.hasPrefix("4 of 5 compared cells agree (80 %; needs ≥ 80 %)"), v.evidence)
        XCTAssertTrue(v.evidence.contains("not compared: Admin / 18L (the run failed)"), v.evidence)
        // A run still to come: no verdict yet, only the count and the agreement so far.
        cells[3].1 = nil
        let waiting = Verdicts.failurePatternMatches(verdictResults(axes: ["method", "depth"], cells), claim: "c", table: paperTable(),
                                                     rows: "method", families: families)
        XCTAssertEqual(waiting.status, .notRun, waiting.evidence)
        XCTAssertEqual(waiting.evidence, "1 of the 6 compared cells still to run; so far 4 of 5 finished cells agree")
        let strict = Verdicts.failurePatternMatches(r, claim: "c", table: paperTable(), rows: "method", families: families, threshold: 0.9)
        XCTAssertEqual(strict.status, .notReproduced, strict.evidence)
        // Without a converged DeepNet at a depth, G3's fallback judges stalls against the best run of that depth (as
        // the experiments' cells do): Post-LN 50L (9.0) stalls against Admin's 4.0 and agrees with the paper.
        let noRef = verdictResults(axes: ["method", "depth"], [(["Post-LN", "50L"], verdictRecord("p50", best: 9.0)),
                                                        (["Admin", "50L"], verdictRecord("a50", best: 4.0)),
                                                        (["DeepNet", "50L"], verdictRecord("d50", status: .diverged, divergedAt: 7))])
        let nv = Verdicts.failurePatternMatches(noRef, claim: "c", table: paperTable(), rows: "method", families: families)
        XCTAssertEqual(nv.status, .notReproduced, nv.evidence)
        XCTAssertTrue(nv.evidence.hasPrefix("1 of 3 compared cells agree"), nv.evidence)
        XCTAssertTrue(nv.evidence.contains("Admin / 50L: paper diverged, ours converged"), nv.evidence)
        XCTAssertTrue(nv.evidence.contains("DeepNet / 50L: paper converged (29.0), ours diverged at step 7"), nv.evidence)
        XCTAssertFalse(nv.evidence.contains("Post-LN / 50L"), nv.evidence)
        XCTAssertTrue(nv.evidence.contains("no converged DeepNet at 50L: stalls judged against the best run of that depth (G3)"), nv.evidence)
        // Without the Admin run, Post-LN 50L is the best run of its depth, so it trained: a mismatch.
        let alone = verdictResults(axes: ["method", "depth"], [(["Post-LN", "50L"], verdictRecord("p50", best: 9.0)),
                                                        (["DeepNet", "50L"], verdictRecord("d50", status: .diverged, divergedAt: 7))])
        let av = Verdicts.failurePatternMatches(alone, claim: "c", table: paperTable(), rows: "method", families: families)
        XCTAssertTrue(av.evidence.hasPrefix("0 of 2 compared cells agree"), av.evidence)
        XCTAssertTrue(av.evidence.contains("Post-LN / 50L: paper diverged, ours converged"), av.evidence)
    }

    // MARK: d. log law

    let depths: [Double] = [6, 12, 24, 48, 96]

    // MARK: a stall claim waits for its reference run

    let table2Axes = ["pair", "method", "depth"]
    /// One 18L-18L run of Table II's grid.
    func table2Entry(_ pair: String, _ m: String, _ rec: RunRecord?) -> ResultEntry {
        let labels = [pair, m, "18L-18L"]
        return ResultEntry(coordinates: Coordinates(axes: table2Axes, labels: labels),
                           paperKeys: Dictionary(uniqueKeysWithValues: zip(table2Axes, labels)), runID: "\(pair)-\(m)", record: rec)
    }

    /// Table II's "Post-LN fails at 18L" (G3): while the same-depth DeepNet is planned but not run, the claim is "not
    /// run" instead of judging the stall against the best run so far; once DeepNet finished, it is the reference.
    func testStallClaimWaitsForTheSameDepthDeepNet() throws {
        let table2 = try experimentRegistry().experiment("table2")
        func e(_ m: String, _ rec: RunRecord?) -> ResultEntry { table2Entry("En-De", m, rec) }
        func results(deepNet: RunRecord?) -> ExperimentResults {
            ExperimentResults(experiment: table2, profile: .reduced, axes: table2Axes, entries: [
                e("Vanilla Post-LN", verdictRecord("p", best: 5.5)), e("Admin", verdictRecord("a", best: 2.4)), e("DeepNet", deepNet)])
        }
        let pending = results(deepNet: nil)
        let v = pending.experiment.verdict(pending)[0]
        XCTAssertEqual(v.status, .notRun, v.evidence)
        XCTAssertTrue(v.evidence.contains("stall reference (G3)") && v.evidence.contains("is not run yet"), v.evidence)
        let done = results(deepNet: verdictRecord("d", best: 2.3))
        let w = done.experiment.verdict(done)[0]
        XCTAssertEqual(w.status, .reproduced, w.evidence)
        XCTAssertTrue(w.evidence.contains("vs DeepNet 2.30"), w.evidence)
        // 5.5 is not above 1.25 × 4.5: against a DeepNet at 4.5 Post-LN did not stall, so the claim fails.
        let close = results(deepNet: verdictRecord("d", best: 4.5))
        XCTAssertEqual(close.experiment.verdict(close)[0].status, .notReproduced)
    }

    func testSummarySentenceReadsTheRecordsAndWaitsForEveryRun() throws {
        let table2 = try experimentRegistry().experiment("table2")
        func e(_ m: String, _ rec: RunRecord?) -> ResultEntry { table2Entry("En-Fr", m, rec) }
        func results(deepNet: RunRecord?) -> ExperimentResults {
            ExperimentResults(experiment: table2, profile: .reduced, axes: table2Axes, entries: [
                e("Vanilla Post-LN", verdictRecord("p", best: 5.5, bleu: 3.2)), e("Admin", verdictRecord("a", best: 2.4, bleu: 24.04)),
                e("T-Fixup", verdictRecord("t", best: 2.5, bleu: 26.0)), e("NormFormer", verdictRecord("n", status: .diverged, divergedAt: 312)),
                e("DeepNet", deepNet)])
        }
        let pending = results(deepNet: nil)
        XCTAssertNil(ReportRenderer.summarySentence(table2, pending, table2.verdict(pending)), "a summary waits for every run")
        let done = results(deepNet: verdictRecord("d", best: 2.3, bleu: 25.06))
        let s = try XCTUnwrap(ReportRenderer.summarySentence(table2, done, table2.verdict(done)))
        // T-Fixup (26.0) is the best method that trains; Post-LN stalls (5.5 > 1.25 × 2.3) and shows its BLEU.
        XCTAssertEqual(s, "En-Fr: DeepNet at 18L-18L: 25.1 BLEU; the best other method that trains: T-Fixup 26.0, Vanilla Post-LN at 18L-18L stalled (3.2).")
        XCTAssertTrue(ReportRenderer.render(done).markdown.contains("**What our numbers show.** " + s))
    }

    // MARK: G2 / G8: below the bar, what would decide it

    /// Fig. 8 below the multilingual bar: the claim is inconclusive and names the lower bound (8M tokens per run) and
    /// its compute scaled from the finished runs' wall time × threads × (8M / tokens they trained); unfinished runs are
    /// not counted and the text says so. At the bar the rule steps aside and the log law decides.
    func testBelowTheBarNamesWhatWouldDecideAndItsCompute() throws {
        let fig8 = try experimentRegistry().experiment("fig8")
        func rec(_ id: String, bleu: Double) -> RunRecord {
            var r = verdictRecord(id, bleu: bleu)
            r.metrics.wallSeconds = 1_800; r.metrics.trainTokens = 4_096_000; r.provenance.threads = "1 engine"
            return r
        }
        func results(_ b1: Double, _ b2: Double) -> ExperimentResults {
            ExperimentResults(experiment: fig8, profile: .reduced, axes: ["layers", "seed"], entries: [
                ResultEntry(coordinates: Coordinates(axes: ["layers", "seed"], labels: ["12", "1"]), paperKeys: [:], runID: "a", record: rec("a", bleu: b1)),
                ResultEntry(coordinates: Coordinates(axes: ["layers", "seed"], labels: ["12", "2"]), paperKeys: [:], runID: "b", record: rec("b", bleu: b2)),
                ResultEntry(coordinates: Coordinates(axes: ["layers", "seed"], labels: ["24", "1"]), paperKeys: [:], runID: "c", record: nil),
            ])
        }
        let low = results(6, 7)
        let v = low.experiment.verdict(low)[0]
        XCTAssertEqual(v.status, .inconclusive, v.evidence)
        // 2 runs × 1,800 s × 1 thread × (8,192,000 / 4,096,000) = 7,200 s.
        XCTAssertTrue(v.evidence.contains("the reference model (12 layers) reached 6.50 BLEU, below the pre-registered bar of 10"), v.evidence)
        XCTAssertTrue(v.evidence.contains("about 8.19M target tokens each"), v.evidence)
        XCTAssertTrue(v.evidence.contains("the 2 finished of its 3 compared runs (the others not counted) that is about 2.0 CPU-hours"), v.evidence)
        // The seed mean decides (9.5 and 10.5 → 10.0): at the bar the claim waits for the rest of the grid.
        let atBar = results(9.5, 10.5)
        XCTAssertEqual(atBar.experiment.verdict(atBar)[0].status, .notRun)
    }

    // MARK: a claim made of parts

    func testAllOfWaitsForEveryPartThenTheWorstDecides() {
        let yes = ClaimVerdict("p", .reproduced, "a"), no = ClaimVerdict("p", .notReproduced, "b")
        let open = ClaimVerdict("p", .notRun, "1 of 2 runs finished"), unsure = ClaimVerdict("p", .inconclusive, "c")
        // A part still to run wins even over a part that already disagrees: a partial grid is never decided.
        let partial = Verdicts.allOf("claim", [no, open])
        XCTAssertEqual(partial.status, .notRun)
        XCTAssertEqual(partial.evidence, "1 of 2 runs finished")
        XCTAssertEqual(Verdicts.allOf("claim", [yes, unsure, no]).status, .notReproduced)
        XCTAssertEqual(Verdicts.allOf("claim", [yes, unsure]).status, .inconclusive)
        let all = Verdicts.allOf("claim", [yes, yes])
        XCTAssertEqual(all.status, .reproduced)
        XCTAssertEqual(all.evidence, "a; a")
        XCTAssertEqual(all.claim, "claim")
    }

    func testLogLawReproducedOnALogCurve() {
        let pts = depths.enumerated().map { (depth: $1, value: 2 * log($1) + 5 + ($0 % 2 == 0 ? 0.05 : -0.05)) }
        let v = Verdicts.logLaw(claim: "c", points: pts, metric: "BLEU")
        XCTAssertEqual(v.status, .reproduced, v.evidence)
        XCTAssertTrue(v.evidence.contains("BLEU = A·ln d + B: A = "), v.evidence)
        XCTAssertTrue(v.evidence.contains("SSE log"), v.evidence)
    }

    func testLogLawRejectsALinearCurveAndAFlatOne() {
        // y linear in d: the log fit has A > 0 with a tight CI, but the straight line fits better.
        let linear = Verdicts.logLaw(claim: "c", points: depths.map { (depth: $0, value: 0.1 * $0 + 20) })
        XCTAssertEqual(linear.status, .notReproduced, linear.evidence)
        XCTAssertTrue(linear.evidence.contains("the linear fit in d is at least as good"), linear.evidence)
        XCTAssertFalse(linear.evidence.contains("CI does not lie above 0"), linear.evidence)
        // Flat plus noise: A's CI contains 0.
        let flat = Verdicts.logLaw(claim: "c", points: zip(depths, [20.0, 20.6, 19.7, 20.5, 19.9]).map { (depth: $0, value: $1) })
        XCTAssertEqual(flat.status, .notReproduced, flat.evidence)
        XCTAssertTrue(flat.evidence.contains("A's 95 % CI does not lie above 0"), flat.evidence)
    }

    func testLogLawNeedsFiveDepthsOverEightfold() {
        let four = Verdicts.logLaw(claim: "c", points: [6.0, 12, 24, 48].map { (depth: $0, value: log($0)) })
        XCTAssertEqual(four.status, .inconclusive); XCTAssertTrue(four.evidence.contains("4 distinct depth(s)"), four.evidence)
        let narrow = Verdicts.logLaw(claim: "c", points: [6.0, 12, 18, 24, 36].map { (depth: $0, value: log($0)) })
        XCTAssertEqual(narrow.status, .inconclusive); XCTAssertTrue(narrow.evidence.contains("6.0×"), narrow.evidence)
        // Repeated seeds at one depth count once.
        let seeds = Verdicts.logLaw(claim: "c", points: [6.0, 6, 12, 12, 24, 96].map { (depth: $0, value: log($0)) })
        XCTAssertEqual(seeds.status, .inconclusive)
    }

    // MARK: e. slope

    func testLogLogSlopeAndItsStandardError() throws {
        let exact = try XCTUnwrap(Verdicts.logLogSlope([6.0, 12, 50, 100].map { (depth: $0, value: 3 * pow($0, 0.7)) }))
        XCTAssertEqual(exact.slope, 0.7, accuracy: 1e-12)
        XCTAssertEqual(exact.standardError!, 0, accuracy: 1e-9)
        // ln y = 0, 1, 3 at ln d = 0, 1, 2: slope 1.5, SSE 1/6, SE = √((1/6) / 1 / 2) = 0.288675…
        let e = M_E
        let s = try XCTUnwrap(Verdicts.logLogSlope([(depth: 1, value: 1), (depth: e, value: e), (depth: e * e, value: e * e * e)]))
        XCTAssertEqual(s.slope, 1.5, accuracy: 1e-12)
        XCTAssertEqual(s.standardError!, (1.0 / 12).squareRoot(), accuracy: 1e-12)
        XCTAssertNil(Verdicts.logLogSlope([(depth: 6, value: 0), (depth: 12, value: 1)]))
    }

    func testUpdateGrowthSlopeRule() {
        let ds: [Double] = [6, 12, 18, 50, 100]
        func pts(_ k: Double, _ c: Double) -> [(depth: Double, value: Double)] { ds.map { (depth: $0, value: c * pow($0, k)) } }
        XCTAssertEqual(Verdicts.updateGrowthSlope(claim: "c", deepNet: pts(0.5, 0.1), postLN: pts(1.0, 1)).status, .reproduced)
        // 0.55 ≤ 0.6 but more than half of Post-LN's 1.0.
        let half = Verdicts.updateGrowthSlope(claim: "c", deepNet: pts(0.55, 0.1), postLN: pts(1.0, 1))
        XCTAssertEqual(half.status, .notReproduced); XCTAssertTrue(half.evidence.contains("above 0.50 × Post-LN's"), half.evidence)
        // Half of Post-LN's 2.0 but above 0.6.
        let absolute = Verdicts.updateGrowthSlope(claim: "c", deepNet: pts(0.65, 0.1), postLN: pts(2.0, 1))
        XCTAssertEqual(absolute.status, .notReproduced); XCTAssertTrue(absolute.evidence.contains("above 0.60"), absolute.evidence)
        // The committed reduced fig4 run (step 5, 6L → 100L): DeepNet 0.17 → 0.90, Post-LN 1.75 → 8.4: slopes 0.59 and 0.56.
        let fig4 = Verdicts.updateGrowthSlope(claim: "c", deepNet: [(depth: 12, value: 0.17), (depth: 200, value: 0.90)],
                                              postLN: [(depth: 12, value: 1.75), (depth: 200, value: 8.4)])
        XCTAssertEqual(fig4.status, .notReproduced, fig4.evidence)
    }
}
