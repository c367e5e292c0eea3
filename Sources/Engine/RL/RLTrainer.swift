import Foundation

public struct RLUpdateReport: Sendable {
    public var update: Int
    public var totalUpdates: Int?
    public var meanReward: Double
    public var accuracy: Double
    public var kl: Double
    public var entropy: Double
    public var clipFraction: Double
    public var policyLoss: Double
    public var valueLoss: Double
    public var meanResponseLength: Double
    /// Largest |log π at sampling − log π in the training forward| over the batch's tokens. The
    /// two passes run the same weights, so anything above float rounding means rollouts and
    /// updates disagree about the policy (and PPO's ratios are wrong).
    public var samplingMismatch: Double
    public var rolloutTokensPerSecond: Double
    public var trainTokensPerSecond: Double
    public var seconds: Double
    public var elapsed: Double
}

public struct RLEvalReport: Sendable {
    public var update: Int
    public var result: Evaluator.Result
    public var checkpoint: String?
}

public struct RLError: Error, CustomStringConvertible {
    public var description: String
    public init(_ d: String) { description = d }
}

/// PPO as the ReFT reference code runs it, and Dr.GRPO, on one policy model.
///
/// Each update: sample rollouts from the current policy; score them; run the batch once
/// through the policy (old log-probs, values) and the frozen reference (reference log-probs);
/// turn scores into per-token advantages (GAE over KL-shaped rewards and whitening for PPO, the
/// group-mean baseline for Dr.GRPO); then `ppoEpochs` passes of clipped-ratio updates over
/// shuffled mini-batches.
public final class RLTrainer {
    public let policy: Transformer
    public let reference: Transformer
    public let valueHead: ValueHead?
    public let tokenizer: any Tokenizer
    public let reward: any RewardFunction
    public let config: RLConfig
    public let train: [MathExample]
    public let eval: [MathExample]
    public let outputDir: String?
    public var metrics: MetricsWriter?
    /// The last update's scored rollouts, for tests and diagnostics.
    public private(set) var lastRollouts: [Rollout] = []

    public var onUpdate: ((RLUpdateReport) -> Void)?
    public var onEval: ((RLEvalReport) -> Void)?
    public var shouldStop: (() -> Bool)?

    private let policyOptimizer: AdamW
    private let valueOptimizer: AdamW?

    public init(policy: Transformer, reference: Transformer, tokenizer: any Tokenizer, reward: any RewardFunction,
                config: RLConfig, train: [MathExample], eval: [MathExample], outputDir: String?) throws {
        if let p = config.problems.first { throw RLError("RL settings: \(p)") }
        guard !train.isEmpty else { throw RLError("no training questions") }
        guard policy.config == reference.config else { throw RLError("the reference model's shape differs from the policy's; both must come from the same SFT checkpoint") }
        self.policy = policy
        self.reference = reference
        self.tokenizer = tokenizer
        self.reward = reward
        self.config = config
        self.train = train
        self.eval = eval
        self.outputDir = outputDir
        if config.algorithm == .reft {
            let head = ValueHead(kind: config.valueHead, inputDim: policy.config.dim,
                                 projectionDim: config.projectionDim, seed: config.seed)
            valueHead = head
            valueOptimizer = AdamW(store: head.params)
        } else {
            valueHead = nil
            valueOptimizer = nil
        }
        policyOptimizer = AdamW(store: policy.params)
        for ex in train {
            let n = tokenizer.encode(ReFTFormat.prompt(ex.question)).count
            if n + config.maxNewTokens > policy.config.maxSeqLen {
                throw RLError("question \(ex.id) has a \(n)-token prompt; with --max-new-tokens \(config.maxNewTokens) it exceeds the model's context of \(policy.config.maxSeqLen). Lower --max-new-tokens or drop long questions")
            }
        }
    }

    public struct Summary: Sendable {
        public var updates: Int
        public var evaluations: [(update: Int, accuracy: Double)]
        public var seconds: Double
    }

    // MARK: run

    public func run() throws -> Summary {
        var dataRNG = RNG(seed: config.seed, stream: "rl-data")
        var order: [Int] = [], cursor = 0
        var evaluations: [(Int, Double)] = []
        let clock = ContinuousClock()
        var elapsed = 0.0
        var update = 0
        let evaluator = Evaluator(tokenizer: tokenizer, maxNewTokens: config.maxNewTokens)

        func evaluate(_ update: Int) throws {
            guard !eval.isEmpty else { return }
            let result = evaluator.evaluate(model: policy, examples: Array(eval.prefix(config.evalExamples)))
            var path: String? = nil
            if let dir = outputDir {
                path = dir + "/checkpoints/update-\(String(format: "%05d", update))"
                try saveCheckpoint(to: path!, update: update)
            }
            evaluations.append((update, result.accuracy))
            metrics?.write(["kind": "eval", "update": .int(update), "accuracy": .double(result.accuracy),
                            "correct": .int(result.correct), "total": .int(result.total)])
            onEval?(RLEvalReport(update: update, result: result, checkpoint: path))
        }

        try evaluate(0)
        while config.updates.map({ update < $0 }) ?? true {
            if shouldStop?() == true { break }
            if let m = config.minutes, elapsed >= m * 60 { break }
            let started = clock.now
            var questions: [MathExample] = []
            for _ in 0..<config.questionsPerUpdate {
                if cursor == order.count { order = Array(0..<train.count); order.shuffle(using: &dataRNG); cursor = 0 }
                questions.append(train[order[cursor]])
                cursor += 1
            }
            let lr: Float = config.schedule == "linear"
                ? config.learningRate * (1 - Float(update) / Float(config.updates!)) : config.learningRate
            var report = try step(questions: questions, update: update, lr: lr)
            update += 1
            let secs = (clock.now - started).seconds
            elapsed += secs
            report.update = update
            report.totalUpdates = config.updates
            report.seconds = secs
            report.elapsed = elapsed
            metrics?.write([
                "kind": "update", "update": .int(update), "reward": .double(report.meanReward),
                "rollout_accuracy": .double(report.accuracy), "sampling_mismatch": .double(report.samplingMismatch), "kl": .double(report.kl), "entropy": .double(report.entropy),
                "clip_fraction": .double(report.clipFraction), "policy_loss": .double(report.policyLoss),
                "value_loss": .double(report.valueLoss), "response_length": .double(report.meanResponseLength),
                "rollout_tokens_per_sec": .double(report.rolloutTokensPerSecond),
                "train_tokens_per_sec": .double(report.trainTokensPerSecond), "lr": .float(lr),
                "seconds": .double(secs), "elapsed": .double(elapsed),
            ])
            onUpdate?(report)
            if update % config.evalEvery == 0 { try evaluate(update) }
        }
        if evaluations.last?.0 != update { try evaluate(update) }
        if let dir = outputDir { try saveCheckpoint(to: dir + "/final", update: update) }
        return Summary(updates: update, evaluations: evaluations, seconds: elapsed)
    }

    func saveCheckpoint(to dir: String, update: Int) throws {
        try Checkpoint.save(policy.params, config: policy.config, to: dir,
                            metadata: ["update": "\(update)", "algorithm": config.algorithm.rawValue, "tokenizer": "byte"])
        try valueHead?.save(to: dir)
    }

    // MARK: one update

    /// Samples, scores and learns from one batch of questions.
    func step(questions: [MathExample], update: Int, lr: Float) throws -> RLUpdateReport {
        let clock = ContinuousClock()
        let g = config.algorithm == .drgrpo ? config.samplesPerQuestion : 1
        // Rollouts: each question repeated G times, each row its own random stream.
        let rolloutStart = clock.now
        let prompts = questions.flatMap { q in
            Array(repeating: tokenizer.encode(ReFTFormat.prompt(q.question)).map { Int32($0) }, count: g)
        }
        var options = SamplingOptions(maxNewTokens: config.maxNewTokens, stopToken: tokenizer.eosId,
                                      seed: config.seed &+ UInt64(update) &* 0x9E37_79B9)
        options.temperature = config.temperature
        options.topK = config.topK
        options.topP = config.topP
        let samples = Generator(model: policy).sample(prompts: prompts, options: options)
        var rollouts: [Rollout] = []
        for (i, s) in samples.enumerated() {
            let ex = questions[i / g]
            rollouts.append(Rollout(example: ex, prompt: prompts[i], response: s.tokens, sampleLogProbs: s.logProbs,
                                    finished: s.finished, completion: tokenizer.decode(s.tokens.map { Int($0) })))
        }
        let rolloutSecs = (clock.now - rolloutStart).seconds
        let generated = rollouts.reduce(0) { $0 + $1.response.count }

        // Scores.
        let scores = try reward.scores(rollouts.map {
            RewardInput(question: $0.example.question, completion: $0.completion, gold: $0.example.answer)
        })
        guard scores.count == rollouts.count else {
            throw RLError("reward '\(reward.name)' returned \(scores.count) scores for \(rollouts.count) rollouts")
        }
        if let bad = scores.firstIndex(where: { !$0.isFinite }) {
            throw RLError("reward '\(reward.name)' returned \(scores[bad]) for rollout \(bad) (question \(rollouts[bad].example.id)); rewards must be finite numbers")
        }
        for i in rollouts.indices { rollouts[i].reward = scores[i] }
        lastRollouts = rollouts

        let trainStart = clock.now
        // Old log-probs, values and entropy from the policy; reference log-probs.
        let batch = TokenBatch(rollouts.map(\.sequence), padId: tokenizer.padId)
        policy.forward(tokens: batch.tokens, batch: batch.batch, seq: batch.seq)
        let oldHead = policy.head(positions: batch.positions, targets: batch.targets, entropy: true, temperature: config.temperature)
        let oldValues = valueHead?.forward(hidden: policy.hiddenStates, positions: batch.positions)
        var refLogProbs: [Float] = []
        if config.algorithm == .reft || config.klBeta > 0 {
            reference.forward(tokens: batch.tokens, batch: batch.batch, seq: batch.seq)
            refLogProbs = reference.head(positions: batch.positions, targets: batch.targets, temperature: config.temperature).logProbs
        }
        policy.releaseActivations()
        reference.releaseActivations()

        // Advantages (and returns for PPO), per rollout.
        var advantages: [[Float]] = [], returns: [[Float]] = []
        var klSum = 0.0, mismatch = 0.0
        for (i, r) in batch.ranges.enumerated() {
            let old = Array(oldHead.logProbs[r])
            for (a, b) in zip(old, rollouts[i].sampleLogProbs) { mismatch = max(mismatch, Double(abs(a - b))) }
            if !refLogProbs.isEmpty {
                klSum += zip(old, refLogProbs[r]).reduce(0.0) { $0 + Double($1.0 - $1.1) }
            }
            if config.algorithm == .reft {
                let shaped = TokenRewards.shaped(score: scores[i], logProbs: old, refLogProbs: Array(refLogProbs[r]), beta: config.klBeta)
                let gae = GAE.compute(rewards: shaped, values: Array(oldValues![r]), gamma: config.gamma, lambda: config.lambda)
                advantages.append(gae.advantages)
                returns.append(gae.returns)
            }
        }
        if config.algorithm == .reft {
            advantages = whiten(advantages)
        } else {
            let groupAdv = GroupAdvantage.drGRPO(rewards: scores, groupSize: g)
            advantages = batch.ranges.enumerated().map { [Float](repeating: groupAdv[$0.offset], count: $0.element.count) }
        }

        // Optimisation passes.
        var shuffleRNG = RNG(seed: config.seed &+ UInt64(update), stream: "rl-minibatch")
        var pgLoss = 0.0, vLoss = 0.0, clipFrac = 0.0, lossTerms = 0
        var trainedTokens = 0
        for _ in 0..<config.ppoEpochs {
            var idx = Array(rollouts.indices)
            idx.shuffle(using: &shuffleRNG)
            var start = 0
            while start < idx.count {
                let mb = Array(idx[start..<min(idx.count, start + config.miniBatchSize)])
                start += config.miniBatchSize
                let terms = try optimise(miniBatch: mb, rollouts: rollouts, batch: batch, oldLogProbs: oldHead.logProbs,
                                         oldValues: oldValues, refLogProbs: refLogProbs, advantages: advantages,
                                         returns: returns, lr: lr,
                                         trainPolicy: update >= config.valueWarmupUpdates)
                pgLoss += terms.policy
                vLoss += terms.value
                clipFrac += terms.clip
                lossTerms += 1
                trainedTokens += terms.tokens
            }
        }
        policy.releaseActivations()
        let trainSecs = (clock.now - trainStart).seconds
        let n = Double(rollouts.count)
        return RLUpdateReport(
            update: update, totalUpdates: nil,
            meanReward: scores.reduce(0.0) { $0 + Double($1) } / n,
            accuracy: Double(scores.filter { $0 >= 1 }.count) / n,
            kl: klSum / n,
            entropy: oldHead.entropies.reduce(0.0) { $0 + Double($1) } / Double(max(1, oldHead.entropies.count)),
            clipFraction: clipFrac / Double(max(1, lossTerms)),
            policyLoss: pgLoss / Double(max(1, lossTerms)),
            valueLoss: vLoss / Double(max(1, lossTerms)),
            meanResponseLength: Double(generated) / n,
            samplingMismatch: mismatch,
            rolloutTokensPerSecond: Double(generated) / rolloutSecs,
            trainTokensPerSecond: Double(trainedTokens) / trainSecs,
            seconds: 0, elapsed: 0)
    }

    /// One optimiser step on a mini-batch of rollouts (indices into the update's batch).
    private func optimise(miniBatch mb: [Int], rollouts: [Rollout], batch: TokenBatch, oldLogProbs: [Float],
                          oldValues: [Float]?, refLogProbs: [Float], advantages: [[Float]], returns: [[Float]],
                          lr: Float, trainPolicy: Bool) throws -> (policy: Double, value: Double, clip: Double, tokens: Int) {
        let sub = TokenBatch(mb.map { rollouts[$0].sequence }, padId: tokenizer.padId)
        policy.params.zeroGrad()
        valueHead?.params.zeroGrad()
        policy.forward(tokens: sub.tokens, batch: sub.batch, seq: sub.seq)
        let newLogProbs = policy.head(positions: sub.positions, targets: sub.targets, temperature: config.temperature).logProbs
        let scale = 1 / Float(mb.count)
        var grads = [Float](repeating: 0, count: sub.positions.count)
        var pg = 0.0, clip = 0.0
        for (j, i) in mb.enumerated() {
            let r = sub.ranges[j], old = Array(oldLogProbs[batch.ranges[i]])
            let lp = Array(newLogProbs[r])
            let res = config.algorithm == .reft
                ? PPOLoss.policy(logProbs: lp, oldLogProbs: old, advantages: advantages[i], clipEps: config.clipEps)
                : PPOLoss.grpoPolicy(logProbs: lp, oldLogProbs: old, advantage: advantages[i].first ?? 0,
                                     clipEps: config.clipEps, normalizer: Float(config.maxNewTokens))
            var loss = res.loss, g = res.gradLogProbs
            if config.algorithm == .drgrpo && config.klBeta > 0 {
                let kl = PPOLoss.klPenalty(logProbs: lp, refLogProbs: Array(refLogProbs[batch.ranges[i]]),
                                           beta: config.klBeta, normalizer: Float(config.maxNewTokens))
                loss += kl.loss
                for t in g.indices { g[t] += kl.gradLogProbs[t] }
            }
            pg += loss
            clip += res.clipFraction
            for (t, gr) in g.enumerated() { grads[r.lowerBound + t] = gr * scale }
        }
        var vl = 0.0
        if let head = valueHead, let oldValues {
            let values = head.forward(hidden: policy.hiddenStates, positions: sub.positions)
            var dValues = [Float](repeating: 0, count: values.count)
            for (j, i) in mb.enumerated() {
                let r = sub.ranges[j]
                let res = PPOLoss.value(values: Array(values[r]), oldValues: Array(oldValues[batch.ranges[i]]),
                                        returns: returns[i], clipRange: config.valueClip)
                vl += res.loss
                for (t, gr) in res.gradValues.enumerated() { dValues[r.lowerBound + t] = gr * config.vfCoef * scale }
            }
            let dHidden = FloatBuffer(sub.batch * sub.seq * policy.config.dim)
            head.backward(dValues: dValues, dProjections: nil, dHidden: dHidden.ptr)
            if trainPolicy { policy.addHiddenGradient(dHidden.ptr) }
        }
        let total = (pg + Double(config.vfCoef) * vl) / Double(mb.count)
        guard total.isFinite else {
            throw RLError("the RL loss became \(total) (policy \(pg), value \(vl)); lower --lr (now \(config.learningRate)). Checkpoints up to the last evaluation are on disk")
        }
        if trainPolicy {
            // The head's second pass carries the policy gradient into the hidden states.
            policy.head(positions: sub.positions, targets: sub.targets, temperature: config.temperature) { i, _ in grads[i] }
            policy.backward()
        }
        let norm = clipJointly(maxNorm: config.gradClip)
        guard norm.isFinite else {
            throw RLError("the gradient norm became \(norm); lower --lr (now \(config.learningRate)). Checkpoints up to the last evaluation are on disk")
        }
        if trainPolicy { policyOptimizer.step(lr: lr) }
        valueOptimizer?.step(lr: config.valueLearningRate.map { lr * $0 / config.learningRate } ?? lr)
        return (pg / Double(mb.count), vl / Double(mb.count), clip / Double(mb.count), sub.tokenCount)
    }

    /// Global-norm clipping over the policy and the value head together, as one model.
    /// Returns the norm before clipping.
    private func clipJointly(maxNorm: Float) -> Double {
        let a = Double(globalGradNorm(policy.params))
        let b = Double(valueHead.map { globalGradNorm($0.params) } ?? 0)
        let norm = (a * a + b * b).squareRoot()
        guard norm.isFinite, norm > Double(maxNorm) else { return norm }
        let s = Float(Double(maxNorm) / norm)
        VectorMath.scale(policy.params.grads.ptr, policy.params.count, by: s)
        if let h = valueHead { VectorMath.scale(h.params.grads.ptr, h.params.count, by: s) }
        return norm
    }
}
