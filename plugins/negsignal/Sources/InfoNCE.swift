#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// CARFT's negative-signal InfoNCE over B rows of D-wide pooled views (paper formula 8):
///
///   L_i = −s(anchor_i, positive_i)/τ + log Σ_{j usable} exp(s(anchor_i, candidate_j)/τ)
///   L   = mean (or sum) of L_i over the usable rows with reward < 1;  0 when there are none
///
/// anchor = rollout tokens in the LCS, positive = annotated tokens outside it, candidate =
/// rollout tokens outside it. s is cosine (u = x/‖x‖, and u = 0 with no gradient when
/// ‖x‖ < 1e-8) or the raw inner product. Everything in Double; backward is the analytic
/// vector-Jacobian product of the same formulas.
struct NegativeInfoNCE {
    let options: Options
    let batch: Int, dim: Int
    let anchor: UnsafePointer<Float>, positive: UnsafePointer<Float>, candidates: UnsafePointer<Float>
    /// 1 = the row is a term (reward < 1 and usable).
    let rows: [Bool]
    /// 1 = the row is real and all its views are non-empty: a term or candidate at all.
    let usable: [Bool]

    static let normFloor = 1e-8

    /// The compared vectors of one role and their norms.
    func prepare(_ x: UnsafePointer<Float>) -> (vec: [Double], norm: [Double]) {
        var vec = [Double](repeating: 0, count: batch * dim), norm = [Double](repeating: 1, count: batch)
        for i in 0..<batch {
            var s = 0.0
            for k in 0..<dim { let v = Double(x[i * dim + k]); vec[i * dim + k] = v; s += v * v }
            guard options.similarity == .cosine else { continue }
            norm[i] = s.squareRoot()
            let inv = norm[i] >= Self.normFloor ? 1 / norm[i] : 0
            for k in 0..<dim { vec[i * dim + k] *= inv }
        }
        return (vec, norm)
    }

    func dot(_ x: [Double], _ i: Int, _ y: [Double], _ j: Int) -> Double {
        var s = 0.0
        for k in 0..<dim { s += x[i * dim + k] * y[j * dim + k] }
        return s
    }

    /// The loss; with `grads`, also writes gradLoss·∂L/∂role into the non-nil buffers.
    func run(gradLoss: Double = 0, grads: [UnsafeMutablePointer<Float>?] = [nil, nil, nil]) -> Double {
        let terms = rows.filter { $0 }.count
        let want = grads.map { $0 != nil }
        var g = want.map { $0 ? [Double](repeating: 0, count: batch * dim) : [] }
        defer {
            for r in 0..<3 where want[r] { store(g[r], grads[r]!) }
        }
        guard terms > 0 else { return 0 }
        let a = prepare(anchor), p = prepare(positive), c = prepare(candidates)
        let invTau = 1 / options.tau
        let scale = options.reduction == .mean ? 1 / Double(terms) : 1
        let clamp = options.similarity == .cosine ? options.positiveClamp : nil
        let w = gradLoss * scale * invTau
        var logits = [Double](repeating: 0, count: batch)
        var total = 0.0
        for i in 0..<batch where rows[i] {
            var pos = dot(a.vec, i, p.vec, i), live = 1.0
            if let cl = clamp, pos > cl { pos = cl; live = 0 }
            var top = -Double.infinity
            for j in 0..<batch where usable[j] { logits[j] = dot(a.vec, i, c.vec, j) * invTau; top = max(top, logits[j]) }
            var z = 0.0
            for j in 0..<batch where usable[j] { z += exp(logits[j] - top) }
            total += -pos * invTau + top + log(z)
            guard want.contains(true) else { continue }
            for j in 0..<batch { logits[j] = usable[j] ? exp(logits[j] - top) / z : 0 }
            if want[0] {
                for k in 0..<dim {
                    var s = -live * p.vec[i * dim + k]
                    for j in 0..<batch where logits[j] != 0 { s += logits[j] * c.vec[j * dim + k] }
                    g[0][i * dim + k] += w * s
                }
            }
            if want[1] && live != 0 {
                for k in 0..<dim { g[1][i * dim + k] -= w * a.vec[i * dim + k] }
            }
            if want[2] && !options.detachDenominator {
                for j in 0..<batch where logits[j] != 0 {
                    for k in 0..<dim { g[2][j * dim + k] += w * logits[j] * a.vec[i * dim + k] }
                }
            }
        }
        // Back through the normalisation: ∂/∂x = (g − u(u·g))/‖x‖ (cosine).
        for (r, prepared) in [a, p, c].enumerated() where want[r] { pullBack(&g[r], prepared) }
        return total * scale
    }

    func pullBack(_ g: inout [Double], _ x: (vec: [Double], norm: [Double])) {
        for i in 0..<batch {
            let n = x.norm[i]
            if !usable[i] || (options.similarity == .cosine && !(n >= Self.normFloor)) {
                for k in 0..<dim { g[i * dim + k] = 0 }
                continue
            }
            guard options.similarity == .cosine else { continue }
            var ug = 0.0
            for k in 0..<dim { ug += x.vec[i * dim + k] * g[i * dim + k] }
            for k in 0..<dim { g[i * dim + k] = (g[i * dim + k] - x.vec[i * dim + k] * ug) / n }
        }
    }

    func store(_ src: [Double], _ dst: UnsafeMutablePointer<Float>) {
        for i in 0..<(batch * dim) { dst[i] = Float(src[i]) }
    }
}
