// What a run trains and evaluates on: deterministic batches per step (so a resumed run sees exactly the
// batches it would have seen), validation batches, and the BLEU test set.
//
// `synthetic` translation comes from DeepNetData's registry and cached pipeline; the synthetic LM corpora,
// the real data sets of the registry (RealData.swift: multi30k, iwslt14-mini, tatoeba, *-lm) and the
// batching below predate DeepNetData's registry/batcher and still use the harness's own code — moving
// them over (same splits, cached preprocessing) is open work; it changes those runs' identities.
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
    /// Target ids → text in the form the references are scored in.
    func detokenize(_ ids: [Int32]) -> String
    /// Sentence lengths, for the memory admission check (RunAdmission); nil when unknown.
    var lengthProfile: LengthProfile? { get }
}

public extension RunData {
    var lengthProfile: LengthProfile? { nil }
}

public struct DataUnavailable: Error, CustomStringConvertible {
    public var message: String
    public var description: String { message }
}

enum Tok {
    static let bos: Int32 = 0, pad: Int32 = 1, eos: Int32 = 2, unk: Int32 = 3
    static let firstContent: Int32 = 4
}

/// Builds batches from tokenized examples.
struct Batcher {
    /// Translation: pairs of (source ids, target ids), both without EOS.
    static func translation(_ pairs: [([Int32], [Int32])], maxTokens: Int) -> TokenBatch {
        let b = pairs.count
        let s = (pairs.map { $0.0.count }.max() ?? 0) + 1
        let t = (pairs.map { $0.1.count }.max() ?? 0) + 1
        var src = [Int32](repeating: Tok.pad, count: b * s)
        var prev = [Int32](repeating: Tok.pad, count: b * t)
        var tgt = [Int32](repeating: Tok.pad, count: b * t)
        for (i, (x, y)) in pairs.enumerated() {
            for (j, v) in (x + [Tok.eos]).enumerated() { src[i * s + j] = v }
            let full = y + [Tok.eos]
            for (j, v) in full.enumerated() {
                tgt[i * t + j] = v
                prev[i * t + j] = j == 0 ? Tok.eos : full[j - 1]
            }
        }
        return TokenBatch(batchSize: b, sourceLength: s, targetLength: t, source: src, prevOutput: prev, target: tgt)
    }

    /// Causal LM: fixed-length windows.
    static func causal(_ seqs: [[Int32]]) -> TokenBatch {
        let b = seqs.count, t = seqs.map(\.count).max() ?? 1
        var prev = [Int32](repeating: Tok.pad, count: b * t), tgt = prev
        for (i, x) in seqs.enumerated() {
            for (j, v) in x.enumerated() { tgt[i * t + j] = v; prev[i * t + j] = j == 0 ? Tok.eos : x[j - 1] }
        }
        return TokenBatch(batchSize: b, sourceLength: 0, targetLength: t, source: [], prevOutput: prev, target: tgt)
    }

    /// Masked LM: 15% of positions predicted; of those 80% replaced by the mask id, 10% random, 10% kept.
    static func masked(_ seqs: [[Int32]], vocab: Int, rng: inout DataRandom) -> TokenBatch {
        let b = seqs.count, s = seqs.map(\.count).max() ?? 1
        var src = [Int32](repeating: Tok.pad, count: b * s), tgt = src
        for (i, x) in seqs.enumerated() {
            var any = false
            for (j, v) in x.enumerated() {
                src[i * s + j] = v
                if Double(rng.next() % 10_000) / 10_000 < 0.15 || (!any && j == x.count - 1) {
                    any = true
                    tgt[i * s + j] = v
                    let r = rng.next() % 10
                    if r < 8 { src[i * s + j] = Tok.unk } else if r == 8 {
                        src[i * s + j] = Tok.firstContent + Int32(rng.next() % UInt64(max(1, vocab - Int(Tok.firstContent))))
                    }
                }
            }
        }
        return TokenBatch(batchSize: b, sourceLength: s, targetLength: s, source: src, prevOutput: [], target: tgt)
    }
}

func mixSeed(_ a: UInt64, _ b: UInt64) -> UInt64 {
    var z = a &+ 0x9E37_79B9_7F4A_7C15 &* (b &+ 1)
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
}

/// Examples in memory + deterministic per-step sampling.
final class ExampleData: RunData {
    let task: TrainingTask
    let vocabSize: Int
    let summary: String
    let train: [([Int32], [Int32])]
    let valid: [([Int32], [Int32])]
    let testSources: [[Int32]]
    let testReferences: [String]
    let batchTokens: Int
    let seed: UInt64
    let detok: ([Int32]) -> String

    init(task: TrainingTask, vocabSize: Int, summary: String, train: [([Int32], [Int32])], valid: [([Int32], [Int32])],
         testSources: [[Int32]], testReferences: [String], batchTokens: Int, seed: UInt64, detokenize: @escaping ([Int32]) -> String) {
        self.task = task; self.vocabSize = vocabSize; self.summary = summary; self.train = train; self.valid = valid
        self.testSources = testSources; self.testReferences = testReferences; self.batchTokens = batchTokens
        self.seed = seed; self.detok = detokenize
    }

    func detokenize(_ ids: [Int32]) -> String { detok(ids) }
    lazy var lengthProfile: LengthProfile? = LengthProfile(pairs: train + valid, testSources: testSources)

    private func batch(_ ex: [([Int32], [Int32])], rng: inout DataRandom) -> TokenBatch {
        switch task {
        case .translation: return Batcher.translation(ex, maxTokens: batchTokens)
        case .causalLM: return Batcher.causal(ex.map(\.1))
        case .maskedLM: return Batcher.masked(ex.map(\.1), vocab: vocabSize, rng: &rng)
        }
    }

    private func pick(_ pool: [([Int32], [Int32])], rng: inout DataRandom) -> [([Int32], [Int32])] {
        var out: [([Int32], [Int32])] = []
        var tokens = 0
        while tokens < batchTokens && !pool.isEmpty {
            let e = pool[Int(rng.next() % UInt64(pool.count))]
            out.append(e)
            tokens += e.1.count + 1
        }
        return out
    }

    func trainBatch(step: Int) -> TokenBatch {
        var rng = DataRandom(seed: mixSeed(seed, UInt64(step)))
        let ex = pick(train, rng: &rng)
        return batch(ex, rng: &rng)
    }

    func validBatches() -> [TokenBatch] {
        var out: [TokenBatch] = []
        var i = 0
        var rng = DataRandom(seed: mixSeed(seed, 0xFFFF_FFFF))
        while i < valid.count {
            var chunk: [([Int32], [Int32])] = []
            var tokens = 0
            while i < valid.count && tokens < batchTokens { chunk.append(valid[i]); tokens += valid[i].1.count + 1; i += 1 }
            out.append(batch(chunk, rng: &rng))
        }
        return out
    }
}

public enum DataFactory {
    /// Builds the data of a run. `synthetic` needs no files; other names need DEEPNET_DATA.
    public static func make(_ c: RunConfig, dataRoot: URL?) throws -> RunData {
        if c.data.dataset == "synthetic" {
            return c.task == .translation ? try embeddedSyntheticTranslation(c) : synthetic(c)
        }
        guard let root = dataRoot else {
            throw DataUnavailable(message: "data set '\(c.data.dataset)' needs DEEPNET_DATA (the folder of shared/data)")
        }
        return try RealData.load(c, root: root)
    }

    /// Translation on `synthetic`: DeepNetData's embedded language pair (SVO→SOV reordering, agreement, a
    /// ~300-lemma lexicon; the same task as `deepnet data` and the data tests), through DeepNetData's cached
    /// pipeline: joint BPE with `model.vocabSize − 300` merges (≥ 50), fairseq vocabulary, sacreBLEU on
    /// detokenized text. Splits: 20,000 train / 500 valid / 500 test sentences from seed 1.
    static func embeddedSyntheticTranslation(_ c: RunConfig) throws -> RunData {
        // The embedded pair is always `src-tgt`; experiments that name other pairs (table2's en-de / en-fr stand-ins)
        // get a different language of the same grammar, drawn from a seed derived from their names.
        let named = "\(c.data.sourceLanguage)-\(c.data.targetLanguage)"
        let seed: UInt64 = named == "src-tgt" ? 1 : languageSeed(c)
        let merges = max(50, c.model.vocabSize - 300)
        let ds = try DataSetRegistry.load("synthetic", options: DataSetOptions(pair: LanguagePair("src", "tgt"), seed: seed))
        let prepared = try PreparedData.prepare(ds, options: PreprocessOptions(bpeMerges: merges))
        let maxTok = c.data.maxTokensPerSentence
        func pairs(_ name: String) throws -> [([Int32], [Int32])] {
            let s = try prepared.split(name)
            return zip(s.source, s.target).filter { x, y in !x.isEmpty && !y.isEmpty && x.count <= maxTok && y.count <= maxTok }
        }
        let train = try pairs("train"), valid = try pairs("valid")
        guard !train.isEmpty, !valid.isEmpty else {
            throw DataUnavailable(message: "synthetic: data.maxTokensPerSentence = \(maxTok) leaves \(train.count) training and \(valid.count) validation pairs (BPE \(merges) merges); raise it (sentences have 4-20 words)")
        }
        let test = try prepared.split("test"), refs = try prepared.references("test")
        let n = c.data.evalSentences == 0 ? test.count : min(c.data.evalSentences, test.count)
        return ExampleData(task: c.task, vocabSize: prepared.targetVocabulary.count,
                           summary: "synthetic (DeepNetData embedded pair, \(named), seed \(seed)): \(train.count) train / \(valid.count) valid / \(n) test, BPE \(merges) merges, vocabulary \(prepared.targetVocabulary.count)",
                           train: train, valid: Array(valid.prefix(max(64, c.training.evalBatches * 64))),
                           testSources: Array(test.source.prefix(n)), testReferences: Array(refs.prefix(n)),
                           batchTokens: c.training.batchTokens, seed: UInt64(c.training.seed), detokenize: { prepared.detokenize($0) })
    }

    /// A seed that is a function of the run's language names only (each named pair is its own language).
    static func languageSeed(_ c: RunConfig) -> UInt64 {
        SHA256.hash("\(c.data.sourceLanguage)-\(c.data.targetLanguage)").utf8.reduce(UInt64(17)) { $0 &* 31 &+ UInt64($1) }
    }

    /// Language modelling on `synthetic`: source = random token sequences (Zipf-like), target = the source reversed
    /// and mapped through a fixed permutation of the vocabulary (learnable through attention); LM tasks use a
    /// fixed random first-order Markov chain. Everything is a function of (vocabulary size, languages, seed 17).
    static func synthetic(_ c: RunConfig) -> RunData {
        let v = c.model.vocabSize
        let content = max(2, v - Int(Tok.firstContent))
        let langSeed = languageSeed(c)
        var gen = DataRandom(seed: langSeed)
        let maxLen = max(3, min(c.data.maxTokensPerSentence - 1, 30))
        // Zipf-like sampling table
        var table: [Int32] = []
        for r in 0..<content { let w = max(1, 200 / (r + 1)); table += [Int32](repeating: Tok.firstContent + Int32(r), count: w) }
        var perm = (0..<content).map { Tok.firstContent + Int32($0) }
        for i in stride(from: perm.count - 1, to: 0, by: -1) { perm.swapAt(i, Int(gen.next() % UInt64(i + 1))) }
        var successors: [[Int32]] = []
        for _ in 0..<content { successors.append((0..<4).map { _ in table[Int(gen.next() % UInt64(table.count))] }) }
        func sentence(_ rng: inout DataRandom) -> [Int32] {
            let n = 3 + Int(rng.next() % UInt64(maxLen - 2))
            switch c.task {
            case .translation: return (0..<n).map { _ in table[Int(rng.next() % UInt64(table.count))] }
            case .causalLM, .maskedLM:
                var x: [Int32] = [table[Int(rng.next() % UInt64(table.count))]]
                while x.count < maxLen {
                    let s = successors[Int(x.last! - Tok.firstContent)]
                    x.append(rng.next() % 10 < 8 ? s[Int(rng.next() % 4)] : table[Int(rng.next() % UInt64(table.count))])
                }
                return x
            }
        }
        func pair(_ rng: inout DataRandom) -> ([Int32], [Int32]) {
            let s = sentence(&rng)
            return (s, c.task == .translation ? s.reversed().map { perm[Int($0 - Tok.firstContent)] } : s)
        }
        var r1 = DataRandom(seed: mixSeed(langSeed, 1)), r2 = DataRandom(seed: mixSeed(langSeed, 2)), r3 = DataRandom(seed: mixSeed(langSeed, 3))
        let train = (0..<20_000).map { _ in pair(&r1) }
        let valid = (0..<max(64, min(512, c.training.evalBatches * 64))).map { _ in pair(&r2) }
        let testN = c.data.evalSentences == 0 ? 500 : c.data.evalSentences
        let test = (0..<testN).map { _ in pair(&r3) }
        let detok: ([Int32]) -> String = { ids in ids.filter { $0 >= Tok.firstContent }.map { "w\($0)" }.joined(separator: " ") }
        return ExampleData(task: c.task, vocabSize: v, summary: "synthetic \(c.task.rawValue) (\(train.count) training examples, vocabulary \(v))",
                           train: train, valid: valid, testSources: test.map(\.0), testReferences: test.map { detok($0.1) },
                           batchTokens: c.training.batchTokens, seed: UInt64(c.training.seed), detokenize: detok)
    }
}
