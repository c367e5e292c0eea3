/// RMSNorm with a learned gain: y = x / sqrt(mean(x²) + eps) · g.
public enum RMSNorm {
    /// Saves 1/rms per row in `rstd` for the backward pass.
    public static func forward(_ y: UnsafeMutablePointer<Float>, rstd: UnsafeMutablePointer<Float>,
                               _ x: UnsafePointer<Float>, gain: UnsafePointer<Float>,
                               rows: Int, dim: Int, eps: Float) {
        Parallel.forEach(rows, minPerWorker: 64) { r in
            let xr = x + r * dim, yr = y + r * dim
            let ms = VectorMath.dot(xr, xr, dim) / Float(dim)
            let s = 1 / (ms + eps).squareRoot()
            rstd[r] = s
            for i in 0..<dim { yr[i] = xr[i] * s * gain[i] }
        }
    }

    /// dx (+)= ∂L/∂x, dgain += ∂L/∂g.
    /// With x̂ = x·s: dx = s · (dy·g − x̂ · mean(dy·g·x̂)).
    public static func backward(dx: UnsafeMutablePointer<Float>, dgain: UnsafeMutablePointer<Float>,
                                dy: UnsafePointer<Float>, x: UnsafePointer<Float>,
                                rstd: UnsafePointer<Float>, gain: UnsafePointer<Float>,
                                rows: Int, dim: Int, accumulate: Bool) {
        // The gain gradient is a reduction over rows: one partial sum per worker, added in a
        // fixed order, keeps it deterministic.
        let workers = max(1, min(Parallel.workers, rows / 64))
        let partial = FloatBuffer(workers * dim)
        Parallel.forEach(workers) { w in
            let lo = rows * w / workers, hi = rows * (w + 1) / workers
            let pg = partial.ptr + w * dim
            for r in lo..<hi {
                let xr = x + r * dim, dyr = dy + r * dim, dxr = dx + r * dim
                let s = rstd[r]
                var m: Float = 0
                for i in 0..<dim { m += dyr[i] * gain[i] * xr[i] }
                m *= s / Float(dim)  // mean(dy·g·x̂)
                if accumulate {
                    for i in 0..<dim { dxr[i] += s * (dyr[i] * gain[i] - xr[i] * s * m) }
                } else {
                    for i in 0..<dim { dxr[i] = s * (dyr[i] * gain[i] - xr[i] * s * m) }
                }
                for i in 0..<dim { pg[i] += dyr[i] * xr[i] * s }
            }
        }
        for w in 0..<workers {
            let pg = partial.ptr + w * dim
            for i in 0..<dim { dgain[i] += pg[i] }
        }
    }
}
