/// Masked mean of the token embeddings: z_b = (1/n_b) Σ_{masked t} p_{b,t}. Values are not
/// used; a requested value gradient is written as zeros.
public enum MeanPooling: PoolingMath {
    public static var needsValues: Bool { false }

    @inline(__always)
    static func count(_ b: PoolingBatch, row r: Int) -> Int {
        let m = b.mask + r * b.T
        var n = 0
        for t in 0..<b.T where m[t] != 0 { n += 1 }
        return n
    }

    public static func forward(_ b: PoolingBatch, out: UnsafeMutablePointer<Float>) {
        let (T, D) = (b.T, b.dim)
        for r in 0..<b.batch {
            let z = out + r * D
            z.update(repeating: 0, count: D)
            let n = count(b, row: r)
            guard n > 0 else { continue }
            let p = b.tokens + r * T * D
            let m = b.mask + r * T
            for t in 0..<T where m[t] != 0 {
                let pt = p + t * D
                for d in 0..<D { z[d] += pt[d] }
            }
            let inv = 1 / Float(n)
            for d in 0..<D { z[d] *= inv }
        }
    }

    public static func backward(_ b: PoolingBatch, gradOut: UnsafePointer<Float>,
                                gradTokens: UnsafeMutablePointer<Float>?, gradValues: UnsafeMutablePointer<Float>?) {
        let (T, D) = (b.T, b.dim)
        gradValues?.update(repeating: 0, count: b.batch * T)
        guard let gp = gradTokens else { return }
        for r in 0..<b.batch {
            let n = count(b, row: r)
            let inv: Float = n > 0 ? 1 / Float(n) : 0
            let g = gradOut + r * D
            let m = b.mask + r * T
            for t in 0..<T {
                let dst = gp + (r * T + t) * D
                if m[t] != 0 {
                    for d in 0..<D { dst[d] = inv * g[d] }
                } else {
                    dst.update(repeating: 0, count: D)
                }
            }
        }
    }
}
