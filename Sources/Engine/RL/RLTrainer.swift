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
    /// The global gradient norm (policy and value head together) before clipping to
    /// the gradient-norm clip, averaged over the update's optimiser steps: above the clip, the optimiser saw
    /// the gradient scaled by clip / norm (AdamW's step size hardly changes with a steady
    /// scale; a norm that jumps between steps is what the clip tames).
    public var gradNorm: Double
    /// CARFT's contrastive loss (without c), averaged over mini-batches; nil for other algorithms.
    public var contrastiveLoss: Double?
    /// CARFT only: the rollouts' pooled CoTs against their annotated CoTs, before this update's
    /// optimiser steps.
    public var embedding: EmbeddingSeparation?
    public var meanResponseLength: Double
    /// Prompt tokens per rollout, on average.
    public var meanPromptLength: Double = 0
    /// Largest |log π at sampling − log π in the training forward| over the batch's tokens. The
    /// two passes run the same weights, so anything above float rounding means rollouts and
    /// updates disagree about the policy (and PPO's ratios are wrong).
    public var samplingMismatch: Double
    public var rolloutTokensPerSecond: Double
    public var trainTokensPerSecond: Double
    /// The update's time in its three phases: sampling, the scoring forwards (old and reference
    /// log-probs, values, CARFT's annotated CoTs), the optimisation passes.
    public var phases: (rollout: Double, scoring: Double, optimise: Double)
    public var seconds: Double
    public var elapsed: Double
    /// PPO, once the policy trains: each loss term's gradient norm on the final hidden states,
    /// averaged over the update's mini-batches.
    public var hiddenGradients: HiddenGradients? = nil
}

public struct RLEvalReport: Sendable {
    public var update: Int
    public var result: Evaluator.Result
    public var checkpoint: String?
}

/// The loop of reinforced fine-tuning on one policy model, for every algorithm: each update
/// samples rollouts from the current policy, runs the batch once through the policy (old
/// log-probs) and the frozen reference, scores it, and hands it to the algorithm
/// (`PPOUpdate` for reft and carft, `DrGRPOUpdate`) for advantages and `ppoEpochs` passes of
/// mini-batch optimiser steps; every `evalEvery` updates it evaluates and checkpoints.
public final class RLTrainer {
    public let policy: Transformer
    /// The frozen reference policy: a model of its own, or nil when the policy trains LoRA
    /// adapters, whose frozen base (the policy with its adapters switched off) is the reference.
    public let reference: Transformer?
    public let valueHead: ValueHead?
    public let tokenizer: any Tokenizer
    /// How questions become prompts (the ReFT text, or that text as a chat turn).
    public let prompt: PromptFormat
    public let reward: any RewardFunction
    /// CARFT's contrastive term (the pooling and contrastive plugins); set exactly when the
    /// algorithm is carft.
    public let carft: CARFTObjective?
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

    /// Metrics the plugins reported during the current update, averaged into its metrics line
    /// as "plugin/<name>".
    private var pluginMetrics: [String: (sum: Double, count: Int)] = [:]

    private let policyOptimizer: AdamW
    private let valueOptimizer: AdamW?
    /// The algorithm's own part of each update: PPO (reft; carft adds its contrastive term) or Dr.GRPO.
    let algorithm: any RLUpdate

    public init(policy: Transformer, reference: Transformer?, tokenizer: any Tokenizer, reward: any RewardFunction,
                config: RLConfig, carft: CARFTObjective? = nil, train: [MathExample], eval: [MathExample], outputDir: String?,
                prompt: PromptFormat = .plain) throws {
        self.prompt = prompt
        if let p = config.problems.first { throw TrainingError("RL settings: \(p)") }
        guard !train.isEmpty else { throw TrainingError("no training questions") }
        // Rollouts and evaluations generate after the prompt, so each prompt needs room for a token.
        let fit = ContextFit(tokenizer: tokenizer, prompt: prompt, context: policy.config.maxSeqLen)
        for (examples, what) in [(train, "training question"), (eval, "held-out question")] {
            if let long = fit.promptsTooLong(examples).first {
                throw TrainingError("\(what) \(long.id)'s prompt is \(long.tokens) tokens, leaving no room to answer in the model's context of \(policy.config.maxSeqLen); leave long questions out or use a model with a longer context")
            }
        }
        if config.algorithm == .carft {
            guard carft != nil else { throw TrainingError("CARFT needs a pooling and a contrastive plugin (the built-ins by default)") }
            guard config.valueHead == .carft else {
                throw TrainingError("CARFT pools the value head's projection p_t, which only the carft value head has; set \(setting: .valueHead) to carft")
            }
            if let bare = train.first(where: { $0.cots.isEmpty }) {
                throw TrainingError("CARFT contrasts rollouts with the annotated CoT, but training question \(bare.id) has none; use data with rationales (the built-in task, GSM8K or the ReFT JSON layout)")
            }
            if let long = fit.sequencesTooLong(train, firstCoTOnly: true).first {
                throw TrainingError("question \(long.id)'s annotated CoT is \(long.tokens) tokens with its prompt, more than the model's context of \(policy.config.maxSeqLen); CARFT teacher-forces it whole, so leave long questions out or use a model with a longer context")
            }
        } else if carft != nil {
            throw TrainingError("a contrastive term was given for \(setting: .algorithm) \(config.algorithm.rawValue); pooling and contrastive plugins apply to carft only")
        }
        self.carft = carft
        if let reference {
            guard policy.config == reference.config else { throw TrainingError("the reference model's shape differs from the policy's; both must come from the same SFT checkpoint") }
        } else if policy.adapters == nil {
            throw TrainingError("without a reference model the policy must train LoRA adapters, whose frozen base is the reference")
        }
        self.policy = policy
        self.reference = reference
        self.tokenizer = tokenizer
        self.reward = reward
        self.config = config
        self.train = train
        self.eval = eval
        self.outputDir = outputDir
        if config.algorithm.isPPO {
            let head = ValueHead(kind: config.valueHead, inputDim: policy.config.dim,
                                 projectionDim: config.projectionDim, seed: config.seed)
            valueHead = head
            valueOptimizer = AdamW(store: head.params)
            algorithm = PPOUpdate(policy: policy, head: head, config: config, contrastive: carft, tokenizer: tokenizer, prompt: prompt)
        } else {
            valueHead = nil
            valueOptimizer = nil
            algorithm = DrGRPOUpdate(policy: policy, config: config, tokenizer: tokenizer)
        }
        policyOptimizer = AdamW(store: policy.trainable)
        for instance in [carft?.pooling.instance, carft?.contrastive.instance, (reward as? PluginReward)?.instance].compactMap({ $0 }) {
            instance.onMetric = { [weak self] name, value in
                let m = self?.pluginMetrics[name] ?? (0, 0)
                self?.pluginMetrics[name] = (m.sum + value, m.count + 1)
            }
        }
        for ex in train {
            let n = prompt.encode(question: ex.question, tokenizer: tokenizer).count
            if n + config.maxNewTokens > policy.config.maxSeqLen {
                throw TrainingError("question \(ex.id) has a \(n)-token prompt; with \(setting: .maxNewTokens) \(config.maxNewTokens) it exceeds the model's context of \(policy.config.maxSeqLen). Lower \(setting: .maxNewTokens) or drop long questions")
            }
        }
    }

    public struct Summary: Sendable {
        public var updates: Int
        public var evaluations: [(update: Int, accuracy: Double)]
        public var seconds: Double
        /// The final policy on `finalEvalExamples` questions; nil when none were asked for.
        public var finalEvaluation: Evaluator.Result?
        /// Stopped early by `shouldStop`: no final checkpoint or evaluation.
        public var interrupted: Bool
        /// When interrupted: the checkpoint to resume from.
        public var resumeFrom: String?
        /// Ended before its budget by `stopBelowStartFraction`: the evaluation that fell below it.
        public var collapseStop: CollapseStop? = nil
    }

    /// An evaluation below `RLConfig.stopBelowStartFraction` of the start's, which ended the run.
    public struct CollapseStop: Sendable, Equatable {
        public var update: Int
        public var accuracy: Double
        public var startAccuracy: Double
        public var fraction: Double

        /// The stop the newest evaluation calls for: when it was taken at `update` and scores
        /// below `fraction` of the first (update-0) evaluation; nil otherwise.
        static func check(_ evaluations: [(Int, Double)], update: Int, fraction: Double?) -> CollapseStop? {
            guard let fraction, let start = evaluations.first?.1, let last = evaluations.last,
                  last.0 == update, last.1 < fraction * start else { return nil }
            return CollapseStop(update: update, accuracy: last.1, startAccuracy: start, fraction: fraction)
        }
    }

    // MARK: run

    /// Whether another update fits a budget in minutes when it takes as long as the last one:
    /// a budget is a limit users compare runs by, so a run stops short of it rather than
    /// overrunning it by most of an update.
    static func nextUpdateFits(elapsed: Double, lastUpdate: Double, budget: Double) -> Bool {
        elapsed + lastUpdate <= budget
    }

    /// Trains to the end, or until `shouldStop` says so: then the current update is saved as a
    /// resumable checkpoint and the summary says `interrupted` (no final checkpoint or
    /// evaluation). With `resume`, continues from that checkpoint exactly: policy, value head,
    /// both optimisers, data order and clock as they were, against the same frozen reference.
    public func run(resume: ResumePoint? = nil) throws -> Summary {
        var dataRNG = RNG(seed: config.seed, stream: "rl-data")
        var order: [Int] = [], cursor = 0
        let clock = ContinuousClock()
        var elapsed = 0.0, lastUpdateSeconds = 0.0
        var update = 0
        let optimizers = [("policy", policyOptimizer)] + (valueOptimizer.map { [("value", $0)] } ?? [])
        // The reference must be the policy the run started from, not a mid-run checkpoint.
        let referenceSum = outputDir == nil ? nil : ResumePoint.checksum((reference ?? policy).params)
        let evaluator = Evaluator(tokenizer: tokenizer, maxNewTokens: config.maxNewTokens, prompt: prompt)
        let points = EvaluationPoints(outputDir: outputDir, unit: .update, evaluator: evaluator, model: policy,
                                      examples: Array(eval.prefix(config.evalExamples)), metrics: metrics, logsSpeed: false)
        if let resume {
            let s = resume.state
            guard s.run == config.algorithm.rawValue, let rng = RNG(state: s.dataRNG), s.cursor <= s.order.count,
                  s.order.allSatisfy({ train.indices.contains($0) }) else {
                throw TrainingError("\(resume.dir) holds the state of a \(s.run) run over other data; resume it with the command that started it")
            }
            guard s.referenceChecksum == referenceSum else {
                throw TrainingError("the reference model differs from the one this run started with (\(resume.dir)); point \(setting: .referenceCheckpoint) at the checkpoint the run was started from")
            }
            try TrainedWeights.load(from: resume.dir, into: policy)
            if let head = valueHead {
                let saved = try ValueHead.load(from: resume.dir, kind: head.kind, inputDim: policy.config.dim)
                guard saved.params.count == head.params.count else {
                    throw TrainingError("\(resume.dir)'s value head has \(saved.params.count) weights but this run's has \(head.params.count); resume with the settings the run started with")
                }
                head.params.values.ptr.update(from: saved.params.values.ptr, count: head.params.count)
            }
            try resume.restore(optimizers)
            dataRNG = rng
            (order, cursor, update) = (s.order, s.cursor, s.position)
            (elapsed, lastUpdateSeconds) = (s.seconds, s.lastUpdateSeconds)
            points.resume(s, from: resume.dir)
        }

        func saveState(in dir: String) throws {
            let state = TrainingState(run: config.algorithm.rawValue, position: update, totalSteps: config.updates,
                                      dataRNG: dataRNG.state, order: order, cursor: cursor, seconds: elapsed, probeSeconds: 0,
                                      lastUpdateSeconds: lastUpdateSeconds, lastLoss: nil,
                                      evaluations: points.records,
                                      metricsLength: metrics?.length() ?? 0, referenceChecksum: referenceSum)
            try ResumePoint.save(state, optimizers: optimizers, to: dir, replacing: points.stateDir)
            points.stateSaved(in: dir, at: update)
        }
        func evaluate(_ update: Int) throws {
            try points.evaluate(at: update, elapsed: elapsed, saveWeights: { try saveCheckpoint(to: $0, update: update) },
                                saveState: saveState) { onEval?(RLEvalReport(update: update, result: $0, checkpoint: $1)) }
        }

        if resume == nil { try evaluate(0) }
        var interrupted = false
        var collapseStop: CollapseStop?
        while config.updates.map({ update < $0 }) ?? true {
            if shouldStop?() == true { interrupted = true; break }
            if let m = config.minutes, !Self.nextUpdateFits(elapsed: elapsed, lastUpdate: lastUpdateSeconds, budget: m * 60) { break }
            let started = clock.now
            var questions: [MathExample] = []
            for _ in 0..<config.questionsPerUpdate {
                if cursor == order.count { order = Array(0..<train.count); order.shuffle(using: &dataRNG); cursor = 0 }
                questions.append(train[order[cursor]])
                cursor += 1
            }
            let lr = config.lrSchedule.lr(at: update)
            var report = try step(questions: questions, update: update, lr: lr)
            update += 1
            let secs = (clock.now - started).seconds
            elapsed += secs
            lastUpdateSeconds = secs
            report.update = update
            report.totalUpdates = config.updates
            report.seconds = secs
            report.elapsed = elapsed
            var line = RLUpdateLine(update: update)
            line.reward = report.meanReward
            line.rolloutAccuracy = report.accuracy
            line.samplingMismatch = report.samplingMismatch
            line.kl = report.kl
            line.entropy = report.entropy
            line.clipFraction = report.clipFraction
            line.policyLoss = report.policyLoss
            line.valueLoss = report.valueLoss
            line.gradNorm = report.gradNorm
            line.responseLength = report.meanResponseLength
            line.promptLength = report.meanPromptLength
            line.rolloutTokensPerSecond = report.rolloutTokensPerSecond
            line.trainTokensPerSecond = report.trainTokensPerSecond
            (line.rolloutSeconds, line.scoringSeconds, line.optimiseSeconds) = report.phases
            line.lr = Double(lr)
            line.seconds = secs
            line.elapsed = elapsed
            line.contrastiveLoss = report.contrastiveLoss
            line.embedCosineCorrect = report.embedding?.correctCosine
            line.embedCosineWrong = report.embedding?.wrongCosine
            line.embedAUC = report.embedding?.auc
            line.hiddenGradPolicy = report.hiddenGradients?.policy
            line.hiddenGradValue = report.hiddenGradients?.value
            line.hiddenGradContrastive = report.hiddenGradients?.contrastive
            line.peakRSS = peakResidentMB()
            for (name, m) in pluginMetrics { line.plugin[name] = m.sum / Double(max(1, m.count)) }
            pluginMetrics = [:]
            metrics?.write(.update(line))
            onUpdate?(report)
            if update % config.evalEvery == 0 {
                try evaluate(update)
                collapseStop = CollapseStop.check(points.evaluations, update: update, fraction: config.stopBelowStartFraction)
                if collapseStop != nil { break }
            }
        }
        if interrupted {
            try points.saveForResume(at: update, saveWeights: { try saveCheckpoint(to: $0, update: update) }, saveState: saveState)
            return Summary(updates: update, evaluations: points.evaluations, seconds: elapsed, finalEvaluation: nil,
                           interrupted: true, resumeFrom: points.stateDir)
        }
        if points.evaluatedAt != update { try evaluate(update) }
        policy.releaseActivations()
        reference?.releaseActivations()
        if let dir = outputDir { try saveCheckpoint(to: dir + "/final", update: update) }
        let final = try FinalEvaluation.run(evaluator: evaluator, model: policy, examples: eval,
                                            count: FinalEvaluation.count(config.finalEvalExamples, of: eval.count),
                                            reusing: points.last, outputDir: outputDir, metrics: metrics, position: (.update, update))
        // A finished run is not resumed; its optimiser state would only take disk space.
        if let outputDir { ResumePoint.discardAll(in: outputDir) }
        return Summary(updates: update, evaluations: points.evaluations, seconds: elapsed, finalEvaluation: final,
                       interrupted: false, resumeFrom: nil, collapseStop: collapseStop)
    }

    func saveCheckpoint(to dir: String, update: Int) throws {
        try TrainedWeights.save(policy, tokenizer: tokenizer, to: dir, metadata: ["update": "\(update)", "algorithm": config.algorithm.rawValue])
        try valueHead?.save(to: dir)
    }

    // MARK: one update

    /// Whether an update is one optimiser step over its whole batch whose advantages do not read
    /// the policy (`UpdateBatch.oldFromStep`): then no scoring forward runs through the policy.
    var oldLogProbsFromStep: Bool {
        !algorithm.readsOldPolicy && !scoresOldPolicySeparately && config.ppoEpochs == 1
            && config.miniBatchSize >= config.questionsPerUpdate * algorithm.samplesPerQuestion
    }
    /// Tests set this to run the scoring forward through the policy even where the step's own
    /// log-probs would serve, to compare the two.
    var scoresOldPolicySeparately = false
    /// Scoring forwards run through the policy so far (one per update unless `oldLogProbsFromStep`).
    private(set) var policyScoringPasses = 0

    /// Samples, scores and learns from one batch of questions.
    func step(questions: [MathExample], update: Int, lr: Float) throws -> RLUpdateReport {
        let clock = ContinuousClock()
        var ub = try collect(questions: questions, update: update)
        lastRollouts = ub.rollouts
        let trainStart = clock.now

        // Optimisation passes: U shuffled passes over the batch in mini-batches. The value
        // warm-up holds the policy still while a fresh value head learns; Dr.GRPO has no head.
        let trainPolicy = valueHead == nil || update >= config.valueWarmupUpdates
        var shuffleRNG = RNG(seed: config.seed &+ UInt64(update), stream: "rl-minibatch")
        var pgLoss = 0.0, vLoss = 0.0, cLoss = 0.0, clipFrac = 0.0, gradNorm = 0.0, lossTerms = 0
        var trainedTokens = 0
        var hidden: [HiddenGradients] = []
        // The largest mini-batch any shuffle can make: its longest rows, so the activations are
        // allocated once for the whole update.
        let longest = ub.batch.lengths.sorted(by: >).prefix(config.miniBatchSize)
        policy.reserveActivations(batch: longest.count, seq: longest.first ?? 1, rows: longest.reduce(0, +))
        // Each training forward of the update then draws the next masks.
        policy.dropoutDraw = LoRADropout.draw(seed: config.seed, step: update)
        for _ in 0..<config.ppoEpochs {
            var idx = Array(ub.rollouts.indices)
            idx.shuffle(using: &shuffleRNG)
            var start = 0
            while start < idx.count {
                let mb = Array(idx[start..<min(idx.count, start + config.miniBatchSize)])
                start += config.miniBatchSize
                let terms = try optimise(miniBatch: mb, ub, lr: lr, trainPolicy: trainPolicy)
                pgLoss += terms.policy
                vLoss += terms.value
                cLoss += terms.contrastive
                clipFrac += terms.clip
                gradNorm += terms.gradNorm
                lossTerms += 1
                trainedTokens += terms.tokens
                if let h = terms.hiddenGradients { hidden.append(h) }
                if let h = terms.stepHead { ub.oldHead = h }
            }
        }
        // How far the sampler's log-probs are from the scoring's, and the policy's KL to the
        // reference, both at sampling time.
        var klSum = 0.0, mismatch = 0.0
        for (i, r) in ub.batch.ranges.enumerated() {
            let old = ub.oldHead.logProbs[r]
            for (a, b) in zip(old, ub.rollouts[i].sampleLogProbs) { mismatch = max(mismatch, Double(abs(a - b))) }
            if !ub.refLogProbs.isEmpty {
                klSum += zip(old, ub.refLogProbs[r]).reduce(0.0) { $0 + Double($1.0 - $1.1) }
            }
        }
        let optimiseSecs = (clock.now - trainStart).seconds, trainSecs = optimiseSecs + ub.forwardSeconds
        let n = Double(ub.rollouts.count), scores = ub.rollouts.map(\.reward)
        let terms = Double(max(1, lossTerms))
        return RLUpdateReport(
            update: update, totalUpdates: nil,
            meanReward: scores.reduce(0.0) { $0 + Double($1) } / n,
            accuracy: Double(scores.filter { $0 >= 1 }.count) / n,
            kl: klSum / n,
            entropy: ub.oldHead.entropies.reduce(0.0) { $0 + Double($1) } / Double(max(1, ub.oldHead.entropies.count)),
            clipFraction: clipFrac / terms,
            policyLoss: pgLoss / terms,
            valueLoss: vLoss / terms,
            gradNorm: gradNorm / terms,
            contrastiveLoss: carft == nil ? nil : cLoss / terms,
            embedding: ub.carft.map { EmbeddingSeparation(rollout: $0.rolloutCoT, annotated: $0.annotatedCoT, rewards: scores) },
            meanResponseLength: Double(ub.generated) / n,
            meanPromptLength: Double(ub.rollouts.reduce(0) { $0 + $1.prompt.count }) / n,
            samplingMismatch: mismatch,
            rolloutTokensPerSecond: Double(ub.generated) / ub.rolloutSeconds,
            trainTokensPerSecond: Double(trainedTokens) / trainSecs,
            phases: (ub.rolloutSeconds, ub.forwardSeconds, optimiseSecs),
            seconds: 0, elapsed: 0,
            hiddenGradients: hidden.isEmpty ? nil : HiddenGradients(
                policy: hidden.reduce(0) { $0 + $1.policy } / Double(hidden.count),
                value: hidden.reduce(0) { $0 + $1.value } / Double(hidden.count),
                contrastive: hidden.first?.contrastive == nil ? nil : hidden.reduce(0) { $0 + ($1.contrastive ?? 0) } / Double(hidden.count)))
    }

    /// A model whose training activations and scoring buffers weigh up to this much together
    /// keeps both from one update to the next; a heavier one (a real model's) frees each once
    /// its phase is over, so an update holds them one after the other rather than both: on
    /// SmolLM2 (16 × 128, mini-batches of 8) ~1.3 GB and ~0.2 GB, then zero-filled anew each
    /// update. The tiny model's (64 × ~160 tokens, grown once) are ~0.6 GB and ~0.17 GB, which
    /// page-faulting back in every update cost ~10% of it.
    static let keptActivationBytes = 1 << 30

    /// Rollouts for `questions`; one forward of the batch through the policy (old log-probs,
    /// and what the algorithm reads from the states); the reference's log-probs; the scores;
    /// and the algorithm's advantages.
    func collect(questions: [MathExample], update: Int) throws -> UpdateBatch {
        let clock = ContinuousClock()
        let g = algorithm.samplesPerQuestion
        // Rollouts: each question repeated G times, each row its own random stream. The last
        // update's training activations are not needed until this one trains.
        policy.releaseActivations(training: true, above: Self.keptActivationBytes)
        let rolloutStart = clock.now
        let prompts = questions.flatMap { q in
            Array(repeating: prompt.encode(question: q.question, tokenizer: tokenizer).map { Int32($0) }, count: g)
        }
        var options = SamplingOptions(maxNewTokens: config.maxNewTokens, minNewTokens: config.minNewTokens, stopToken: tokenizer.eosId,
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

        // Old log-probs and entropy from the policy, then what the algorithm reads from its
        // states; the reference's log-probs. These scoring passes keep nothing for a backward,
        // in buffers of their own (`forward(forBackward: false)`).
        let forwardStart = clock.now
        let batch = TokenBatch(rollouts.map(\.sequence), padId: tokenizer.padId)
        let oldFromStep = oldLogProbsFromStep
        var oldHead = Transformer.HeadOutput(logProbs: [], entropies: [])
        var read: (oldValues: [Float]?, carft: CARFTObjective.Prepared?) = (nil, nil)
        if !oldFromStep {
            let prefix = algorithm.rolloutPrefix(rollouts: rollouts)
            policy.forward(tokens: batch.tokens, batch: batch.batch, seq: batch.seq, lengths: batch.lengths, shared: batch.shared, keeping: prefix?.cache,
                           forBackward: false)
            policyScoringPasses += 1
            oldHead = policy.head(positions: batch.positions, targets: batch.targets, entropy: true, temperature: config.temperature)
            read = try algorithm.readRolloutStates(batch, rollouts: rollouts, prefix: prefix)
        }
        var refLogProbs: [Float] = []
        if algorithm.needsReference {
            // The policy's own states have been read above, so its base may overwrite them.
            let ref = reference ?? policy
            if reference == nil { policy.adaptersEnabled = false }
            defer { policy.adaptersEnabled = true }
            ref.forward(tokens: batch.tokens, batch: batch.batch, seq: batch.seq, lengths: batch.lengths, shared: batch.shared,
                        forBackward: false)
            refLogProbs = ref.head(positions: batch.positions, targets: batch.targets, temperature: config.temperature).logProbs
        }

        // Scores; CARFT's reward also sees both CoT embeddings.
        let scores = try reward.scores(rollouts.indices.map { i in
            RewardInput(question: rollouts[i].example.question, completion: rollouts[i].completion, gold: rollouts[i].example.answer,
                        rolloutEmbedding: read.carft?.rolloutCoT[i], annotatedEmbedding: read.carft?.annotatedCoT[i])
        })
        guard scores.count == rollouts.count else {
            throw TrainingError("reward '\(reward.name)' returned \(scores.count) scores for \(rollouts.count) rollouts")
        }
        if let bad = scores.firstIndex(where: { !$0.isFinite }) {
            throw TrainingError("reward '\(reward.name)' returned \(scores[bad]) for rollout \(bad) (question \(rollouts[bad].example.id)); rewards must be finite numbers")
        }
        for i in rollouts.indices { rollouts[i].reward = scores[i] }

        var ub = UpdateBatch(rollouts: rollouts, batch: batch, oldHead: oldHead, oldFromStep: oldFromStep, refLogProbs: refLogProbs,
                             oldValues: read.oldValues, advantages: [], returns: [], carft: read.carft, generated: generated,
                             rolloutSeconds: rolloutSecs, forwardSeconds: 0)
        (ub.advantages, ub.returns) = algorithm.advantages(ub)
        policy.releaseActivations(training: false, above: Self.keptActivationBytes)
        reference?.releaseActivations(training: false, above: Self.keptActivationBytes)
        ub.forwardSeconds = (clock.now - forwardStart).seconds
        return ub
    }

    /// One optimiser step on a mini-batch of rollouts (indices into the update's batch).
    private func optimise(miniBatch mb: [Int], _ ub: UpdateBatch, lr: Float, trainPolicy: Bool) throws -> MiniBatchTerms {
        var terms = try accumulateGradients(miniBatch: mb, ub, trainPolicy: trainPolicy)
        guard terms.total.isFinite else {
            throw TrainingError("the RL loss became \(terms.total) (policy \(terms.policy), value \(terms.value), contrastive \(terms.contrastive)); lower \(setting: .learningRate) (now \(config.learningRate)). Checkpoints up to the last evaluation are on disk", diverged: true)
        }
        let norm = clipJointly(maxNorm: config.gradClip)
        guard norm.isFinite else {
            throw TrainingError("the gradient norm became \(norm); lower \(setting: .learningRate) (now \(config.learningRate)). Checkpoints up to the last evaluation are on disk", diverged: true)
        }
        terms.gradNorm = norm
        if trainPolicy { policyOptimizer.step(lr: lr) }
        valueOptimizer?.step(lr: config.valueLearningRate.map { lr * $0 / config.learningRate } ?? lr)
        return terms
    }

    /// The mini-batch's loss, its gradient left in the policy's and value head's grads (zeroed
    /// first). Without `trainPolicy` only the value head's gradient is computed.
    func accumulateGradients(miniBatch mb: [Int], _ ub: UpdateBatch, trainPolicy: Bool) throws -> MiniBatchTerms {
        policy.trainable.zeroGrad()
        valueHead?.params.zeroGrad()
        return try algorithm.miniBatch(mb, of: ub, trainPolicy: trainPolicy)
    }

    /// Global-norm clipping over the policy and the value head together, as one model.
    /// Returns the norm before clipping.
    private func clipJointly(maxNorm: Float) -> Double {
        let a = Double(globalGradNorm(policy.trainable))
        let b = Double(valueHead.map { globalGradNorm($0.params) } ?? 0)
        let norm = (a * a + b * b).squareRoot()
        guard norm.isFinite, norm > Double(maxNorm) else { return norm }
        let s = Float(Double(maxNorm) / norm)
        VectorMath.scale(policy.trainable.grads.ptr, policy.trainable.count, by: s)
        if let h = valueHead { VectorMath.scale(h.params.grads.ptr, h.params.count, by: s) }
        return norm
    }
}
