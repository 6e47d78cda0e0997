import DeepNetData
import Foundation
import XCTest

/// Next-token distribution depending on (sentence, full history) through a hash.
enum HashDecoder {
    static func logProbs(vocab: Int, sentence: Int, history: [Int32], eosBias: Float) -> [Float] {
        var h: UInt64 = 0x9E37_79B9 &+ UInt64(sentence) &* 0x1000193
        for t in history { h = (h ^ UInt64(UInt32(bitPattern: t))) &* 0x100_0000_01b3 }
        var logits = [Float](repeating: 0, count: vocab)
        var r = SplitMix64(seed: h)
        for v in 0..<vocab { logits[v] = Float(r.nextUnit() * 4 - 2) }
        logits[2] += eosBias + Float(history.count) * 0.3   // EOS more likely as the prefix grows
        let m = logits.max()!
        let z = log(logits.map { exp($0 - m) }.reduce(0, +)) + m
        return logits.map { $0 - z }
    }
}

/// Mock decoder: rows carry their sentence id and full history (appended from the fed tokens), so a
/// wrong reorder gives wrong answers.
final class HistoryDecoder: StepDecoder {
    let vocabSize: Int
    var histories: [[Int32]]
    var sentence: [Int]
    let eosBias: Float
    var reorders = 0
    init(vocabSize: Int, sentences: Int, eosBias: Float = 0) {
        self.vocabSize = vocabSize; histories = Array(repeating: [], count: sentences); sentence = Array(0..<sentences); self.eosBias = eosBias
    }
    var rows: Int { histories.count }
    var started = false
    func step(lastTokens: [Int32]) throws -> [Float] {
        precondition(lastTokens.count == rows)
        if started { for r in 0..<rows { histories[r].append(lastTokens[r]) } } else {
            for t in lastTokens { precondition(t == 2, "first step feeds EOS") }
        }
        started = true
        var out: [Float] = []
        for r in 0..<rows { out += HashDecoder.logProbs(vocab: vocabSize, sentence: sentence[r], history: histories[r], eosBias: eosBias) }
        return out
    }
    func reorder(_ rowIndices: [Int]) {
        reorders += 1
        histories = rowIndices.map { histories[$0] }
        sentence = rowIndices.map { sentence[$0] }
    }
}

final class SearchTests: XCTestCase {
    /// Exhaustive search: every sequence of tokens (not pad/eos) of length < maxLen+1 followed by EOS.
    func bruteForce(vocab: Int, sentence: Int, maxLen: Int, minLen: Int, lenpen: Float, eosBias: Float) -> (tokens: [Int32], score: Float) {
        var best: ([Int32], Float) = ([], -.infinity)
        func rec(_ prefix: [Int32], _ cum: Float) {
            let lp = HashDecoder.logProbs(vocab: vocab, sentence: sentence, history: prefix, eosBias: eosBias)
            if prefix.count >= minLen {
                let total = cum + lp[2]
                let score = total / powf(Float(prefix.count + 1), lenpen)
                if score > best.1 { best = (prefix + [2], score) }
            }
            if prefix.count < maxLen {
                for t in 0..<vocab where t != 1 && t != 2 { rec(prefix + [Int32(t)], cum + lp[t]) }
            }
        }
        rec([], 0)
        return best
    }

    func testBeamSearchMatchesBruteForce() throws {
        let vocab = 6, maxLen = 4
        for lenpen: Float in [0, 1, 2] {
            for minLen in [0, 1, 2] {
                var o = SearchOptions(beamSize: 400, lenPenalty: lenpen, maxLenA: 0, maxLenB: maxLen, minLen: minLen, nbest: 3)
                o.unk = 99  // no unk penalty effect
                let dec = HistoryDecoder(vocabSize: vocab, sentences: 4, eosBias: -1)
                let res = try SequenceSearch.beamSearch(dec, sourceLengths: [5, 5, 5, 5], options: o)
                for s in 0..<4 {
                    let bf = bruteForce(vocab: vocab, sentence: s, maxLen: maxLen, minLen: minLen, lenpen: lenpen, eosBias: -1)
                    XCTAssertEqual(res[s][0].tokens, bf.tokens, "sentence \(s) lenpen \(lenpen) minLen \(minLen)")
                    XCTAssertEqual(res[s][0].score, bf.score, accuracy: 1e-4)
                    XCTAssertGreaterThanOrEqual(res[s][0].tokens.count - 1, minLen)
                    XCTAssertLessThanOrEqual(res[s][0].tokens.count - 1, maxLen)
                    XCTAssertEqual(res[s].count, 3)
                    XCTAssert(zip(res[s], res[s].dropFirst()).allSatisfy { $0.score >= $1.score }, "n-best sorted")
                    XCTAssertEqual(res[s][0].positionalScores.reduce(0, +) / (lenpen == 0 ? 1 : powf(Float(res[s][0].tokens.count), lenpen)),
                                   res[s][0].score, accuracy: 1e-4)
                }
            }
        }
    }

    func testGreedyEqualsBeamOneAndBatchingDoesNotMatter() throws {
        let o = SearchOptions(beamSize: 1, lenPenalty: 1, maxLenA: 1, maxLenB: 3, minLen: 1)
        let lens = [2, 7, 4, 1, 9]
        let g = try SequenceSearch.greedy(HistoryDecoder(vocabSize: 9, sentences: 5, eosBias: -2), sourceLengths: lens, options: o)
        let b = try SequenceSearch.beamSearch(HistoryDecoder(vocabSize: 9, sentences: 5, eosBias: -2), sourceLengths: lens, options: o)
        for i in 0..<5 {
            XCTAssertEqual(g[i].tokens, b[i][0].tokens)
            XCTAssertEqual(g[i].score, b[i][0].score, accuracy: 1e-5)
            XCTAssertLessThanOrEqual(g[i].tokens.count - 1, lens[i] + 3, "max length a·|src|+b")
        }
        // Beam 5, batched vs one sentence at a time: identical (per-sentence max length, reorder correct).
        let o5 = SearchOptions(beamSize: 5, lenPenalty: 1.2, maxLenA: 1, maxLenB: 2, minLen: 1, nbest: 5)
        let dec = HistoryDecoder(vocabSize: 9, sentences: 5, eosBias: -2)
        let batched = try SequenceSearch.beamSearch(dec, sourceLengths: lens, options: o5)
        XCTAssertGreaterThan(dec.reorders, 1)
        for i in 0..<5 {
            final class One: StepDecoder {
                let inner: HistoryDecoder; let s: Int
                init(_ s: Int) { self.s = s; inner = HistoryDecoder(vocabSize: 9, sentences: s + 1, eosBias: -2); inner.reorder([s]) }
                var vocabSize: Int { inner.vocabSize }
                var rows: Int { inner.rows }
                func step(lastTokens: [Int32]) throws -> [Float] { try inner.step(lastTokens: lastTokens) }
                func reorder(_ r: [Int]) { inner.reorder(r) }
            }
            let single = try SequenceSearch.beamSearch(One(i), sourceLengths: [lens[i]], options: o5)
            XCTAssertEqual(single[0].map(\.tokens), batched[i].map(\.tokens), "sentence \(i)")
        }
    }

    func testForcedEOSAndPadNeverGenerated() throws {
        // Pad has the highest probability everywhere; it must never be produced.
        final class PadLover: StepDecoder {
            let vocabSize = 5
            var rows: Int
            init(_ n: Int) { rows = n }
            func step(lastTokens: [Int32]) throws -> [Float] {
                (0..<rows).flatMap { _ in [log(Float(0.01)), log(Float(0.9)), log(Float(0.01)), log(Float(0.03)), log(Float(0.05))] }
            }
            func reorder(_ r: [Int]) { rows = r.count }
        }
        var o = SearchOptions(beamSize: 3, lenPenalty: 1, maxLenA: 0, maxLenB: 4, minLen: 1)
        let r = try SequenceSearch.beamSearch(PadLover(2), sourceLengths: [3, 3], options: o)
        for h in r { XCTAssertFalse(h[0].tokens.contains(1)); XCTAssertEqual(h[0].tokens.last, 2); XCTAssertLessThanOrEqual(h[0].tokens.count, 5) }
        let g = try SequenceSearch.greedy(PadLover(2), sourceLengths: [3, 3], options: o)
        XCTAssertEqual(g[0].tokens, [4, 4, 4, 4, 2])  // forced EOS at max length
        o.unkPenalty = 0
        o.maxPositions = 3
        XCTAssertEqual(o.maxLength(sourceLength: 10), 2)
    }

    func testDecoderRowMismatchIsAnError() {
        XCTAssertThrowsError(try SequenceSearch.beamSearch(HistoryDecoder(vocabSize: 5, sentences: 2), sourceLengths: [1], options: SearchOptions()))
    }
}
