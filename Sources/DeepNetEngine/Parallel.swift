// Deterministic data parallelism for element-wise and attention loops, and for the blocks of `GEMM.multiply`
// (each block a single-threaded BLAS call; OpenBLAS never threads by itself).
import Foundation

public enum Parallel {
    /// Worker count for engine loops; set DEEPNET_THREADS to override (default: active processor count).
    public nonisolated(unsafe) static var threads: Int = {
        if let s = ProcessInfo.processInfo.environment["DEEPNET_THREADS"], let n = Int(s), n > 0 { return n }
        return max(1, ProcessInfo.processInfo.activeProcessorCount)
    }()

    /// Runs `body` over a static partition of 0..<count into contiguous ranges. Every kernel that uses this
    /// computes each output element with the same arithmetic whatever the partition, so results do not
    /// depend on thread count or scheduling. `grain` is the minimum work per range before splitting pays.
    @inline(__always)
    public static func forRanges(_ count: Int, grain: Int = 1, _ body: (Range<Int>) -> Void) {
        if count <= 0 { return }
        let parts = min(threads, max(1, count / max(grain, 1)))
        if parts <= 1 { body(0..<count); return }
        DispatchQueue.concurrentPerform(iterations: parts) { p in
            let lo = count * p / parts, hi = count * (p + 1) / parts
            if lo < hi { body(lo..<hi) }
        }
    }
}
