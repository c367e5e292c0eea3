/// CARFT's positive signal (paper formula 7): for each correct rollout (reward ≥ 1), anchor
/// z_annotated_i, positive z_rollout_i, candidates z_rollout_j for every valid j of the batch
/// (j = i included, as in the formula's denominator; wrong rollouts included too, since the
/// reference gathers all rollouts as candidates and masks only the loss terms).
///
/// Views in ABI order: 0 = annotated CoT (source ANNOTATED), 1 = rollout CoT (source ROLLOUT).
/// The rollout view is both the positive and the candidates, so its gradient is the sum of both
/// roles. Under the reference options (detached denominator) only the numerator reaches it.
public enum InfoNCEPositive {
    /// Rows whose reward is at least this take part (reward 1 = correct).
    public static let rewardThreshold: Float = 1

    static func rowMask(_ rewards: UnsafePointer<Float>, _ b: Int) -> [UInt8] {
        (0..<b).map { rewards[$0] >= rewardThreshold ? 1 : 0 }
    }

    /// Loss (0 when no valid row has reward ≥ 1). `valid` [batch] or nil marks padding rows.
    public static func forward(batch: Int, dim: Int, annotated: UnsafePointer<Float>, rollout: UnsafePointer<Float>,
                               rewards: UnsafePointer<Float>, valid: UnsafePointer<UInt8>?,
                               options: InfoNCEOptions = .reference) -> Double {
        let rows = rowMask(rewards, batch)
        return rows.withUnsafeBufferPointer { r in
            MaskedInfoNCE.forward(.init(batch: batch, dim: dim, anchor: annotated, positive: rollout,
                                        candidates: rollout, rows: r.baseAddress!, valid: valid),
                                  options: options)
        }
    }

    /// Overwrites gradAnnotated / gradRollout (batch×dim each; nil = not needed) with
    /// gradLoss · ∂L/∂view. All zeros when no row qualifies.
    public static func backward(batch: Int, dim: Int, annotated: UnsafePointer<Float>, rollout: UnsafePointer<Float>,
                                rewards: UnsafePointer<Float>, valid: UnsafePointer<UInt8>?,
                                options: InfoNCEOptions = .reference, gradLoss: Float,
                                gradAnnotated: UnsafeMutablePointer<Float>?, gradRollout: UnsafeMutablePointer<Float>?) {
        let rows = rowMask(rewards, batch)
        let wantRollout = gradRollout != nil
        let g = rows.withUnsafeBufferPointer { r in
            MaskedInfoNCE.run(.init(batch: batch, dim: dim, anchor: annotated, positive: rollout,
                                    candidates: rollout, rows: r.baseAddress!, valid: valid),
                              options, gradLoss: Double(gradLoss),
                              want: (gradAnnotated != nil, wantRollout, wantRollout)).1
        }
        MaskedInfoNCE.store(g.anchor, gradAnnotated)
        if let dst = gradRollout, let gp = g.positive, let gc = g.candidates {
            for i in 0..<(batch * dim) { dst[i] = Float(gp[i] + gc[i]) }
        }
    }
}
