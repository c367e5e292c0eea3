import Testing
@testable import BuiltinPlugins

@Suite struct RewardMathTests {
    let right = "Tom has 3 apples and buys 69 more.\nTherefore, the answer is: 72"
    let wrong = "Tom has 3 apples and buys 68 more.\nTherefore, the answer is: 71"
    let noMarker = "Tom has 3 apples. The answer is 72"
    let noNumber = "Some reasoning.\nTherefore, the answer is: seventy-two"

    @Test func exactMatch() {
        #expect(RewardMath.exactMatch(completion: right, gold: 72) == 1)
        #expect(RewardMath.exactMatch(completion: wrong, gold: 72) == 0)
        #expect(RewardMath.exactMatch(completion: noMarker, gold: 72) == 0)
        #expect(RewardMath.exactMatch(completion: "x\nTherefore, the answer is: 1,234.", gold: 1234) == 1)
        #expect(RewardMath.exactMatch(completion: "x\nTherefore, the answer is: 72.005", gold: 72) == 1, "within 1e-2")
        #expect(RewardMath.exactMatch(completion: "x\nTherefore, the answer is: 72.02", gold: 72) == 0)
    }

    @Test func reftPartial() {
        #expect(RewardMath.reftPartial(completion: right, gold: 72) == 1)
        #expect(RewardMath.reftPartial(completion: wrong, gold: 72) == Float(0.1))
        #expect(RewardMath.reftPartial(completion: noMarker, gold: 72) == 0)
        #expect(RewardMath.reftPartial(completion: noNumber, gold: 72) == 0)
    }

    @Test func equationChecked() {
        let falseLine = "Tom has 3 + 69 = 71 apples.\nTherefore, the answer is: 72"
        let trueLine = "Tom has 3 + 69 = 72 apples.\nTherefore, the answer is: 72"
        #expect(RewardMath.equationChecked(completion: trueLine, gold: 72) == 1)
        #expect(RewardMath.equationChecked(completion: falseLine, gold: 72) == Float(0.1))
        #expect(RewardMath.equationChecked(completion: falseLine, gold: 72, partial: 0) == 0)
        #expect(RewardMath.equationChecked(completion: wrong, gold: 72) == Float(0.1))
        #expect(RewardMath.equationChecked(completion: noMarker, gold: 72) == 0)
        #expect(RewardMath.equationChecked(completion: right, gold: 72) == 1, "no equation: the answer alone decides")
        let a: [Float] = [1, 0]
        #expect(RewardMath.carftEmbedding(completion: falseLine, gold: 72, rollout: a, annotated: a, dim: 2, checkEquations: true) == Float(0.3))
        #expect(RewardMath.carftEmbedding(completion: falseLine, gold: 72, rollout: a, annotated: a, dim: 2) == 1)
    }

    @Test func carftEmbeddingPartial() {
        let a: [Float] = [1, 2, 0, -1]
        let same: [Float] = [2, 4, 0, -2]         // cos 1  → 0.3
        let opposite: [Float] = [-1, -2, 0, 1]    // cos −1 → 0.1
        let orthogonal: [Float] = [2, -1, 5, 0]   // cos 0  → 0.2
        func score(_ c: String, _ r: [Float]?, _ an: [Float]?) -> Float {
            switch (r, an) {
            case let (r?, an?): return RewardMath.carftEmbedding(completion: c, gold: 72, rollout: r, annotated: an, dim: 4)
            case let (r?, nil): return RewardMath.carftEmbedding(completion: c, gold: 72, rollout: r, annotated: nil, dim: 4)
            default: return RewardMath.carftEmbedding(completion: c, gold: 72, rollout: nil, annotated: nil, dim: 4)
            }
        }
        #expect(abs(score(wrong, same, a) - 0.3) < 1e-6)
        #expect(abs(score(wrong, opposite, a) - 0.1) < 1e-6)
        #expect(abs(score(wrong, orthogonal, a) - 0.2) < 1e-6)
        // cos = 1/2 (60°): [1, 0] vs [1, √3] padded with zeros → 0.25.
        let u: [Float] = [1, 0, 0, 0], w: [Float] = [1, Float(3).squareRoot(), 0, 0]
        #expect(abs(score(wrong, w, u) - 0.25) < 1e-6)
        // Only partial rows change: correct stays 1, no answer stays 0, whatever the embeddings.
        #expect(score(right, opposite, a) == 1)
        #expect(score(noMarker, same, a) == 0)
        // Embeddings absent → ReFT's plain 0.1.
        #expect(score(wrong, nil, nil) == Float(0.1))
        #expect(score(wrong, same, nil) == Float(0.1))
        // A zero embedding (empty CoT) has cosine 0 → 0.2, not NaN.
        #expect(abs(score(wrong, [0, 0, 0, 0], a) - 0.2) < 1e-6)
    }
}
