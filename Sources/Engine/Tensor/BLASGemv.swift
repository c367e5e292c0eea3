import COpenBLAS

extension BLAS {
    /// y = alpha · op(A) · x + beta · y with A row-major [m × n] (row stride `lda`); op(A) is A
    /// (y has m entries) or Aᵀ (y has n entries). One single-threaded OpenBLAS call, never
    /// split: it is meant for the many small products inside an already parallel loop, where
    /// OpenBLAS's AVX-512 kernels beat the Engine's own loops and gemm's packing would not pay.
    @inline(__always)
    public static func gemv(transA: Bool, m: Int, n: Int, alpha: Float = 1,
                            a: UnsafePointer<Float>, lda: Int, x: UnsafePointer<Float>,
                            beta: Float = 0, y: UnsafeMutablePointer<Float>) {
        if m == 0 || n == 0 { return }
        cblas_sgemv(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, Int32(m), Int32(n),
                    alpha, a, Int32(lda), x, 1, beta, y, 1)
    }
}
