import Testing
@testable import Engine

/// Float64 reference written straight from the definition: deltas first, then the discounted
/// cumulative sum of deltas, as ReFT's `discount_cumsum` does (a different loop shape from the
/// fused recursion under test).
private func referenceGAE(_ r: [Double], _ v: [Double], gamma: Double, lambda: Double) -> ([Double], [Double]) {
    let n = r.count
    let deltas = (0..<n).map { t in r[t] + gamma * (t + 1 < n ? v[t + 1] : 0) - v[t] }
    let adv = (0..<n).map { t in
        var a = 0.0, w = 1.0
        for k in t..<n { a += w * deltas[k]; w *= gamma * lambda }
        return a
    }
    return (adv, zip(adv, v).map { $0 + $1 })
}

@Test func gaeHandWorkedThreeTokens() {
    let rewards: [Float] = [0, 0, 1], values: [Float] = [0.5, 0.6, 0.7]
    // gamma 1, lambda 0.95 (the reference code's): deltas 0.1, 0.1, 0.3;
    // A2 = 0.3, A1 = 0.1 + 0.95 * 0.3 = 0.385, A0 = 0.1 + 0.95 * 0.385 = 0.46575.
    let code = GAE.compute(rewards: rewards, values: values, gamma: 1, lambda: 0.95)
    #expect(RLCheck.near(code.advantages, [0.46575, 0.385, 0.3]))
    #expect(RLCheck.near(code.returns, [0.96575, 0.985, 1.0]))
    // gamma 0.95, lambda 1 (the paper's appendix): deltas 0.07, 0.065, 0.3;
    // A1 = 0.065 + 0.95 * 0.3 = 0.35, A0 = 0.07 + 0.95 * 0.35 = 0.4025; with lambda 1 the
    // returns are the discounted reward-to-go: 0.95^2, 0.95, 1.
    let paper = GAE.compute(rewards: rewards, values: values, gamma: 0.95, lambda: 1)
    #expect(RLCheck.near(paper.advantages, [0.4025, 0.35, 0.3]))
    #expect(RLCheck.near(paper.returns, [0.9025, 0.95, 1.0]))
}

@Test(arguments: [(Float(1.0), Float(0.95)), (Float(0.95), Float(1.0))])
func gaeMatchesFloat64Reference(gamma: Float, lambda: Float) {
    var rng = RNG(seed: 7, stream: "gae")
    for n in [1, 2, 17, 300] {
        let r = RLCheck.normals(n, &rng, scale: 0.05), v = RLCheck.normals(n, &rng)
        let got = GAE.compute(rewards: r, values: v, gamma: gamma, lambda: lambda)
        let (adv, ret) = referenceGAE(r.map(Double.init), v.map(Double.init),
                                      gamma: Double(gamma), lambda: Double(lambda))
        #expect(RLCheck.near(got.advantages, adv, 1e-6), "n = \(n)")
        #expect(RLCheck.near(got.returns, ret, 1e-6), "n = \(n)")
    }
    let empty = GAE.compute(rewards: [], values: [], gamma: gamma, lambda: lambda)
    #expect(empty.advantages.isEmpty && empty.returns.isEmpty)
}

@Test func shapedRewardsPutKLEverywhereAndScoreOnce() {
    let logp: [Float] = [-1, -2, -0.5], ref: [Float] = [-1.5, -2, -0.25]
    // logp - ref = 0.5, 0, -0.25; times -0.05 = -0.025, 0, 0.0125; score 1 on the last token.
    let atEnd = TokenRewards.shaped(score: 1, logProbs: logp, refLogProbs: ref, beta: 0.05)
    #expect(RLCheck.near(atEnd, [-0.025, 0, 1.0125]))
    let atOne = TokenRewards.shaped(score: 1, logProbs: logp, refLogProbs: ref, beta: 0.05, scoreIndex: 1)
    #expect(RLCheck.near(atOne, [-0.025, 1, 0.0125]))
    let noKL = TokenRewards.shaped(score: 0.1, logProbs: logp, refLogProbs: ref, beta: 0)
    #expect(RLCheck.near(noKL, [0, 0, 0.1]))
}
