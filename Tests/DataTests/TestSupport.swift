import Foundation
import XCTest

/// Locating the shared data. DEEPNET_DATA wins; for the BLEU fixture only, `../shared/data` next to the
/// package root (found from this file's path) is used when DEEPNET_DATA is unset.
enum TestData {
    static var env: String? {
        guard let d = ProcessInfo.processInfo.environment["DEEPNET_DATA"], !d.isEmpty else { return nil }
        return d
    }

    /// Package root = two levels above Tests/DataTests/.
    static var packageRoot: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    }

    /// Data directory for the corpus tests: DEEPNET_DATA or skip.
    static func requireDataDir() throws -> String {
        guard let d = env else { throw XCTSkip("DEEPNET_DATA is not set; skipping a test that needs the real corpora") }
        return d
    }

    /// bleu_vectors.json: $DEEPNET_DATA/bleu_vectors.json, else <package root>/../shared/data/bleu_vectors.json.
    static func bleuVectorsPath() throws -> String {
        if let d = env {
            let p = d + "/bleu_vectors.json"
            if FileManager.default.fileExists(atPath: p) { return p }
        }
        let p = packageRoot.deletingLastPathComponent().appendingPathComponent("shared/data/bleu_vectors.json").path
        if FileManager.default.fileExists(atPath: p) { return p }
        throw XCTSkip("bleu_vectors.json not found (DEEPNET_DATA unset or without it, and no ../shared/data next to the package)")
    }

    static func bleuVectors() throws -> [String: Any] {
        let data = try Data(contentsOf: URL(fileURLWithPath: try bleuVectorsPath()))
        return try JSONSerialization.jsonObject(with: data) as! [String: Any]
    }

    static func tempDir(_ name: String = #function) -> String {
        let d = NSTemporaryDirectory() + "deepnet-data-tests-\(ProcessInfo.processInfo.processIdentifier)-\(name.filter { $0.isLetter || $0.isNumber })-\(UInt32.random(in: 0...UInt32.max))"
        try? FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true)
        return d
    }
}

func num(_ a: Any?) -> Double { (a as? NSNumber)?.doubleValue ?? Double.nan }
