import Testing
import Engine

/// Central-difference gradient checking in float32 with the loss accumulated in float64.
/// Two checks per tensor: a directional derivative along a random direction (catches any
/// wrong entry, summed) and individual entries (catches a wrong entry that the sum hides).
/// ε = 1e-2 keeps float32 rounding (~1e-7·|L|/ε) well under the tolerance; every function
/// checked is smooth enough that the O(ε²) truncation error is smaller still.
public enum GradCheck {
    public static let eps: Float = 1e-2

    public static func randomBuffer(_ n: Int, _ rng: inout RNG, scale: Float = 1) -> FloatBuffer {
        let b = FloatBuffer(n)
        for i in 0..<n { b[i] = rng.normal() * scale }
        return b
    }

    /// Compares `analytic` (∂loss/∂x) with central differences of `loss` with respect to the
    /// `count` floats at `x`. Returns the worst relative error seen.
    @discardableResult
    public static func check(_ name: String, x: UnsafeMutablePointer<Float>, count: Int, analytic: UnsafePointer<Float>,
                      entries: Int = 6, tolerance: Double = 2e-2, seed: UInt64 = 1,
                      loss: () -> Double) -> Double {
        var rng = RNG(seed: seed, stream: name)
        var worst = 0.0
        // Directional derivative along a random unit direction.
        let dir = (0..<count).map { _ in rng.normal() }
        let norm = dir.reduce(0) { $0 + Double($1) * Double($1) }.squareRoot()
        let u = dir.map { Float(Double($0) / norm) }
        var predicted = 0.0
        for i in 0..<count { predicted += Double(analytic[i]) * Double(u[i]) }
        let saved = Array(UnsafeBufferPointer(start: x, count: count))
        for i in 0..<count { x[i] = saved[i] + eps * u[i] }
        let lp = loss()
        for i in 0..<count { x[i] = saved[i] - eps * u[i] }
        let lm = loss()
        for i in 0..<count { x[i] = saved[i] }
        let numeric = (lp - lm) / (2 * Double(eps))
        // Float32 rounding of the loss limits what the difference can resolve, so a tiny
        // directional derivative is judged against the gradient's norm, not against itself.
        var gnorm = 0.0
        for i in 0..<count { gnorm += Double(analytic[i]) * Double(analytic[i]) }
        let scale = Swift.max(abs(numeric), abs(predicted), 0.05 * gnorm.squareRoot(), 1e-4)
        let rel = abs(numeric - predicted) / scale
        worst = Swift.max(worst, rel)
        #expect(rel < tolerance, "\(name): directional derivative analytic \(predicted) vs numeric \(numeric)")
        // Individual entries: the largest-gradient entry plus random ones.
        var idx = [(0..<count).max(by: { abs(analytic[$0]) < abs(analytic[$1]) })!]
        for _ in 0..<entries { idx.append(rng.int(in: 0...(count - 1))) }
        // Entry errors are judged against the gradient's overall size: an entry whose true
        // gradient is ~0 cannot be measured relatively in float32.
        var gmax = 0.0
        for i in 0..<count { gmax = Swift.max(gmax, abs(Double(analytic[i]))) }
        for i in idx {
            let old = x[i]
            x[i] = old + eps; let a = loss()
            x[i] = old - eps; let b = loss()
            x[i] = old
            let num = (a - b) / (2 * Double(eps))
            let err = abs(num - Double(analytic[i])) / Swift.max(gmax, 1e-3)
            worst = Swift.max(worst, err)
            #expect(err < tolerance, "\(name)[\(i)]: analytic \(analytic[i]) vs numeric \(num)")
        }
        return worst
    }

    /// Σ y·r in float64: a scalar loss whose gradient with respect to y is r.
    public static func weightedSum(_ y: UnsafePointer<Float>, _ r: FloatBuffer) -> Double {
        var s = 0.0
        for i in 0..<r.count { s += Double(y[i]) * Double(r[i]) }
        return s
    }
}
