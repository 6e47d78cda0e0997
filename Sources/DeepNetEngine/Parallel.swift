// Deterministic data parallelism for element-wise and attention loops, and for the blocks of `GEMM.multiply`
// (each block a single-threaded BLAS call; OpenBLAS never threads by itself).
//
// Work is handed to a small pool of persistent threads that spin briefly before sleeping (`SpinPool`): an engine
// step makes hundreds of parallel calls of 10–100 µs each on small models, and waking GCD workers for each of them
// cost ~30 % of the step at 64 wide. Which thread runs which range never changes a result: every kernel computes
// each output element with the same arithmetic whatever the partition.
import Foundation
import Synchronization

public enum Parallel {
    /// Worker count for engine loops; set DEEPNET_THREADS to override (default: active processor count).
    public nonisolated(unsafe) static var threads: Int = {
        if let s = ProcessInfo.processInfo.environment["DEEPNET_THREADS"], let n = Int(s), n > 0 { return n }
        return max(1, ProcessInfo.processInfo.activeProcessorCount)
    }()

    /// Runs `body` over a static partition of 0..<count into contiguous ranges. Every kernel that uses this
    /// computes each output element with the same arithmetic whatever the partition, so results do not
    /// depend on thread count or scheduling. `grain` is the minimum work per range before splitting pays.
    /// A call made while the pool is busy (from inside a parallel body, or from another thread such as a landscape
    /// evaluator) runs its ranges on the calling thread.
    @inline(__always)
    public static func forRanges(_ count: Int, grain: Int = 1, _ body: (Range<Int>) -> Void) {
        if count <= 0 { return }
        let parts = min(threads, max(1, count / max(grain, 1)), SpinPool.maxParts)
        if parts <= 1 { body(0..<count); return }
        let ran = SpinPool.shared.run(parts: parts) { p in
            let lo = count * p / parts, hi = count * (p + 1) / parts
            if lo < hi { body(lo..<hi) }
        }
        if !ran {
            for p in 0..<parts {
                let lo = count * p / parts, hi = count * (p + 1) / parts
                if lo < hi { body(lo..<hi) }
            }
        }
    }
}

/// Persistent helper threads for `Parallel.forRanges`. Helper i runs part i + 1 of each job; the caller runs part 0
/// and then waits (spinning) for the others. A job is published as one atomic word (generation << 8 | parts), so a
/// helper that wakes late decides from the same word whether it takes part; the caller never starts a new job
/// before every part of the current one has finished.
final class SpinPool: @unchecked Sendable {
    static let shared = SpinPool()
    static let maxParts = 64
    /// Loads of the job word a helper makes before it sleeps (~20–60 µs): long enough to cover the serial gaps
    /// between the parallel calls of a training step, short enough not to hold a core another process needs.
    static let spinLimit = 40_000

    private let job = Atomic<Int>(0)
    private let pending = Atomic<Int>(0)
    private let busy = Atomic<Bool>(false)
    private let wake = NSCondition()
    /// Helper threads started so far (only the thread holding `busy` changes it).
    private var helpers = 0
    /// The current job's body; valid while its parts run (the caller waits for all of them before clearing it).
    private var task: ((Int) -> Void)? = nil

    /// Runs body(p) for p in 0..<parts (p = 0 on this thread) and returns true; false (nothing run) when the pool
    /// is already running a job.
    func run(parts: Int, _ body: (Int) -> Void) -> Bool {
        guard busy.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged else { return false }
        defer { busy.store(false, ordering: .releasing) }
        while helpers < parts - 1 { start(helper: helpers); helpers += 1 }
        withoutActuallyEscaping(body) { b in
            task = b
            pending.store(parts - 1, ordering: .relaxed)
            let generation = (job.load(ordering: .relaxed) >> 8) + 1
            wake.lock()
            job.store(generation << 8 | parts, ordering: .releasing)
            wake.broadcast()
            wake.unlock()
            b(0)
            while pending.load(ordering: .acquiring) > 0 {}
            task = nil
        }
        return true
    }

    private func start(helper index: Int) {
        let seenAtStart = job.load(ordering: .acquiring)
        let t = Thread { [unowned self] in self.loop(index: index, seen: seenAtStart) }
        t.stackSize = 16 << 20
        t.name = "deepnet-engine-\(index + 1)"
        t.start()
    }

    private func loop(index: Int, seen start: Int) {
        var seen = start
        while true {
            var word = job.load(ordering: .acquiring)
            var spins = 0
            while word == seen {
                spins += 1
                if spins >= Self.spinLimit {
                    wake.lock()
                    while job.load(ordering: .acquiring) == seen { wake.wait() }
                    wake.unlock()
                    spins = 0
                }
                word = job.load(ordering: .acquiring)
            }
            seen = word
            let parts = word & 0xFF
            if index + 1 < parts {
                task!(index + 1)
                pending.subtract(1, ordering: .releasing)
            }
        }
    }
}
