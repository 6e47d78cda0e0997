// Compares two result files dataset by dataset: the check behind "a resumed run is the same run" (tests, the kill
// test's `deepnet compare-results`). Everything must be equal — every dataset's type, shape and values (bitwise,
// NaN equal to NaN) and every attribute — except what only records where and how a run ran: the /provenance group
// and the time and memory metrics.
import Foundation
import HDF5Store

public enum ResultComparison {
    /// Attributes of /metrics that measure the machine (time, memory), not results: the memory estimate includes
    /// the process's resident size when the run started, which differs between a fresh and a resumed process.
    public static let timingMetrics: Set<String> = ["wall_seconds", "decode_seconds", "memory_estimate_bytes", "peak_rss_bytes"]
    /// Groups that record provenance (git commit, thread count, start/end time, resume count).
    public static let provenanceGroups: Set<String> = ["provenance"]

    /// Differences between two result files, one line each ("" paths are the root); empty when equal.
    public static func differences(_ a: URL, _ b: URL) throws -> [String] {
        let fa = try HDF5File.open(a, mode: .readOnly), fb = try HDF5File.open(b, mode: .readOnly)
        defer { fa.close(); fb.close() }
        var out: [String] = []
        try compareGroup("/", fa, fb, into: &out)
        return out
    }

    static func compareGroup(_ g: String, _ fa: HDF5File, _ fb: HDF5File, into out: inout [String]) throws {
        try compareAttributes(g, fa, fb, into: &out)
        let ca = Set(try fa.children(of: g)), cb = Set(try fb.children(of: g))
        for name in ca.symmetricDifference(cb).sorted() { out.append("\(join(g, name)): only in \(ca.contains(name) ? "first" : "second") file") }
        for name in ca.intersection(cb).sorted() {
            let p = join(g, name)
            if g == "/" && provenanceGroups.contains(name) { continue }
            let ka = fa.kind(of: p), kb = fb.kind(of: p)
            guard ka == kb else { out.append("\(p): a \(String(describing: ka)) vs a \(String(describing: kb))"); continue }
            if ka == .group { try compareGroup(p, fa, fb, into: &out) } else { try compareDataset(p, fa, fb, into: &out) }
        }
    }

    static func compareAttributes(_ p: String, _ fa: HDF5File, _ fb: HDF5File, into out: inout [String]) throws {
        let na = Set(try fa.attributeNames(on: p)), nb = Set(try fb.attributeNames(on: p))
        let skip = p == "/metrics" ? timingMetrics : []
        for n in na.symmetricDifference(nb).sorted() where !skip.contains(n) {
            out.append("\(p) @\(n): only in \(na.contains(n) ? "first" : "second") file")
        }
        for n in na.intersection(nb).sorted() where !skip.contains(n) {
            let va = try fa.attribute(n, on: p), vb = try fb.attribute(n, on: p)
            if !same(va, vb) { out.append("\(p) @\(n): \(va.map(\.description) ?? "?") vs \(vb.map(\.description) ?? "?")") }
        }
    }

    static func compareDataset(_ p: String, _ fa: HDF5File, _ fb: HDF5File, into out: inout [String]) throws {
        try compareAttributes(p, fa, fb, into: &out)
        let ta = try fa.dataType(of: p), tb = try fb.dataType(of: p)
        guard ta == tb else { out.append("\(p): type \(ta) vs \(tb)"); return }
        let sa = try fa.shape(of: p), sb = try fb.shape(of: p)
        guard sa == sb else { out.append("\(p): shape \(sa) vs \(sb)"); return }
        if ta.contains("string") {
            let a = try fa.readStrings(at: p).values, b = try fb.readStrings(at: p).values
            if let i = a.indices.first(where: { a[$0] != b[$0] }) { out.append("\(p)[\(i)]: \"\(a[i])\" vs \"\(b[i])\"") }
        } else if ta.hasPrefix("float") {
            let a = try fa.readDoubles(at: p).values, b = try fb.readDoubles(at: p).values
            let bad = a.indices.filter { !(a[$0].bitPattern == b[$0].bitPattern || (a[$0].isNaN && b[$0].isNaN)) }
            if let i = bad.first {
                let worst = bad.map { abs(a[$0] - b[$0]) }.max() ?? 0
                out.append("\(p): \(bad.count) of \(a.count) values differ (first [\(i)]: \(a[i]) vs \(b[i]); max |Δ| \(worst))")
            }
        } else {
            let a = try fa.readInt64s(at: p).values, b = try fb.readInt64s(at: p).values
            if let i = a.indices.first(where: { a[$0] != b[$0] }) { out.append("\(p)[\(i)]: \(a[i]) vs \(b[i])") }
        }
    }

    static func same(_ a: HDF5AttributeValue?, _ b: HDF5AttributeValue?) -> Bool {
        switch (a, b) {
        case (.double(let x)?, .double(let y)?): return x.bitPattern == y.bitPattern || (x.isNaN && y.isNaN)
        case (.doubles(let x)?, .doubles(let y)?):
            return x.count == y.count && zip(x, y).allSatisfy { $0.bitPattern == $1.bitPattern || ($0.isNaN && $1.isNaN) }
        default: return a == b
        }
    }

    static func join(_ g: String, _ n: String) -> String { g == "/" ? "/" + n : g + "/" + n }
}
