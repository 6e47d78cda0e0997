// Data fingerprints and BLEU tokenization of a run's data, both from DeepNetData's definition of the data set.
import DeepNetData
import Foundation

public enum DataGlue {
    /// The BLEU tokenization (`DecodeSpec.bleuTokenize`) that the data set's scoring recipe declares.
    public static func bleuTokenize(for name: DataSetName) -> BLEUTokenization {
        switch (try? DataSetRegistry.spec(named: name))?.scoring ?? .sacreBLEU13a {
        case .tokenizedBLEU: return .tokenized
        case .sacreBLEU13a: return .mteval13a
        }
    }

    /// The data part of a run's identity, computable with no data file present: SHA-256 of the data-pipeline
    /// version, the run's data settings (canonical JSON), the data set's name, its definition's settings and the
    /// SHA-256 of every file its definition declares (`DataSetDefinition.files`; the files are checked against
    /// those hashes when the run loads them). Synthetic data has no files: its definition is its identity. The
    /// paper's corpora, which this project does not have, get a stable "unavailable-" id (they cannot run, but a
    /// dry run can plan them). `dataRoot` is not used: the id is the same with and without the data folder.
    public static func fingerprint(_ spec: DataSpec, dataRoot: URL? = nil) throws -> String {
        var h = SHA256()
        h.update("pipeline=\(deepNetDataVersion);data=\(String(decoding: try JSONEncoder.sorted.encode(spec), as: UTF8.self))")
        guard let def = DataSetRegistry.standard.definition(named: spec.dataset.rawValue), def.load != nil else {
            return "unavailable-" + h.hexDigest()
        }
        let (options, _) = try DataFactory.dataSetOptions(spec)   // a direction the data set lacks fails here, at planning
        h.update(";declared=\(def.declaredFingerprint(options: options))")
        // Multilingual sets: the run validates round-robin over the directions and decodes evalSentences split
        // evenly over them, scoring BLEU per direction (DataFactory.make, MultilingualBLEU) — not what a run of the
        // same settings did before, so it is a different run.
        if def.spec.multilingual { h.update(";eval=per-direction-1") }
        return "\(spec.dataset)-" + h.hexDigest()
    }
}

extension JSONEncoder {
    /// Keys sorted: the same value always encodes to the same bytes.
    static var sorted: JSONEncoder { let e = JSONEncoder(); e.outputFormatting = [.sortedKeys]; return e }
}
