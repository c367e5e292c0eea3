import COpenBLAS

/// The one door to OpenBLAS. Every matrix product in the Engine goes through `gemm`, so the
/// row-major conventions and the thread setting live in one place.
public enum BLAS {
    /// C[m×n] = alpha · op(A) · op(B) + beta · C, all row-major.
    /// `lda`, `ldb`, `ldc` are the row strides of A, B, C as stored (before transposition).
    /// Large products are split into blocks of C's rows (or columns, when C is wide and short)
    /// over the Engine's workers; each block is one single-threaded OpenBLAS call.
    @inline(__always)
    public static func gemm(
        transA: Bool, transB: Bool,
        m: Int, n: Int, k: Int,
        alpha: Float = 1,
        a: UnsafePointer<Float>, lda: Int,
        b: UnsafePointer<Float>, ldb: Int,
        beta: Float = 0,
        c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        if m == 0 || n == 0 { return }
        let w = Parallel.workers
        if w <= 1 || Parallel.inRegion || m * n * k < 1 << 17 {
            call(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
            return
        }
        if m >= n || m >= 64 * w {
            // Row blocks of C: rows m0..<m1 of op(A).
            Parallel.forEach(w) { i in
                let m0 = blockStart(m, i, w), m1 = blockStart(m, i + 1, w)
                if m1 > m0 {
                    call(transA, transB, m1 - m0, n, k, alpha, transA ? a + m0 : a + m0 * lda, lda,
                         b, ldb, beta, c + m0 * ldc, ldc)
                }
            }
        } else {
            // Column blocks of C: columns n0..<n1 of op(B).
            Parallel.forEach(w) { i in
                let n0 = blockStart(n, i, w), n1 = blockStart(n, i + 1, w)
                if n1 > n0 {
                    call(transA, transB, m, n1 - n0, k, alpha, a, lda,
                         transB ? b + n0 * ldb : b + n0, ldb, beta, c + n0, ldc)
                }
            }
        }
    }

    /// Block boundaries on multiples of 16 floats, so each block starts on a cache line.
    @inline(__always)
    static func blockStart(_ size: Int, _ i: Int, _ w: Int) -> Int {
        if i >= w { return size }
        return min(size, (size * i / w + 8) / 16 * 16)
    }

    @inline(__always)
    static func call(_ transA: Bool, _ transB: Bool, _ m: Int, _ n: Int, _ k: Int, _ alpha: Float,
                     _ a: UnsafePointer<Float>, _ lda: Int, _ b: UnsafePointer<Float>, _ ldb: Int,
                     _ beta: Float, _ c: UnsafeMutablePointer<Float>, _ ldc: Int) {
        cblas_sgemm(
            CblasRowMajor,
            transA ? CblasTrans : CblasNoTrans,
            transB ? CblasTrans : CblasNoTrans,
            Int32(m), Int32(n), Int32(k),
            alpha, a, Int32(lda), b, Int32(ldb),
            beta, c, Int32(ldc))
    }

    /// Threads OpenBLAS may use inside one call. Set once per process from the thread count.
    public static func setThreads(_ n: Int) {
        openblas_set_num_threads(Int32(max(1, n)))
    }

    public static var threads: Int { Int(openblas_get_num_threads()) }
}
