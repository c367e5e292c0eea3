import Foundation

/// CARFT's CoT embedding: z_b = Σ_t w_{b,t} p_{b,t} with w_b = softmax over the masked t of
/// V_{b,t}. The value head's own estimate decides which tokens dominate the embedding.
///
/// Backward, with g = ∂L/∂z_b:
///   ∂L/∂p_{b,t} = w_{b,t} g                       (masked t; 0 elsewhere)
///   ∂L/∂V_{b,t} = w_{b,t} (g·p_{b,t} − g·z_b)      (softmax Jacobian; 0 elsewhere)
public enum SoftmaxValuesPooling: PoolingMath {
    public static var needsValues: Bool { true }

    /// Writes the softmax weights of row `b` into `w` (T floats, 0 at masked-out tokens) and
    /// returns false when the row has no masked token. Max-subtracted, normaliser in Double.
    @inline(__always)
    static func weights(_ bt: PoolingBatch, row b: Int, into w: UnsafeMutablePointer<Float>) -> Bool {
        let T = bt.T
        let v = bt.values! + b * T
        let m = bt.mask + b * T
        var vmax = -Float.infinity
        var any = false
        for t in 0..<T where m[t] != 0 {
            any = true
            if v[t] > vmax { vmax = v[t] }
        }
        guard any else {
            w.update(repeating: 0, count: T)
            return false
        }
        var sum = 0.0
        for t in 0..<T {
            if m[t] != 0 {
                let e = expf(v[t] - vmax)
                w[t] = e
                sum += Double(e)
            } else {
                w[t] = 0
            }
        }
        let inv = Float(1 / sum)
        for t in 0..<T { w[t] *= inv }
        return true
    }

    public static func forward(_ b: PoolingBatch, out: UnsafeMutablePointer<Float>) {
        precondition(b.values != nil, "SoftmaxValuesPooling needs values")
        let (T, D) = (b.T, b.dim)
        let w = UnsafeMutablePointer<Float>.allocate(capacity: max(T, 1))
        defer { w.deallocate() }
        for r in 0..<b.batch {
            let z = out + r * D
            z.update(repeating: 0, count: D)
            guard weights(b, row: r, into: w) else { continue }
            let p = b.tokens + r * T * D
            for t in 0..<T where w[t] != 0 {
                let wt = w[t]
                let pt = p + t * D
                for d in 0..<D { z[d] += wt * pt[d] }
            }
        }
    }

    public static func backward(_ b: PoolingBatch, gradOut: UnsafePointer<Float>,
                                gradTokens: UnsafeMutablePointer<Float>?, gradValues: UnsafeMutablePointer<Float>?) {
        precondition(b.values != nil, "SoftmaxValuesPooling needs values")
        let (T, D) = (b.T, b.dim)
        let w = UnsafeMutablePointer<Float>.allocate(capacity: max(T, 1))
        defer { w.deallocate() }
        for r in 0..<b.batch {
            let g = gradOut + r * D
            let p = b.tokens + r * T * D
            let m = b.mask + r * T
            let has = weights(b, row: r, into: w)
            if let gp = gradTokens {
                let gpr = gp + r * T * D
                for t in 0..<T {
                    let wt = w[t]
                    let dst = gpr + t * D
                    for d in 0..<D { dst[d] = wt * g[d] }
                }
            }
            if let gv = gradValues {
                let gvr = gv + r * T
                guard has else {
                    gvr.update(repeating: 0, count: T)
                    continue
                }
                // g·z = Σ_t w_t (g·p_t): one pass for the dot products, reused for the centring.
                var gz = 0.0
                for t in 0..<T {
                    if m[t] != 0 {
                        let pt = p + t * D
                        var s: Float = 0
                        for d in 0..<D { s += g[d] * pt[d] }
                        gvr[t] = s
                        gz += Double(w[t]) * Double(s)
                    } else {
                        gvr[t] = 0
                    }
                }
                let gzf = Float(gz)
                for t in 0..<T where m[t] != 0 { gvr[t] = w[t] * (gvr[t] - gzf) }
            }
        }
    }
}
