// The one seeded generator of the project: SplitMix64 (Steele, Lea & Flood 2014; Vigna's reference
// `splitmix64.c`). The engine draws initial weights from it (one stream per tensor, derived from the tensor's
// name), the data layer its synthetic sentences, splits and shuffles, the instruments their landscape
// directions and bootstrap samples. Pure integer arithmetic: the same seed gives the same numbers on every
// machine.

import Foundation

/// SplitMix64: 64-bit state, full period, one multiply-xorshift finalizer per draw. A value type: copying it
/// forks the stream.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    public var state: UInt64

    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        return mix64(state)
    }

    /// Uniform in [0, 1) with 53 random bits.
    public mutating func nextUnit() -> Double { Double(next() >> 11) * 0x1.0p-53 }

    /// Standard normal via Box-Muller, one value per call (the engine's weight initialization; keeping no spare
    /// value makes a tensor's values a function of its stream alone).
    public mutating func nextNormal() -> Double {
        var u1 = nextUnit()
        if u1 < 1e-300 { u1 = 1e-300 }
        let u2 = nextUnit()
        return (-2 * Foundation.log(u1)).squareRoot() * Foundation.cos(2 * Double.pi * u2)
    }

    /// Uniform integer in 0..<bound (Lemire's multiply-shift with rejection; unbiased, and independent of the
    /// standard library's algorithm, which may change between releases).
    public mutating func nextInt(below bound: Int) -> Int {
        precondition(bound > 0, "bound must be positive")
        let b = UInt64(bound)
        var m = next().multipliedFullWidth(by: b)
        if m.low < b {
            let t = (0 &- b) % b
            while m.low < t { m = next().multipliedFullWidth(by: b) }
        }
        return Int(m.high)
    }

    /// Fisher–Yates shuffle driven by this generator (independent of the standard library's algorithm).
    public mutating func shuffle<T>(_ a: inout [T]) {
        if a.count < 2 { return }
        for i in stride(from: a.count - 1, to: 0, by: -1) {
            let j = nextInt(below: i + 1)
            if i != j { a.swapAt(i, j) }
        }
    }

    /// A random permutation of 0..<n.
    public mutating func permutation(_ n: Int) -> [Int] {
        var p = Array(0..<n); shuffle(&p); return p
    }

    /// Derives an independent stream for (seed, stream) pairs, e.g. one per epoch or one per language pair.
    public static func derive(seed: UInt64, stream: UInt64) -> SplitMix64 {
        var g = SplitMix64(seed: seed ^ (stream &* 0xD1B5_4A32_D192_ED03))
        _ = g.next()
        return SplitMix64(seed: g.next())
    }
}

/// The SplitMix64 finalizer: a good 64-bit mixing function (also the engine's counter-based dropout hash).
@inline(__always) public func mix64(_ x: UInt64) -> UInt64 {
    var z = x
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
}

/// FNV-1a 64 of a string: stable stream ids derived from names (per-tensor init seeds, per-pair split streams).
public func stableHash(_ s: String) -> UInt64 {
    var h: UInt64 = 0xcbf2_9ce4_8422_2325
    for b in s.utf8 { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 }
    return h
}
