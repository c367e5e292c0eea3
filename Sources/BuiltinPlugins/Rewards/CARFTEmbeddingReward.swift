import PluginABI

/// `org.workbench.reward.carft-embedding`: CARFT's embedding-enhanced partial reward
/// (`RewardMath.carftEmbedding`): 1 correct, 0 without an answer, and for a wrong but readable
/// number `base + scale · cos(z_annotated, z_rollout)` (0.2 + 0.1·cos). Without the host's CoT
/// embeddings (plain PPO, Dr.GRPO) the wrong-answer reward is `fallback` (0.1, ReFT's).
/// `check-equations` (on by default) gives full credit only when every `a op b = c` line also
/// holds, as `workbench rl`'s default reward does, so a comparison with it changes one thing.
struct CARFTEmbeddingReward: RewardRule {
    static let id = "org.workbench.reward.carft-embedding"
    static let keys: [ConfigKeySpec] = [
        .float("base", "0.2", "wrong-answer reward at cosine 0"),
        .float("scale", "0.1", "added per unit of cos(annotated CoT, rollout CoT); base + |scale| must be < 1"),
        .float("fallback", "0.1", "wrong-answer reward when the host has no CoT embeddings (must be < 1)"),
        .bool("check-equations", true, "full credit only when every 'a op b = c' line of the CoT holds (the default reward's rule); false: the paper's answer-only rule"),
    ]
    let base: Float, scale: Float, fallback: Float, checkEquations: Bool

    init(_ config: BuiltinConfig) throws {
        base = try config.float("base")
        scale = try config.float("scale")
        _ = try RewardInstance.belowCorrect(base + abs(scale), "base + |scale|")
        fallback = try RewardInstance.belowCorrect(config.float("fallback"), "fallback")
        checkEquations = try config.bool("check-equations")
    }

    func score(completion: String, gold: Double, rollout: UnsafePointer<Float>?, annotated: UnsafePointer<Float>?, dim: Int) -> Float {
        RewardMath.carftEmbedding(completion: completion, gold: gold, rollout: rollout, annotated: annotated, dim: dim,
                                  base: base, scale: scale, fallback: fallback, checkEquations: checkEquations)
    }

    static let descriptor = RewardInstance.makeDescriptor(
        id: id, summary: "CARFT: 1 correct, 0.2 + 0.1·cos(annotated, rollout CoT) for a wrong but readable number, 0 without an answer",
        keys: keys,
        create: { _, host, n, k, v, out in
            BuiltinCall.create(host, n, k, v, out, specs: CARFTEmbeddingReward.keys) { config, host in RewardInstance(try CARFTEmbeddingReward(config), host: host) }
        })
}
