import Foundation

/// The masked InfoNCE both CARFT contrastive signals share, over pooled views of B rows:
///
///   L_i = −s(a_i, p_i)/τ + log Σ_{j valid} exp(s(a_i, c_j)/τ)      for rows i in `rows`
///   L   = Σ_i L_i  (reduction sum)  or  (1/|rows|) Σ_i L_i  (reduction mean);  0 when no row qualifies
///
/// a = anchor, p = positive, c = candidates (each B×D, row-major). Every valid row is a
/// candidate, including j = i and rows that do not qualify themselves (the reference
/// gathers every rollout of the batch as a candidate and masks only the loss terms).
/// With cosine similarity the numerator may be clamped (see `InfoNCEOptions`).
///
/// Cosine uses u = x/‖x‖ for ‖x‖ ≥ 1e-8 and u = 0 (with zero gradient) below: an empty view
/// pools to an exact zero vector, which has no direction, so it compares as 0 with everything
/// and receives no gradient (PyTorch's F.normalize would instead scale it by 1/eps).
///
/// All arithmetic is in Double; B×B logits are small (B ≤ a few hundred).
public enum MaskedInfoNCE {
    static let normEps = 1e-8

    /// The role buffers and masks of one call.
    public struct Inputs {
        public var batch: Int
        public var dim: Int
        public var anchor: UnsafePointer<Float>
        public var positive: UnsafePointer<Float>
        public var candidates: UnsafePointer<Float>
        /// [batch]: 1 = this row's loss term counts. Rows outside `valid` never count.
        public var rows: UnsafePointer<UInt8>
        /// [batch] or nil (all valid): 0 marks a padding row, neither a term nor a candidate.
        public var valid: UnsafePointer<UInt8>?

        public init(batch: Int, dim: Int, anchor: UnsafePointer<Float>, positive: UnsafePointer<Float>,
                    candidates: UnsafePointer<Float>, rows: UnsafePointer<UInt8>, valid: UnsafePointer<UInt8>?) {
            self.batch = batch
            self.dim = dim
            self.anchor = anchor
            self.positive = positive
            self.candidates = candidates
            self.rows = rows
            self.valid = valid
        }

        @inline(__always) func isValid(_ i: Int) -> Bool { valid == nil || valid![i] != 0 }
        @inline(__always) func counts(_ i: Int) -> Bool { rows[i] != 0 && isValid(i) }
    }

    /// Gradients with respect to the three role buffers, in Double, B×D each; nil when not needed.
    struct RoleGrads {
        var anchor: [Double]?
        var positive: [Double]?
        var candidates: [Double]?
    }

    /// The compared vectors of one role (unit vectors for cosine, the raw rows for dot) and
    /// the norms needed to pull a gradient back through the normalisation.
    struct Prepared {
        var vec: [Double]
        var norm: [Double]
    }

    static func prepare(_ x: UnsafePointer<Float>, _ b: Int, _ d: Int, _ sim: Similarity) -> Prepared {
        var vec = [Double](repeating: 0, count: b * d)
        var norm = [Double](repeating: 1, count: b)
        for i in 0..<b {
            var s = 0.0
            for k in 0..<d {
                let v = Double(x[i * d + k])
                vec[i * d + k] = v
                s += v * v
            }
            guard sim == .cosine else { continue }
            let n = s.squareRoot()
            norm[i] = n
            let inv = n >= normEps ? 1 / n : 0
            for k in 0..<d { vec[i * d + k] *= inv }
        }
        return Prepared(vec: vec, norm: norm)
    }

    /// dL/dx from dL/du where u = x/‖x‖ (cosine): (g − u (u·g)) / ‖x‖; zero below the norm floor.
    /// Padding rows (not valid) get exactly zero, whatever garbage they hold.
    static func pullBack(_ g: inout [Double], _ p: Prepared, _ x: Inputs, _ sim: Similarity) {
        let (b, d) = (x.batch, x.dim)
        for i in 0..<b where !x.isValid(i) {
            for k in 0..<d { g[i * d + k] = 0 }
        }
        guard sim == .cosine else { return }
        for i in 0..<b where x.isValid(i) {
            let n = p.norm[i]
            if !(n >= normEps) {
                for k in 0..<d { g[i * d + k] = 0 }
                continue
            }
            var ug = 0.0
            for k in 0..<d { ug += p.vec[i * d + k] * g[i * d + k] }
            for k in 0..<d { g[i * d + k] = (g[i * d + k] - p.vec[i * d + k] * ug) / n }
        }
    }

    @inline(__always)
    static func dot(_ x: [Double], _ i: Int, _ y: [Double], _ j: Int, _ d: Int) -> Double {
        var s = 0.0
        for k in 0..<d { s += x[i * d + k] * y[j * d + k] }
        return s
    }

    /// Loss, and when `want` asks for them, the role gradients scaled by `gradLoss`.
    static func run(_ x: Inputs, _ o: InfoNCEOptions, gradLoss: Double,
                    want: (anchor: Bool, positive: Bool, candidates: Bool)) -> (Double, RoleGrads) {
        let (B, D) = (x.batch, x.dim)
        var grads = RoleGrads(anchor: want.anchor ? [Double](repeating: 0, count: B * D) : nil,
                              positive: want.positive ? [Double](repeating: 0, count: B * D) : nil,
                              candidates: want.candidates ? [Double](repeating: 0, count: B * D) : nil)
        var n = 0
        for i in 0..<B where x.counts(i) { n += 1 }
        guard n > 0, B > 0 else { return (0, grads) }

        let a = prepare(x.anchor, B, D, o.similarity)
        let p = prepare(x.positive, B, D, o.similarity)
        let c = prepare(x.candidates, B, D, o.similarity)
        let invTau = 1 / Double(o.tau)
        let scale = o.reduction == .mean ? 1 / Double(n) : 1
        let clamp: Double? = o.similarity == .cosine ? o.positiveClamp.map(Double.init) : nil
        let w = gradLoss * scale
        let anyGrad = want.anchor || want.positive || want.candidates

        var logits = [Double](repeating: 0, count: B)
        var total = 0.0
        for i in 0..<B where x.counts(i) {
            var pos = dot(a.vec, i, p.vec, i, D)
            var posLive = 1.0
            if let cl = clamp, pos > cl {
                pos = cl
                posLive = 0
            }
            var m = -Double.infinity
            for j in 0..<B where x.isValid(j) {
                logits[j] = dot(a.vec, i, c.vec, j, D) * invTau
                m = max(m, logits[j])
            }
            var z = 0.0
            for j in 0..<B where x.isValid(j) { z += exp(logits[j] - m) }
            total += -pos * invTau + m + log(z)

            guard anyGrad else { continue }
            // Softmax over the candidates, in place.
            for j in 0..<B { logits[j] = x.isValid(j) ? exp(logits[j] - m) / z : 0 }
            let wt = w * invTau
            if grads.anchor != nil {
                for k in 0..<D {
                    var s = -posLive * p.vec[i * D + k]
                    for j in 0..<B where logits[j] != 0 { s += logits[j] * c.vec[j * D + k] }
                    grads.anchor![i * D + k] += wt * s
                }
            }
            if grads.positive != nil, posLive != 0 {
                for k in 0..<D { grads.positive![i * D + k] -= wt * a.vec[i * D + k] }
            }
            if grads.candidates != nil, !o.detachDenominator {
                for j in 0..<B where logits[j] != 0 {
                    let pj = wt * logits[j]
                    for k in 0..<D { grads.candidates![j * D + k] += pj * a.vec[i * D + k] }
                }
            }
        }
        if grads.anchor != nil { pullBack(&grads.anchor!, a, x, o.similarity) }
        if grads.positive != nil { pullBack(&grads.positive!, p, x, o.similarity) }
        if grads.candidates != nil { pullBack(&grads.candidates!, c, x, o.similarity) }
        return (total * scale, grads)
    }

    public static func forward(_ x: Inputs, options: InfoNCEOptions) -> Double {
        run(x, options, gradLoss: 0, want: (false, false, false)).0
    }

    /// Overwrites each requested gradient (B×D) with gradLoss · ∂L/∂role.
    public static func backward(_ x: Inputs, options: InfoNCEOptions, gradLoss: Float,
                                gradAnchor: UnsafeMutablePointer<Float>?,
                                gradPositive: UnsafeMutablePointer<Float>?,
                                gradCandidates: UnsafeMutablePointer<Float>?) {
        let g = run(x, options, gradLoss: Double(gradLoss),
                    want: (gradAnchor != nil, gradPositive != nil, gradCandidates != nil)).1
        store(g.anchor, gradAnchor)
        store(g.positive, gradPositive)
        store(g.candidates, gradCandidates)
    }

    static func store(_ src: [Double]?, _ dst: UnsafeMutablePointer<Float>?) {
        guard let src, let dst else { return }
        for i in 0..<src.count { dst[i] = Float(src[i]) }
    }
}
