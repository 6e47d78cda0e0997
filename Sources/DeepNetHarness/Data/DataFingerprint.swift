// Data fingerprints and BLEU tokenization of a run's data, both from DeepNetData's definition of the data set.
import DeepNetData
import Foundation

public enum DataGlue {
    nonisolated(unsafe) private static var cache: [String: String] = [:]
    private static let lock = NSLockShim()

    /// The BLEU tokenization (`DecodeSpec.bleuTokenize`) that the data set's scoring recipe declares.
    public static func bleuTokenize(for name: DataSetName) -> BLEUTokenization {
        switch (try? DataSetRegistry.spec(named: name))?.scoring ?? .sacreBLEU13a {
        case .tokenizedBLEU: return .tokenized
        case .sacreBLEU13a: return .mteval13a
        }
    }

    /// DeepNetData's fingerprint of the data set as this run selects it (definition, options, the bytes of every
    /// file read), computed once per selection and process. A data set that cannot be loaded here (no data folder,
    /// or one of the paper's corpora) gets a stable "unavailable-" id so that a dry run can still plan it.
    public static func fingerprint(_ spec: DataSpec, dataRoot: URL?) throws -> String {
        var h = SHA256()
        h.update("pipeline=\(deepNetDataVersion);data=\(String(decoding: try JSONEncoder.sorted.encode(spec), as: UTF8.self))")
        let def = DataSetRegistry.standard.definition(named: spec.dataset.rawValue)
        if def?.load == nil || (def?.spec.needsFiles == true && dataRoot == nil) { return "unavailable-" + h.hexDigest() }
        let (options, _) = try DataFactory.dataSetOptions(spec)   // a direction the data set lacks fails here, at planning
        let key = h.hexDigest() + (dataRoot?.path ?? "")
        return try lock.run {
            if let f = cache[key] { return f }
            let ds = try DataSetRegistry.load(spec.dataset, options: options, dataDirectory: dataRoot?.path)
            let f = "\(spec.dataset)-" + ds.fingerprint
            cache[key] = f
            return f
        }
    }
}

extension JSONEncoder {
    /// Keys sorted: the same value always encodes to the same bytes.
    static var sorted: JSONEncoder { let e = JSONEncoder(); e.outputFormatting = [.sortedKeys]; return e }
}
