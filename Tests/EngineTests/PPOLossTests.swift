import Foundation
import Testing
@testable import Engine

/// Float64 reference of the clipped surrogate with a free divisor (sequence length for PPO,
/// the constant budget for Dr.GRPO), written from the formula rather than from the code.
private func referenceSurrogate(_ logp: [Double], _ old: [Double], _ adv: [Double], eps: Double, divisor: Double)
    -> (loss: Double, grad: [Double], clipFraction: Double, approxKL: Double) {
    var loss = 0.0, kl = 0.0, clipped = 0.0
    var grad = [Double]()
    for t in logp.indices {
        let ratio = exp(logp[t] - old[t])
        let a = -adv[t] * ratio, b = -adv[t] * Swift.min(Swift.max(ratio, 1 - eps), 1 + eps)
        loss += Swift.max(a, b)
        grad.append(b > a ? 0 : -adv[t] * ratio / divisor)
        if b > a { clipped += 1 }
        kl += 0.5 * (logp[t] - old[t]) * (logp[t] - old[t])
    }
    let n = Double(logp.count)
    return (loss / divisor, grad, clipped / n, kl / n)
}

/// Log-prob pairs whose ratio stays at least `margin` away from both clip edges, so a finite
/// difference never straddles the kink.
private func awayFromClipEdges(_ n: Int, eps: Float, _ rng: inout RNG, margin: Double = 0.02) -> ([Float], [Float]) {
    var logp = [Float](), old = [Float]()
    while logp.count < n {
        let o = rng.normal() - 2, l = o + rng.normal() * 0.3
        let ratio = exp(Double(l) - Double(o))
        if abs(ratio - (1 - Double(eps))) < margin || abs(ratio - (1 + Double(eps))) < margin { continue }
        logp.append(l); old.append(o)
    }
    return (logp, old)
}

@Test func policyLossHandExampleCountsClipsRight() {
    // Ratios 1.5 (A = 1: clipped high), 0.5 (A = -1: clipped low), 1.1 (A = 2: inside),
    // 0.5 (A = 1: below the range but the unclipped term is larger, so not clipped).
    let ratios = [1.5, 0.5, 1.1, 0.5]
    let logp = ratios.map { Float(log($0)) }, old = [Float](repeating: 0, count: 4)
    let r = PPOLoss.policy(logProbs: logp, oldLogProbs: old, advantages: [1, -1, 2, 1], clipEps: 0.2)
    // Per token: max(-1.5, -1.2) = -1.2; max(0.5, 0.8) = 0.8; -2.2; max(-0.5, -0.8) = -0.5.
    #expect(RLCheck.near(r.loss, (-1.2 + 0.8 - 2.2 - 0.5) / 4))
    #expect(RLCheck.near(r.gradLogProbs, [0, 0, -2.2 / 4, -0.5 / 4]))
    #expect(r.clipFraction == 0.5)
    let kl = logp.reduce(0.0) { $0 + 0.5 * Double($1) * Double($1) } / 4
    #expect(RLCheck.near(r.approxKL, kl))
}

@Test func policyLossMatchesReferenceAndFiniteDifferences() {
    var rng = RNG(seed: 11, stream: "ppo-policy")
    let eps: Float = 0.2
    for n in [1, 6, 40] {
        let (logp, old) = awayFromClipEdges(n, eps: eps, &rng)
        let adv = RLCheck.normals(n, &rng)
        let r = PPOLoss.policy(logProbs: logp, oldLogProbs: old, advantages: adv, clipEps: eps)
        let ref = referenceSurrogate(logp.map(Double.init), old.map(Double.init), adv.map(Double.init),
                                     eps: Double(eps), divisor: Double(n))
        #expect(RLCheck.near(r.loss, ref.loss, 1e-12))
        #expect(RLCheck.near(r.gradLogProbs, ref.grad))
        #expect(r.clipFraction == ref.clipFraction)
        #expect(RLCheck.near(r.approxKL, ref.approxKL, 1e-12))
        let numeric = RLCheck.numericGradient(logp) {
            PPOLoss.policy(logProbs: $0, oldLogProbs: old, advantages: adv, clipEps: eps).loss
        }
        #expect(RLCheck.near(r.gradLogProbs, numeric, 1e-5), "n = \(n)")
    }
    // The random draws must exercise both branches for the checks above to mean anything.
    let (logp, old) = awayFromClipEdges(200, eps: eps, &rng)
    let r = PPOLoss.policy(logProbs: logp, oldLogProbs: old, advantages: RLCheck.normals(200, &rng), clipEps: eps)
    #expect(r.clipFraction > 0.05 && r.clipFraction < 0.95)
    let empty = PPOLoss.policy(logProbs: [], oldLogProbs: [], advantages: [], clipEps: eps)
    #expect(empty.loss == 0 && empty.gradLogProbs.isEmpty && empty.clipFraction == 0)
}

@Test func valueLossHandExample() {
    // c = 0.2. Token 0: V = 1, V_old = 0.5 -> clipped 0.7, R = 0: (1)^2 > 0.49, unclipped wins.
    // Token 1: same V, R = 2: 1 < 1.69, the clipped term wins and the gradient is cut.
    // Token 2: V = 0.6 inside [0.3, 0.7], R = 1: both terms 0.16.
    let r = PPOLoss.value(values: [1, 1, 0.6], oldValues: [0.5, 0.5, 0.5], returns: [0, 2, 1], clipRange: 0.2)
    #expect(RLCheck.near(r.loss, 0.5 * (1 + 1.69 + 0.16) / 3))
    #expect(RLCheck.near(r.gradValues, [1.0 / 3, 0, -0.4 / 3]))
    #expect(RLCheck.near(r.clipFraction, 1.0 / 3))
}

@Test func valueLossMatchesReferenceAndFiniteDifferences() {
    var rng = RNG(seed: 5, stream: "ppo-value")
    let c: Float = 0.2
    var totalClipped = 0.0
    for n in [1, 7, 50] {
        var v = [Float](), old = [Float]()
        while v.count < n {
            let o = rng.normal(), x = o + rng.normal() * 0.3
            // Keep V off the clip edges so finite differences stay on one branch.
            if abs(abs(Double(x) - Double(o)) - Double(c)) < 0.02 { continue }
            v.append(x); old.append(o)
        }
        let ret = RLCheck.normals(n, &rng)
        let r = PPOLoss.value(values: v, oldValues: old, returns: ret, clipRange: c)
        var loss = 0.0, clipped = 0.0
        var grad = [Double]()
        for t in 0..<n {
            let x = Double(v[t]), o = Double(old[t]), y = Double(ret[t])
            let xc = Swift.min(Swift.max(x, o - Double(c)), o + Double(c))
            let a = (x - y) * (x - y), b = (xc - y) * (xc - y)
            loss += 0.5 * Swift.max(a, b) / Double(n)
            grad.append(b > a ? 0 : (x - y) / Double(n))
            if b > a { clipped += 1 }
        }
        totalClipped += clipped
        #expect(RLCheck.near(r.loss, loss, 1e-12))
        #expect(RLCheck.near(r.gradValues, grad))
        #expect(r.clipFraction == clipped / Double(n))
        let numeric = RLCheck.numericGradient(v) {
            PPOLoss.value(values: $0, oldValues: old, returns: ret, clipRange: c).loss
        }
        #expect(RLCheck.near(r.gradValues, numeric, 1e-5), "n = \(n)")
    }
    #expect(totalClipped > 0)
}

@Test func grpoPolicyDividesByTheConstantNotTheLength() {
    var rng = RNG(seed: 2, stream: "grpo")
    let eps: Float = 0.2, budget: Float = 64
    let (logp, old) = awayFromClipEdges(9, eps: eps, &rng)
    let once = PPOLoss.grpoPolicy(logProbs: logp, oldLogProbs: old, advantage: 0.45, clipEps: eps, normalizer: budget)
    let twice = PPOLoss.grpoPolicy(logProbs: logp + logp, oldLogProbs: old + old, advantage: 0.45,
                                   clipEps: eps, normalizer: budget)
    // Same per-token values, twice the tokens: the loss doubles and each token's gradient is
    // unchanged; a length-normalised loss would stay the same and halve the gradients.
    #expect(RLCheck.near(twice.loss, 2 * once.loss, 1e-12))
    #expect(twice.gradLogProbs == once.gradLogProbs + once.gradLogProbs)
    #expect(twice.clipFraction == once.clipFraction)

    // The advantage the function sees is the Float 0.45, not the decimal one.
    let ref = referenceSurrogate(logp.map(Double.init), old.map(Double.init), Array(repeating: Double(Float(0.45)), count: 9),
                                 eps: Double(eps), divisor: Double(budget))
    #expect(RLCheck.near(once.loss, ref.loss, 1e-12))
    #expect(RLCheck.near(once.gradLogProbs, ref.grad))
    #expect(once.clipFraction == ref.clipFraction)
    let numeric = RLCheck.numericGradient(logp) {
        PPOLoss.grpoPolicy(logProbs: $0, oldLogProbs: old, advantage: 0.45, clipEps: eps, normalizer: budget).loss
    }
    #expect(RLCheck.near(once.gradLogProbs, numeric, 1e-5))
    // With the normaliser equal to the length it is the PPO loss with a constant advantage.
    let ppo = PPOLoss.policy(logProbs: logp, oldLogProbs: old, advantages: Array(repeating: 0.45, count: 9), clipEps: eps)
    let asPPO = PPOLoss.grpoPolicy(logProbs: logp, oldLogProbs: old, advantage: 0.45, clipEps: eps, normalizer: 9)
    #expect(RLCheck.near(asPPO.loss, ppo.loss, 1e-12))
    #expect(RLCheck.near(asPPO.gradLogProbs, ppo.gradLogProbs.map(Double.init)))
}

@Test func klPenaltyK3ValueAndGradient() {
    // ref - logp = 1, 0, -1: k3 = (e - 2), 0, (1/e); beta 0.1 over a budget of 4.
    let hand = PPOLoss.klPenalty(logProbs: [-2, -1, -1], refLogProbs: [-1, -1, -2], beta: 0.1, normalizer: 4)
    #expect(RLCheck.near(hand.loss, 0.1 / 4 * ((M_E - 2) + 0 + exp(-1))))
    #expect(RLCheck.near(hand.gradLogProbs, [0.1 / 4 * (1 - M_E), 0, 0.1 / 4 * (1 - exp(-1))]))

    var rng = RNG(seed: 9, stream: "k3")
    let logp = RLCheck.normals(20, &rng, scale: 0.5, shift: -2)
    let ref = logp.map { $0 + rng.normal() * 0.4 }
    let r = PPOLoss.klPenalty(logProbs: logp, refLogProbs: ref, beta: 0.05, normalizer: 32)
    #expect(r.loss > 0)
    let numeric = RLCheck.numericGradient(logp) {
        PPOLoss.klPenalty(logProbs: $0, refLogProbs: ref, beta: 0.05, normalizer: 32).loss
    }
    #expect(RLCheck.near(r.gradLogProbs, numeric, 1e-5))
}
