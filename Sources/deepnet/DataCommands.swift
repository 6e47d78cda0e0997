import ArgumentParser
import DeepNetData
import Foundation

let dataCommands: [ParsableCommand.Type] = [BleuCommand.self, ]

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

    @Option(name: [.customLong("smooth-value"), .customLong("sv", withSingleDash: true)], help: "Smoothing value for floor (default 0.1) and add-k (default 1).")
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
