import VectorKernels

/// The gated MLP nonlinearity: h = silu(gate) · up, with silu(a) = a · σ(a).
public enum SwiGLU {
    static let chunk = 4096

    public static func forward(_ h: UnsafeMutablePointer<Float>, gate: UnsafePointer<Float>,
                               up: UnsafePointer<Float>, count: Int) {
        Parallel.forEach((count + chunk - 1) / chunk, minPerWorker: 4) { c in
            let lo = c * chunk
            wb_swiglu_forward(h + lo, gate + lo, up + lo, Swift.min(count - lo, chunk))
        }
    }

    /// dgate = dh · up · σ(g)(1 + g(1 − σ(g))), dup = dh · silu(g).
    public static func backward(dgate: UnsafeMutablePointer<Float>, dup: UnsafeMutablePointer<Float>,
                                dh: UnsafePointer<Float>, gate: UnsafePointer<Float>,
                                up: UnsafePointer<Float>, count: Int) {
        Parallel.forEach((count + chunk - 1) / chunk, minPerWorker: 4) { c in
            let lo = c * chunk
            wb_swiglu_backward(dgate + lo, dup + lo, dh + lo, gate + lo, up + lo, Swift.min(count - lo, chunk))
        }
    }
}
