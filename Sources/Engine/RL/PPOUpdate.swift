/// PPO as the ReFT reference code runs it, and CARFT as that PPO plus a contrastive term.
///
/// Per rollout batch: the value head reads V_old at every action state; each token's reward is
/// −β·(log π_old − log π_ref), plus the score at the last token; GAE (γ, λ) over those gives
/// advantages and returns, and the advantages are whitened across the batch. Per mini-batch:
///
///     L = mean_seq [ mean_t max(−A·ratio, −A·clip(ratio, 1 ± ε)) ]            policy
///       + α · mean_seq [ mean_t ½·max((V − R)², (clip(V, V_old ± c_v) − R)²) ] value
///       + c · L_contrastive                                                   CARFT only
///
/// The value loss reads the head at the action states only, for reft and carft alike, so with
/// c = 0 a CARFT update is a reft update bit for bit; the contrastive term reads the head for
/// itself (`CARFTObjective`).
struct PPOUpdate: RLUpdate {
    let policy: Transformer
    let head: ValueHead
    let config: RLConfig
    /// CARFT's term; nil for reft.
    let contrastive: CARFTObjective?
    let tokenizer: any Tokenizer
    let prompt: PromptFormat
    /// The value loss's head forward, kept for its backward.
    let valuePass = ValueHead.Pass()

    var samplesPerQuestion: Int { 1 }
    var needsReference: Bool { true }
    var readsOldPolicy: Bool { true }

    func rolloutPrefix(rollouts: [Rollout]) -> CARFTObjective.Prefix? {
        guard let contrastive else { return nil }
        // CARFT contrasts each rollout with its question's first annotated CoT, teacher-forced.
        let annotated = rollouts.map { PromptedSequence(example: $0.example, cot: $0.example.cots[0], tokenizer: tokenizer, prompt: prompt) }
        return contrastive.prefix(config: policy.config, rollouts: rollouts.map(\.sequence), annotated: annotated)
    }

    func readRolloutStates(_ batch: TokenBatch, rollouts: [Rollout], prefix: CARFTObjective.Prefix?) throws -> (oldValues: [Float]?, carft: CARFTObjective.Prepared?) {
        let oldValues = head.forward(hidden: policy.hiddenStates, positions: batch.positions, into: valuePass)
        guard let contrastive else { return (oldValues, nil) }
        guard let prefix else { preconditionFailure("CARFT's scoring continues the prefix the rollout forward filled (rolloutPrefix)") }
        let prepared = try contrastive.prepare(policy: policy, head: head, rollouts: rollouts.map(\.sequence), batch: batch,
                                               prefix: prefix, padId: tokenizer.padId)
        return (oldValues, prepared)
    }

    func advantages(_ ub: UpdateBatch) -> (advantages: [[Float]], returns: [[Float]]) {
        var advantages: [[Float]] = [], returns: [[Float]] = []
        for (i, r) in ub.batch.ranges.enumerated() {
            let shaped = TokenRewards.shaped(score: ub.rollouts[i].reward, logProbs: Array(ub.oldHead.logProbs[r]),
                                             refLogProbs: Array(ub.refLogProbs[r]), beta: config.klBeta)
            let gae = GAE.compute(rewards: shaped, values: Array(ub.oldValues![r]), gamma: config.gamma, lambda: config.lambda)
            advantages.append(gae.advantages)
            returns.append(gae.returns)
        }
        return (whiten(advantages), returns)
    }

    func miniBatch(_ mb: [Int], of ub: UpdateBatch, trainPolicy: Bool) throws -> MiniBatchTerms {
        let sequences = mb.map { ub.rollouts[$0].sequence }
        let sub = TokenBatch(sequences, padId: tokenizer.padId)
        let scale = 1 / Float(mb.count)

        // Policy: the clipped surrogate, a mean over each sequence's tokens. Its gradient goes
        // into the hidden states within the one output-head pass.
        var old: [Float] = [], advantage: [Double] = [], length: [Double] = []
        for i in mb {
            let r = ub.batch.ranges[i]
            old += ub.oldHead.logProbs[r]
            advantage += ub.advantages[i].map(Double.init)
            length += Array(repeating: Double(r.count), count: r.count)
        }
        let clipEps = config.clipEps
        let logProbs = policyPass(policy, sub, temperature: config.temperature, tokenGradient: trainPolicy ? { i, lp in
            PPOLoss.surrogateToken(logProb: lp, oldLogProb: old[i], advantage: advantage[i], clipEps: clipEps, divisor: length[i]).grad * scale
        } : nil).logProbs
        let policyHidden = trainPolicy ? policy.hiddenGradientNorm : 0
        var pg = 0.0, clip = 0.0
        for (j, i) in mb.enumerated() {
            let res = PPOLoss.policy(logProbs: Array(logProbs[sub.ranges[j]]), oldLogProbs: Array(ub.oldHead.logProbs[ub.batch.ranges[i]]),
                                     advantages: ub.advantages[i], clipEps: clipEps)
            pg += res.loss
            clip += res.clipFraction
        }

        // Value: the clipped value loss at the action states, weighted α.
        let values = head.forward(hidden: policy.hiddenStates, positions: sub.positions, into: valuePass)
        var dValues = [Float](repeating: 0, count: values.count)
        var vl = 0.0
        for (j, i) in mb.enumerated() {
            let r = sub.ranges[j]
            let res = PPOLoss.value(values: Array(values[r]), oldValues: Array(ub.oldValues![ub.batch.ranges[i]]),
                                    returns: ub.returns[i], clipRange: config.valueClip)
            vl += res.loss
            for (t, g) in res.gradValues.enumerated() { dValues[r.lowerBound + t] = g * config.vfCoef * scale }
        }
        let dHidden = FloatBuffer(sub.batch * sub.seq * policy.config.dim)
        head.backward(valuePass, dValues: dValues, dHidden: dHidden.ptr)
        if trainPolicy { policy.addHiddenGradient(dHidden.ptr) }

        // CARFT: c · the contrastive loss over the mini-batch's pooled CoTs.
        var cl = 0.0, contrastiveHidden: Double? = nil
        if let contrastive, let prepared = ub.carft {
            let term = try contrastive.lossAndGradient(prepared, rows: mb, sequences: sequences, batch: sub, policy: policy, head: head,
                                                       rewards: mb.map { ub.rollouts[$0].reward })
            cl = term.loss
            contrastiveHidden = l2Norm(term.dHidden.ptr, term.dHidden.count)
            if trainPolicy { policy.addHiddenGradient(term.dHidden.ptr) }
        }

        let total = (pg + Double(config.vfCoef) * vl) / Double(mb.count) + Double(contrastive?.coefficient ?? 0) * cl
        if trainPolicy && total.isFinite { policy.backward() }
        return MiniBatchTerms(policy: pg / Double(mb.count), value: vl / Double(mb.count), contrastive: cl,
                              clip: clip / Double(mb.count), tokens: sub.tokenCount, total: total,
                              hiddenGradients: trainPolicy ? HiddenGradients(policy: policyHidden, value: l2Norm(dHidden.ptr, dHidden.count),
                                                                             contrastive: contrastiveHidden) : nil)
    }
}
