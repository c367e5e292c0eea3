/// What CARFT's embedding has learned at one update: how close each rollout's pooled CoT is to
/// its question's annotated CoT (cosine), for correct rollouts (reward ≥ 1) and wrong ones, and
/// how well that cosine tells the two apart (AUC). The contrastive loss pulls correct rollouts
/// towards the annotation; if the embedding learns that, the correct cosines rise above the
/// wrong ones and the AUC climbs from 0.5.
public struct EmbeddingSeparation: Sendable, Equatable {
    /// Mean cosine over correct rollouts; nil when the batch has none.
    public var correctCosine: Double?
    /// Mean cosine over wrong rollouts; nil when the batch has none.
    public var wrongCosine: Double?
    /// P(cosine of a correct rollout > cosine of a wrong one), ties counting half (the
    /// Mann-Whitney AUC); nil unless the batch has both.
    public var auc: Double?
    /// Rollouts left out because either embedding is all zero (an empty CoT pools to zero, and
    /// a cosine with a zero vector means nothing).
    public var skipped: Int

    /// Rows i of `rollout`, `annotated` (same width) and `rewards` belong together.
    public init(rollout: [[Float]], annotated: [[Float]], rewards: [Float]) {
        var correct: [Double] = [], wrong: [Double] = []
        var skipped = 0
        for i in rewards.indices {
            guard let c = Self.cosine(rollout[i], annotated[i]) else { skipped += 1; continue }
            if rewards[i] >= 1 { correct.append(c) } else { wrong.append(c) }
        }
        self.skipped = skipped
        correctCosine = correct.isEmpty ? nil : correct.reduce(0, +) / Double(correct.count)
        wrongCosine = wrong.isEmpty ? nil : wrong.reduce(0, +) / Double(wrong.count)
        auc = Self.auc(positives: correct, negatives: wrong)
    }

    static func cosine(_ a: [Float], _ b: [Float]) -> Double? {
        var dot = 0.0, aa = 0.0, bb = 0.0
        for (x, y) in zip(a, b) {
            dot += Double(x) * Double(y)
            aa += Double(x) * Double(x)
            bb += Double(y) * Double(y)
        }
        guard aa > 0, bb > 0 else { return nil }
        return dot / (aa * bb).squareRoot()
    }

    /// Counted over all pairs: batches hold at most a few hundred rollouts.
    static func auc(positives: [Double], negatives: [Double]) -> Double? {
        guard !positives.isEmpty, !negatives.isEmpty else { return nil }
        var wins = 0.0
        for p in positives {
            for n in negatives { wins += p > n ? 1 : (p == n ? 0.5 : 0) }
        }
        return wins / Double(positives.count * negatives.count)
    }
}
