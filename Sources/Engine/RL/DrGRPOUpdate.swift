/// Dr.GRPO: G samples per question and no value head. Each sequence's advantage is its score
/// minus its group's mean (no division by the group's spread); per mini-batch:
///
///     L = mean_seq [ Σ_t max(−A·ratio, −A·clip(ratio, 1 ± ε)) / N ]
///       + β · mean_seq [ Σ_t (exp(ref − log π) − (ref − log π) − 1) / N ]   when β > 0
///
/// with N the generation budget (max new tokens), not the sequence's length: dividing by the
/// length would make each token of a long wrong answer cheaper, the bias Dr.GRPO removes.
struct DrGRPOUpdate: RLUpdate {
    let policy: Transformer
    let config: RLConfig
    let tokenizer: any Tokenizer

    var samplesPerQuestion: Int { config.samplesPerQuestion }
    var needsReference: Bool { config.klBeta > 0 }
    var readsOldPolicy: Bool { false }

    func rolloutPrefix(rollouts: [Rollout]) -> CARFTObjective.Prefix? { nil }

    func readRolloutStates(_ batch: TokenBatch, rollouts: [Rollout], prefix: CARFTObjective.Prefix?) throws -> (oldValues: [Float]?, carft: CARFTObjective.Prepared?) {
        (nil, nil)
    }

    /// The group advantage, repeated over each sequence's tokens.
    func advantages(_ ub: UpdateBatch) -> (advantages: [[Float]], returns: [[Float]]) {
        let group = GroupAdvantage.drGRPO(rewards: ub.rollouts.map(\.reward), groupSize: samplesPerQuestion)
        return (ub.batch.ranges.enumerated().map { [Float](repeating: group[$0.offset], count: $0.element.count) }, [])
    }

    func miniBatch(_ mb: [Int], of ub: UpdateBatch, trainPolicy: Bool) throws -> MiniBatchTerms {
        let sub = TokenBatch(mb.map { ub.rollouts[$0].sequence }, padId: tokenizer.padId)
        let scale = 1 / Float(mb.count)
        let budget = Float(config.maxNewTokens), withKL = config.klBeta > 0
        let klScale = Double(config.klBeta) / Double(budget)
        // With `oldFromStep` each token's old log-prob is its new one (ratio 1).
        let onPolicy = ub.oldFromStep
        var old: [Float] = [], ref: [Float] = [], advantage: [Double] = []
        for i in mb {
            let r = ub.batch.ranges[i]
            if !onPolicy { old += ub.oldHead.logProbs[r] }
            if withKL { ref += ub.refLogProbs[r] }
            advantage += Array(repeating: Double(ub.advantages[i].first ?? 0), count: r.count)
        }
        let clipEps = config.clipEps
        let head = policyPass(policy, sub, temperature: config.temperature, entropy: onPolicy, tokenGradient: trainPolicy ? { i, lp in
            var g = PPOLoss.surrogateToken(logProb: lp, oldLogProb: onPolicy ? lp : old[i], advantage: advantage[i], clipEps: clipEps,
                                           divisor: Double(budget)).grad
            if withKL { g += PPOLoss.klToken(logProb: lp, refLogProb: ref[i], scale: klScale).grad }
            return g * scale
        } : nil)
        let logProbs = head.logProbs
        var pg = 0.0, clip = 0.0
        for (j, i) in mb.enumerated() {
            let lp = Array(logProbs[sub.ranges[j]])
            let res = PPOLoss.grpoPolicy(logProbs: lp, oldLogProbs: onPolicy ? lp : Array(ub.oldHead.logProbs[ub.batch.ranges[i]]),
                                         advantage: ub.advantages[i].first ?? 0, clipEps: clipEps, normalizer: budget)
            var loss = res.loss
            if withKL {
                loss += PPOLoss.klPenalty(logProbs: lp, refLogProbs: Array(ub.refLogProbs[ub.batch.ranges[i]]),
                                          beta: config.klBeta, normalizer: budget).loss
            }
            pg += loss
            clip += res.clipFraction
        }
        let total = pg / Double(mb.count)
        if trainPolicy && total.isFinite { policy.backward() }
        var terms = MiniBatchTerms(policy: pg / Double(mb.count), value: 0, contrastive: 0,
                                   clip: clip / Double(mb.count), tokens: sub.tokenCount, total: total)
        if onPolicy {
            // Back in the batch's order: the mini-batch is the whole batch, shuffled.
            let n = ub.batch.positions.count
            var stepHead = Transformer.HeadOutput(logProbs: [Float](repeating: 0, count: n), entropies: [Float](repeating: 0, count: n))
            for (j, i) in mb.enumerated() {
                stepHead.logProbs.replaceSubrange(ub.batch.ranges[i], with: head.logProbs[sub.ranges[j]])
                stepHead.entropies.replaceSubrange(ub.batch.ranges[i], with: head.entropies[sub.ranges[j]])
            }
            terms.stepHead = stepHead
        }
        return terms
    }
}
