// Raw text ↔ token ids for a trained model, without the corpus: the BPE codes and dictionaries a run learned, in a
// form that can be stored beside the model's parameters (`deepnet translate` needs nothing else).
import Foundation

/// The text side of a trained model: pre-tokenizer + BPE + dictionary, both sides. Encoding and decoding are exactly
/// `PreparedData.encodeSource` / `PreparedData.detokenize` (the functions a run's test set and BLEU hypotheses go
/// through).
public struct TextCodec: Sendable, Equatable {
    public var sourceBPE: BPE
    public var targetBPE: BPE
    public var sourceVocabulary: Vocabulary
    public var targetVocabulary: Vocabulary
    /// Multilingual models read a target-language tag before the source (`encodeSource(_:targetLanguage:)`).
    public var multilingual: Bool
    /// Version of the pre-tokenizer the codes were learned after (part of `PreprocessOptions.summary`).
    public static let preTokenizer = "joiner-v1"

    public init(sourceBPE: BPE, targetBPE: BPE, sourceVocabulary: Vocabulary, targetVocabulary: Vocabulary, multilingual: Bool) {
        self.sourceBPE = sourceBPE; self.targetBPE = targetBPE
        self.sourceVocabulary = sourceVocabulary; self.targetVocabulary = targetVocabulary
        self.multilingual = multilingual
    }

    /// Raw text → source ids (no EOS). For a multilingual model the tag of `targetLanguage` comes first (an unknown
    /// language is an error naming the known ones).
    public func encodeSource(_ raw: String, targetLanguage: String? = nil) throws -> [Int32] {
        var cache: [String: [String]] = [:]
        var ids = sourceVocabulary.encode(sourceBPE.apply(PreTokenizer.tokenize(raw), cache: &cache))
        if multilingual {
            guard let lang = targetLanguage else {
                throw DataError.invalidArgument("this model is multilingual: name the target language (one of \(languages.joined(separator: ", ")))")
            }
            guard let tag = sourceVocabulary.languageTagIndex(lang) else {
                throw DataError.invalidArgument("unknown target language '\(lang)'; the model knows \(languages.joined(separator: ", "))")
            }
            ids.insert(tag, at: 0)
        }
        return ids
    }

    /// Languages with a tag in the source dictionary (multilingual models).
    public var languages: [String] {
        sourceVocabulary.languageTags.map { String($0.dropFirst(2).dropLast(2)) }
    }

    /// Model output ids → raw text (stops at EOS, drops specials and tags, removes BPE, undoes the pre-tokenizer).
    public func detokenize(_ ids: [Int32]) -> String {
        PreTokenizer.detokenize(BPE.remove(tokens: targetVocabulary.decode(ids)))
    }

    // MARK: stored form

    /// The four texts the codec is stored as: BPE codes files and fairseq dict.txt files.
    public var texts: (sourceCodes: String, targetCodes: String, sourceDict: String, targetDict: String) {
        (sourceBPE.codesText, targetBPE.codesText, sourceVocabulary.dictText(), targetVocabulary.dictText())
    }

    /// Parses the stored form (`texts`); `name` names the file in errors.
    public static func parse(sourceCodes: String, targetCodes: String, sourceDict: String, targetDict: String,
                             multilingual: Bool, name: String) throws -> TextCodec {
        func lines(_ s: String) -> [String] {
            var l = ByteString.split(s, on: 0x0A, omittingEmpty: false)
            if l.last == "" { l.removeLast() }
            return l
        }
        return TextCodec(sourceBPE: try BPE.parse(lines(sourceCodes), name: name + " (source BPE codes)"),
                         targetBPE: try BPE.parse(lines(targetCodes), name: name + " (target BPE codes)"),
                         sourceVocabulary: try Vocabulary.parse(lines(sourceDict), name: name + " (source dictionary)"),
                         targetVocabulary: try Vocabulary.parse(lines(targetDict), name: name + " (target dictionary)"),
                         multilingual: multilingual)
    }
}

extension PreparedData {
    /// The codec of this preprocessing (what a saved model needs to translate raw text).
    public var codec: TextCodec {
        TextCodec(sourceBPE: sourceBPE, targetBPE: targetBPE, sourceVocabulary: sourceVocabulary,
                  targetVocabulary: targetVocabulary, multilingual: dataSet.spec.multilingual)
    }
}
