/// The gated MLP nonlinearity: h = silu(gate) · up, with silu(a) = a · σ(a).
public enum SwiGLU {
    static let chunk = 4096

    public static func forward(_ h: UnsafeMutablePointer<Float>, gate: UnsafePointer<Float>,
                               up: UnsafePointer<Float>, count: Int) {
        Parallel.forEach((count + chunk - 1) / chunk, minPerWorker: 4) { c in
            let lo = c * chunk, hi = Swift.min(count, lo + chunk)
            for i in lo..<hi {
                let g = gate[i]
                h[i] = g / (1 + VectorMath.exp(-g)) * up[i]
            }
        }
    }

    /// dgate = dh · up · σ(g)(1 + g(1 − σ(g))), dup = dh · silu(g).
    public static func backward(dgate: UnsafeMutablePointer<Float>, dup: UnsafeMutablePointer<Float>,
                                dh: UnsafePointer<Float>, gate: UnsafePointer<Float>,
                                up: UnsafePointer<Float>, count: Int) {
        Parallel.forEach((count + chunk - 1) / chunk, minPerWorker: 4) { c in
            let lo = c * chunk, hi = Swift.min(count, lo + chunk)
            for i in lo..<hi {
                let g = gate[i], s = 1 / (1 + VectorMath.exp(-g))
                dgate[i] = dh[i] * up[i] * s * (1 + g * (1 - s))
                dup[i] = dh[i] * g * s
            }
        }
    }
}
