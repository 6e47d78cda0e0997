// Seeded random numbers: SplitMix64 (DeepNetBase) for initialization, a counter-based hash for dropout.
// The engine re-exports DeepNetBase so that its users see SplitMix64 and TokenBatch as engine API.
@_exported import DeepNetBase
import Foundation

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
