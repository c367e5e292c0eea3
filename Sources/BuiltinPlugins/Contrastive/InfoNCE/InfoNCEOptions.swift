/// How two pooled embeddings are compared.
public enum Similarity: String, Sendable, CaseIterable {
    /// ⟨a, b⟩ / (‖a‖‖b‖), the CARFT reference code's choice.
    case cosine
    /// The raw inner product ⟨a, b⟩ the paper's formulas (7) and (8) write.
    case dot
}

/// How per-row losses combine into one scalar.
public enum ContrastiveReduction: String, Sendable, CaseIterable {
    /// Mean over the rows that qualify (reference code).
    case mean
    /// Sum over the rows that qualify (the paper's Σ_i).
    case sum
}

/// The knobs of the masked InfoNCE losses. The default is the reference code's behaviour
/// (the CARFT reference code's); `.paper` is the form the paper prints.
public struct InfoNCEOptions: Sendable, Equatable {
    public var similarity: Similarity
    /// Temperature τ: logits are similarity / τ.
    public var tau: Float
    /// Clamp of the positive pair's cosine: min(cos, clamp), with zero gradient where the clamp
    /// is active, so pairs that are already close stop pulling. Applies to cosine similarity
    /// only (a clamp on an unnormalised dot product has no fixed scale); nil = no clamp. The
    /// clamp changes only the numerator: the j = i candidate in the denominator is unclamped.
    public var positiveClamp: Float?
    /// True (reference): the candidates in the log-sum-exp are constants, as the reference's
    /// all-gathered candidates are, so no gradient reaches the candidate view through the
    /// denominator. The anchor still gets the denominator's gradient (it is not gathered).
    /// False: the full gradient of the loss.
    public var detachDenominator: Bool
    public var reduction: ContrastiveReduction

    public init(similarity: Similarity = .cosine, tau: Float = 0.2, positiveClamp: Float? = 0.9,
                detachDenominator: Bool = true, reduction: ContrastiveReduction = .mean) {
        self.similarity = similarity
        self.tau = tau
        self.positiveClamp = positiveClamp
        self.detachDenominator = detachDenominator
        self.reduction = reduction
    }

    /// Reference code: cosine, τ 0.2, positive clamp 0.9, detached denominator, mean.
    public static let reference = InfoNCEOptions()
    /// The paper's formulas: inner product, τ 0.2, no clamp, full gradient, sum over rows.
    public static let paper = InfoNCEOptions(similarity: .dot, tau: 0.2, positiveClamp: nil,
                                             detachDenominator: false, reduction: .sum)
}
