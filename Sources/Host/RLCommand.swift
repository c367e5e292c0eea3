import ArgumentParser
import Engine
import Foundation

struct RLCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rl",
        abstract: "Reinforced fine-tuning from an SFT checkpoint: PPO as ReFT runs it, CARFT, or Dr.GRPO.",
        discussion: """
        Each update samples answers to --batch questions from the current policy (at \
        --temperature), scores them with the reward (a plugin; by default the built-in \
        equation-checked reward: 1 for a right answer whose every 'a op b = c' line holds, \
        --partial-reward for any other readable answer, 0 without an answer line), and trains on \
        them for --ppo-epochs passes of --minibatch sequences. At the end the final checkpoint \
        is scored on the held-out questions (--final-eval) into eval-final.jsonl.

        reft: one sample per question; a value head on the policy's last hidden state (CARFT's \
        64-dim projection + ReLU head by default); per-token reward = −β·(log π − log π_ref) \
        plus the score at the EOS-producing token; GAE; advantages whitened over the batch; \
        clipped policy loss plus --vf-coef × clipped value loss.
        carft: reft plus c × a contrastive loss (--contrastive-coef, reference 1e-3) between the \
        pooled embedding of each rollout's CoT and of its question's annotated CoT, both read from \
        the value head's projection p_t. The annotated CoT is teacher-forced through the current \
        policy once per rollout batch (no gradient); the rollout embedding is recomputed with \
        gradient in every pass, and the loss's gradient flows through the pooling plugin into \
        p_t, the value head and the policy. Built-ins: softmax(V)-weighted pooling and the \
        positive InfoNCE over correct rollouts; --plugin replaces either, or the reward.
        drgrpo: --group samples per question; advantage = reward − group mean (no std, no \
        length normalisation); clipped policy loss; optional k3 KL penalty (--kl-beta, default 0).

        Defaults are the ReFT reference values, except those marked "scaled" (chosen for small \
        models trained in minutes) and those marked [preset]. --preset tuned (the default) sets \
        the equation-checked reward, temperature 0.4 and GAE λ 1, chosen by measurements on the \
        built-in task (docs/results/rl-gains.md); --preset reference restores the reference \
        code's reft-partial reward, temperature 1 and λ 0.95. A flag given explicitly overrides \
        its preset. Writes metrics.jsonl (kind=update per update, kind=eval per evaluation), \
        run.json, checkpoints (policy safetensors + value_head.safetensors) and eval-final.jsonl \
        to --out. Use the same --task-* flags as the SFT run that made the checkpoint.

        --reward-fn replaces the default reward with one exported C function, called once per \
        rollout through libffi: `--reward-fn ./libmine.so:score:f64(str,str)` calls \
        `double score(const char* completion, const char* gold)`. Signature: a return type \
        (f32, f64, i32, i64: the score) and parameters, positional (1st completion str, 2nd \
        gold str or gold_value f64, 3rd prompt str) or all named in any order, e.g. \
        `f32(gold_value:f64, completion:str, prompt:str)`. gold is the gold answer as text \
        ("72", "0.5"), prompt the question text. Scores must be finite; a score ≥ 1 counts as \
        correct in the rollout accuracy.

        --plugin loads plugins through the C ABI (include/workbench_plugin.h); each replaces the \
        built-in of its kind: `--plugin ./libnegsignal.so`, `--plugin lib.so:margin=0.3` (config \
        keys, each going to the plugin that declares it), `--plugin lib.so@org.x.reward` (one \
        plugin of a library holding several), `--plugin builtin:carft-embedding` (a built-in: \
        CARFT's embedding-enhanced partial reward). Pooling and contrastive plugins need \
        --algo carft; a reward plugin works with every algorithm. `workbench plugin list <lib>` \
        shows a library's plugins and keys. A plugin (or --reward-fn) call that runs longer than \
        --plugin-timeout stops the run with exit status \(PluginWatchdog.exitCode), naming the \
        plugin and the function (run.json: failed); a crash inside one ends with a line naming \
        them.
        """
    )

    @Option(help: "Algorithm: reft (PPO), carft (PPO + contrastive CoT loss) or drgrpo.") var algo: RLConfig.Algorithm = .reft
    @Option(name: .customLong("init"), help: ArgumentHelp("SFT checkpoint folder or llama .gguf file to start from; also the frozen reference policy.", valueName: "dir|file.gguf")) var initFrom: String
    @OptionGroup var modelOptions: OpenModelOptions
    @OptionGroup(title: "Data") var data: DataOptions
    @OptionGroup(title: "Run") var runOptions: RunOptions
    @OptionGroup(title: "LoRA") var loraOptions: LoRAOptions
    @OptionGroup var frozen: FrozenWeightOptions

    @Option(help: ArgumentHelp("Defaults for the settings marked [preset]: 'tuned' (the default: settings chosen by measurements on the built-in task, see docs/results/rl-gains.md) or 'reference' (the ReFT/CARFT reference code's).", valueName: "name"))
    var preset: RLPreset = .tuned
    @Option(parsing: .unconditional, help: "Updates to run (default \(RLCommand.defaultUpdates) unless --minutes is given): a count, so the same command does the same work on any machine.") var updates: Int?
    @Option(parsing: .unconditional, help: "Wall-clock budget in minutes for rollouts and updates (evaluation excluded) instead of a count; the run stops before an update that, at the last one's pace, would overrun it. How far that gets depends on the machine's speed.") var minutes: Double?
    @Option(parsing: .unconditional, help: "Questions per update (reference 64; 1…65,536).") var batch: Int = 64
    @Option(parsing: .unconditional, help: "Dr.GRPO: samples per question, G (reference 2; 2…256).") var group: Int = 2
    @Option(name: .customLong("ppo-epochs"), parsing: .unconditional, help: "Optimisation passes over each rollout batch, U (reference 2; 1…1,000).") var ppoEpochs: Int = 2
    @Option(parsing: .unconditional, help: "Sequences per optimiser step (1…65,536).") var minibatch: Int = 32
    @Option(parsing: .unconditional, help: "Learning rate (scaled; reference 3e-7 for 7B models).") var lr: Float = 1e-5
    @Option(help: "'constant' (reference) or 'linear' decay to 0 (needs --updates).") var schedule: String = "constant"
    @Option(name: .customLong("kl-beta"), parsing: .unconditional, help: "KL coefficient β ≥ 0: per-token shaping for reft (reference 0.05); k3 penalty for drgrpo (default 0).") var klBeta: Float?
    @Option(parsing: .unconditional, help: "GAE discount γ in [0, 1] (reference code 1.0; the paper's appendix prints 0.95).") var gamma: Float = 1.0
    @Option(parsing: .unconditional, help: "[preset] GAE λ in [0, 1]: tuned 1 (the paper's appendix), reference 0.95 (the reference code). With a terminal-only score, λ < 1 gives a token ~λ^(tokens to the end) of it and the rest through the value head's differences; λ 1 gives A_t = return − V_t (measurements: docs/results/rl-gains.md).") var lambda: Float?
    @Option(name: .customLong("clip-eps"), parsing: .unconditional, help: "PPO ratio clip ε > 0 (reference 0.2).") var clipEps: Float = 0.2
    @Option(name: .customLong("value-clip"), parsing: .unconditional, help: "Value clip range around the old values, > 0 (reference 0.2).") var valueClip: Float = 0.2
    @Option(name: .customLong("vf-coef"), parsing: .unconditional, help: "Value-loss weight α ≥ 0 (reference 5).") var vfCoef: Float = 5
    @Option(name: .customLong("grad-clip"), parsing: .unconditional, help: "Global gradient-norm clip > 0 (reference 1.0; a large value such as 1e6 turns clipping off).") var gradClip: Float = 1
    @Option(parsing: .unconditional, help: "[preset] Sampling temperature for rollouts, > 0: tuned 0.4, reference 1.") var temperature: Float?
    @Option(name: .customLong("top-k"), parsing: .unconditional, help: "Keep only the k most likely tokens when sampling (0 = off, reference).") var topK: Int = 0
    @Option(name: .customLong("top-p"), parsing: .unconditional, help: "Nucleus sampling threshold in (0, 1] (1 = off, reference).") var topP: Float = 1
    @Option(name: .customLong("max-new-tokens"), parsing: .unconditional, help: "Longest rollout and evaluation completion, in tokens (1…1,048,576).") var maxNewTokens: Int = 160
    @Option(name: .customLong("min-new-tokens"), parsing: .unconditional, help: "Rollouts cannot draw the stop token before this many tokens (0…--max-new-tokens; default 0). For timing: with --min-new-tokens equal to --max-new-tokens every row makes the same number of tokens, as transformers' min_new_tokens does.") var minNewTokens: Int = 0
    @Option(name: .customLong("partial-reward"), parsing: .unconditional, help: "The built-in reward's score for a wrong but readable answer (reference 0.1; 0 = exact match only); for a reward plugin, set its own key instead.") var partialReward: Float?
    @Option(name: .customLong("reward-fn"), help: ArgumentHelp("Score rollouts with this C function instead of the built-in reward, e.g. ./libmine.so:score:f64(str,str); the signature rules are in the description at the top of `workbench rl --help`.", valueName: "lib.so:symbol:signature"),
            transform: { try FFIRewardSpec(parsing: $0) }) var rewardFn: FFIRewardSpec?
    @Option(name: .customLong("plugin"), help: ArgumentHelp("A reward, pooling or contrastive plugin replacing the built-in of its kind; repeatable. Forms: lib.so, lib.so@<id>, lib.so:key=value,..., builtin:<name>[:key=value,...]. A value holding commas goes in double quotes: 'lib.so:prefix=\"Therefore, the answer is:\"'.", valueName: "spec"),
            transform: { try PluginSpec(parsing: $0) }) var plugins: [PluginSpec] = []
    @Option(name: .customLong("plugin-timeout"), parsing: .unconditional, help: ArgumentHelp("Seconds one call into a plugin or --reward-fn function may take (1…86,400). A call that overruns stops the run, naming the plugin and the function; run.json records it as failed and the process exits with status \(PluginWatchdog.exitCode).", valueName: "seconds"))
    var pluginTimeout: Int = PluginWatchdog.defaultTimeout
    @Option(name: .customLong("contrastive-coef"), parsing: .unconditional, help: "carft: c ≥ 0, the contrastive loss weight (reference 1e-3).") var contrastiveCoef: Float = 1e-3
    @Option(name: .customLong("value-head"), help: "reft value head: carft (64-dim projection, ReLU, linear) or linear.") var valueHead: ValueHead.Kind = .carft
    @Option(help: "[preset] Built-in reward, when no reward plugin is given: tuned equation-checked (full credit only when the answer is right and every 'a op b = c' line of the CoT holds), reference reft-partial (1 correct, --partial-reward for a wrong number, 0 without one). The same as --plugin builtin:<name>.")
    var reward: BuiltinReward?
    @Option(name: .customLong("value-warmup"), parsing: .unconditional, help: "reft and carft: updates at the start that train only the value head (scaled; the reference has none: a fresh head on a small model otherwise feeds the policy noise). Dr.GRPO has no value head and trains its policy from the first update.") var valueWarmup: Int = 10
    @Option(name: .customLong("value-lr"), parsing: .unconditional, help: "reft: the value head's learning rate (scaled; the reference uses --lr).") var valueLR: Float = 5e-4
    @Option(name: .customLong("eval-every"), parsing: .unconditional, help: "Greedy evaluation and checkpoint every N updates (1 or more).") var evalEvery: Int = 20
    @Option(name: .customLong("eval-examples"), parsing: .unconditional, help: "Held-out questions per evaluation (0 or more).") var evalExamples: Int = 256
    @Option(name: .customLong("stop-below"), parsing: .unconditional, help: ArgumentHelp("End the run early, as finished, when a periodic evaluation scores below this fraction of the update-0 evaluation (0 < f ≤ 1; 0.5 is the comparison report's collapse line). The final checkpoint is still saved and scored, and run.json says where the run stopped. Default: the whole budget.", valueName: "fraction")) var stopBelow: Double?
    @Option(name: .customLong("final-eval"), parsing: .unconditional, help: "Held-out questions the final checkpoint is scored on, each answer kept in eval-final.jsonl (default: all of them; 0: none).") var finalEval: Int?

    /// The settings these flags ask for. Checked in validate(), so `workbench compare` (which
    /// parses every variant's flags before launching any) refuses a bad setting up front.
    func rlConfig() -> RLConfig {
        var c = RLConfig()
        c.algorithm = algo
        c.updates = updates ?? (minutes == nil ? Self.defaultUpdates : nil)
        c.minutes = minutes
        c.questionsPerUpdate = batch
        c.samplesPerQuestion = group
        c.ppoEpochs = ppoEpochs
        c.miniBatchSize = minibatch
        c.learningRate = lr
        c.schedule = schedule
        c.klBeta = klBeta ?? (algo.isPPO ? 0.05 : 0)
        c.gamma = gamma
        c.lambda = lambda ?? preset.lambda
        c.clipEps = clipEps
        c.valueClip = valueClip
        c.vfCoef = vfCoef
        c.gradClip = gradClip
        c.temperature = temperature ?? preset.temperature
        c.topK = topK
        c.topP = topP
        c.maxNewTokens = maxNewTokens
        c.minNewTokens = minNewTokens
        c.valueHead = valueHead
        c.valueWarmupUpdates = valueWarmup
        c.valueLearningRate = algo.isPPO ? valueLR : nil
        c.contrastiveCoef = contrastiveCoef
        c.evalEvery = evalEvery
        c.evalExamples = evalExamples
        c.finalEvalExamples = finalEval
        c.stopBelowStartFraction = stopBelow
        c.seed = runOptions.seed
        return c
    }

    func validate() throws {
        if let p = rlConfig().problems.first { throw ValidationError(SettingFlags.text(p)) }
        if loraOptions.rank == nil && frozen.frozenWeights == .int8 {
            throw ValidationError("--frozen-weights int8 makes generation read 8-bit weights; without --lora-rank the frozen model is only the reference, which never generates: use --frozen-weights bf16")
        }
        // Sizes the algorithm allows but the machine does not: refused with the range.
        typealias L = FlagLimits
        try L.check(updates, "--updates", L.steps)
        try L.check(minutes, "--minutes", L.minutes)
        try L.check(batch, "--batch", L.batch)
        try L.check(group, "--group", 1...256)
        try L.check(ppoEpochs, "--ppo-epochs", 1...1_000)
        try L.check(minibatch, "--minibatch", L.batch)
        try L.check(lr, "--lr", L.learningRate)
        try L.check(valueLR, "--value-lr", L.learningRate)
        try L.check(maxNewTokens, "--max-new-tokens", L.tokens)
        try L.check(evalEvery, "--eval-every", L.steps)
        try L.check(evalExamples, "--eval-examples", L.examples)
        try L.check(finalEval, "--final-eval", L.examples)
        try L.check(valueWarmup, "--value-warmup", 0...L.steps.upperBound)
        try L.check(pluginTimeout, "--plugin-timeout", L.pluginTimeout)
        try modelOptions.check(modelPath: initFrom)
        _ = try loraOptions.config()
    }

    func run() throws {
        // Made first, so a wrong path, symbol, config key or value fails before the checkpoint and data load.
        let out = try runOptions.checkOut(default: "runs/" + algo.rawValue)
        // Started before the plugins are made: create can hang too.
        let watch = RunWatch(out: out)
        PluginWatchdog.start(timeout: pluginTimeout) { _, message in watch.stop(message) }
        let made = try makePlugins()
        let reward = made.reward
        Parallel.configure(threads: runOptions.threads)
        let all = try data.load(seed: runOptions.seed)
        // The frozen reference is a copy of the starting weights, loaded the same way.
        let (source, format) = try modelOptions.open(initFrom)
        let policy = source.model, tokenizer = source.tokenizer
        // With LoRA the policy's frozen base is the reference: no second copy of the model.
        let lora = try loraOptions.attach(to: policy, base: initFrom, seed: runOptions.seed)?.config
        let loaded = try data.fitting(all, ContextFit(tokenizer: tokenizer, prompt: format, context: policy.config.maxSeqLen),
                                      use: algo == .carft ? .carft : .rl)
        let fit = ContextFit(tokenizer: tokenizer, prompt: format, context: policy.config.maxSeqLen)
        let rows = batch * (algo == .drgrpo ? group : 1)
        let rollout = min(policy.config.maxSeqLen, fit.longestPrompt(loaded.train + loaded.eval) + maxNewTokens)
        let seq = algo == .carft ? max(rollout, fit.longestSequence(loaded.train, firstCoTOnly: true)) : rollout
        // Training activations for one mini-batch; the scoring passes read the whole batch.
        try MachineMemory.check(.training(policy.config, rows: min(minibatch, rows), seq: seq, scoring: (rows, seq), frozen: lora == nil ? 1 : 0,
                                          adapters: policy.adapters.map { ($0.params.count, $0.config) }, generation: (batch: max(64, rows), length: rollout),
                                          bf16Copy: frozen.bf16Copy, int8Copy: frozen.int8Copy),
                                what: "this run", remedy: "lower --batch (now \(batch))\(algo == .drgrpo ? " or --group (now \(group))" : "") or --max-new-tokens (now \(maxNewTokens)), or use a smaller model")
        var reference: Transformer?
        if lora == nil {
            reference = try Transformer(config: policy.config)
            reference!.params.values.copy(from: policy.params.values)
        }
        // Frozen: the LoRA base (which is also the reference), else the reference copy.
        try frozen.apply(to: reference ?? policy, what: "this run")
        let carft = made.carft.map { CARFTObjective(pooling: $0.pooling, contrastive: $0.contrastive, coefficient: contrastiveCoef, tokenizer: tokenizer) }
        let c = rlConfig()

        let trainer = try RLTrainer(policy: policy, reference: reference, tokenizer: tokenizer,
                                    reward: reward, config: c, carft: carft,
                                    train: loaded.train, eval: loaded.eval, outputDir: out, prompt: format)
        let folder = try RunFolder.open(out, existing: runOptions.existing, settings: runFile(config: c, policy: policy, dataDescription: loaded.description, reward: reward, carft: carft))
        trainer.metrics = folder.metrics
        watch.opened(folder)

        print("workbench rl --algo \(algo.rawValue): from \(initFrom); \(loaded.description)")
        print("  \(loaded.train.count) training questions, \(loaded.eval.count) held out (\(min(evalExamples, loaded.eval.count)) per evaluation)")
        if let f = rewardFn {
            print("  reward: \(f.symbol) from \(f.path), \(f.signature)")
        } else {
            print("  reward: \(PluginBanner.line(reward.instance))")
        }
        print("  preset \(preset.rawValue): temperature \(c.temperature), λ \(c.lambda)")
        if let a = policy.adapters {
            print("  LoRA: \(a.config.summary): \(ProgressLine.count(Double(a.params.count))) trainable parameters; the frozen model is the reference")
        }
        if lora != nil || frozen.frozenWeights != .float32 {
            print("  frozen weights (\(lora == nil ? "the reference" : "the base, and so the reference")): \(FrozenWeightOptions.describe(reference ?? policy))")
        }
        if let carft {
            print("  pooling: \(PluginBanner.line(carft.pooling.instance))")
            print("  contrastive: \(PluginBanner.line(carft.contrastive.instance))")
            print("  CARFT: contrastive coefficient c \(carft.coefficient)")
        }
        let len = c.updates.map { "\($0) updates" } ?? "\(c.minutes!) minutes"
        let per = algo == .drgrpo ? "\(batch) questions × \(group) samples" : "\(batch) questions × 1 sample"
        print("  \(len), \(per) per update, U=\(ppoEpochs), lr \(lr), β \(c.klBeta), \(runOptions.threads) threads, seed \(runOptions.seed) → \(out)")

        let progress = ProgressLine()
        Interrupt.install()
        trainer.shouldStop = { Interrupt.requested }
        var silentContrastive = 0
        trainer.onUpdate = { r in
            // A contrastive term that never reaches the policy makes the run reft under another
            // name; say so once, early, instead of letting a comparison find "no difference".
            if let c = r.hiddenGradients?.contrastive {
                silentContrastive = c == 0 ? silentContrastive + 1 : -1_000_000
                if silentContrastive == Self.silentContrastiveUpdates {
                    progress.finishLine()
                    print(Self.silentContrastiveWarning(trainer.carft.map { $0.contrastive.instance.descriptor.id } ?? "?"))
                }
            }
            let total = r.totalUpdates.map { "/\($0)" } ?? ""
            progress.update(String(format: "update %d%@ | reward %.3f | acc %.1f%% | kl %.3f | len %.0f | rollout %@ tok/s | train %@ tok/s | %@",
                                   r.update, total, r.meanReward, r.accuracy * 100, r.kl, r.meanResponseLength,
                                   ProgressLine.count(r.rolloutTokensPerSecond), ProgressLine.count(r.trainTokensPerSecond),
                                   ProgressLine.duration(r.elapsed)))
        }
        trainer.onEval = { e in
            if let path = e.checkpoint { watch.saved(path, update: e.update) }
            progress.finishLine()
            print(String(format: "eval @ update %d: accuracy %.1f%% (%d/%d)", e.update, e.result.accuracy * 100, e.result.correct, e.result.total))
        }
        if let point = folder.resumePoint {
            print("  resuming at update \(point.state.position) from \(point.dir)")
        }
        let summary = try folder.record(detail: { $0.collapseStop.map(Self.describe) }) { try trainer.run(resume: folder.resumePoint) }
        progress.finishLine()
        if summary.interrupted {
            print("\nStopped at update \(summary.updates)\(summary.resumeFrom.map { "; checkpoint \($0)" } ?? ""). To continue, run the same command with --resume.")
            try Interrupt.exitIfSignalled()
            return
        }
        print("\nAccuracy on held-out questions (greedy), by update:")
        print(AccuracyCurve.render(summary.evaluations.map { (step: $0.update, accuracy: $0.accuracy) }, label: "update"))
        print("\n\(summary.updates) updates in \(ProgressLine.duration(summary.seconds)). Checkpoint: \(out)/final, metrics: \(out)/metrics.jsonl")
        if let stop = summary.collapseStop { print(Self.describe(stop) + " (--stop-below).") }
        if let line = AccuracyCurve.finalEvaluation(summary.finalEvaluation, folder: out) { print(line) }
        try Interrupt.exitIfSignalled()
    }

    /// Training updates in a row whose contrastive gradient was exactly 0 before the warning.
    static let silentContrastiveUpdates = 3

    static func silentContrastiveWarning(_ plugin: String) -> String {
        "warning: in \(silentContrastiveUpdates) updates CARFT's contrastive term (\(plugin)) has given the policy no gradient at all "
            + "(grad_hidden_contrastive is exactly 0 in metrics.jsonl), so this run trains as reft does. With infonce-positive's reference "
            + "settings that happens when every positive pair's cosine is above positive-clamp (0.9) and the denominator is detached; "
            + "builtin:infonce-positive:positive-clamp=1,detach-denominator=false lets the term act."
    }

    static func describe(_ stop: RLTrainer.CollapseStop) -> String {
        String(format: "Stopped early at update %d: held-out accuracy %.1f%% fell below %g of the start's %.1f%%",
               stop.update, stop.accuracy * 100, stop.fraction, stop.startAccuracy * 100)
    }

    /// The run's plugins, created: every library loaded, every plugin made with its config. Run
    /// before anything else loads, and by `workbench compare` for every variant before the
    /// warm-up, so a wrong spec, key or value fails at once.
    func makePlugins() throws -> (reward: PluginReward, carft: (pooling: PluginPooling, contrastive: PluginContrastiveLoss)?) {
        let selection = try PluginSelection(plugins)
        if algo != .carft, let d = selection.pooling?.descriptor ?? selection.contrastive?.descriptor {
            throw CLIError("\(d.id) is a \(d.kind) plugin, used only by CARFT's contrastive term; add --algo carft or drop it")
        }
        return (try resolveReward(selection), algo == .carft ? try selection.carftPlugins() : nil)
    }

    /// The reward plugin of this run: --reward-fn's C function, a reward plugin, or the built-in
    /// reward plugin the preset (or --reward) names, configured with --partial-reward.
    private func resolveReward(_ selection: PluginSelection) throws -> PluginReward {
        let given = [rewardFn.map { "--reward-fn \($0)" }, reward.map { "--reward \($0.rawValue)" },
                     selection.reward.map { "--plugin \($0.descriptor.id)" }].compactMap { $0 }
        if given.count > 1 { throw CLIError("\(given.joined(separator: " and ")) both set the reward; keep one") }
        if let partialReward, let other = given.first(where: { !$0.hasPrefix("--reward ") }) {
            throw CLIError("--partial-reward \(partialReward) configures the built-in reward, but \(other) replaces it; drop --partial-reward (a plugin takes its own key, e.g. lib.so:partial=\(partialReward))")
        }
        if let rewardFn { return try FFIRewardPlugin.reward(rewardFn) }
        if let r = selection.reward { return try PluginReward(r.descriptor, config: r.config) }
        let builtin = try PluginLoader.library(PluginLoader.builtinName)
        let partial = partialReward.map { ["partial": "\($0)"] } ?? [:]
        return try PluginReward(builtin.plugin((reward ?? preset.reward).pluginId), config: partial)
    }

    /// Updates when neither --updates nor --minutes is given.
    static let defaultUpdates = 300

    /// A plugin as run.json and comparison fingerprints record it. Kept as it is: a comparison
    /// reruns every run whose fingerprint text changed. The console shows `PluginBanner.line`.
    static func describe(_ i: PluginInstance) -> String {
        let from = i.descriptor.library == PluginLoader.builtinName ? "built-in" : i.descriptor.library
        let config = PluginConfig.text(i.config.sorted { $0.key < $1.key })
        return "\(i.descriptor.id) \(i.descriptor.version) (\(from))" + (config.isEmpty ? "" : " [\(config)]")
    }

    private func runFile(config: RLConfig, policy: Transformer, dataDescription: String, reward: PluginReward, carft: CARFTObjective?) -> some Encodable {
        struct RunFile: Encodable {
            var command = "rl"
            var preset: String
            var initFrom: String
            var data: String
            var task: ArithmeticTaskConfig?
            var rl: RLConfig
            var rewardFn: String?
            var reward: String?
            var pooling: String?
            var contrastive: String?
            var plugins: [String]
            var lora: LoRAConfig?
            /// "bf16" or "int8" as --frozen-weights says; absent for float32, as in runs from before the flag.
            var frozenWeights: String?
            var threads: Int
        }
        // --reward-fn is recorded as rewardFn alone, as before it became a plugin: fingerprints stay.
        let rewardText = rewardFn == nil ? Self.describe(reward.instance) : nil
        let file = RunFile(preset: preset.rawValue, initFrom: initFrom, data: dataDescription, task: data.data == "builtin" ? data.taskConfig : nil,
                           rl: config, rewardFn: rewardFn?.description, reward: rewardText,
                           pooling: carft.map { Self.describe($0.pooling.instance) },
                           contrastive: carft.map { Self.describe($0.contrastive.instance) },
                           plugins: plugins.map(\.text), lora: policy.adapters?.config,
                           frozenWeights: frozen.recorded, threads: runOptions.threads)
        return file
    }
}

/// What the plugin watchdog says and records when a call of this run hangs: the run folder (once
/// open) is marked failed with the message, and the message says what of the run is on disk.
/// Updated by the training thread, read by the watchdog's.
final class RunWatch: @unchecked Sendable {
    private let lock = NSLock()
    private let out: String
    private var folder: RunFolder?
    private var checkpoint: (path: String, update: Int)?

    init(out: String) { self.out = out }

    func opened(_ folder: RunFolder) {
        lock.lock()
        defer { lock.unlock() }
        self.folder = folder
    }

    func saved(_ path: String, update: Int) {
        lock.lock()
        defer { lock.unlock() }
        checkpoint = (path, update)
    }

    /// Prints the error and marks the run failed; the watchdog then ends the process.
    func stop(_ message: String) {
        lock.lock()
        let folder = self.folder, checkpoint = self.checkpoint
        lock.unlock()
        var onDisk = ""
        if folder != nil {
            let saved = checkpoint.map { "Its last checkpoint is \($0.path) (update \($0.update)); the same command with --resume continues from there once the plugin is fixed" } ?? "No checkpoint was written yet"
            onDisk = " \(saved); the metrics so far are in \(out)/metrics.jsonl and run.json records the failure."
        }
        printErr("Error: \(message); the run is stopped.\(onDisk) Fix the plugin, or raise --plugin-timeout if the call is only slow.")
        folder?.end(.failed, detail: "timeout: \(message)")
    }
}

enum BuiltinReward: String, ExpressibleByArgument, CaseIterable {
    case reftPartial = "reft-partial"
    case equationChecked = "equation-checked"

    var pluginId: String { "org.workbench.reward." + rawValue }
}

/// The defaults of the settings `rl --help` marks [preset].
enum RLPreset: String, ExpressibleByArgument, CaseIterable {
    /// Measured on the built-in task: with these, reft, carft and drgrpo raise greedy accuracy.
    case tuned
    /// The ReFT/CARFT reference code's values (outcome reward, temperature 1, λ 0.95).
    case reference

    var temperature: Float { self == .tuned ? 0.4 : 1 }
    var lambda: Float { self == .tuned ? 1 : 0.95 }
    var reward: BuiltinReward { self == .tuned ? .equationChecked : .reftPartial }
}

extension RLConfig.Algorithm: ExpressibleByArgument {}
extension ValueHead.Kind: ExpressibleByArgument {}
