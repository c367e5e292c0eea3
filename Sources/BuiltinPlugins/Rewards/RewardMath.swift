import AnswerFormat

/// The stock rewards as pure functions of one completion, scored with the Engine's ReFT answer
/// extraction (`ReFTFormat.extractAnswer`: the number after the last "Therefore, the answer is: ")
/// and tolerance (`ReFTFormat.isCorrect`: |pred − gold| ≤ 1e-2).
public enum RewardMath {
    /// ReFT's partial reward for a wrong but extractable number.
    public static let reftPartialValue: Float = 0.1

    /// 1 when the extracted answer is correct, 0 otherwise (no answer counts as wrong).
    public static func exactMatch(completion: String, gold: Double) -> Float {
        ReFTFormat.isCorrect(predicted: ReFTFormat.extractAnswer(completion), gold: gold) ? 1 : 0
    }

    /// ReFT: 1 correct; `partial` (0.1) when a number was extracted but is wrong; 0 when none.
    public static func reftPartial(completion: String, gold: Double, partial: Float = reftPartialValue) -> Float {
        guard let pred = ReFTFormat.extractAnswer(completion) else { return 0 }
        return ReFTFormat.isCorrect(predicted: pred, gold: gold) ? 1 : partial
    }

    /// ReFT's reward with full credit only when every `a op b = c` line of the completion holds
    /// (`EquationCheck.equationsHold`); a right answer reached through a false equation
    /// gets `partial`, as a wrong one does.
    public static func equationChecked(completion: String, gold: Double, partial: Float = reftPartialValue) -> Float {
        let score = reftPartial(completion: completion, gold: gold, partial: partial)
        return score >= 1 && !EquationCheck.equationsHold(completion) ? partial : score
    }

    /// CARFT's embedding-enhanced partial reward: 1 correct; 0 when no number was extracted;
    /// for a wrong but extractable number (the rows ReFT gives 0.1),
    /// `base + scale · cos(z_annotated, z_rollout)` = 0.2 + 0.1·cos ∈ [0.1, 0.3]. With
    /// `checkEquations`, a right answer reached through a false `a op b = c` line counts as
    /// wrong (as in `equationChecked`).
    ///
    /// When either embedding is absent (nil: the host has none, as in plain PPO or Dr.GRPO),
    /// the partial row falls back to ReFT's plain `fallback` value (0.1), so the reward stays
    /// meaningful without CARFT's embeddings. A zero-norm embedding (an empty CoT pools to
    /// zero) has no direction: its cosine is taken as 0, giving `base` (0.2). The cosine is
    /// computed in Double and clamped to [−1, 1] against rounding.
    public static func carftEmbedding(completion: String, gold: Double,
                                      rollout: UnsafePointer<Float>?, annotated: UnsafePointer<Float>?, dim: Int,
                                      base: Float = 0.2, scale: Float = 0.1,
                                      fallback: Float = reftPartialValue, checkEquations: Bool = false) -> Float {
        guard let pred = ReFTFormat.extractAnswer(completion) else { return 0 }
        if ReFTFormat.isCorrect(predicted: pred, gold: gold) && (!checkEquations || EquationCheck.equationsHold(completion)) { return 1 }
        guard let r = rollout, let a = annotated else { return fallback }
        return base + scale * Float(cosine(r, a, dim))
    }

    /// cos(x, y) in Double; 0 when either vector is (numerically) zero.
    public static func cosine(_ x: UnsafePointer<Float>, _ y: UnsafePointer<Float>, _ dim: Int) -> Double {
        var xy = 0.0, xx = 0.0, yy = 0.0
        for k in 0..<dim {
            let a = Double(x[k]), b = Double(y[k])
            xy += a * b
            xx += a * a
            yy += b * b
        }
        let den = (xx * yy).squareRoot()
        guard den > 1e-16 else { return 0 }
        return min(1, max(-1, xy / den))
    }
}
