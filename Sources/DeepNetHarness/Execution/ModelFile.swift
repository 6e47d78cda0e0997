// A trained model kept as one file: the engine's HDF5 checkpoint (parameters + model settings, loadable as a
// torchscale state_dict with h5py) plus everything needed to translate raw text with it (the run's BPE codes and
// dictionaries, the search settings of its BLEU decoding, the BLEU recipe) and its provenance (run id, run
// configuration, git commit).
//
// Layout (on top of Checkpoint.swift's "deepnet-checkpoint" format):
//   /vocab/source_bpe_codes, /vocab/target_bpe_codes    strings: subword-nmt codes files ("#version: 0.2" + merges)
//   /vocab/source_dict, /vocab/target_dict              strings: fairseq dict.txt (4 specials implied)
//   /vocab attributes                                   multilingual (0/1), pretokenizer, source_vocab_size,
//                                                       target_vocab_size
//   root attributes                                     deepnet_model = "final" | "best-valid", run_id, run_config_json,
//                                                       git_commit, git_dirty, data_set, source_language,
//                                                       target_language, data_fingerprint, step, valid_loss, beam,
//                                                       lenpen, max_len_a, max_len_b, bleu_tokenize, saved_at
import DeepNetData
import DeepNetEngine
import Foundation
import HDF5Store

/// A model file that cannot be used as asked (no vocabulary, a vocabulary that does not fit the model, …).
public struct ModelFileError: Error, CustomStringConvertible, Sendable {
    public var file: String
    public var message: String
    public init(file: String, message: String) { self.file = file; self.message = message }
    public var description: String { "\(file): \(message)" }
}

/// Where a run writes its models (`RunSpec.models`; not part of the run's configuration or id).
public struct ModelOutput: Codable, Sendable, Equatable {
    /// The model after the last step.
    public var final: String
    /// The model of the lowest validation loss so far (nil: not kept).
    public var best: String?
    public init(final: String, best: String? = nil) { self.final = final; self.best = best }

    /// `path` with ".best" before its extension: m.h5 → m.best.h5.
    public static func bestPath(for path: String) -> String {
        let u = URL(fileURLWithPath: path)
        let ext = u.pathExtension
        let base = ext.isEmpty ? path : String(path.dropLast(ext.count + 1))
        return base + ".best" + (ext.isEmpty ? ".h5" : "." + ext)
    }
}

/// What a model file says about itself besides its parameters.
public struct ModelFileInfo: Sendable {
    public var kind: String?
    public var runID: String?
    public var runConfigJSON: String?
    public var gitCommit: String?
    public var gitDirty: Bool?
    public var dataSet: String?
    public var sourceLanguage: String?
    public var targetLanguage: String?
    public var step: Int?
    public var validLoss: Double?
    /// The run's BLEU decoding: beam (1 = greedy), length penalty, max length a·|src| + b, BLEU tokenization.
    public var beam: Int?
    public var lenpen: Double?
    public var maxLenA: Double?
    public var maxLenB: Int?
    public var bleuTokenize: String?
}

public enum ModelFile {
    public static let vocabGroup = "vocab"

    /// Writes `model` with its codec and provenance atomically (temporary file + fsync + rename).
    public static func save(_ model: TransformerModel, codec: TextCodec, to url: URL, kind: String, runID: String,
                            config: RunConfig, gitCommit: String, gitDirty: Bool, dataFingerprint: String,
                            step: Int, validLoss: Double?) throws {
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        let modelRows = model.config.vocabSize
        guard codec.targetVocabulary.count == modelRows, codec.sourceVocabulary.count == modelRows else {
            throw ModelFileError(file: url.relativePath, message: "vocabulary sizes \(codec.sourceVocabulary.count)/\(codec.targetVocabulary.count) differ from the model's \(modelRows) embedding rows; not written")
        }
        var attrs: [String: HDF5AttributeValue] = [
            "deepnet_model": .string(kind), "run_id": .string(runID), "run_config_json": .string(config.canonicalJSON().canonical),
            "git_commit": .string(gitCommit), "git_dirty": .int(gitDirty ? 1 : 0), "data_set": .string(config.data.dataset.rawValue),
            "source_language": .string(config.data.sourceLanguage), "target_language": .string(config.data.targetLanguage),
            "data_fingerprint": .string(dataFingerprint), "beam": .int(config.decode.beam), "lenpen": .double(config.decode.lengthPenalty),
            "max_len_a": .double(config.decode.maxLengthA), "max_len_b": .int(config.decode.maxLengthB),
            "bleu_tokenize": .string(config.decode.bleuTokenize.rawValue), "saved_at": .string(Provenance.now()),
        ]
        if let v = validLoss { attrs["valid_loss"] = .double(v) }
        try Checkpoint.save(model, to: url, step: step, attributes: attrs) { f in try write(codec, to: f) }
    }

    /// Writes the codec into group `vocab` of an open file.
    public static func write(_ codec: TextCodec, to f: HDF5File) throws {
        try f.createGroup(vocabGroup)
        let t = codec.texts
        try f.writeString(t.sourceCodes, at: vocabGroup + "/source_bpe_codes")
        try f.writeString(t.targetCodes, at: vocabGroup + "/target_bpe_codes")
        try f.writeString(t.sourceDict, at: vocabGroup + "/source_dict")
        try f.writeString(t.targetDict, at: vocabGroup + "/target_dict")
        try f.setAttribute("multilingual", .int(codec.multilingual ? 1 : 0), on: vocabGroup)
        try f.setAttribute("pretokenizer", .string(TextCodec.preTokenizer), on: vocabGroup)
        try f.setAttribute("source_vocab_size", .int(codec.sourceVocabulary.count), on: vocabGroup)
        try f.setAttribute("target_vocab_size", .int(codec.targetVocabulary.count), on: vocabGroup)
    }

    /// Reads the codec of an open file. Errors: no `vocab` group, an unknown pre-tokenizer, unparsable codes.
    public static func readCodec(_ f: HDF5File) throws -> TextCodec {
        let name = f.displayName
        guard f.kind(of: vocabGroup) == .group else {
            throw ModelFileError(file: name, message: "has no vocabulary (group /\(vocabGroup)): it holds parameters only, so raw text cannot be encoded for it. Models written by `deepnet train --save-model` or `deepnet run --keep-models` carry their BPE codes and dictionaries")
        }
        if let p = try f.stringAttribute("pretokenizer", on: vocabGroup), p != TextCodec.preTokenizer {
            throw ModelFileError(file: name, message: "vocabulary uses pre-tokenizer '\(p)', this build has '\(TextCodec.preTokenizer)'")
        }
        func text(_ k: String) throws -> String {
            guard f.kind(of: vocabGroup + "/" + k) == .dataset else {
                throw ModelFileError(file: name, message: "vocabulary group lacks '\(vocabGroup)/\(k)'")
            }
            return try f.readString(at: vocabGroup + "/" + k)
        }
        return try TextCodec.parse(sourceCodes: try text("source_bpe_codes"), targetCodes: try text("target_bpe_codes"),
                                   sourceDict: try text("source_dict"), targetDict: try text("target_dict"),
                                   multilingual: (try f.intAttribute("multilingual", on: vocabGroup) ?? 0) != 0, name: name)
    }

    /// The model-file attributes of an open file (all nil for a plain checkpoint).
    public static func readInfo(_ f: HDF5File) throws -> ModelFileInfo {
        var i = ModelFileInfo()
        i.kind = try f.stringAttribute("deepnet_model")
        i.runID = try f.stringAttribute("run_id")
        i.runConfigJSON = try f.stringAttribute("run_config_json")
        i.gitCommit = try f.stringAttribute("git_commit")
        i.gitDirty = try f.intAttribute("git_dirty").map { $0 != 0 }
        i.dataSet = try f.stringAttribute("data_set")
        i.sourceLanguage = try f.stringAttribute("source_language")
        i.targetLanguage = try f.stringAttribute("target_language")
        i.step = try f.intAttribute("step")
        i.validLoss = try f.doubleAttribute("valid_loss")
        i.beam = try f.intAttribute("beam")
        i.lenpen = try f.doubleAttribute("lenpen")
        i.maxLenA = try f.doubleAttribute("max_len_a")
        i.maxLenB = try f.intAttribute("max_len_b")
        i.bleuTokenize = try f.stringAttribute("bleu_tokenize")
        return i
    }

    /// Loads a model file for translation: the model (settings from its attributes, parameters strictly), its codec
    /// and its attributes. Errors name the file: no vocabulary, a vocabulary whose size is not the model's number of
    /// embedding rows, a model that is not an encoder–decoder.
    public static func load(_ url: URL) throws -> (model: TransformerModel, codec: TextCodec, info: ModelFileInfo) {
        let f = try HDF5File.open(url, mode: .readOnly)
        defer { f.close() }
        let name = f.displayName
        if let schema = try f.stringAttribute("schema") {
            throw ModelFileError(file: name, message: "is a \(schema) file (a run's results), not a model; `deepnet run --keep-models` or `deepnet train --save-model` keep models")
        }
        let codec = try readCodec(f)
        let (config, _) = try Checkpoint.readConfig(f)
        guard config.architecture == .encoderDecoder else {
            throw ModelFileError(file: name, message: "is a \(config.architecture.rawValue) model; translation needs an encoder-decoder")
        }
        for (side, v) in [("source", codec.sourceVocabulary), ("target", codec.targetVocabulary)] where v.count != config.vocabSize {
            throw ModelFileError(file: name, message: "vocabulary mismatch: the \(side) dictionary has \(v.count) entries but the model's embedding has \(config.vocabSize) rows (vocab_size); the vocabulary does not belong to these parameters")
        }
        try Checkpoint.checkTensors(f, against: config)
        let model = try TransformerModel(config: config, seed: 0)
        try Checkpoint.load(into: model, from: f, strict: true)
        return (model, codec, try readInfo(f))
    }

    /// Search settings: the run's (stored in the file) unless overridden; the same construction as the run's BLEU
    /// decoding (`RunAdmission.searchOptions`).
    public static func searchOptions(info: ModelFileInfo, model: ModelConfig, beam: Int?, lenpen: Double?) -> SearchOptions {
        var d = DecodeSpec()
        d.beam = beam ?? info.beam ?? d.beam
        d.lengthPenalty = lenpen ?? info.lenpen ?? d.lengthPenalty
        d.maxLengthA = info.maxLenA ?? d.maxLengthA
        d.maxLengthB = info.maxLenB ?? d.maxLengthB
        var c = RunConfig()
        c.decode = d
        return RunAdmission.searchOptions(c, model: model)
    }
}
