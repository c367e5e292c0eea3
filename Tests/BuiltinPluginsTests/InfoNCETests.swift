import Foundation
import Testing
import Engine
import TestSupport
@testable import BuiltinPlugins

/// Float64 reference of the masked InfoNCE, straight from the formula with explicit loops:
/// L_i = −min(s(a_i,p_i), clamp)/τ + log Σ_{j valid} exp(s(a_i,c_j)/τ), reduced over counted rows.
func referenceInfoNCE(B: Int, D: Int, anchor: [Float], positive: [Float], candidates: [Float],
                      rows: [Bool], valid: [Bool], o: InfoNCEOptions) -> Double {
    func vec(_ x: [Float], _ i: Int) -> [Double] {
        let v = (0..<D).map { Double(x[i * D + $0]) }
        guard o.similarity == .cosine else { return v }
        let n = v.reduce(0) { $0 + $1 * $1 }.squareRoot()
        return n < 1e-8 ? [Double](repeating: 0, count: D) : v.map { $0 / n }
    }
    func dot(_ x: [Double], _ y: [Double]) -> Double { zip(x, y).reduce(0) { $0 + $1.0 * $1.1 } }
    let tau = Double(o.tau)
    var total = 0.0, n = 0
    for i in 0..<B where rows[i] && valid[i] {
        n += 1
        var pos = dot(vec(anchor, i), vec(positive, i))
        if o.similarity == .cosine, let c = o.positiveClamp { pos = min(pos, Double(c)) }
        var den = 0.0
        for j in 0..<B where valid[j] { den += exp(dot(vec(anchor, i), vec(candidates, j)) / tau) }
        total += -pos / tau + log(den)
    }
    if n == 0 { return 0 }
    return o.reduction == .mean ? total / Double(n) : total
}

/// Five rows, dim 6: rewards mark rows 0, 2, 4 correct (1) and 1, 3 wrong (0.1 partial, 0).
final class ContrastiveFixture {
    let B: Int, D: Int
    let annotated: FloatBuffer, rollout: FloatBuffer, third: FloatBuffer
    var rewards: [Float]
    var valid: [UInt8]

    init(B: Int = 5, D: Int = 6, seed: UInt64 = 21, scale: Float = 1) {
        self.B = B
        self.D = D
        var rng = RNG(seed: seed, stream: "contrastive")
        annotated = GradCheck.randomBuffer(B * D, &rng, scale: scale)
        rollout = GradCheck.randomBuffer(B * D, &rng, scale: scale)
        third = GradCheck.randomBuffer(B * D, &rng, scale: scale)
        rewards = (0..<B).map { [1, 0.1, 1, 0][$0 % 4] }
        valid = [UInt8](repeating: 1, count: B)
    }

    func positiveLoss(_ o: InfoNCEOptions) -> Double {
        InfoNCEPositive.forward(batch: B, dim: D, annotated: annotated.ptr, rollout: rollout.ptr,
                                rewards: rewards, valid: valid, options: o)
    }

    func positiveGrads(_ o: InfoNCEOptions, gradLoss: Float = 1) -> (FloatBuffer, FloatBuffer) {
        let ga = FloatBuffer(B * D), gr = FloatBuffer(B * D)
        for i in 0..<(B * D) { ga[i] = .nan; gr[i] = .nan }
        InfoNCEPositive.backward(batch: B, dim: D, annotated: annotated.ptr, rollout: rollout.ptr,
                                 rewards: rewards, valid: valid, options: o, gradLoss: gradLoss,
                                 gradAnnotated: ga.ptr, gradRollout: gr.ptr)
        return (ga, gr)
    }

    /// Views of the negative signal: anchor = rollout (LCS view), positive = annotated (exc), candidates = third (rollout exc).
    func negativeLoss(_ o: InfoNCEOptions) -> Double {
        LCSNegative.forward(batch: B, dim: D, rolloutLCS: rollout.ptr, annotatedExc: annotated.ptr, rolloutExc: third.ptr,
                            rewards: rewards, valid: valid, options: o)
    }

    func negativeGrads(_ o: InfoNCEOptions) -> (FloatBuffer, FloatBuffer, FloatBuffer) {
        let g0 = FloatBuffer(B * D), g1 = FloatBuffer(B * D), g2 = FloatBuffer(B * D)
        for i in 0..<(B * D) { g0[i] = .nan; g1[i] = .nan; g2[i] = .nan }
        LCSNegative.backward(batch: B, dim: D, rolloutLCS: rollout.ptr, annotatedExc: annotated.ptr, rolloutExc: third.ptr,
                             rewards: rewards, valid: valid, options: o, gradLoss: 1,
                             gradRolloutLCS: g0.ptr, gradAnnotatedExc: g1.ptr, gradRolloutExc: g2.ptr)
        return (g0, g1, g2)
    }

    var validBools: [Bool] { valid.map { $0 != 0 } }
}

func maxAbsDiff(_ a: FloatBuffer, _ b: FloatBuffer) -> Double {
    (0..<a.count).map { abs(Double(a[$0]) - Double(b[$0])) }.max() ?? 0
}

@Suite struct InfoNCETests {
    static let optionSets: [(String, InfoNCEOptions)] = [
        ("reference", .reference),
        ("paper", .paper),
        ("cosine-noclamp-sum", InfoNCEOptions(similarity: .cosine, positiveClamp: nil, detachDenominator: false, reduction: .sum)),
        ("dot-mean-tau0.5", InfoNCEOptions(similarity: .dot, tau: 0.5, positiveClamp: 0.9, detachDenominator: true, reduction: .mean)),
    ]

    @Test func positiveForwardMatchesReference() {
        for (name, o) in Self.optionSets {
            let f = ContrastiveFixture(scale: o.similarity == .dot ? 0.3 : 1)
            let ref = referenceInfoNCE(B: f.B, D: f.D, anchor: f.annotated.array, positive: f.rollout.array,
                                       candidates: f.rollout.array, rows: f.rewards.map { $0 >= 1 },
                                       valid: f.validBools, o: o)
            let got = f.positiveLoss(o)
            #expect(abs(got - ref) < 1e-9 * max(1, abs(ref)), "\(name): \(got) vs \(ref)")
            #expect(ref != 0)
        }
    }

    @Test func negativeForwardMatchesReference() {
        for (name, o) in Self.optionSets {
            let f = ContrastiveFixture(scale: o.similarity == .dot ? 0.3 : 1)
            let ref = referenceInfoNCE(B: f.B, D: f.D, anchor: f.rollout.array, positive: f.annotated.array,
                                       candidates: f.third.array, rows: f.rewards.map { $0 < 1 },
                                       valid: f.validBools, o: o)
            let got = f.negativeLoss(o)
            #expect(abs(got - ref) < 1e-9 * max(1, abs(ref)), "\(name): \(got) vs \(ref)")
        }
    }

    /// With the full gradient (denominator not detached) every view's gradient is the true
    /// derivative of the forward loss.
    @Test func fullGradientsMatchFiniteDifferences() {
        let sets: [(String, InfoNCEOptions)] = [
            ("cosine-clamp-mean", InfoNCEOptions(detachDenominator: false)),
            ("cosine-sum", InfoNCEOptions(positiveClamp: nil, detachDenominator: false, reduction: .sum)),
            ("paper-dot-sum", .paper),
        ]
        for (name, o) in sets {
            let f = ContrastiveFixture(seed: 33, scale: o.similarity == .dot ? 0.3 : 1)
            let (ga, gr) = f.positiveGrads(o)
            GradCheck.check("pos.\(name).annotated", x: f.annotated.ptr, count: f.B * f.D, analytic: ga.ptr) { f.positiveLoss(o) }
            GradCheck.check("pos.\(name).rollout", x: f.rollout.ptr, count: f.B * f.D, analytic: gr.ptr) { f.positiveLoss(o) }
            let (g0, g1, g2) = f.negativeGrads(o)
            GradCheck.check("neg.\(name).rolloutLCS", x: f.rollout.ptr, count: f.B * f.D, analytic: g0.ptr) { f.negativeLoss(o) }
            GradCheck.check("neg.\(name).annotatedExc", x: f.annotated.ptr, count: f.B * f.D, analytic: g1.ptr) { f.negativeLoss(o) }
            GradCheck.check("neg.\(name).rolloutExc", x: f.third.ptr, count: f.B * f.D, analytic: g2.ptr) { f.negativeLoss(o) }
        }
    }

    /// Detached denominator: the rollout gradient is the derivative with the candidates held
    /// at a frozen copy (only the numerator moves), the anchor keeps its full gradient, and the
    /// result differs from the full gradient.
    @Test func detachedDenominatorIsGradientWithFrozenCandidates() {
        let o = InfoNCEOptions.reference
        let f = ContrastiveFixture(seed: 44)
        let (ga, gr) = f.positiveGrads(o)
        let frozen = FloatBuffer(f.rollout.array)
        let rows: [UInt8] = f.rewards.map { $0 >= 1 ? 1 : 0 }
        let surrogate = { () -> Double in
            rows.withUnsafeBufferPointer { r in
                MaskedInfoNCE.forward(.init(batch: f.B, dim: f.D, anchor: f.annotated.ptr, positive: f.rollout.ptr,
                                            candidates: frozen.ptr, rows: r.baseAddress!, valid: nil), options: o)
            }
        }
        GradCheck.check("detached.rollout", x: f.rollout.ptr, count: f.B * f.D, analytic: gr.ptr, loss: surrogate)
        GradCheck.check("detached.annotated", x: f.annotated.ptr, count: f.B * f.D, analytic: ga.ptr) { f.positiveLoss(o) }

        var full = o
        full.detachDenominator = false
        let (ga2, gr2) = f.positiveGrads(full)
        #expect(maxAbsDiff(gr, gr2) > 1e-2, "detaching must change the rollout gradient")
        #expect(maxAbsDiff(ga, ga2) < 1e-6, "the anchor is never detached")
        // Rows that do not qualify get no numerator gradient, and with the denominator
        // detached nothing else reaches them.
        for i in 0..<f.B where f.rewards[i] < 1 { for k in 0..<f.D { #expect(gr[i * f.D + k] == 0) } }

        // Negative signal: the candidate view (rollout exc) gets exactly zero when detached.
        let (_, _, g2) = f.negativeGrads(o)
        #expect(g2.array.allSatisfy { $0 == 0 })
        let (_, _, g2full) = f.negativeGrads(full)
        #expect(g2full.array.contains { abs($0) > 1e-3 })
    }

    /// The clamp at 0.9 caps the positive cosine and stops its gradient above it.
    @Test func clampStopsPositiveGradientAbove0_9() {
        let f = ContrastiveFixture(seed: 55)
        f.rewards = [1, 0, 0, 0, 0]
        // Row 0's rollout equals its annotated embedding up to scale: cos = 1 > 0.9.
        for k in 0..<f.D { f.rollout[k] = 2 * f.annotated[k] }
        let o = InfoNCEOptions.reference
        let ref = referenceInfoNCE(B: f.B, D: f.D, anchor: f.annotated.array, positive: f.rollout.array,
                                   candidates: f.rollout.array, rows: f.rewards.map { $0 >= 1 }, valid: f.validBools, o: o)
        #expect(abs(f.positiveLoss(o) - ref) < 1e-9)
        // The loss uses 0.9, not 1: −0.9/τ + lse.
        var noClamp = o
        noClamp.positiveClamp = nil
        #expect(abs((f.positiveLoss(noClamp) - f.positiveLoss(o)) - (-(1 - 0.9) / 0.2)) < 1e-5)

        // Clamp active + detached denominator: the rollout receives nothing at all.
        let (_, gr) = f.positiveGrads(o)
        #expect(gr.array.allSatisfy { $0 == 0 })
        // Without the clamp the numerator pulls row 0 (its cosine is 1 so the projected pull is
        // 0 at exactly parallel vectors; perturb slightly to get a live gradient).
        f.rollout[0] += 0.3
        let (_, grNo) = f.positiveGrads(noClamp)
        #expect((0..<f.D).contains { abs(grNo[$0]) > 1e-3 })
        let (_, grClamp) = f.positiveGrads(o)
        #expect((0..<f.D).allSatisfy { grClamp[$0] == 0 }, "still above 0.9 after the nudge: no gradient")

        // Full gradient with the clamp active matches finite differences (flat numerator).
        var fullClamp = o
        fullClamp.detachDenominator = false
        let (ga, grF) = f.positiveGrads(fullClamp)
        GradCheck.check("clamp.rollout", x: f.rollout.ptr, count: f.B * f.D, analytic: grF.ptr) { f.positiveLoss(fullClamp) }
        GradCheck.check("clamp.annotated", x: f.annotated.ptr, count: f.B * f.D, analytic: ga.ptr) { f.positiveLoss(fullClamp) }
    }

    @Test func sumIsCountTimesMean() {
        let f = ContrastiveFixture(seed: 66)
        let n = Double(f.rewards.filter { $0 >= 1 }.count)
        var mean = InfoNCEOptions(detachDenominator: false)
        mean.reduction = .mean
        var sum = mean
        sum.reduction = .sum
        #expect(abs(f.positiveLoss(sum) - n * f.positiveLoss(mean)) < 1e-9 * n * abs(f.positiveLoss(mean)) + 1e-12)
        let (gaM, grM) = f.positiveGrads(mean)
        let (gaS, grS) = f.positiveGrads(sum)
        for i in 0..<(f.B * f.D) {
            #expect(abs(Double(gaS[i]) - n * Double(gaM[i])) < 1e-5)
            #expect(abs(Double(grS[i]) - n * Double(grM[i])) < 1e-5)
        }
        // The upstream gradient scales linearly.
        let (_, gr3) = f.positiveGrads(mean, gradLoss: 3)
        for i in 0..<(f.B * f.D) { #expect(abs(Double(gr3[i]) - 3 * Double(grM[i])) < 1e-5) }
    }

    @Test func noQualifyingRowGivesZeroLossAndZeroGradients() {
        let f = ContrastiveFixture(seed: 77)
        f.rewards = [0, 0.1, 0.25, 0, 0.1]
        #expect(f.positiveLoss(.reference) == 0)
        let (ga, gr) = f.positiveGrads(InfoNCEOptions(detachDenominator: false))
        #expect(ga.array.allSatisfy { $0 == 0 } && gr.array.allSatisfy { $0 == 0 })
        f.rewards = [Float](repeating: 1, count: f.B)
        #expect(f.negativeLoss(.reference) == 0)
        let (g0, g1, g2) = f.negativeGrads(InfoNCEOptions(detachDenominator: false))
        #expect([g0, g1, g2].allSatisfy { $0.array.allSatisfy { $0 == 0 } })
    }

    /// A padding row (valid 0) holding NaN changes nothing: the loss equals the loss of the
    /// batch without it, and its gradient is exactly 0.
    @Test func paddingRowsAreIgnored() {
        let f = ContrastiveFixture(B: 5, seed: 88)
        let small = ContrastiveFixture(B: 4, seed: 88)
        for i in 0..<(4 * f.D) {
            small.annotated[i] = f.annotated[i]; small.rollout[i] = f.rollout[i]; small.third[i] = f.third[i]
        }
        small.rewards = Array(f.rewards[0..<4])
        for k in 0..<f.D { f.annotated[4 * f.D + k] = .nan; f.rollout[4 * f.D + k] = .nan; f.third[4 * f.D + k] = .nan }
        f.rewards[4] = 1
        f.valid[4] = 0
        let o = InfoNCEOptions(detachDenominator: false)
        #expect(abs(f.positiveLoss(o) - small.positiveLoss(o)) < 1e-12)
        #expect(abs(f.negativeLoss(o) - small.negativeLoss(o)) < 1e-12)
        let (ga, gr) = f.positiveGrads(o)
        let (sa, sr) = small.positiveGrads(o)
        for i in 0..<(4 * f.D) { #expect(ga[i] == sa[i] && gr[i] == sr[i]) }
        for k in 0..<f.D { #expect(ga[4 * f.D + k] == 0 && gr[4 * f.D + k] == 0) }
        let (g0, g1, g2) = f.negativeGrads(o)
        #expect([g0, g1, g2].allSatisfy { g in (0..<f.D).allSatisfy { g[4 * f.D + $0] == 0 } })
    }

    /// An empty view pools to a zero vector: cosine 0 with everything, no NaN, zero gradient.
    @Test func zeroEmbeddingIsFiniteWithZeroGradient() {
        let f = ContrastiveFixture(seed: 99)
        for k in 0..<f.D { f.rollout[2 * f.D + k] = 0 }
        let o = InfoNCEOptions(detachDenominator: false)
        #expect(f.positiveLoss(o).isFinite)
        let (ga, gr) = f.positiveGrads(o)
        #expect(ga.array.allSatisfy { $0.isFinite } && gr.array.allSatisfy { $0.isFinite })
        for k in 0..<f.D { #expect(gr[2 * f.D + k] == 0) }
    }

    @Test func nilGradientsAreSkipped() {
        let f = ContrastiveFixture(seed: 12)
        let o = InfoNCEOptions(detachDenominator: false)
        let (_, grBoth) = f.positiveGrads(o)
        let gr = FloatBuffer(f.B * f.D)
        InfoNCEPositive.backward(batch: f.B, dim: f.D, annotated: f.annotated.ptr, rollout: f.rollout.ptr,
                                 rewards: f.rewards, valid: nil, options: o, gradLoss: 1,
                                 gradAnnotated: nil, gradRollout: gr.ptr)
        #expect(gr.array == grBoth.array)
    }
}
