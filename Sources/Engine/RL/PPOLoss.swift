import Foundation

/// One sequence's clipped-surrogate loss, its gradient with respect to the sequence's token
/// log-probabilities (which the trainer back-propagates through the log-softmax), and the two
/// diagnostics PPO runs log to see whether updates stay in the trust region.
public struct PolicyLossResult: Sendable, Equatable {
    public let loss: Double
    public let gradLogProbs: [Float]
    /// Fraction of tokens where the clipped term was strictly larger, i.e. whose gradient was cut.
    public let clipFraction: Double
    /// `mean(0.5 * (logp - logp_old)^2)` over the tokens: a cheap, always non-negative KL estimate.
    public let approxKL: Double

    public init(loss: Double, gradLogProbs: [Float], clipFraction: Double, approxKL: Double) {
        self.loss = loss
        self.gradLogProbs = gradLogProbs
        self.clipFraction = clipFraction
        self.approxKL = approxKL
    }
}

/// Token-level losses of the RL stage, each for ONE sequence with an analytic gradient, so the
/// trainer can weight sequences as it likes (ReFT: mean over sequences).
///
/// Everything is computed in Double from the Float inputs: the ratio `exp(logp - logp_old)` is
/// ~1 and its deviation is what matters, and a loss that is a deterministic function of the
/// Float inputs is what makes finite-difference checks meaningful.
///
/// An empty sequence gives loss 0 and no gradient, as the reference's
/// `sum / (length + 1e-8)` does.
public enum PPOLoss {
    /// PPO's clipped surrogate averaged over the sequence's tokens:
    /// `l_t = max(-A_t * ratio_t, -A_t * clip(ratio_t, 1 - eps, 1 + eps))`.
    public static func policy(logProbs: [Float], oldLogProbs: [Float], advantages: [Float], clipEps: Float)
        -> PolicyLossResult {
        precondition(advantages.count == logProbs.count,
                     "PPOLoss.policy: \(advantages.count) advantages for \(logProbs.count) tokens")
        return advantages.withUnsafeBufferPointer { a in
            clippedSurrogate(logProbs, oldLogProbs, clipEps: clipEps,
                             divisor: Double(logProbs.count), name: "PPOLoss.policy") { Double(a[$0]) }
        }
    }

    /// Dr.GRPO's token loss: the same clipped surrogate with one advantage for the whole
    /// sequence, summed and divided by a constant `normalizer` (the generation budget) rather
    /// than by the sequence's length. Dividing by length would make each token of a long wrong
    /// answer cheaper than a token of a short one, the length bias Dr.GRPO removes.
    /// `clipFraction` and `approxKL` remain per-token means: they are diagnostics, not loss.
    public static func grpoPolicy(logProbs: [Float], oldLogProbs: [Float], advantage: Float, clipEps: Float,
                                  normalizer: Float) -> PolicyLossResult {
        precondition(normalizer > 0, "PPOLoss.grpoPolicy: normalizer must be positive, got \(normalizer)")
        let a = Double(advantage)
        return clippedSurrogate(logProbs, oldLogProbs, clipEps: clipEps,
                                divisor: Double(normalizer), name: "PPOLoss.grpoPolicy") { _ in a }
    }

    /// The shared surrogate: loss = sum_t l_t / divisor. Where the clipped term is strictly larger
    /// the ratio sits outside the clip range on the side the advantage pushes towards, the
    /// clipped term is flat, and the gradient is 0; otherwise it is `-A * ratio / divisor`
    /// (d ratio / d logp = ratio). Ties (ratio inside the range) take the unclipped branch,
    /// which has the same value and gradient there.
    @inline(__always)
    private static func clippedSurrogate(_ logProbs: [Float], _ oldLogProbs: [Float], clipEps: Float, divisor: Double,
                                         name: String, advantage: (Int) -> Double) -> PolicyLossResult {
        precondition(oldLogProbs.count == logProbs.count,
                     "\(name): \(oldLogProbs.count) old log-probs for \(logProbs.count) tokens")
        let n = logProbs.count
        if n == 0 { return PolicyLossResult(loss: 0, gradLogProbs: [], clipFraction: 0, approxKL: 0) }
        var grad = [Float](repeating: 0, count: n)
        var sum = 0.0, kl = 0.0
        var clipped = 0
        for t in 0..<n {
            let term = surrogateToken(logProb: logProbs[t], oldLogProb: oldLogProbs[t], advantage: advantage(t),
                                      clipEps: clipEps, divisor: divisor)
            sum += term.loss
            grad[t] = term.grad
            if term.clipped { clipped += 1 }
            let d = Double(logProbs[t]) - Double(oldLogProbs[t])
            kl += 0.5 * d * d
        }
        return PolicyLossResult(loss: sum / divisor, gradLogProbs: grad,
                                clipFraction: Double(clipped) / Double(n), approxKL: kl / Double(n))
    }

    /// One token of the clipped surrogate: its loss term l_t (not yet divided) and ∂(l_t / divisor)/∂log p_t.
    /// The sequence losses above sum these; a trainer that forms ∂L/∂log p inside the output
    /// head's pass calls it per token, so both give the same bits.
    @inline(__always)
    public static func surrogateToken(logProb: Float, oldLogProb: Float, advantage a: Double, clipEps: Float,
                                      divisor: Double) -> (loss: Double, grad: Float, clipped: Bool) {
        let lo = 1 - Double(clipEps), hi = 1 + Double(clipEps)
        let ratio = exp(Double(logProb) - Double(oldLogProb))
        let unclippedLoss = -a * ratio
        let clippedLoss = -a * min(max(ratio, lo), hi)
        if clippedLoss > unclippedLoss { return (clippedLoss, 0, true) }
        return (unclippedLoss, Float(-a * ratio / divisor), false)
    }

    /// One token of the k3 penalty: its term `exp(x) − x − 1` (x = ref − log p, not yet scaled)
    /// and ∂(scale·term)/∂log p, where scale = β / normalizer.
    @inline(__always)
    public static func klToken(logProb: Float, refLogProb: Float, scale: Double) -> (term: Double, grad: Float) {
        let x = Double(refLogProb) - Double(logProb)
        let e = exp(x)
        return (e - x - 1, Float(scale * (1 - e)))
    }

    /// ReFT's clipped value loss, averaged over the sequence's tokens:
    /// `0.5 * max((V - R)^2, (clip(V, V_old - c, V_old + c) - R)^2)`.
    /// The clipped term is strictly larger only when V is outside the clip range (inside, the
    /// two terms are equal), and there the clipped value is constant in V, so the gradient is 0;
    /// otherwise it is `(V - R) / n`. `clipFraction` counts those cut tokens, as TRL's
    /// `vf_clipfrac` does.
    public static func value(values: [Float], oldValues: [Float], returns: [Float], clipRange: Float)
        -> (loss: Double, gradValues: [Float], clipFraction: Double) {
        let n = values.count
        precondition(oldValues.count == n && returns.count == n,
                     "PPOLoss.value: \(n) values, \(oldValues.count) old values and \(returns.count) returns must match")
        if n == 0 { return (0, [], 0) }
        let c = Double(clipRange)
        var grad = [Float](repeating: 0, count: n)
        var sum = 0.0
        var clipped = 0
        for t in 0..<n {
            let v = Double(values[t]), old = Double(oldValues[t]), r = Double(returns[t])
            let vClipped = min(max(v, old - c), old + c)
            let unclippedLoss = (v - r) * (v - r)
            let clippedLoss = (vClipped - r) * (vClipped - r)
            if clippedLoss > unclippedLoss {
                sum += clippedLoss
                clipped += 1
            } else {
                sum += unclippedLoss
                grad[t] = Float((v - r) / Double(n))
            }
        }
        return (0.5 * sum / Double(n), grad, Double(clipped) / Double(n))
    }

    /// Optional KL penalty for Dr.GRPO against the frozen reference, with the k3 estimator
    /// `exp(ref - logp) - (ref - logp) - 1`: non-negative per token and unbiased for KL(pi || ref)
    /// under samples from pi. Summed over tokens, divided by the same constant `normalizer` as
    /// the policy term, times `beta`. Its gradient is `beta * (1 - exp(ref - logp)) / normalizer`.
    public static func klPenalty(logProbs: [Float], refLogProbs: [Float], beta: Float, normalizer: Float)
        -> (loss: Double, gradLogProbs: [Float]) {
        precondition(refLogProbs.count == logProbs.count,
                     "PPOLoss.klPenalty: \(refLogProbs.count) reference log-probs for \(logProbs.count) tokens")
        precondition(normalizer > 0, "PPOLoss.klPenalty: normalizer must be positive, got \(normalizer)")
        let scale = Double(beta) / Double(normalizer)
        var grad = [Float](repeating: 0, count: logProbs.count)
        var sum = 0.0
        for t in 0..<logProbs.count {
            let k = klToken(logProb: logProbs[t], refLogProb: refLogProbs[t], scale: scale)
            sum += k.term
            grad[t] = k.grad
        }
        return (scale * sum, grad)
    }
}
