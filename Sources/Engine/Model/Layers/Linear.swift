/// y = x · Wᵀ with W stored [out, in] (PyTorch's layout), so weights load from Hugging Face
/// checkpoints without transposing.
public enum Linear {
    /// y[n, out] = x[n, in] · W[out, in]ᵀ
    @inline(__always)
    public static func forward(_ y: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>,
                               _ w: UnsafePointer<Float>, rows n: Int, inDim: Int, outDim: Int) {
        BLAS.gemm(transA: false, transB: true, m: n, n: outDim, k: inDim,
                  a: x, lda: inDim, b: w, ldb: inDim, c: y, ldc: outDim)
    }

    /// dx (+)= dy · W ; dW += dyᵀ · x (skipped without dw: a frozen weight). `accumulateDx`
    /// adds into dx instead of overwriting it.
    @inline(__always)
    public static func backward(dx: UnsafeMutablePointer<Float>?, dw: UnsafeMutablePointer<Float>?,
                                dy: UnsafePointer<Float>, x: UnsafePointer<Float>, w: UnsafePointer<Float>,
                                rows n: Int, inDim: Int, outDim: Int, accumulateDx: Bool = false) {
        if let dx {
            BLAS.gemm(transA: false, transB: false, m: n, n: inDim, k: outDim,
                      a: dy, lda: outDim, b: w, ldb: inDim, beta: accumulateDx ? 1 : 0, c: dx, ldc: inDim)
        }
        if let dw {
            BLAS.gemm(transA: true, transB: false, m: outDim, n: inDim, k: n,
                      a: dy, lda: outDim, b: x, ldb: inDim, beta: 1, c: dw, ldc: inDim)
        }
    }
}
