// Greedy and beam-search decoding with the engine's full forward pass (no incremental state: each step
// re-runs the decoder on the prefix). Length penalty as fairseq: score / length^lenpen.
//
// GLUE: DeepNetData's StepDecoder/beam search is not available yet; switch to it when it lands.
import DeepNetEngine
import Foundation

enum SequenceDecoder {
    static func decode(model: TransformerModel, sources: [[Int32]], spec: DecodeSpec) throws -> [[Int32]] {
        spec.beam <= 1 ? try greedy(model: model, sources: sources, spec: spec) : try sources.map { try beam(model: model, source: $0, spec: spec) }
    }

    static func maxLen(_ src: Int, _ spec: DecodeSpec) -> Int { max(1, Int(spec.maxLengthA * Double(src)) + spec.maxLengthB) }

    /// Log-softmax of logit row `row` (vocabulary V).
    static func logSoftmax(_ logits: [Float], row: Int, v: Int) -> [Double] {
        var mx = -Double.infinity
        for j in 0..<v { mx = max(mx, Double(logits[row * v + j])) }
        var sum = 0.0
        for j in 0..<v { sum += exp(Double(logits[row * v + j]) - mx) }
        let lse = mx + log(sum)
        return (0..<v).map { Double(logits[row * v + $0]) - lse }
    }

    static func forward(_ model: TransformerModel, sources: [[Int32]], prefixes: [[Int32]]) throws -> [Float] {
        let b = sources.count
        let s = (sources.map(\.count).max() ?? 0) + 1
        let t = prefixes.map(\.count).max() ?? 1
        var src = [Int32](repeating: Tok.pad, count: b * s)
        var prev = [Int32](repeating: Tok.pad, count: b * t)
        var tgt = [Int32](repeating: Tok.pad, count: b * t)
        for i in 0..<b {
            for (j, v) in (sources[i] + [Tok.eos]).enumerated() { src[i * s + j] = v }
            for (j, v) in prefixes[i].enumerated() { prev[i * t + j] = v; tgt[i * t + j] = Tok.eos }
        }
        _ = try model.forward(TokenBatch(batchSize: b, sourceLength: s, targetLength: t, source: src, prevOutput: prev, target: tgt))
        return model.logits()
    }

    static func greedy(model: TransformerModel, sources: [[Int32]], spec: DecodeSpec) throws -> [[Int32]] {
        let v = model.config.vocabSize
        var out: [[Int32]] = []
        let chunk = 32
        var start = 0
        while start < sources.count {
            let srcs = Array(sources[start..<min(sources.count, start + chunk)])
            var prefixes = srcs.map { _ in [Tok.eos] }
            var done = srcs.map { _ in false }
            let limit = srcs.map { maxLen($0.count, spec) }
            var step = 0
            while done.contains(false) && step < (limit.max() ?? 1) {
                let logits = try forward(model, sources: srcs, prefixes: prefixes)
                let t = prefixes.map(\.count).max()!
                for i in 0..<srcs.count where !done[i] {
                    let row = i * t + prefixes[i].count - 1
                    var best: Int32 = Tok.eos, bv = -Float.infinity
                    for j in 0..<v where j != Int(Tok.pad) && j != Int(Tok.bos) {
                        let x = logits[row * v + j]
                        if x > bv { bv = x; best = Int32(j) }
                    }
                    if best == Tok.eos || prefixes[i].count >= limit[i] { done[i] = true } else { prefixes[i].append(best) }
                }
                step += 1
            }
            out += prefixes.map { Array($0.dropFirst()) }
            start += chunk
        }
        return out
    }

    static func beam(model: TransformerModel, source: [Int32], spec: DecodeSpec) throws -> [Int32] {
        let v = model.config.vocabSize, k = spec.beam
        var beams: [([Int32], Double)] = [([Tok.eos], 0)]
        var finished: [([Int32], Double)] = []
        let limit = maxLen(source.count, spec)
        for _ in 0..<limit {
            let logits = try forward(model, sources: beams.map { _ in source }, prefixes: beams.map(\.0))
            let t = beams.map { $0.0.count }.max()!
            var cands: [([Int32], Double, Bool)] = []
            for (i, (prefix, score)) in beams.enumerated() {
                let lp = logSoftmax(logits, row: i * t + prefix.count - 1, v: v)
                let top = (0..<v).filter { $0 != Int(Tok.pad) && $0 != Int(Tok.bos) }.sorted { lp[$0] != lp[$1] ? lp[$0] > lp[$1] : $0 < $1 }.prefix(k)
                for j in top { cands.append((prefix + [Int32(j)], score + lp[j], Int32(j) == Tok.eos)) }
            }
            cands.sort { $0.1 != $1.1 ? $0.1 > $1.1 : $0.0.lexicographicallyPrecedes($1.0) }
            beams = []
            for c in cands {
                if c.2 { finished.append((Array(c.0.dropFirst().dropLast()), c.1)) } else if beams.count < k { beams.append((c.0, c.1)) }
                if beams.count >= k { break }
            }
            if finished.count >= k || beams.isEmpty { break }
        }
        for b in beams { finished.append((Array(b.0.dropFirst()), b.1)) }
        func norm(_ x: ([Int32], Double)) -> Double { x.1 / pow(Double(x.0.count + 1), spec.lengthPenalty) }
        return finished.max { norm($0) < norm($1) }?.0 ?? []
    }
}
