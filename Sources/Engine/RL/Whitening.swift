/// Whitens values over all tokens of all sequences together, as ReFT whitens advantages over
/// the whole rollout batch: `(x - mean) / sqrt(var + 1e-8)`.
///
/// The variance is the unbiased one (divided by n - 1): ReFT calls TRL's `masked_var`, whose
/// `unbiased` flag defaults to true. Mean and variance are accumulated in Double so a batch of
/// tens of thousands of tokens whitens the same as the float64 reference.
///
/// `shiftMean: false` adds the mean back after scaling (TRL's meaning of the flag). ReFT's own
/// `allgather_masked_whiten` inverts the name (it adds the mean back when `shift_mean` is true)
/// but calls it with the default false, so what it runs is this function's default: mean 0.
///
/// A single token has no unbiased variance (TRL raises); it is treated as variance 0, so its
/// whitened value is 0: one token carries no information about the batch's spread, and a
/// tiny batch should not stop a run.
public func whiten(_ sequences: [[Float]], shiftMean: Bool = true) -> [[Float]] {
    var n = 0
    var sum = 0.0
    for s in sequences {
        n += s.count
        for x in s { sum += Double(x) }
    }
    if n == 0 { return sequences }
    let mean = sum / Double(n)
    // Two passes rather than sum-of-squares: the centred sum does not cancel catastrophically
    // when the values sit far from zero, as advantages after a large shared score can.
    var squares = 0.0
    for s in sequences {
        for x in s { let d = Double(x) - mean; squares += d * d }
    }
    let variance = n > 1 ? squares / Double(n - 1) : 0
    let scale = 1 / (variance + 1e-8).squareRoot()
    let offset = shiftMean ? 0 : mean
    return sequences.map { s in s.map { Float((Double($0) - mean) * scale + offset) } }
}
