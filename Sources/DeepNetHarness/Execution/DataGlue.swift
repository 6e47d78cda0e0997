// Data fingerprints: content hashes of exactly the files a run reads, plus the data pipeline version.
import DeepNetData
import Foundation

public enum DataGlue {
    nonisolated(unsafe) private static var cache: [String: String] = [:]
    private static let lock = NSLockShim()

    /// The BLEU tokenization (`DecodeSpec.bleuTokenize`) that the data registry's scoring recipe declares for a
    /// harness data set name, or nil when the registry does not describe it (e.g. the paper profile's WMT sets).
    /// The harness's `tatoeba` is the registry's `tatoeba-multi`.
    public static func bleuTokenize(forDataset name: String) -> String? {
        let registryName = name == "tatoeba" ? "tatoeba-multi" : name
        guard let spec = try? DataSetRegistry.spec(named: registryName) else { return nil }
        switch spec.scoring {
        case .tokenizedBLEU: return "none"
        case .sacreBLEU13a: return "13a"
        }
    }

    /// `synthetic`: defined by its generator (task, vocabulary, languages) and the pipeline version.
    /// Real data sets: SHA-256 over the bytes of every file read, in a fixed order.
    public static func fingerprint(_ spec: DataSpec, dataRoot: URL?) throws -> String {
        var h = SHA256()
        h.update("pipeline=\(deepNetDataVersion);harness-data=1;dataset=\(spec.dataset);src=\(spec.sourceLanguage);tgt=\(spec.targetLanguage)")
        // synthetic-v2: translation uses DeepNetData's embedded language pair (v1 was the harness's own).
        if spec.dataset == "synthetic" { h.update(";synthetic-v2"); return "synthetic-" + h.hexDigest() }
        guard let root = dataRoot else {
            // Not available here (e.g. the paper profile's WMT data): the id is still stable for a dry run.
            return "unavailable-" + h.hexDigest()
        }
        let files: [String]
        do { files = try RealData.files(spec) } catch { return "unavailable-" + h.hexDigest() }
        for f in files {
            let path = root.appendingPathComponent(f).path
            let key = path
            let fileHash: String = try lock.run {
                if let c = cache[key] { return c }
                guard let data = FileManager.default.contents(atPath: path) else {
                    throw DataUnavailable(message: "missing data file \(path)")
                }
                let d = SHA256.hash([UInt8](data))
                cache[key] = d
                return d
            }
            h.update("\(f)=\(fileHash);")
        }
        return spec.dataset + "-" + h.hexDigest()
    }
}
