/// The config keys both InfoNCE built-ins share, and their reading into `InfoNCEOptions`.
/// Defaults are the CARFT reference code's; the paper's formulas are
/// `similarity=dot,positive-clamp=1,detach-denominator=false,reduction=sum`.
enum InfoNCEConfig {
    static let keys: [ConfigKeySpec] = [
        .choice("similarity", ["cosine", "dot"], "cosine", "cosine (reference code) or raw inner product (paper)"),
        .float("tau", "0.2", "temperature: logits are similarity / tau (> 0)"),
        .float("positive-clamp", "0.9",
               "cosine of the positive pair is clamped to min(cos, this), with no gradient above it; a value >= 1 turns the clamp off (cosine only)"),
        .bool("detach-denominator", true, "true (reference): no gradient to the candidates through the log-sum-exp; false: full gradient"),
        .choice("reduction", ["mean", "sum"], "mean", "mean over the rows that take part (reference) or their sum (paper)"),
    ]

    /// Reads and range-checks the shared keys.
    static func options(_ config: BuiltinConfig) throws -> InfoNCEOptions {
        let tau = try config.float("tau")
        guard tau > 0 else { throw PluginFailure.config("tau is \(tau); the temperature must be > 0 (the reference uses 0.2)") }
        let clamp = try config.float("positive-clamp")
        guard clamp > -1 else {
            throw PluginFailure.config("positive-clamp is \(clamp); a cosine clamp at or below -1 would freeze every positive pair (use a value in (-1, 1), or >= 1 for no clamp)")
        }
        // A cosine never exceeds 1, so a clamp at 1 or above never acts: it is the same as none.
        return InfoNCEOptions(similarity: try config.choice("similarity", as: Similarity.self), tau: tau,
                              positiveClamp: clamp >= 1 ? nil : clamp,
                              detachDenominator: try config.bool("detach-denominator"),
                              reduction: try config.choice("reduction", as: ContrastiveReduction.self))
    }
}
