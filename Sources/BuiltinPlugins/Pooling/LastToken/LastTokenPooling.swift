/// The embedding of the last masked token of each row (the position whose hidden state has
/// seen the whole CoT). Values are not used; a requested value gradient is written as zeros.
public enum LastTokenPooling: PoolingMath {
    public static var needsValues: Bool { false }

    /// Index of the last masked token of row `r`, or nil for an all-zero mask row.
    @inline(__always)
    static func last(_ b: PoolingBatch, row r: Int) -> Int? {
        let m = b.mask + r * b.T
        var t = b.T - 1
        while t >= 0 {
            if m[t] != 0 { return t }
            t -= 1
        }
        return nil
    }

    public static func forward(_ b: PoolingBatch, out: UnsafeMutablePointer<Float>) {
        let (T, D) = (b.T, b.dim)
        for r in 0..<b.batch {
            let z = out + r * D
            if let t = last(b, row: r) {
                z.update(from: b.tokens + (r * T + t) * D, count: D)
            } else {
                z.update(repeating: 0, count: D)
            }
        }
    }

    public static func backward(_ b: PoolingBatch, gradOut: UnsafePointer<Float>,
                                gradTokens: UnsafeMutablePointer<Float>?, gradValues: UnsafeMutablePointer<Float>?) {
        let (T, D) = (b.T, b.dim)
        gradValues?.update(repeating: 0, count: b.batch * T)
        guard let gp = gradTokens else { return }
        gp.update(repeating: 0, count: b.batch * T * D)
        for r in 0..<b.batch {
            if let t = last(b, row: r) {
                (gp + (r * T + t) * D).update(from: gradOut + r * D, count: D)
            }
        }
    }
}
