import ArgumentParser
import DeepNetData
import Foundation

let dataCommands: [ParsableCommand.Type] = [BleuCommand.self, DataCommand.self]

/// Prints a DataError (or any error) as one line on stderr and exits non-zero.
func dataFail(_ error: Error) -> ExitCode {
    FileHandle.standardError.write(Data("error: \(error)\n".utf8))
    return ExitCode(1)
}

struct BleuCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bleu",
        abstract: "Corpus or sentence BLEU, identical to sacreBLEU 2.6.0 (`sacrebleu REF... -i HYP -f text`).",
        discussion: """
        Output (text, the default) is sacreBLEU's line, e.g.
          BLEU|nrefs:1|case:mixed|eff:no|tok:13a|smooth:exp|version:2.6.0 = 34.1 65.3/40.1/27.0/18.9 (BP = 1.000 ratio = 1.012 hyp_len = 1555 ref_len = 1537)
        The score is printed with --width decimals (sacreBLEU's CLI default is 1; its Python API uses 2).
        --format json prints sacreBLEU's JSON object. --fairseq prints fairseq's tokenized BLEU
        (fairseq-score: whitespace tokens, no smoothing) instead.
        Files may be plain or .gz; they must be UTF-8; lines are split on LF and right-stripped.
        """)

    @Option(name: [.customLong("hyp"), .customShort("i"), .customLong("input")], help: "Hypothesis file (one segment per line).")
    var hyp: String

    @Option(name: [.customLong("ref"), .customShort("r")], help: "Reference file; repeat for several references.")
    var ref: [String] = []

    @Option(name: [.customLong("tokenize"), .customLong("tok", withSingleDash: true)], help: "Tokenizer: 13a, intl, char or none.")
    var tokenize: String = "13a"

    @Option(name: [.customLong("smooth"), .customLong("smooth-method"), .customShort("s")], help: "Smoothing: exp, floor, add-k or none.")
    var smooth: String = "exp"

    @Option(name: [.customLong("smooth-value"), .customLong("sv", withSingleDash: true)], help: "Smoothing value for floor (default 0.1) and add-k (default 1).", transform: finiteDouble)
    var smoothValue: Double?

    @Flag(name: [.customLong("lc", withSingleDash: true), .customLong("lowercase")], help: "Case-insensitive BLEU.")
    var lowercase = false

    @Flag(name: [.customLong("sentence"), .customLong("sentence-level"), .customLong("sl", withSingleDash: true)],
          help: "Sentence-level BLEU for every line (effective order on, as sacreBLEU does).")
    var sentence = false

    @Flag(name: [.customLong("effective-order")], help: "Use effective order for corpus BLEU too.")
    var effectiveOrder = false

    @Option(name: [.customLong("width"), .customShort("w")], help: "Decimals of the score (sacreBLEU CLI default: 1).")
    var width: Int = 1

    @Option(name: [.customLong("format"), .customShort("f")], help: "text or json (sacreBLEU's own default is json).")
    var format: String = "text"

    @Flag(name: [.customLong("short"), .customLong("sh", withSingleDash: true)], help: "Short signature.")
    var short = false

    @Flag(name: [.customLong("score-only"), .customShort("b")], help: "Print only the score.")
    var scoreOnly = false

    @Flag(name: .customLong("fairseq"), help: "fairseq tokenized BLEU (fairseq-score) instead of sacreBLEU.")
    var fairseq = false

    func validate() throws {
        if ref.isEmpty { throw ValidationError("at least one --ref FILE is required") }
        do {
            _ = try BLEUTokenizerKind(name: tokenize)
            _ = try BLEUSmoothing(name: smooth)
        } catch { throw ValidationError("\(error)") }
        if format != "text" && format != "json" { throw ValidationError("--format must be text or json, got '\(format)'") }
        if width < 0 || width > 20 { throw ValidationError("--width must be in 0...20") }
        if fairseq && ref.count != 1 { throw ValidationError("--fairseq takes exactly one --ref") }
    }

    func run() throws {
        do {
            let (hyps, refs) = try BLEUFiles.read(hypothesis: hyp, references: ref)
            if !fairseq && hyps.filter({ $0.hasSuffix(" .") }).count >= 100 {
                // sacreBLEU's warning (stderr only; it does not change the score).
                FileHandle.standardError.write(Data("""
                    sacreBLEU: That's 100 lines that end in a tokenized period ('.')
                    sacreBLEU: It looks like you forgot to detokenize your test data, which may hurt your score.

                    """.utf8))
            }
            if fairseq {
                let s = try FairseqBLEU.scoreLines(hypotheses: hyps, references: refs[0], lowercase: lowercase)
                print(s.resultString())
                return
            }
            var opts = BLEUOptions(tokenizer: try BLEUTokenizerKind(name: tokenize), smoothing: try BLEUSmoothing(name: smooth),
                                   smoothValue: smoothValue, lowercase: lowercase, effectiveOrder: effectiveOrder)
            if sentence {
                opts.effectiveOrder = true
                let bleu = SacreBLEU(opts)
                let sig = bleu.signature(nrefs: refs.count, short: short)
                var out = ""
                for i in 0..<hyps.count {
                    let s = bleu.sentenceScore(hypothesis: hyps[i], references: refs.map { $0[i] })
                    out += s.formatted(width: width, signature: sig, scoreOnly: scoreOnly) + "\n"
                }
                FileHandle.standardOutput.write(Data(out.utf8))
                return
            }
            let bleu = SacreBLEU(opts)
            let r = try bleu.corpusStatistics(hypotheses: hyps, references: refs.map { $0.map { Optional($0) } })
            if format == "json" && !scoreOnly {
                print(r.score.json(width: width, signature: bleu.signature(nrefs: r.nrefs, short: false)))
            } else {
                print(r.score.formatted(width: width, signature: bleu.signature(nrefs: r.nrefs, short: short), scoreOnly: scoreOnly))
            }
        } catch {
            throw dataFail(error)
        }
    }
}

/// `deepnet data list|info|prepare|sample`.
struct DataCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "data",
        abstract: "Data sets: list the registry, show splits and fingerprints, run/cached preprocessing, print samples.",
        subcommands: [List.self, Info.self, Prepare.self, Sample.self])

    struct Common: ParsableArguments {
        @Argument(help: "Data set name (default: synthetic when DEEPNET_DATA is unset, else multi30k).")
        var name: String?
        @Option(help: "Language pair, e.g. de-en (default: the data set's default).")
        var pair: String?
        @Option(help: "Data seed (synthetic generation, held-out and Tatoeba splits).")
        var seed: UInt64 = 1
        @Option(help: "Keep at most this many training examples.")
        var maxTrain: Int?
        @Option(help: "Data directory (default: $DEEPNET_DATA).")
        var dataDir: String?

        func load() throws -> DataSet {
            var o = DataSetOptions(seed: seed)
            if let p = pair { o.pair = try LanguagePair(parsing: p) }
            o.maxTrainExamples = maxTrain
            let n = try name.map { try DataSetName(parsing: $0) } ?? DataSetRegistry.defaultDataSetName()
            return try DataSetRegistry.load(n, options: o, dataDirectory: dataDir)
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the registered data sets.")
        func run() {
            for s in DataSetRegistry.specs {
                let pairs = s.multilingual ? "\(s.pairs.count) directions" : s.pairs.map(\.description).joined(separator: ",")
                print("\(s.name.rawValue.padding(toLength: 20, withPad: " ", startingAt: 0)) \(s.trainable ? "train+eval" : "eval-only ")  \(s.needsFiles ? "files" : "no files")  [\(pairs)]  \(s.summary)")
            }
        }
    }

    struct Info: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Splits, sizes, filter report and fingerprint of a data set.")
        @OptionGroup var common: Common
        func run() throws {
            do {
                let ds = try common.load()
                print("data set:    \(ds.name)")
                print("directions:  \(ds.directions.map(\.description).joined(separator: ", "))")
                print("scoring:     \(ds.spec.scoring.rawValue)")
                print("fingerprint: \(ds.fingerprint)")
                for s in ds.splitNames {
                    let c = ds.splits[s]!
                    print("  \(s.padding(toLength: 18, withPad: " ", startingAt: 0)) \(c.count) pairs" + (c.filterReport.input > 0 ? "  [\(c.filterReport)]" : ""))
                }
                for f in ds.files { print("  file \(f.sha256)  \(f.path)") }
                if !ds.languageTags.isEmpty { print("language tags: \(ds.languageTags.joined(separator: " "))") }
            } catch { throw dataFail(error) }
        }
    }

    struct Prepare: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Learn BPE + vocabulary and encode all splits (cached).")
        @OptionGroup var common: Common
        @Option(help: "BPE merge operations (default: per data set).")
        var merges: Int?
        @Flag(help: "Separate BPE models and dictionaries for source and target.")
        var separate = false
        @Option(help: "Cache directory (default: $DEEPNET_CACHE or .cache/ in the repository).")
        var cacheDir: String?
        @Option(help: "Also write codes and dict.txt files into this directory.")
        var export: String?
        func run() throws {
            do {
                let ds = try common.load()
                var opts = PreprocessOptions(bpeMerges: ds.spec.defaultBPEMerges)
                if let m = merges { opts.bpeMerges = m }
                if separate { opts.jointBPE = false; opts.jointVocabulary = false }
                let t0 = Date()
                let p = try PreparedData.prepare(ds, options: opts, cacheDirectory: cacheDir)
                print("\(p.loadedFromCache ? "loaded from cache" : "preprocessed") in \(String(format: "%.2f", Date().timeIntervalSince(t0))) s")
                print("cache key:   \(p.cacheKey)")
                if let c = p.cachePath { print("cache file:  \(c)") }
                print("BPE merges:  \(p.sourceBPE.merges.count)\(opts.jointBPE ? " (joint)" : " / \(p.targetBPE.merges.count)")")
                print("vocabulary:  \(p.sourceVocabulary.count)\(opts.jointVocabulary ? " (joint)" : " / \(p.targetVocabulary.count)")")
                for s in ds.splitNames {
                    let e = p.splits[s]!
                    let st = e.source.reduce(0) { $0 + $1.count }, tt = e.target.reduce(0) { $0 + $1.count }
                    print("  \(s.padding(toLength: 18, withPad: " ", startingAt: 0)) \(e.count) pairs, \(st) source / \(tt) target tokens")
                }
                if let dir = export {
                    try p.sourceBPE.save(to: dir + "/codes" + (opts.jointBPE ? "" : ".src"))
                    if !opts.jointBPE { try p.targetBPE.save(to: dir + "/codes.tgt") }
                    try p.sourceVocabulary.save(to: dir + "/dict.src.txt")
                    try p.targetVocabulary.save(to: dir + "/dict.tgt.txt")
                    print("exported codes and dictionaries to \(dir)")
                }
            } catch { throw dataFail(error) }
        }
    }

    struct Sample: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print the first examples of a split (raw, tab-separated).")
        @OptionGroup var common: Common
        @Option(help: "Split name.")
        var split = "train"
        @Option(name: .shortAndLong, help: "Number of examples.")
        var count = 5
        func run() throws {
            do {
                let ds = try common.load()
                let c = try ds.split(split)
                for i in 0..<min(count, c.count) { print("\(c.direction(of: i))\t\(c.sources[i])\t\(c.targets[i])") }
            } catch { throw dataFail(error) }
        }
    }
}
