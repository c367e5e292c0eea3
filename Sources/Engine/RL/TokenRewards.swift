/// Per-token rewards for PPO as ReFT shapes them: a KL penalty at every response token keeps
/// the policy near the frozen SFT reference, and the task score arrives once, on the token that
/// produced EOS (or the last token when generation hit the length limit).
public enum TokenRewards {
    /// `logProbs` are the rollout policy's log-probabilities of the sampled tokens (ReFT uses
    /// the old policy's, not the ones being optimised), `refLogProbs` the reference model's.
    /// The penalty is the k1 estimator `-beta * (logp - logp_ref)`: unbiased for the sequence
    /// KL and cheap, at the price of single tokens getting a positive reward when the policy
    /// is less sure of them than the reference is.
    public static func shaped(score: Float, logProbs: [Float], refLogProbs: [Float], beta: Float,
                              scoreIndex: Int? = nil) -> [Float] {
        precondition(logProbs.count == refLogProbs.count,
                     "TokenRewards.shaped: \(logProbs.count) log-probs but \(refLogProbs.count) reference log-probs")
        precondition(!logProbs.isEmpty, "TokenRewards.shaped: a response needs at least one token to carry the score")
        let at = scoreIndex ?? logProbs.count - 1
        precondition(logProbs.indices.contains(at),
                     "TokenRewards.shaped: scoreIndex \(at) is outside the \(logProbs.count) response tokens")
        let b = Double(beta)
        var rewards = [Float](repeating: 0, count: logProbs.count)
        for t in 0..<logProbs.count {
            var r = -b * (Double(logProbs[t]) - Double(refLogProbs[t]))
            if t == at { r += Double(score) }
            rewards[t] = Float(r)
        }
        return rewards
    }
}
