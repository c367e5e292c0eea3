import Engine
import PluginABI

/// `org.workbench.reward.equation-checked`: ReFT's reward with one more condition for full
/// credit, that every `a op b = c` line of the CoT holds (`RewardMath.equationChecked`). It is
/// `workbench rl`'s default reward: on the built-in task, outcome reward alone pays a small
/// model for right answers reached through wrong arithmetic and greedy accuracy does not move;
/// this one raises it.
final class EquationCheckedRewardPlugin: RewardInstance {
    static let id = "org.workbench.reward.equation-checked"
    static let keys: [ConfigKeySpec] = [
        .float("partial", "0.1", "reward for a readable answer that is wrong or reached through a false equation (must be < 1)"),
    ]
    let partial: Float

    init(_ config: BuiltinConfig, host: UnsafePointer<wb_host>?) throws {
        partial = try Self.belowCorrect(config.float("partial"), "partial")
        super.init(host: host)
    }

    override func score(completion: String, gold: Double, rollout: UnsafePointer<Float>?, annotated: UnsafePointer<Float>?, dim: Int) -> Float {
        RewardMath.equationChecked(completion: completion, gold: gold, partial: partial)
    }

    static let descriptor = makeDescriptor(
        id: id, summary: "1 for a correct answer whose every 'a op b = c' line holds, partial (0.1) for a readable answer otherwise, 0 without one",
        keys: keys,
        create: { _, host, n, k, v, out in
            BuiltinCall.create(host, n, k, v, out, specs: EquationCheckedRewardPlugin.keys) { config, host in try EquationCheckedRewardPlugin(config, host: host) }
        })
}
