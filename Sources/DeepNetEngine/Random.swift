// Seeded random numbers: SplitMix64 for initialization, a counter-based hash for dropout.
import Foundation

/// SplitMix64 (Steele et al. 2014). Used for parameter initialization; each tensor gets its own stream
/// derived from (seed, tensor name), so adding a tensor never shifts the values of the others.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    public var state: UInt64
    public init(seed: UInt64) { state = seed }
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        return mix64(state)
    }
    /// Uniform in [0, 1) with 53 random bits.
    public mutating func nextUnit() -> Double { Double(next() >> 11) * 0x1.0p-53 }
    /// Standard normal via Box-Muller (one value per call; simple, deterministic).
    public mutating func nextNormal() -> Double {
        var u1 = nextUnit()
        if u1 < 1e-300 { u1 = 1e-300 }
        let u2 = nextUnit()
        return (-2 * Foundation.log(u1)).squareRoot() * Foundation.cos(2 * Double.pi * u2)
    }
}

/// The SplitMix64 finalizer: a good 64-bit mixing function.
@inline(__always) public func mix64(_ x: UInt64) -> UInt64 {
    var z = x
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
}

/// FNV-1a of a string, to derive per-tensor seeds from names.
func stableHash(_ s: String) -> UInt64 {
    var h: UInt64 = 0xcbf2_9ce4_8422_2325
    for b in s.utf8 { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 }
    return h
}

/// Counter-based dropout: element `index` of dropout site `stream` under `seed` is kept iff its hash-uniform
/// is >= p. The decision depends only on (seed, stream, index), never on thread scheduling, and backward
/// recomputes it instead of storing a mask.
public struct DropoutSite {
    public let p: Float
    public let scale: Float
    let key: UInt64
    /// Global index of this call's element 0: a batch shard draws the masks of its rows in the whole batch
    /// (see `TransformerModel.batchShards`), so sharding never changes which elements are dropped.
    let offset: Int
    public init(p: Double, seed: UInt64, stream: UInt64, offset: Int = 0) {
        self.p = Float(p)
        self.offset = offset
        self.scale = p > 0 ? Float(1 / (1 - p)) : 1
        self.key = mix64(seed ^ mix64(stream &* 0xD6E8_FEB8_6659_FD93 &+ 0x632B_E59B_D9B4_E019))
    }
    public var active: Bool { p > 0 }
    /// 1/(1-p) if kept, 0 if dropped.
    @inline(__always) public func multiplier(_ index: Int) -> Float {
        let h = mix64(key &+ UInt64(truncatingIfNeeded: index &+ offset) &* 0x9E37_79B9_7F4A_7C15)
        let u = Float(h >> 40) * 0x1.0p-24
        return u >= p ? scale : 0
    }
}
