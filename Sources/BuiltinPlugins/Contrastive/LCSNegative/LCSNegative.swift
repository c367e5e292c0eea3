/// CARFT's negative signal (paper formula 8): for each wrong rollout (reward < 1), anchor
/// e^rollout_LCS_i, positive e^annotated_exc_i, candidates e^rollout_exc_j for every valid j
/// (j = i included). Following the formula, the positive is not among the candidates.
///
/// Views in ABI order (see `LCSViews`): 0 = rollout tokens in the LCS (ROLLOUT),
/// 1 = annotated tokens not in the LCS (ANNOTATED), 2 = rollout tokens not in the LCS (ROLLOUT).
/// Options as for the positive signal; the CARFT reference code uses cosine, τ 0.2, and the
/// same InfoNCE routine, so `.reference` (clamp 0.9, detached candidates, mean) is the default.
/// Rows whose views are empty pool to zero vectors; pass `LCSViews.Result.usable` in `valid`
/// to drop them rather than let a zero vector stand in.
public enum LCSNegative {
    /// Rows whose reward is below this take part.
    public static let rewardThreshold: Float = 1

    static func rowMask(_ rewards: UnsafePointer<Float>, _ b: Int) -> [UInt8] {
        (0..<b).map { rewards[$0] < rewardThreshold ? 1 : 0 }
    }

    public static func forward(batch: Int, dim: Int, rolloutLCS: UnsafePointer<Float>,
                               annotatedExc: UnsafePointer<Float>, rolloutExc: UnsafePointer<Float>,
                               rewards: UnsafePointer<Float>, valid: UnsafePointer<UInt8>?,
                               options: InfoNCEOptions = .reference) -> Double {
        let rows = rowMask(rewards, batch)
        return rows.withUnsafeBufferPointer { r in
            MaskedInfoNCE.forward(.init(batch: batch, dim: dim, anchor: rolloutLCS, positive: annotatedExc,
                                        candidates: rolloutExc, rows: r.baseAddress!, valid: valid),
                                  options: options)
        }
    }

    /// Overwrites each requested view gradient (batch×dim; nil = not needed).
    public static func backward(batch: Int, dim: Int, rolloutLCS: UnsafePointer<Float>,
                                annotatedExc: UnsafePointer<Float>, rolloutExc: UnsafePointer<Float>,
                                rewards: UnsafePointer<Float>, valid: UnsafePointer<UInt8>?,
                                options: InfoNCEOptions = .reference, gradLoss: Float,
                                gradRolloutLCS: UnsafeMutablePointer<Float>?,
                                gradAnnotatedExc: UnsafeMutablePointer<Float>?,
                                gradRolloutExc: UnsafeMutablePointer<Float>?) {
        let rows = rowMask(rewards, batch)
        rows.withUnsafeBufferPointer { r in
            MaskedInfoNCE.backward(.init(batch: batch, dim: dim, anchor: rolloutLCS, positive: annotatedExc,
                                         candidates: rolloutExc, rows: r.baseAddress!, valid: valid),
                                   options: options, gradLoss: gradLoss, gradAnchor: gradRolloutLCS,
                                   gradPositive: gradAnnotatedExc, gradCandidates: gradRolloutExc)
        }
    }
}
