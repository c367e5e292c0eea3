/// One rollout batch and everything its optimisation passes read: the scored rollouts, the
/// padded batch, the policy's log-probs (and entropies) at sampling time, the reference's, and
/// what the algorithm fixed for the batch (advantages; PPO's old values and returns; CARFT's
/// prepared contrastive term). Built by `RLTrainer.collect`, read by every mini-batch.
struct UpdateBatch {
    var rollouts: [Rollout]
    var batch: TokenBatch
    /// Empty until the optimiser step has run when `oldFromStep`.
    var oldHead: Transformer.HeadOutput
    /// The update is one optimiser step over the whole batch and the advantages do not read the
    /// policy (`RLUpdate.readsOldPolicy`): the policy has not moved since sampling when it
    /// trains, so the old log-probs are that step's own (every ratio is 1) and no scoring
    /// forward runs through the policy. TRL's GRPOTrainer takes them so with one iteration.
    var oldFromStep: Bool
    /// Empty when the algorithm has no use for them (Dr.GRPO without a KL penalty).
    var refLogProbs: [Float]
    var oldValues: [Float]?
    var advantages: [[Float]]
    var returns: [[Float]]
    var carft: CARFTObjective.Prepared?
    var generated: Int
    var rolloutSeconds: Double
    /// The scoring forwards (policy, reference, annotated CoTs), counted as training time.
    var forwardSeconds: Double
}

/// One mini-batch's loss terms, each a mean over its sequences, with its gradient left in the
/// policy's and value head's grads.
struct MiniBatchTerms {
    var policy: Double
    var value: Double
    var contrastive: Double
    var clip: Double
    var tokens: Int
    /// Before clipping; set by the trainer's optimiser step.
    var gradNorm = 0.0
    /// The loss whose gradient is in the parameters' grads.
    var total: Double
    /// PPO, when the policy trains: the norm of each term's gradient on the policy's final
    /// hidden states (the policy surrogate's, α × the value loss's, c × the contrastive loss's),
    /// the scale at which each pushes the trunk.
    var hiddenGradients: HiddenGradients? = nil
    /// With `UpdateBatch.oldFromStep`: the step's log-probs and entropies, in the batch's order,
    /// which are its old ones.
    var stepHead: Transformer.HeadOutput? = nil
}

/// The norms of the loss terms' gradients on the policy's final hidden states.
public struct HiddenGradients: Sendable, Equatable {
    public var policy: Double
    public var value: Double
    /// nil for reft.
    public var contrastive: Double?
}

/// An algorithm's own part of an RL update. The loop around it (`RLTrainer`) samples, scores,
/// evaluates, checkpoints and steps the optimisers; this is the rest, in the order it runs.
protocol RLUpdate {
    /// Rollouts sampled per question.
    var samplesPerQuestion: Int { get }
    /// Whether the frozen reference's log-probs are needed (KL shaping or a KL penalty).
    var needsReference: Bool { get }
    /// Whether the advantages read the policy as it sampled (PPO: its log-probs shape the
    /// rewards, its states give V_old), so its scoring forward runs before any training.
    var readsOldPolicy: Bool { get }
    /// Keys and values the rollout batch's forward keeps for `readRolloutStates` (CARFT: the start
    /// each rollout shares with its annotated sequence, which then need not run again), or nil.
    func rolloutPrefix(rollouts: [Rollout]) -> CARFTObjective.Prefix?
    /// Called right after the rollout batch's forward through the policy (which filled `prefix`),
    /// while the policy's hidden states are that batch's: what the algorithm reads from them
    /// (PPO: old values; CARFT: its contrastive term, whose embeddings the reward sees).
    func readRolloutStates(_ batch: TokenBatch, rollouts: [Rollout], prefix: CARFTObjective.Prefix?) throws -> (oldValues: [Float]?, carft: CARFTObjective.Prepared?)
    /// Per-token advantages (and, for PPO, returns) of the scored batch.
    func advantages(_ ub: UpdateBatch) -> (advantages: [[Float]], returns: [[Float]])
    /// The loss of mini-batch `mb` (indices into the batch) with its gradient accumulated into
    /// the policy's (when `trainPolicy`) and value head's zeroed grads.
    func miniBatch(_ mb: [Int], of ub: UpdateBatch, trainPolicy: Bool) throws -> MiniBatchTerms
}

extension RLUpdate {
    /// The policy's forward over the mini-batch's sequences and ONE pass of its output head:
    /// each action's log-prob, and, when `tokenGradient` is given, ∂L/∂log p (from the
    /// position's index in `sub.positions` and its new log-prob) carried into the hidden
    /// states as the pass goes, for `Transformer.backward`. Every algorithm's surrogate is a
    /// sum of per-token terms, so its gradient needs nothing but the token's own log-prob.
    func policyPass(_ policy: Transformer, _ sub: TokenBatch, temperature: Float, entropy: Bool = false,
                    tokenGradient: ((Int, Float) -> Float)?) -> Transformer.HeadOutput {
        policy.forward(tokens: sub.tokens, batch: sub.batch, seq: sub.seq, lengths: sub.lengths, shared: sub.shared)
        return policy.head(positions: sub.positions, targets: sub.targets, entropy: entropy, temperature: temperature, gradient: tokenGradient)
    }
}
