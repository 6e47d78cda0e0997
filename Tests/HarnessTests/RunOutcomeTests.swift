import DeepNetBase
import DeepNetData
import DeepNetHarness
import Foundation
import XCTest

final class RunOutcomeTests: XCTestCase {
    // MARK: b. stall rule

    func testStallRuleThresholdAndText() {
        XCTAssertEqual(RunOutcome.classify(verdictRecord("x", best: 5.0), reference: 4.0), .converged)        // exactly 1.25×: not above
        XCTAssertEqual(RunOutcome.classify(verdictRecord("x", best: 5.01), reference: 4.0), .stalled(best: 5.01, referenceBest: 4.0))
        XCTAssertEqual(RunOutcome.classify(verdictRecord("x", best: 4.2), reference: 4.0), .converged)
        XCTAssertEqual(RunOutcome.classify(verdictRecord("x", best: 9.0), reference: nil), .converged)
        XCTAssertEqual(RunOutcome.classify(verdictRecord("x", status: .diverged, best: 3.0, divergedAt: 123), reference: 4.0), .diverged(step: 123))
        XCTAssertEqual(RunOutcome.stalled(best: 5.91, referenceBest: 3.80).text(reference: "DeepNet"),
                       "stalled (best valid loss 5.91 vs DeepNet 3.80, > 1.25×)")
        XCTAssertEqual(RunOutcome.diverged(step: 123).text(), "diverged at step 123")
        XCTAssertEqual(RunOutcome.stalled(best: 5.91, referenceBest: 3.80).cellText(reference: "DeepNet"), "stalled (valid 5.91 vs DeepNet 3.80)")
        XCTAssertEqual(RunOutcome.diverged(step: 77).cellText(reference: "DeepNet"), "diverged at step 77")
        XCTAssertTrue(RunOutcome.stalled(best: 6, referenceBest: 4).failedToTrain)
        XCTAssertFalse(RunOutcome.converged.failedToTrain)
    }

    func testReferenceBestIsTheLowestFinishedRunMatching() {
        let r = verdictResults(axes: ["method", "depth"], [
            (["A", "6L"], verdictRecord("a6", best: 4.1)), (["B", "6L"], verdictRecord("b6", best: 3.9)),
            (["C", "6L"], verdictRecord("c6", status: .diverged, best: 2.0, divergedAt: 10)),   // diverged: not a reference
            (["A", "18L"], verdictRecord("a18", best: 3.0)),                                   // other depth: not matched
        ])
        XCTAssertEqual(RunOutcome.referenceBest(in: r, matching: ["depth": "6L"]), 3.9)
        XCTAssertNil(RunOutcome.referenceBest(in: r, matching: ["depth": "50L"]))
    }

}
