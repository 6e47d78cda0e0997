// Probes: run a block with OpenBLAS pinned to one thread (used when two model copies evaluate landscape grid
// points in parallel: each GEMM then runs on its own core, no oversubscription, and every grid point is computed
// by the same single-threaded kernels whichever worker takes it, so the surface is deterministic).
import CBLAS

public enum ProbeBLAS {
    /// Current OpenBLAS thread count.
    public static var threads: Int { Int(openblas_get_num_threads()) }

    /// Runs `body` with `openblas_set_num_threads(n)` and restores the previous count afterwards.
    public static func withThreads<T>(_ n: Int, _ body: () throws -> T) rethrows -> T {
        let old = openblas_get_num_threads()
        openblas_set_num_threads(Int32(max(1, n)))
        defer { openblas_set_num_threads(old) }
        return try body()
    }
}
