// Instruments: seeded random numbers used by the landscape directions and the bootstrap.
//
// The instruments keep their own stream (SplitMix64 + Box–Muller in Double) so that a landscape or a
// bootstrap interval depends only on its own seed, never on how many numbers the engine or the data
// pipeline drew before. Same seed ⇒ same directions, on every machine (pure integer arithmetic plus
// libm's log/cos/sin, which are correctly rounded enough on glibc for bit-identical Float outputs in practice;
// the tests pin the Float values of the first draws).
import DeepNetBase
import Foundation

/// The instruments' stream: the project's SplitMix64 (DeepNetBase) plus a Box–Muller that keeps the second
/// value of each pair (half the libm calls of the engine's one-value-per-call variant; the directions' pinned
/// values depend on it). Value type: copying it forks the stream.
public struct InstrumentRNG: RandomNumberGenerator, Sendable {
    private var base: SplitMix64
    private var spareNormal: Double? = nil

    public var state: UInt64 { base.state }

    public init(seed: UInt64) { base = SplitMix64(seed: seed) }

    public mutating func next() -> UInt64 { base.next() }

    /// Uniform in the open interval (0, 1): 53 random bits, offset by half an ulp so 0 never occurs.
    public mutating func nextOpenUnit() -> Double {
        (Double(next() >> 11) + 0.5) * (1.0 / 9_007_199_254_740_992.0)
    }

    /// Uniform integer in 0..<n (Lemire's multiply-shift with rejection; unbiased).
    public mutating func nextIndex(_ n: Int) -> Int {
        precondition(n > 0)
        return Int(truncatingIfNeeded: next(upperBound: UInt64(n)))
    }

    /// Standard normal N(0, 1) by the Box–Muller transform; the second value of each pair is kept.
    public mutating func nextNormal() -> Double {
        if let s = spareNormal { spareNormal = nil; return s }
        let u1 = nextOpenUnit(), u2 = nextOpenUnit()
        let r = (-2.0 * Foundation.log(u1)).squareRoot()
        let t = 2.0 * Double.pi * u2
        spareNormal = r * Foundation.sin(t)
        return r * Foundation.cos(t)
    }
}
