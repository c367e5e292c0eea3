import PluginABI

/// `org.workbench.reward.reft-partial`: ReFT's reward (`RewardMath.reftPartial`): 1 correct,
/// `partial` (0.1) for a wrong but readable number, 0 without an answer.
final class ReFTPartialReward: RewardInstance {
    static let id = "org.workbench.reward.reft-partial"
    static let keys: [ConfigKeySpec] = [
        .float("partial", "0.1", "reward for a readable but wrong answer (must be < 1)"),
    ]
    let partial: Float

    init(_ config: BuiltinConfig, host: UnsafePointer<wb_host>?) throws {
        partial = try Self.belowCorrect(config.float("partial"), "partial")
        super.init(host: host)
    }

    override func score(completion: String, gold: Double, rollout: UnsafePointer<Float>?, annotated: UnsafePointer<Float>?, dim: Int) -> Float {
        RewardMath.reftPartial(completion: completion, gold: gold, partial: partial)
    }

    static let descriptor = makeDescriptor(
        id: id, summary: "ReFT: 1 correct, partial (0.1) for a wrong but readable number, 0 without an answer", keys: keys,
        create: { _, host, n, k, v, out in
            BuiltinCall.create(host, n, k, v, out, specs: ReFTPartialReward.keys) { config, host in try ReFTPartialReward(config, host: host) }
        })
}
