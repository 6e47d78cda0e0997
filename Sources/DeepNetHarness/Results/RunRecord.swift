// The results model: what one finished (or diverged, or failed) run produced. Stored as one HDF5 file per run
// (ResultStore); reports and verdicts are computed from these values only.
import DeepNetData
import Foundation

public enum RunStatus: String, Codable, Sendable {
    case ok, diverged, failed
}

/// Per-step curves. `steps[i]` is the 1-based optimizer step of `trainLoss[i]`, `lr[i]`, `gradNorm[i]`.
public struct Curves: Codable, Sendable, Equatable {
    public var steps: [Int] = []
    public var trainLoss: [Double] = []
    public var lr: [Double] = []
    public var gradNorm: [Double] = []
    public var validSteps: [Int] = []
    public var validLoss: [Double] = []
    public init() {}

    public func series(_ kind: CurveKind) -> (x: [Double], y: [Double]) {
        switch kind {
        case .trainLoss: return (steps.map(Double.init), trainLoss)
        case .lr: return (steps.map(Double.init), lr)
        case .gradNorm: return (steps.map(Double.init), gradNorm)
        case .validLoss: return (validSteps.map(Double.init), validLoss)
        }
    }
}

public struct FinalMetrics: Codable, Sendable, Equatable {
    /// Corpus BLEU of the decoded test sentences. For a multilingual data set (several directions) this is the mean
    /// of the per-direction BLEU scores (`bleuByDirection`), as the paper's OPUS-100 "Avg" is, not one corpus BLEU
    /// over all directions pooled.
    public var bleu: Double?
    /// Multilingual data sets: BLEU of each direction ("de-en" → score), each a corpus BLEU over that direction's
    /// decoded sentences against its own references; empty for a single direction.
    public var bleuByDirection: [String: Double] = [:]
    /// Multilingual, English-centric sets: mean BLEU over the X→English directions (English = the language in every
    /// direction, `en` or `eng`); nil otherwise.
    public var bleuToEnglish: Double?
    /// … and over the English→X directions.
    public var bleuFromEnglish: Double?
    /// sacreBLEU-style signature of the BLEU score, e.g. "nrefs:1|case:mixed|eff:no|tok:13a|smooth:exp|version:2.x".
    public var bleuSignature: String?
    public var validLoss: Double?
    public var bestValidLoss: Double?
    public var perplexity: Double?
    public var finalTrainLoss: Double?
    public var stepsCompleted: Int = 0
    public var trainTokens: Int = 0
    public var parameters: Int = 0
    public var wallSeconds: Double = 0
    /// Wall time of the BLEU decoding of the test set (nil when nothing was decoded).
    public var decodeSeconds: Double?
    /// BLEU test sources longer than the model accepts (`maxPositions` tokens with EOS), cut before decoding.
    public var testSentencesTruncated: Int = 0
    /// Admission estimate of the run's peak resident memory (bytes; resident size when admitted + estimate).
    public var memoryEstimateBytes: Double?
    /// Measured peak resident memory of the process that ran it (VmHWM, bytes; the whole process).
    public var peakRSSBytes: Double?
    public init() {}
}

/// One array recorded by a training-dynamics instrument, stored at /diagnostics/<measurement>/<name>.
public struct DiagnosticArray: Codable, Sendable, Equatable {
    public var name: String
    public var shape: [Int]
    public var values: [Double]
    public var attributes: [String: String]
    public init(name: String, shape: [Int], values: [Double], attributes: [String: String] = [:]) {
        self.name = name; self.shape = shape; self.values = values; self.attributes = attributes
    }
}

public struct Provenance: Codable, Sendable, Equatable {
    public var gitCommit: String = "unknown"
    public var gitDirty: Bool = false
    public var engineNumericsVersion: String = ""
    public var harnessVersion: String = ""
    public var threads: String = ""
    public var cpuModel: String = ""
    public var hdf5Version: String = ""
    public var openblasConfig: String = ""
    public var swiftVersion: String = ""
    public var startTime: String = ""
    public var endTime: String = ""
    /// Number of times the run was resumed from a checkpoint.
    public var resumedCount: Int = 0
    public init() {}
}

public struct RunRecord: Codable, Sendable, Equatable {
    public var runID: String
    public var config: RunConfig
    public var dataFingerprint: String
    public var engineNumericsVersion: String
    public var status: RunStatus
    public var divergedAtStep: Int?
    /// Why a run diverged or failed (e.g. "non-finite loss", "loss > 20 for 20 steps", an error message).
    public var message: String?
    public var curves: Curves
    public var metrics: FinalMetrics
    /// Instrument data by measurement (raw value) → arrays.
    public var diagnostics: [String: [DiagnosticArray]]
    /// Decoded hypotheses of the BLEU test set (first `data.evalSentences`; multilingual: the selection of
    /// `DataFactory.testSelection`, direction after direction).
    public var hypotheses: [String]
    /// BLEU's sufficient statistics of each test sentence, parallel to `hypotheses` (hypothesis length, closest
    /// reference length, clipped n-gram matches and n-gram totals for n = 1…4), as the run's sacreBLEU scorer
    /// counted them: they re-score to `metrics.bleu` (`RunRecord.rescoredBLEU`: the corpus BLEU of their sum, or for
    /// a multilingual run the mean over directions of each direction's). Empty for runs without test BLEU
    /// and for result files written before they were recorded.
    public var bleuSentenceStats: [BLEUStats]
    /// The direction ("src-tgt") of each test sentence, parallel to `bleuSentenceStats`, for multilingual runs
    /// (whose `metrics.bleu` is the mean of the per-direction BLEUs); empty for single-direction runs and for
    /// multilingual result files written before it was recorded. See `BLEUStrata`.
    public var bleuSentenceDirections: [String] = []
    public var provenance: Provenance

    public init(runID: String, config: RunConfig, dataFingerprint: String, engineNumericsVersion: String,
                status: RunStatus, divergedAtStep: Int? = nil, message: String? = nil, curves: Curves = Curves(),
                metrics: FinalMetrics = FinalMetrics(), diagnostics: [String: [DiagnosticArray]] = [:],
                hypotheses: [String] = [], provenance: Provenance = Provenance(), bleuSentenceStats: [BLEUStats] = [],
                bleuSentenceDirections: [String] = []) {
        self.runID = runID; self.config = config; self.dataFingerprint = dataFingerprint
        self.engineNumericsVersion = engineNumericsVersion; self.status = status; self.divergedAtStep = divergedAtStep
        self.message = message; self.curves = curves; self.metrics = metrics; self.diagnostics = diagnostics
        self.hypotheses = hypotheses; self.provenance = provenance; self.bleuSentenceStats = bleuSentenceStats
        self.bleuSentenceDirections = bleuSentenceDirections
    }

    public func value(_ m: Metric) -> Double? {
        switch m {
        case .bleu: return metrics.bleu
        case .finalValidLoss: return metrics.validLoss
        case .bestValidLoss: return metrics.bestValidLoss
        case .perplexity: return metrics.perplexity
        case .finalTrainLoss: return metrics.finalTrainLoss
        case .divergedAt: return divergedAtStep.map(Double.init)
        }
    }

    public var converged: Bool { status == .ok }
}
