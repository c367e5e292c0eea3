/// The gated MLP nonlinearity: h = silu(gate) · up, with silu(a) = a · σ(a).
public enum SwiGLU {
    @inline(__always)
    static func sigmoid(_ a: VectorMath.V) -> VectorMath.V { 1 / (1 + VectorMath.exp(-a)) }

    public static func forward(_ h: UnsafeMutablePointer<Float>, gate: UnsafePointer<Float>,
                               up: UnsafePointer<Float>, count: Int) {
        let chunks = (count + 4095) / 4096
        Parallel.forEach(chunks, minPerWorker: 4) { c in
            let lo = c * 4096, hi = Swift.min(count, lo + 4096)
            var i = lo
            while i + 16 <= hi {
                let g = UnsafeRawPointer(gate + i).loadUnaligned(as: VectorMath.V.self)
                let u = UnsafeRawPointer(up + i).loadUnaligned(as: VectorMath.V.self)
                UnsafeMutableRawPointer(h + i).storeBytes(of: g * sigmoid(g) * u, as: VectorMath.V.self)
                i += 16
            }
            while i < hi {
                let g = gate[i]
                h[i] = g / (1 + VectorMath.exp(-g)) * up[i]
                i += 1
            }
        }
    }

    /// dgate = dh · up · σ(g)(1 + g(1 − σ(g))), dup = dh · silu(g).
    public static func backward(dgate: UnsafeMutablePointer<Float>, dup: UnsafeMutablePointer<Float>,
                                dh: UnsafePointer<Float>, gate: UnsafePointer<Float>,
                                up: UnsafePointer<Float>, count: Int) {
        let chunks = (count + 4095) / 4096
        Parallel.forEach(chunks, minPerWorker: 4) { c in
            let lo = c * 4096, hi = Swift.min(count, lo + 4096)
            var i = lo
            while i + 16 <= hi {
                let g = UnsafeRawPointer(gate + i).loadUnaligned(as: VectorMath.V.self)
                let u = UnsafeRawPointer(up + i).loadUnaligned(as: VectorMath.V.self)
                let d = UnsafeRawPointer(dh + i).loadUnaligned(as: VectorMath.V.self)
                let s = sigmoid(g)
                UnsafeMutableRawPointer(dgate + i).storeBytes(of: d * u * s * (1 + g * (1 - s)), as: VectorMath.V.self)
                UnsafeMutableRawPointer(dup + i).storeBytes(of: d * g * s, as: VectorMath.V.self)
                i += 16
            }
            while i < hi {
                let g = gate[i], s = 1 / (1 + VectorMath.exp(-g))
                dgate[i] = dh[i] * up[i] * s * (1 + g * (1 - s))
                dup[i] = dh[i] * g * s
                i += 1
            }
        }
    }
}
