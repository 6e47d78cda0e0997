#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// fairseq's in-built tokenized BLEU (`fairseq/scoring/bleu.py` + `clib/libbleu/libbleu.cpp`):
/// corpus statistics over integer token ids, one reference, no smoothing, no effective order.
/// (libbleu matches n-grams through 64-bit FNV-1a hashes; exact n-gram equality is used here, which
/// differs only on a hash collision.)
public struct FairseqBLEU: Sendable {
    public var pad: Int32
    public var eos: Int32
    public var unk: Int32
    public private(set) var refLen = 0
    public private(set) var predLen = 0
    public private(set) var match = [0, 0, 0, 0]
    public private(set) var count = [0, 0, 0, 0]

    public init(pad: Int32 = Vocabulary.padIndex, eos: Int32 = Vocabulary.eosIndex, unk: Int32 = Vocabulary.unkIndex) {
        self.pad = pad; self.eos = eos; self.unk = unk
    }

    public mutating func reset() { refLen = 0; predLen = 0; match = [0, 0, 0, 0]; count = [0, 0, 0, 0] }

    /// `Scorer.add(ref, pred)`: reference unks never match (replaced by −999).
    public mutating func add(reference: [Int32], prediction: [Int32]) {
        let ref = FairseqBLEU.trim(reference.map { $0 == unk ? -999 : $0 }, pad: pad, eos: eos)
        let pred = FairseqBLEU.trim(prediction, pad: pad, eos: eos)
        refLen += ref.count
        predLen += pred.count
        for n in 1...4 {
            if pred.count < n { continue }
            count[n - 1] += pred.count - n + 1
            if ref.count < n { continue }
            var c: [NGram: Int] = [:]
            for i in 0...(pred.count - n) { c[NGram(pred[i..<(i + n)]), default: 0] += 1 }
            for i in 0...(ref.count - n) {
                let g = NGram(ref[i..<(i + n)])
                if let v = c[g], v > 0 { match[n - 1] += 1; c[g] = v - 1 }
            }
        }
    }

    /// `bleu_trim`: drop leading pads; drop trailing pad/eos but never position 0.
    static func trim(_ s: [Int32], pad: Int32, eos: Int32) -> [Int32] {
        var start = 0
        while start < s.count && s[start] == pad { start += 1 }
        let t = Array(s[start...])
        if t.isEmpty { return t }
        var end = t.count - 1
        while end > 0 && (t[end] == eos || t[end] == pad) { end -= 1 }
        return Array(t[0...end])
    }

    public var precisions: [Double] { (0..<4).map { count[$0] > 0 ? Double(match[$0]) / Double(count[$0]) : 0 } }

    /// `min(1, exp(1 - reflen/predlen))`; 0 when there is no prediction (fairseq would divide by zero).
    public var brevity: Double {
        guard predLen > 0 else { return 0 }
        return min(1, exp(1 - Double(refLen) / Double(predLen)))
    }

    /// `Scorer.score(order)`: 0–100, log(0) = −inf.
    public func score(order: Int = 4) -> Double {
        var psum = 0.0
        for p in precisions[0..<order] { psum += p > 0 ? log(p) : -Double.infinity }
        return brevity * exp(psum / Double(order)) * 100
    }

    /// `BLEU4 = 36.21, 78.6/58.3/30.0/12.5 (BP=1.000, ratio=1.000, syslen=14, reflen=14)`.
    public func resultString(order: Int = 4) -> String {
        let p = precisions[0..<order].map { PythonText.formatFixed($0 * 100, 1) }.joined(separator: "/")
        let ratio = refLen > 0 ? Double(predLen) / Double(refLen) : 0
        return "BLEU\(order) = \(PythonText.formatFixed(score(order: order), 2)), \(p) (BP=\(PythonText.formatFixed(brevity, 3)), ratio=\(PythonText.formatFixed(ratio, 3)), syslen=\(predLen), reflen=\(refLen))"
    }

    /// fairseq-score on strings: whitespace words mapped through a growing dictionary that starts
    /// with the four fairseq specials (`Dictionary.encode_line(..., add_if_not_exist=True)`, EOS appended).
    public static func scoreLines(hypotheses: [String], references: [String], lowercase: Bool = false) throws -> FairseqBLEU {
        guard hypotheses.count == references.count else {
            throw DataError.invalidArgument("\(hypotheses.count) hypotheses but \(references.count) references")
        }
        // Keys are scalar arrays: Python compares code points, not canonically-equivalent strings.
        var dict: [[UInt32]: Int32] = [PythonText.scalars("<s>"): 0, PythonText.scalars("<pad>"): 1,
                                       PythonText.scalars("</s>"): 2, PythonText.scalars("<unk>"): 3]
        func encode(_ line: String) -> [Int32] {
            var l = PythonText.scalars(line)
            if lowercase { l = PythonText.lower(l) }
            var ids: [Int32] = PythonText.split(l).map { tok in
                let w = Array(tok)
                if let v = dict[w] { return v }
                let v = Int32(dict.count); dict[w] = v; return v
            }
            ids.append(2)
            return ids
        }
        var s = FairseqBLEU()
        for (h, r) in zip(hypotheses, references) { s.add(reference: encode(r), prediction: encode(h)) }
        return s
    }
}
