/// SplitMix64 (Steele, Lea & Flood 2014; Vigna's reference `splitmix64.c`): the generator behind all
/// data-side randomness (synthetic data, splits, per-epoch shuffling). Deterministic on every platform.
/// Named `DataRandom` so that it cannot clash with the engine's `SplitMix64` in modules importing both;
/// the core sequence is the same (`DataRandom(seed: s).next() == SplitMix64(seed: s).next()`).
public struct DataRandom: RandomNumberGenerator, Sendable {
    public private(set) var state: UInt64

    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform integer in 0..<bound (Lemire's multiply-shift with rejection; unbiased).
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

    /// Uniform double in [0, 1) with 53 random bits.
    public mutating func nextDouble() -> Double { Double(next() >> 11) * 0x1.0p-53 }

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

    /// Derives an independent stream for (seed, stream) pairs, e.g. one per epoch.
    public static func derive(seed: UInt64, stream: UInt64) -> DataRandom {
        var g = DataRandom(seed: seed ^ (stream &* 0xD1B5_4A32_D192_ED03))
        _ = g.next()
        return DataRandom(seed: g.next())
    }
}
