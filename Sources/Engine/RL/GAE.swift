/// Generalised advantage estimation over one sequence's response tokens, as ReFT runs it:
/// `delta_t = r_t + gamma * V_{t+1} - V_t` with the value after the last token taken as 0
/// (the episode ends there, whether at EOS or at the length limit), and
/// `A_t = delta_t + gamma * lambda * A_{t+1}`; returns are `A + V`, the value head's target.
public enum GAE {
    /// The recursion runs in Double: with gamma = 1 and lambda near 1 the discounted sum over a
    /// long response accumulates hundreds of terms, and Float rounding would then differ from
    /// the float64 reference by more than the tests can tell from a real bug.
    public static func compute(rewards: [Float], values: [Float], gamma: Float, lambda: Float)
        -> (advantages: [Float], returns: [Float]) {
        precondition(rewards.count == values.count,
                     "GAE.compute: \(rewards.count) rewards but \(values.count) values; both cover the same response tokens")
        let n = rewards.count
        var advantages = [Float](repeating: 0, count: n)
        var returns = [Float](repeating: 0, count: n)
        let g = Double(gamma), gl = Double(gamma) * Double(lambda)
        var nextValue = 0.0, nextAdvantage = 0.0
        var t = n - 1
        while t >= 0 {
            let v = Double(values[t])
            let delta = Double(rewards[t]) + g * nextValue - v
            let a = delta + gl * nextAdvantage
            advantages[t] = Float(a)
            returns[t] = Float(a + v)
            nextValue = v
            nextAdvantage = a
            t -= 1
        }
        return (advantages, returns)
    }
}
