import PluginABI

/// The partial-credit rewards, one class for two built-ins that differ only in what full credit
/// needs; both give `partial` (0.1) to any other readable answer and 0 without one.
/// - `org.workbench.reward.reft-partial`: ReFT's reward, a right answer (`RewardMath.reftPartial`).
/// - `org.workbench.reward.equation-checked`: a right answer whose every `a op b = c` line holds
///   (`RewardMath.equationChecked`). `workbench rl`'s default: on the built-in task, outcome
///   reward alone pays a small model for right answers reached through wrong arithmetic and
///   greedy accuracy does not move; this one raises it.
struct ReFTPartialReward: RewardRule {
    enum Rule { case answer, answerAndEquations }

    static let keys: [ConfigKeySpec] = [
        .float("partial", "0.1", "reward for a readable answer without full credit (must be < 1)"),
    ]
    let rule: Rule
    let partial: Float

    init(_ config: BuiltinConfig, rule: Rule) throws {
        self.rule = rule
        partial = try RewardInstance.belowCorrect(config.float("partial"), "partial")
    }

    func score(completion: String, gold: Double, rollout: UnsafePointer<Float>?, annotated: UnsafePointer<Float>?, dim: Int) -> Float {
        switch rule {
        case .answer: return RewardMath.reftPartial(completion: completion, gold: gold, partial: partial)
        case .answerAndEquations: return RewardMath.equationChecked(completion: completion, gold: gold, partial: partial)
        }
    }

    static let descriptor = RewardInstance.makeDescriptor(
        id: "org.workbench.reward.reft-partial", summary: "ReFT: 1 correct, partial (0.1) for a wrong but readable number, 0 without an answer",
        keys: keys,
        create: { _, host, n, k, v, out in
            BuiltinCall.create(host, n, k, v, out, specs: ReFTPartialReward.keys) { config, host in RewardInstance(try ReFTPartialReward(config, rule: .answer), host: host) }
        })

    static let equationCheckedDescriptor = RewardInstance.makeDescriptor(
        id: "org.workbench.reward.equation-checked",
        summary: "1 for a correct answer whose every 'a op b = c' line holds, partial (0.1) for a readable answer otherwise, 0 without one",
        keys: keys,
        create: { _, host, n, k, v, out in
            BuiltinCall.create(host, n, k, v, out, specs: ReFTPartialReward.keys) { config, host in RewardInstance(try ReFTPartialReward(config, rule: .answerAndEquations), host: host) }
        })
}
