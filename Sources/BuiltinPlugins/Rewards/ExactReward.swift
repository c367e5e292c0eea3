import PluginABI

/// `org.workbench.reward.exact`: 1 when the answer after the last "Therefore, the answer is: "
/// is within 1e-2 of the gold answer, else 0 (`RewardMath.exactMatch`). No config.
struct ExactReward: RewardRule {
    static let id = "org.workbench.reward.exact"
    static let keys: [ConfigKeySpec] = []

    func score(completion: String, gold: Double, rollout: UnsafePointer<Float>?, annotated: UnsafePointer<Float>?, dim: Int) -> Float {
        RewardMath.exactMatch(completion: completion, gold: gold)
    }

    static let descriptor = RewardInstance.makeDescriptor(
        id: id, summary: "1 for a correct final answer (within 1e-2), else 0", keys: keys,
        create: { _, host, n, k, v, out in
            BuiltinCall.create(host, n, k, v, out, specs: ExactReward.keys) { _, host in RewardInstance(ExactReward(), host: host) }
        })
}
