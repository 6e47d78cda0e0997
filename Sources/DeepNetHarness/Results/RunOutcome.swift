// Pre-registered rule: did a run train, diverge, or stall?

/// What became of one run, for the claims that ask whether a model trains at all.
///
/// * `.diverged(step)`: the run's status is `diverged` (the trainer stopped it: a non-finite loss, or a loss above
///   20 for 20 consecutive steps).
/// * `.stalled(best, referenceBest)`: the run finished (status ok) but its best validation loss is more than
///   `stallRatio` (1.25) times the best validation loss of a reference run trained in the same configuration
///   (the same-depth DeepNet, in most experiments).
/// * `.converged`: finished and not stalled.
/// * `.failed(reason)`: the run did not finish (an error); no evidence either way.
///
/// Why a stall rule: at the reduced scale (a 64-wide model in fp32) Post-LN rarely blows up; it fails by getting
/// stuck near the unigram plateau, which a "diverged only" rule scores as success. The paper's "diverged" means
/// "did not train", so both count as failure. Why 1.25×: runs that learned the task end within a few per cent of
/// each other in validation loss (nats per target token), while a model stuck on the plateau sits at 1.5× or more
/// of a trained model's loss; a quarter above the reference is well clear of the first and below the second. The
/// ratio is taken to a reference from the same configuration because the attainable loss depends on the data set,
/// the model size and the number of steps — no absolute threshold works across experiments.
public enum RunOutcome: Sendable, Equatable {
    case converged
    case diverged(step: Int?)
    case stalled(best: Double, referenceBest: Double)
    case failed(String)

    public static let stallRatio = 1.25

    /// Classifies `record` against `reference`, the best validation loss of the reference run (nil when there is no
    /// usable reference, e.g. it diverged too: then a finished run counts as converged). A finished run without a
    /// finite best validation loss is not judged stalled either (nothing to compare).
    public static func classify(_ record: RunRecord, reference: Double?, ratio: Double = stallRatio) -> RunOutcome {
        switch record.status {
        case .failed: return .failed(record.message ?? "failed")
        case .diverged: return .diverged(step: record.divergedAtStep)
        case .ok:
            if let best = record.metrics.bestValidLoss, best.isFinite, let ref = reference, ref.isFinite, ref > 0, best > ratio * ref {
                return .stalled(best: best, referenceBest: ref)
            }
            return .converged
        }
    }

    /// The reference for runs without a DeepNet to compare with: the lowest best validation loss among the
    /// finished (status ok) runs matching `selector` — the best any compared model reached in this configuration.
    /// nil when none of them finished with a finite validation loss.
    public static func referenceBest(in results: ExperimentResults, matching selector: [String: String]) -> Double? {
        results.records(matching: selector).filter { $0.status == .ok }.compactMap { $0.metrics.bestValidLoss }.filter(\.isFinite).min()
    }

    /// Rule G3's stall reference for the run at `coordinates`: the best validation loss of the run with
    /// `axis` = `level` and the same other coordinates (the same-depth DeepNet) when it finished with a finite one;
    /// otherwise, and for that run itself, the best run of the group (`axis` left free). Returns the loss and the
    /// name to print; the loss is nil when no run of the group finished.
    public static func reference(in results: ExperimentResults, for coordinates: [String: String], axis: String,
                                 level: String) -> (best: Double?, name: String) {
        var ref = coordinates
        ref[axis] = level
        if ref != coordinates, let x = results.record(ref), x.status == .ok, let best = x.metrics.bestValidLoss, best.isFinite {
            return (best, level)
        }
        var group = coordinates
        group[axis] = nil
        return (referenceBest(in: results, matching: group), "the best run of its group")
    }

    /// Diverged or stalled: what the paper's tables print as "diverged".
    public var failedToTrain: Bool {
        switch self {
        case .diverged, .stalled: return true
        case .converged, .failed: return false
        }
    }

    /// "converged", "diverged at step 123", "stalled (best valid loss 5.91 vs DeepNet 3.80, > 1.25×)", "failed: …".
    public func text(reference: String = "reference", ratio: Double = stallRatio) -> String {
        switch self {
        case .converged: return "converged"
        case .diverged(let s): return s.map { "diverged at step \($0)" } ?? "diverged"
        case .stalled(let b, let r):
            return "stalled (best valid loss \(Verdicts.fmt(b)) vs \(reference) \(Verdicts.fmt(r)), > \(Verdicts.fmt(ratio, ratio == ratio.rounded(.down) ? 0 : 2))×)"
        case .failed(let m): return "failed: \(m)"
        }
    }

    /// The short form for a grid cell, where the paper prints one word ("diverged"): "stalled (valid 5.91 vs
    /// DeepNet 3.80)", "diverged at step 123". The threshold (> 1.25×) is stated once in the report's configuration,
    /// so a table of many stalled cells stays as narrow as the paper's.
    public func cellText(reference: String = "reference") -> String {
        switch self {
        case .stalled(let b, let r): return "stalled (valid \(Verdicts.fmt(b)) vs \(reference) \(Verdicts.fmt(r)))"
        default: return text(reference: reference)
        }
    }
}
