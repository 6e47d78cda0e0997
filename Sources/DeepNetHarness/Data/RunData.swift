// What a run trains and evaluates on: deterministic batches per step (so a resumed run sees exactly the
// batches it would have seen), validation batches, and the BLEU test set. Everything comes from DeepNetData:
// its registry (the data set, by checked name), its cached pipeline (BPE, vocabulary, token ids) and its
// batcher. This file only maps a run's data settings onto them.
import DeepNetData
import DeepNetEngine
import Foundation

public protocol RunData: AnyObject {
    var vocabSize: Int { get }
    /// Human-readable description (recorded in the run log).
    var summary: String { get }
    func trainBatch(step: Int) -> TokenBatch
    func validBatches() -> [TokenBatch]
    /// BLEU test set: source ids (without EOS), raw references.
    var testSources: [[Int32]] { get }
    var testReferences: [String] { get }
    /// Direction of each test sentence ("de-en") when the data set is multilingual (BLEU is then scored per
    /// direction); empty for a single direction.
    var testDirections: [String] { get }
    /// Target ids → text in the form the references are scored in.
    func detokenize(_ ids: [Int32]) -> String
    /// Sentence lengths, for the memory admission check (RunAdmission); nil when unknown.
    var lengthProfile: LengthProfile? { get }
    /// Raw text ↔ ids (BPE codes and dictionaries), stored with a kept model; nil when the data has none.
    var codec: TextCodec? { get }
}

public extension RunData {
    var lengthProfile: LengthProfile? { nil }
    var codec: TextCodec? { nil }
    var testDirections: [String] { [] }
}

public struct DataUnavailable: Error, CustomStringConvertible {
    public var message: String
    public var description: String { message }
}

/// A run's view of a prepared data set: DeepNetData's batcher over the training split (epoch after epoch: step s ≥ 1
/// is batch (s − 1) mod n of `batchIndices(epoch: (s − 1) / n + 1)`, n batches per epoch), the validation split in
/// length order, the test split.
final class PreparedRunData: RunData {
    let prepared: PreparedData
    let summary: String
    let train: Batcher
    let valid: Batcher
    let layout: BatchLayout
    let seed: UInt64
    let testSources: [[Int32]]
    let testReferences: [String]
    let testDirections: [String]
    let batchesPerEpoch: Int
    private let lock = NSLock()
    private var epochCache: (epoch: Int, batches: [[Int]])?

    var vocabSize: Int { prepared.targetVocabulary.count }

    init(prepared: PreparedData, summary: String, train: Batcher, valid: Batcher, layout: BatchLayout, seed: UInt64,
         testSources: [[Int32]], testReferences: [String], testDirections: [String]) {
        self.prepared = prepared; self.summary = summary; self.train = train; self.valid = valid; self.layout = layout
        self.seed = seed; self.testSources = testSources; self.testReferences = testReferences; self.testDirections = testDirections
        // Constant across epochs: packing runs over examples sorted by length, whose sequence of lengths does not
        // depend on the epoch's shuffle.
        batchesPerEpoch = max(1, train.batchIndices(epoch: 1).count)
    }

    func detokenize(_ ids: [Int32]) -> String { prepared.detokenize(ids) }

    var codec: TextCodec? { prepared.codec }

    lazy var lengthProfile: LengthProfile? = {
        let pairs = (0..<train.count).map { (train.sources[$0], train.targets[$0]) } + (0..<valid.count).map { (valid.sources[$0], valid.targets[$0]) }
        return LengthProfile(pairs: pairs, testSources: testSources)
    }()

    func trainBatch(step: Int) -> TokenBatch {
        let i = max(0, step - 1)   // steps count from 1
        let epoch = i / batchesPerEpoch + 1, k = i % batchesPerEpoch
        lock.lock()
        let batches: [[Int]]
        if let c = epochCache, c.epoch == epoch { batches = c.batches } else {
            batches = train.batchIndices(epoch: epoch)
            epochCache = (epoch, batches)
        }
        lock.unlock()
        return train.makeBatch(batches[k], layout: layout, maskSeed: mix64(seed ^ mix64(UInt64(step))))
    }

    func validBatches() -> [TokenBatch] {
        valid.batchIndices().enumerated().map { k, idx in valid.makeBatch(idx, layout: layout, maskSeed: mix64(seed ^ 0xFFFF_FFFF ^ UInt64(k))) }
    }
}

public enum DataFactory {
    /// Builds the data of a run from DeepNetData's registry. Data sets that need files read them from `dataRoot`.
    public static func make(_ c: RunConfig, dataRoot: URL?, registry: DataSetRegistry = .standard) throws -> RunData {
        let (ds, named) = try loadDataSet(c, dataRoot: dataRoot, registry: registry)
        let merges = max(50, c.model.vocabSize - 300)
        let prepared = try PreparedData.prepare(ds, options: PreprocessOptions(bpeMerges: merges))
        let lm = c.task != .translation
        let maxTok = c.data.maxTokensPerSentence
        let multilingual = ds.spec.multilingual
        // Sentences longer than maxTokensPerSentence (or empty) are left out of training and validation.
        func usable(_ name: String) throws -> (src: [[Int32]], tgt: [[Int32]]) {
            let s = try prepared.split(name)
            var idx: [Int] = []
            for (i, (x, y)) in zip(s.source, s.target).enumerated() where !y.isEmpty && y.count <= maxTok && (lm || (!x.isEmpty && x.count <= maxTok)) {
                idx.append(i)
            }
            // Multilingual validation: round-robin over the directions, so that the prefix validated on (below)
            // covers every direction, not the first one the split lists.
            if multilingual && name == "valid" {
                let directionOf = try prepared.dataSet.split(name).directionIndex
                idx = DataFactory.roundRobin(idx, directionOf: directionOf)
            }
            return (idx.map { lm ? [] : s.source[$0] }, idx.map { s.target[$0] })
        }
        let tr = try usable("train"), va = try usable("valid")
        guard !tr.tgt.isEmpty, !va.tgt.isEmpty else {
            throw DataUnavailable(message: "\(c.data.dataset): data.maxTokensPerSentence = \(maxTok) leaves \(tr.tgt.count) training and \(va.tgt.count) validation pairs (BPE \(merges) merges); raise it")
        }
        let vocab = prepared.targetVocabulary
        let layout: BatchLayout
        switch c.task {
        case .translation: layout = .translation
        case .causalLM: layout = .causalLM
        case .maskedLM: layout = .maskedLM(vocabularySize: vocab.count, firstContent: Int32(vocab.nspecial), mask: Vocabulary.unkIndex)
        }
        let seed = UInt64(c.training.seed)
        let budget = c.training.batchTokens
        let validN = min(va.tgt.count, max(64, c.training.evalBatches * 64))
        let train: Batcher, valid: Batcher
        do {
            train = try Batcher(sources: tr.src, targets: tr.tgt, maxTokens: budget, seed: seed, shuffle: true)
            valid = try Batcher(sources: Array(va.src.prefix(validN)), targets: Array(va.tgt.prefix(validN)), maxTokens: budget, shuffle: false)
        } catch {
            throw DataUnavailable(message: "\(c.data.dataset): training.batchTokens = \(budget) is smaller than one sentence of up to data.maxTokensPerSentence = \(maxTok) tokens (+ EOS): \(error)")
        }
        let test = try prepared.split("test"), refs = try prepared.references("test")
        let testCorpus = try prepared.dataSet.split("test")
        let sel = DataFactory.testSelection(directionIndex: testCorpus.directionIndex, directions: testCorpus.directions.count,
                                evalSentences: c.data.evalSentences, multilingual: multilingual)
        let dirs = multilingual ? sel.map { testCorpus.direction(of: $0).description } : []
        let perDirection = multilingual ? " (\(Set(dirs).count) directions)" : ""
        let summary = "\(named): \(train.count) train / \(valid.count) valid / \(sel.count) test\(perDirection), BPE \(merges) merges, vocabulary \(vocab.count)"
        return PreparedRunData(prepared: prepared, summary: summary, train: train, valid: valid, layout: layout, seed: seed,
                               testSources: sel.map { test.source[$0] }, testReferences: sel.map { refs[$0] }, testDirections: dirs)
    }

    /// `indices` reordered round-robin over their directions (first of each direction in order of appearance, then
    /// the second of each, …), each direction's own order kept.
    public static func roundRobin(_ indices: [Int], directionOf: [Int]) -> [Int] {
        var groups: [[Int]] = [], slot: [Int: Int] = [:]
        for i in indices {
            let d = directionOf[i]
            if let g = slot[d] { groups[g].append(i) } else { slot[d] = groups.count; groups.append([i]) }
        }
        var out: [Int] = []
        out.reserveCapacity(indices.count)
        for k in 0..<(groups.map(\.count).max() ?? 0) { for g in groups where k < g.count { out.append(g[k]) } }
        return out
    }

    /// The test sentences a run decodes (`data.evalSentences` = n, 0 = all). One direction: the first n. Multilingual:
    /// n split evenly over the k directions the split lists — the first ⌊n/k⌋ sentences of each direction, one more
    /// for the first n mod k directions — so that every direction is scored (not the first n overall, which would
    /// be one or two directions).
    public static func testSelection(directionIndex: [Int], directions: Int, evalSentences n: Int, multilingual: Bool) -> [Int] {
        let all = Array(directionIndex.indices)
        if n == 0 { return all }
        guard multilingual, directions > 1 else { return Array(all.prefix(n)) }
        var order: [Int] = [], byDirection: [Int: [Int]] = [:]
        for i in all {
            if byDirection[directionIndex[i]] == nil { order.append(directionIndex[i]) }
            byDirection[directionIndex[i], default: []].append(i)
        }
        let k = order.count
        var out: [Int] = []
        for (j, d) in order.enumerated() { out += byDirection[d]!.prefix(n / k + (j < n % k ? 1 : 0)) }
        return out
    }

    /// The run's data set from DeepNetData's registry, with the options its data settings imply, and a label.
    static func loadDataSet(_ c: RunConfig, dataRoot: URL?, registry: DataSetRegistry = .standard) throws -> (DataSet, String) {
        let (options, label) = try dataSetOptions(c.data, task: c.task)
        do {
            return (try registry.load(c.data.dataset, options: options, dataDirectory: dataRoot?.path), label)
        } catch DataError.dataDirectoryMissing(let name, _) {
            throw DataUnavailable(message: "data set '\(name)' needs DEEPNET_DATA (the data folder; `make data` downloads it)")
        }
    }

    /// How a run's data settings select from a data set (a function of the data settings alone, so that the
    /// fingerprint computed at planning time is the data the run reads):
    /// - `synthetic` is always the embedded `src-tgt` pair; experiments that name other pairs (Table II's en-de /
    ///   en-fr stand-ins) get a different language of the same grammar, drawn from a seed derived from the names.
    /// - multilingual sets use every direction;
    /// - `sourceLanguage-targetLanguage` when it is one of the data set's directions;
    /// - a monolingual request (`en-en`, for language modelling) uses the first direction into that language, whose
    ///   target side the language-model tasks train on.
    static func dataSetOptions(_ d: DataSpec, task: TrainingTask = .translation) throws -> (DataSetOptions, String) {
        let spec = try DataSetRegistry.spec(named: d.dataset)
        var o = DataSetOptions()
        if d.trainSentences > 0 { o.maxTrainExamples = d.trainSentences }
        let named = "\(d.sourceLanguage)-\(d.targetLanguage)"
        if d.dataset == .synthetic {
            o.pair = spec.defaultPair
            o.seed = named == "src-tgt" ? 1 : languageSeed(d)
            return (o, "synthetic (DeepNetData embedded pair, \(named), seed \(o.seed))" + (task == .translation ? "" : ", \(task.rawValue) on the target side"))
        }
        if spec.multilingual { return (o, "\(d.dataset) (all \(spec.pairs.count) directions)") }
        let requested = LanguagePair(d.sourceLanguage, d.targetLanguage)
        if spec.pairs.contains(requested) {
            o.pair = requested
            return (o, "\(d.dataset) \(d.sourceLanguage)→\(d.targetLanguage)" + (task == .translation ? "" : " (\(task.rawValue) on the target side)"))
        }
        guard d.sourceLanguage == d.targetLanguage, let p = spec.pairs.first(where: { $0.target == d.targetLanguage }) else {
            throw DataUnavailable(message: "\(d.dataset) has no direction \(named); directions: \(spec.pairs.map(\.description).joined(separator: ", "))")
        }
        o.pair = p
        return (o, "\(d.dataset) \(d.targetLanguage) side of \(p)")
    }

    /// A seed that is a function of the run's language names only (each named pair is its own language).
    static func languageSeed(_ d: DataSpec) -> UInt64 {
        SHA256.hash("\(d.sourceLanguage)-\(d.targetLanguage)").utf8.reduce(UInt64(17)) { $0 &* 31 &+ UInt64($1) }
    }
}
