/// Settings of a reinforced fine-tuning run. Defaults follow the ReFT/CARFT reference code
/// except where a tiny model trained in minutes needs other values: those are
/// marked "scaled" and the reference value is named beside them.
public struct RLConfig: Codable, Equatable, Sendable {
    public enum Algorithm: String, Codable, CaseIterable, Sendable {
        /// PPO as ReFT runs it: one sampled CoT per question, value head, KL-shaped rewards, GAE.
        case reft
        /// Dr.GRPO: G samples per question, advantage = reward − group mean, no value head.
        case drgrpo
        /// CARFT: reft plus c × a contrastive loss over pooled CoT embeddings (plugins).
        case carft

        /// PPO with a value head, GAE and whitening (reft and carft).
        public var isPPO: Bool { self != .drgrpo }
    }

    public var algorithm: Algorithm = .reft
    /// Updates (rollout batch + optimisation passes) to run; when nil, `minutes` decides.
    public var updates: Int? = nil
    /// Wall-clock budget for rollouts and updates (evaluation not counted).
    public var minutes: Double? = nil
    /// Questions sampled per update (reference: 64).
    public var questionsPerUpdate = 64
    /// Dr.GRPO's G (reference comparison: 2). PPO always samples one CoT per question.
    public var samplesPerQuestion = 2
    /// U, optimisation passes over each rollout batch (reference: 2).
    public var ppoEpochs = 2
    /// Sequences per optimiser step within a pass.
    public var miniBatchSize = 32
    /// Scaled: the reference's 3e-7 is for 7B models fine-tuned from a converged SFT.
    public var learningRate: Float = 2e-5
    /// "constant" (reference) or "linear" (decay to 0 over `updates`; needs `updates`).
    public var schedule = "constant"
    /// KL shaping coefficient for PPO (reference 0.05); Dr.GRPO's optional k3 penalty (default 0).
    public var klBeta: Float = 0.05
    public var gamma: Float = 1.0
    public var lambda: Float = 0.95
    public var clipEps: Float = 0.2
    public var valueClip: Float = 0.2
    /// α, the value-loss weight (reference 5).
    public var vfCoef: Float = 5
    public var gradClip: Float = 1
    public var temperature: Float = 1
    public var topK = 0
    public var topP: Float = 1
    public var maxNewTokens = 160
    /// Rollout rows cannot stop before this many tokens (0: whenever the policy draws its stop
    /// token). For benchmarks, where every engine must generate the same tokens.
    public var minNewTokens = 0
    public var valueHead: ValueHead.Kind = .carft
    /// PPO: updates at the start that train only the value head, leaving the policy as it is
    /// (Dr.GRPO, which has no value head, trains its policy from the first update).
    /// Not in the reference, whose 7B value head learns within a few steps; a fresh head on a
    /// small model gives advantages that are mostly its own error, and the policy pays for it.
    public var valueWarmupUpdates = 0
    /// The value head's learning rate; nil uses the policy's (as the reference does).
    public var valueLearningRate: Float? = nil
    public var projectionDim = 64
    /// CARFT's c, the contrastive loss weight in L = L_RL + c·L_contrastive (reference 1e-3).
    public var contrastiveCoef: Float = 1e-3
    /// Greedy evaluation and a checkpoint every N updates.
    public var evalEvery = 20
    public var evalExamples = 256
    /// Held-out questions the final policy is scored on into eval-final.jsonl; nil: all of them.
    public var finalEvalExamples: Int? = nil
    /// Ends the run early, as finished (final checkpoint saved and scored), once a periodic
    /// evaluation scores below this fraction of the update-0 evaluation; nil runs the whole budget.
    /// A collapsed policy rarely recovers, and its remaining updates cost the most: it writes to
    /// the length limit. Optional so settings recorded before it existed still decode.
    public var stopBelowStartFraction: Double? = nil
    public var seed: UInt64 = 0

    public init() {}

    /// The policy's learning rate by update (0-based): `schedule` as an `LRSchedule`.
    public var lrSchedule: LRSchedule {
        schedule == "linear" ? .linear(peak: learningRate, warmupSteps: 0, totalSteps: updates ?? 1) : .constant(lr: learningRate)
    }

    /// Problems with the settings, each naming the setting and what to change; empty means usable.
    public var problems: [SettingMessage] {
        var p: [SettingMessage] = []
        if updates == nil && minutes == nil { p.append("give a length: \(setting: .updates) or \(setting: .minutes)") }
        if let u = updates, u < 1 { p.append("updates must be at least 1") }
        if questionsPerUpdate < 1 { p.append("questions per update must be at least 1") }
        if algorithm == .drgrpo && samplesPerQuestion < 2 { p.append("Dr.GRPO needs at least 2 for \(setting: .samplesPerQuestion), since its advantage is reward minus the group mean") }
        if ppoEpochs < 1 { p.append("PPO epochs must be at least 1") }
        if miniBatchSize < 1 { p.append("mini-batch size must be at least 1") }
        if let m = minutes, !(m > 0 && m.isFinite) { p.append("minutes must be positive") }
        if !(learningRate > 0 && learningRate.isFinite) { p.append("learning rate must be positive") }
        // Each outside its range turns the algorithm into another one without a word: a negative
        // KL coefficient rewards drifting from the reference, γ or λ above 1 amplifies later
        // rewards, a negative value weight or clip ascends the value loss, a clip of 0 stops learning.
        if !(klBeta >= 0 && klBeta.isFinite) { p.append("the KL coefficient β must be ≥ 0") }
        if !(gamma >= 0 && gamma <= 1) { p.append("the discount γ must be in [0, 1]") }
        if !(lambda >= 0 && lambda <= 1) { p.append("GAE λ must be in [0, 1]") }
        if !(valueClip > 0 && valueClip.isFinite) { p.append("the value clip range must be positive") }
        if !(vfCoef >= 0 && vfCoef.isFinite) { p.append("the value-loss weight must be ≥ 0") }
        if !(gradClip > 0 && gradClip.isFinite) { p.append("the gradient-norm clip must be positive (a large value such as 1e6 turns clipping off)") }
        if !["constant", "linear"].contains(schedule) { p.append("schedule must be 'constant' or 'linear'") }
        if schedule == "linear" && updates == nil { p.append("a linear schedule needs \(setting: .updates) (it decays to 0 at the last update)") }
        if !(clipEps > 0 && clipEps.isFinite) { p.append("clip epsilon must be positive") }
        if !(temperature > 0 && temperature.isFinite) { p.append("temperature must be > 0 (RL scores its samples under softmax(logits / T))") }
        if !(topP > 0 && topP <= 1) { p.append("top-p must be in (0, 1]") }
        if topK < 0 { p.append("top-k must be ≥ 0 (0 turns it off)") }
        if maxNewTokens < 1 { p.append("max new tokens must be at least 1") }
        if minNewTokens < 0 || minNewTokens > maxNewTokens { p.append("min new tokens must be between 0 and \(setting: .maxNewTokens) (\(maxNewTokens)); got \(minNewTokens)") }
        if valueWarmupUpdates < 0 { p.append("value warm-up updates must be ≥ 0") }
        if let v = valueLearningRate, !(v > 0) { p.append("value learning rate must be positive") }
        if !(contrastiveCoef >= 0 && contrastiveCoef.isFinite) { p.append("the contrastive coefficient c must be ≥ 0") }
        if algorithm == .carft && valueHead != .carft { p.append("CARFT pools the carft value head's projection p_t; use the carft value head") }
        if evalEvery < 1 { p.append("eval-every must be at least 1") }
        if evalExamples < 0 { p.append("eval-examples must be ≥ 0") }
        if let f = stopBelowStartFraction, !(f > 0 && f <= 1) { p.append("\(setting: .earlyStopFraction) must be in (0, 1]") }
        if let f = finalEvalExamples, f < 0 { p.append("final-eval must be ≥ 0 (0 skips the final evaluation)") }
        return p
    }
}
