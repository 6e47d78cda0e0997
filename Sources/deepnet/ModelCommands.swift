// Models in and out: `deepnet translate` (a kept model on raw text) and `deepnet inspect` (what a model,
// checkpoint or run file holds).
import ArgumentParser
import DeepNetData
import DeepNetEngine
import DeepNetHarness
import Foundation
import HDF5Store

let modelCommands: [ParsableCommand.Type] = [TranslateCommand.self, InspectCommand.self]

struct TranslateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "translate",
        abstract: "Translate raw text (one sentence per line) with a kept model; detokenized text out.",
        discussion: """
        The model file is one written by `deepnet train --save-model` or `deepnet run --keep-models`: the engine's
        HDF5 checkpoint with the run's BPE codes and dictionaries inside, so nothing else is needed. Each line is
        encoded as the run encoded its test set (pre-tokenizer, BPE, dictionary), decoded with the run's search
        (fairseq beam search, length penalty on Σ log p, max length a·|src|+b, batches of 32 sentences sorted by
        length; --beam 1 is greedy) and detokenized as the run's BLEU hypotheses. Without --beam/--lenpen the
        run's own settings (stored in the file) are used.

        With --ref the sacreBLEU line of the translations against that reference file (one line per input line,
        scored with the run's recipe: 13a, or tokenized BLEU for iwslt14-mini) is printed on stderr, so stdout stays
        the translations.
        """)

    @Option(help: "Model file (.h5) with its vocabulary.", completion: .file(extensions: ["h5"])) var model: String
    @Option(help: "Beam size (1 = greedy; default: the run's).") var beam: Int?
    @Option(help: "Length penalty (fairseq --lenpen; default: the run's).", transform: finiteDouble) var lenpen: Double?
    @Option(help: "Reference file (raw text, one line per input line): print the BLEU line on stderr.", completion: .file()) var ref: String?
    @Option(name: .customLong("to"), help: "Target language (multilingual models only).") var targetLanguage: String?
    @Option(name: [.customLong("input"), .customShort("i")], help: "Input file (default: stdin).", completion: .file()) var input: String?
    @Option(name: [.customLong("output"), .customShort("o")], help: "Output file (default: stdout).") var output: String?
    @Option(help: "Sentences decoded together.") var batchSentences = 32

    func validate() throws {
        if let b = beam, b < 1 { throw ValidationError("--beam must be at least 1 (1 = greedy)") }
        if batchSentences < 1 { throw ValidationError("--batch-sentences must be at least 1") }
        try requireNonEmptyPath(output, flag: "output")
    }

    func run() throws {
        do {
            let lines = try readInput()
            guard !lines.isEmpty else {
                throw PlainError("empty input: \(input ?? "stdin") has no lines to translate (one sentence per line)")
            }
            var refs: [String]? = nil
            if let r = ref {
                let rl = try TextIO.readLines(r).map { PythonText.string(PythonText.rstrip(PythonText.scalars($0))) }
                guard rl.count == lines.count else {
                    throw PlainError("--ref \(r) has \(rl.count) lines but the input has \(lines.count)")
                }
                refs = rl
            }
            let (net, codec, info) = try ModelFile.load(URL(fileURLWithPath: model))
            let options = ModelFile.searchOptions(info: info, model: net.config, beam: beam, lenpen: lenpen)
            let encoded = try lines.map { try codec.encodeSource($0, targetLanguage: targetLanguage) }
            let (sources, cut) = RunAdmission.decodableSources(encoded, model: net.config)
            if cut > 0 {
                FileHandle.standardError.write(Data("note: \(cut) input line(s) longer than the model's \(RunAdmission.decoderSourceLimit(net.config)) source tokens were cut\n".utf8))
            }
            let hyps = try Translator.translate(model: net, sources: sources, options: options, greedy: options.beamSize == 1,
                                                batchSentences: batchSentences)
            let texts = hyps.map { codec.detokenize($0.tokensWithoutEOS) }
            let out = Data((texts.joined(separator: "\n") + "\n").utf8)
            if let o = output { try AtomicFile.write(out, to: URL(fileURLWithPath: o)) } else { FileHandle.standardOutput.write(out) }
            if let refs {
                let tok = BLEUTokenization(rawValue: info.bleuTokenize ?? "13a") ?? .mteval13a
                let bleu = SacreBLEU(tok.scoringOptions)
                let r = try bleu.corpusStatistics(hypotheses: texts, references: [refs.map { Optional($0) }])
                let search = options.beamSize == 1 ? "greedy" : "beam \(options.beamSize), lenpen \(options.lenPenalty)"
                FileHandle.standardError.write(Data((r.score.formatted(width: 2, signature: bleu.signature(nrefs: r.nrefs)) + "  (\(texts.count) sentences, \(search))\n").utf8))
            }
        } catch let e as ExitCode {
            throw e
        } catch {
            throw engineFail(error)
        }
    }

    /// Lines of the input (strict UTF-8, LF lines, a trailing CR removed as the corpus reader does).
    func readInput() throws -> [String] {
        let bytes: [UInt8]
        if let p = input { bytes = try TextIO.readRawBytes(p) } else { bytes = Array(FileHandle.standardInput.readDataToEndOfFile()) }
        return try TextIO.decodeLines(bytes, name: input ?? "stdin").map { $0.hasSuffix("\r") ? String($0.dropLast()) : $0 }
    }
}

struct InspectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect",
        abstract: "Print what a model file, a training checkpoint or a run result file holds: settings, parameters, provenance.")

    @Argument(help: "An .h5 file: a model (--save-model / --keep-models), a checkpoint, or results/*/runs/<id>.h5.", completion: .file(extensions: ["h5"])) var path: String

    func run() throws {
        do {
            let url = URL(fileURLWithPath: path)
            let f = try HDF5File.open(url, mode: .readOnly)
            let schema = try f.stringAttribute("schema")
            if schema == ResultSchema.name {
                f.close()
                try printRun(try ResultStore.readRunFile(url))
                return
            }
            defer { f.close() }
            try printCheckpoint(f)
        } catch let e as ExitCode {
            throw e
        } catch {
            throw engineFail(error)
        }
    }

    func row(_ k: String, _ v: String) { print("\(k.count < 22 ? k.padding(toLength: 22, withPad: " ", startingAt: 0) : k) \(v)") }

    func printCheckpoint(_ f: HDF5File) throws {
        let (config, fromFile) = try Checkpoint.readConfig(f)
        let info = try ModelFile.readInfo(f)
        let hasVocab = f.kind(of: ModelFile.vocabGroup) == .group
        let kind: String
        if let k = info.kind { kind = "model (\(k))" + (hasVocab ? ", with vocabulary" : ", no vocabulary") }
        else if f.kind(of: "trainer") == .group || f.kind(of: "optimizer") == .group { kind = "training checkpoint" + (f.kind(of: "run") == .group ? " of a run" : "") }
        else if fromFile.isEmpty { kind = "state_dict without model settings" }
        else { kind = "checkpoint (parameters)" }
        row("file", f.displayName)
        row("kind", kind)
        if let fmt = try f.stringAttribute("format") { row("format", "\(fmt) \(try f.intAttribute("format_version").map(String.init) ?? "")") }
        if let s = try f.intAttribute("step") { row("step", "\(s)") }
        if let v = info.validLoss { row("valid nll", String(format: "%.4f", v)) }
        let params = (try? MemoryEstimate.estimate(config, MemoryWorkload(backward: false)).parameterCount).map { Int($0) }
        row("parameters", params.map { "\($0) (\($0 * 4) bytes as float32)" } ?? "?")
        print("settings:")
        for (k, v) in Checkpoint.attributeValues(config) {
            let shown: String
            switch v { case .string(let s): shown = s; default: shown = "\(v)" }
            row("  " + k, shown + (fromFile.contains(k) ? "" : "  (default; not in the file)"))
        }
        if hasVocab {
            let codec = try ModelFile.readCodec(f)
            print("vocabulary:")
            row("  dictionary", codec.sourceVocabulary == codec.targetVocabulary ? "\(codec.sourceVocabulary.count) (joint)" : "\(codec.sourceVocabulary.count) source / \(codec.targetVocabulary.count) target")
            row("  BPE merges", codec.sourceBPE == codec.targetBPE ? "\(codec.sourceBPE.merges.count) (joint)" : "\(codec.sourceBPE.merges.count) / \(codec.targetBPE.merges.count)")
            if codec.multilingual { row("  languages", codec.languages.joined(separator: " ")) }
        }
        if info.runID != nil || info.gitCommit != nil {
            print("provenance:")
            if let r = info.runID { row("  run id", r) }
            if let d = info.dataSet { row("  data", "\(d) \(info.sourceLanguage ?? "?")→\(info.targetLanguage ?? "?")") }
            if let g = info.gitCommit { row("  git commit", g + (info.gitDirty == true ? " (dirty)" : "")) }
            if let b = info.beam { row("  run's decoding", "beam \(b), lenpen \(info.lenpen.map { "\($0)" } ?? "?"), max len \(info.maxLenA.map { "\($0)" } ?? "?")·|src| + \(info.maxLenB.map(String.init) ?? "?"), BLEU tok \(info.bleuTokenize ?? "?")") }
            if let e = try f.stringAttribute("engine_numerics_version") { row("  engine numerics", e) }
            if let s = try f.stringAttribute("saved_at") { row("  saved", s) }
            if let j = info.runConfigJSON { row("  run config", j) }
        }
    }

    func printRun(_ r: RunRecord) throws {
        row("file", path)
        row("kind", "run result (\(ResultSchema.name) v\(ResultSchema.version))")
        row("run id", r.runID)
        row("status", r.status.rawValue + (r.divergedAtStep.map { " at step \($0)" } ?? "") + (r.message.map { " (\($0))" } ?? ""))
        let m = r.config.model
        row("model", "\(r.config.task.rawValue) \(m.encoderLayers)L-\(m.decoderLayers)L \(m.embedDim)-\(m.ffnDim)-\(m.heads) \(m.method), vocabulary \(m.vocabSize) (configured)")
        row("data", "\(r.config.data.dataset) \(r.config.data.sourceLanguage)→\(r.config.data.targetLanguage) (fingerprint \(r.dataFingerprint.prefix(16)))")
        let n = r.metrics.parameters
        if n > 0 { row("parameters", "\(n) (\(n * 4) bytes as float32)") }
        row("steps", "\(r.metrics.stepsCompleted) of \(r.config.training.steps)")
        if let v = r.metrics.validLoss { row("valid nll", String(format: "%.4f (best %.4f)", v, r.metrics.bestValidLoss ?? v)) }
        if let b = r.metrics.bleu { row("BLEU", String(format: "%.2f  %@", b, r.metrics.bleuSignature ?? "")) }
        row("wall", String(format: "%.1f s", r.metrics.wallSeconds))
        print("provenance:")
        let p = r.provenance
        row("  git commit", p.gitCommit + (p.gitDirty ? " (dirty)" : ""))
        row("  engine numerics", r.engineNumericsVersion)
        row("  threads", p.threads)
        row("  cpu", p.cpuModel)
        row("  start / end", "\(p.startTime) / \(p.endTime)" + (p.resumedCount > 0 ? " (resumed \(p.resumedCount)×)" : ""))
        row("  run config", r.config.canonicalJSON().canonical)
    }
}
