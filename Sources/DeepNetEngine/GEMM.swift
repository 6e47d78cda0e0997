// Every matrix multiply of the engine goes through `gemm`, which makes its result independent of the thread
// count. OpenBLAS's own threading splits a product differently for 1 and 2 threads and the stored losses then
// differ by ~1e-8 (issue: numbers independent of -j). So OpenBLAS is pinned to ONE thread for the whole process,
// and a product is cut into blocks of output rows or columns whose number and boundaries depend only on the
// shape (M, N, K), never on `Parallel.threads`; the blocks run on the engine's threads, each one a single-threaded
// sgemm. No block boundary cuts the K (reduction) dimension, so each output element is one single-threaded
// dot-product accumulation whatever the thread count.
import CBLAS

public enum GEMM {
    /// Pins OpenBLAS to one thread, once per process, before the first engine product (and for code that calls
    /// cblas directly: `GEMM.pinBLAS()` is idempotent). A benchmark that wants OpenBLAS's own threading for a
    /// peak measurement wraps it in `ProbeBLAS.withThreads`.
    public static func pinBLAS() { _ = pinned }
    private static let pinned: Void = { openblas_set_num_threads(1) }()

    /// Multiply-adds below which a product stays one block: splitting pays only when each block keeps a core busy
    /// for well over the ~5–10 µs a dispatch costs (2^19 multiply-adds ≈ 10–20 µs on one core).
    public static let minBlockWork = 1 << 19
    /// Block counts are powers of two up to this, so two threads always split the blocks evenly. Two, because every
    /// block packs the whole of the other operand again: with 8 blocks a weight-gradient product (K = batch rows)
    /// ran at 60 % of its one-block speed; with 2 the two packings run in parallel on the two cores of this machine
    /// class, as OpenBLAS's own threading did.
    public static let maxBlocks = 2
    /// Block boundaries fall on multiples of this many rows/columns (a multiple of every sgemm micro-kernel's tile).
    public static let alignment = 32

    /// The blocks of an M×N output: split along the longer side into a shape-determined number of aligned blocks.
    /// Returns (splitRows, boundaries) with boundaries[0] = 0 and boundaries.last = M or N.
    public static func blocks(m: Int, n: Int, k: Int) -> (splitRows: Bool, bounds: [Int]) {
        let splitRows = m >= n
        let extent = splitRows ? m : n
        let work = m * n * max(k, 1)
        var count = 1
        while count < maxBlocks && work / (count * 2) >= minBlockWork && extent / (count * 2) >= alignment { count *= 2 }
        if count == 1 { return (splitRows, [0, extent]) }
        // Aligned boundaries as even as alignment allows; the last block takes the remainder.
        let units = (extent + alignment - 1) / alignment
        var bounds = [0]
        for b in 1..<count { bounds.append(min(extent, (units * b / count) * alignment)) }
        bounds.append(extent)
        return (splitRows, bounds)
    }

    /// C[M,N] = α·op(A)·op(B) + β·C, row-major, as cblas_sgemm (`transA`: A is stored K×M; `transB`: B is N×K).
    @inline(__always)
    public static func multiply(transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float,
                                a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
                                beta: Float, c: FloatPtr, ldc: Int) {
        if m <= 0 || n <= 0 { return }
        pinBLAS()
        let ta = transA ? CblasTrans : CblasNoTrans, tb = transB ? CblasTrans : CblasNoTrans
        let (splitRows, bounds) = blocks(m: m, n: n, k: k)
        @inline(__always) func block(_ i: Int) {
            let lo = bounds[i], hi = bounds[i + 1]
            if hi <= lo { return }
            if splitRows {
                // Rows lo..<hi of C use rows lo..<hi of op(A): row offset in A, or column offset when A is K×M.
                let ab = transA ? a + lo : a + lo * lda
                cblas_sgemm(CblasRowMajor, ta, tb, Int32(hi - lo), Int32(n), Int32(k), alpha, ab, Int32(lda),
                            b, Int32(ldb), beta, c + lo * ldc, Int32(ldc))
            } else {
                // Columns lo..<hi of C use columns lo..<hi of op(B): column offset in B, or row offset when B is N×K.
                let bb = transB ? b + lo * ldb : b + lo
                cblas_sgemm(CblasRowMajor, ta, tb, Int32(m), Int32(hi - lo), Int32(k), alpha, a, Int32(lda),
                            bb, Int32(ldb), beta, c + lo, Int32(ldc))
            }
        }
        let count = bounds.count - 1
        if count == 1 { block(0); return }
        Parallel.forRanges(count, grain: 1) { r in for i in r { block(i) } }
    }
}
