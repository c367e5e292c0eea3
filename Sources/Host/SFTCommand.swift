import ArgumentParser
import Engine
import Foundation

struct SFTCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sft",
        abstract: "Supervised fine-tuning (the CARFT warm-up): learn to write a CoT and the answer line.",
        discussion: """
        Trains on "Question:\\n{q}\\nAnswer reasoning:\\n" → "{cot}\\nTherefore, the answer is: {a}<eos>" \
        with the loss on the answer tokens only, evaluates by greedy decoding every --eval-every \
        steps, and writes to --out: metrics.jsonl (one JSON object per line: kind=train per step, \
        kind=eval per evaluation), run.json (the settings), checkpoints/step-N/ (safetensors + \
        config.json at each evaluation) and final/.

        With neither --steps nor --minutes, trains for \(SFTCommand.defaultSteps) steps (a count, \
        so every machine trains the same model for the same seed and threads; how long that took \
        is in docs/usage.md). --minutes counts training time only (not evaluation); for \
        bit-reproducible runs give --steps.
        """
    )

    @OptionGroup(title: "Data") var data: DataOptions
    @OptionGroup(title: "Model") var modelOptions: ModelOptions
    @OptionGroup(title: "Run") var runOptions: RunOptions
    @OptionGroup(title: "LoRA") var loraOptions: LoRAOptions
    @OptionGroup var frozen: FrozenWeightOptions

    @Option(parsing: .unconditional, help: "Optimiser steps to train for (default \(SFTCommand.defaultSteps) unless --minutes is given; \(FlagLimits.text(FlagLimits.steps))).") var steps: Int?
    @Option(parsing: .unconditional, help: "Training-time budget in minutes (evaluation excluded; up to a week) instead of --steps; the step count is fixed from the speed of the first steps, so it depends on the machine.") var minutes: Double?
    @Option(parsing: .unconditional, help: "Questions per batch (\(FlagLimits.text(FlagLimits.batch))).") var batch: Int = 32
    @Option(parsing: .unconditional, help: "Peak learning rate (AdamW; linear warm-up, then linear decay to --final-lr; \(FlagLimits.text(FlagLimits.learningRate))).") var lr: Float = SFTConfig().learningRate
    @Option(name: .customLong("final-lr"), parsing: .unconditional, help: "Learning rate at the last step (linear schedule; 0…10).") var finalLR: Float = 0
    @Option(help: "Learning-rate schedule: 'linear' (warm-up, then linear decay to --final-lr) or 'constant' (--lr throughout).") var schedule: String = "linear"
    @Option(parsing: .unconditional, help: "Warm-up steps (0 or more).") var warmup: Int = 20
    @Option(name: .customLong("weight-decay"), parsing: .unconditional, help: "Decoupled weight decay on matrices (AdamW; 0…1).") var weightDecay: Float = 0
    @Option(name: .customLong("grad-clip"), parsing: .unconditional, help: "Clip the global gradient norm to this value (1e-06…1,000,000; a large value turns clipping off).") var gradClip: Float = 1
    @Option(name: .customLong("eval-every"), parsing: .unconditional, help: "Evaluate (greedy accuracy) and checkpoint every N steps (1 or more).") var evalEvery: Int = 100
    @Option(name: .customLong("eval-examples"), parsing: .unconditional, help: "Held-out questions per evaluation (0 or more).") var evalExamples: Int = 256
    @Option(name: .customLong("final-eval"), parsing: .unconditional, help: "Held-out questions the final checkpoint is scored on, each answer kept in eval-final.jsonl (default: all of them; 0: none).") var finalEval: Int?
    @Option(name: .customLong("max-new-tokens"), parsing: .unconditional, help: "Longest completion generated at evaluation, in tokens (\(FlagLimits.text(FlagLimits.tokens))).") var maxNewTokens: Int = 160
    @Option(help: "Which CoT to train on when a question has several: 'random' (one per visit) or 'first' (the annotated one).") var cot: String = "random"
    @Option(help: ArgumentHelp("Start from this checkpoint folder or llama .gguf file instead of a fresh model (it sets the shape and tokenizer, so model flags other than --context for a .gguf are refused with it).", valueName: "dir|file.gguf")) var initFrom: String?
    @Option(help: "Prompt: 'plain' (the ReFT text) or 'chat' (that text as the user turn of the model's chat template; needs a .gguf model or a checkpoint trained from one).") var prompt: PromptStyle = .plain

    func validate() throws {
        typealias L = FlagLimits
        try L.check(steps, "--steps", L.steps)
        try L.check(minutes, "--minutes", L.minutes)
        if steps != nil && minutes != nil { throw ValidationError("give --steps or --minutes, not both") }
        try L.check(batch, "--batch", L.batch)
        try L.check(lr, "--lr", L.learningRate)
        try L.check(finalLR, "--final-lr", 0...10)
        try L.check(warmup, "--warmup", 0...L.steps.upperBound)
        try L.check(weightDecay, "--weight-decay", 0...1)
        // 0 would stop learning and a negative clip would climb the loss; 1e6 turns clipping off.
        try L.check(gradClip, "--grad-clip", 1e-6...1e6)
        try L.check(evalEvery, "--eval-every", L.steps)
        try L.check(evalExamples, "--eval-examples", L.examples)
        try L.check(finalEval, "--final-eval", L.examples)
        try L.check(maxNewTokens, "--max-new-tokens", L.tokens)
        if let initFrom, ModelSource.isGGUF(initFrom) {
            var others = modelOptions
            others.context = nil
            if others.anyGiven { throw ValidationError("--init-from takes the model's shape from the GGUF file; of the model flags only --context applies") }
        } else if initFrom != nil && modelOptions.anyGiven {
            throw ValidationError("--init-from takes the model's shape from the checkpoint; drop the model flags (--layers, --dim, ...)")
        }
        if initFrom == nil {
            // The fresh model's shape, checked now rather than after the data loads.
            do { _ = try modelOptions.config(vocabSize: ByteTokenizer().vocabSize) } catch { throw ValidationError("\(error)") }
        }
        if try loraOptions.config() != nil && initFrom == nil {
            throw ValidationError("--lora-rank trains adapters on a trained model; give it with --init-from (a checkpoint or .gguf file)")
        }
        try frozen.requireLoRA(rank: loraOptions.rank, command: "sft")
        if !["linear", "constant"].contains(schedule) { throw ValidationError("--schedule must be 'linear' or 'constant' (got '\(schedule)')") }
        if !["random", "first"].contains(cot) { throw ValidationError("--cot must be 'random' or 'first' (got '\(cot)')") }
    }

    /// The settings these flags ask for, every default filled in.
    func sftConfig() -> SFTConfig {
        var config = SFTConfig()
        config.steps = steps ?? (minutes == nil ? Self.defaultSteps : nil)
        config.minutes = minutes
        config.batchSize = batch
        config.learningRate = lr
        config.schedule = schedule
        config.finalLearningRate = finalLR
        config.warmupSteps = warmup
        config.weightDecay = weightDecay
        config.gradClip = gradClip
        config.evalEvery = evalEvery
        config.evalExamples = evalExamples
        config.finalEvalExamples = finalEval
        config.maxNewTokens = maxNewTokens
        config.cotChoice = cot
        config.seed = runOptions.seed
        return config
    }

    func run() throws {
        let out = try runOptions.checkOut(default: "runs/sft")
        Parallel.configure(threads: runOptions.threads)
        let all = try data.load(seed: runOptions.seed)
        let source: ModelSource
        if let initFrom {
            source = try ModelSource.open(initFrom, context: modelOptions.context)
        } else {
            let tokenizer = ByteTokenizer()
            let shape = try modelOptions.config(vocabSize: tokenizer.vocabSize)
            // The weights alone, before they are allocated; the whole run is checked below.
            try MachineMemory.check(.training(shape, rows: 0, seq: 0), what: "this model",
                                    remedy: "choose a smaller model (--model, --dim, --layers, --ffn)")
            let model = try Transformer(config: shape, seed: runOptions.seed)
            source = ModelSource(model: model, tokenizer: tokenizer, description: "fresh model, byte tokenizer")
        }
        let model = source.model, tokenizer = source.tokenizer
        // validate() has refused --lora-rank without --init-from.
        let lora = try initFrom.flatMap { try loraOptions.attach(to: model, base: $0, seed: runOptions.seed) }?.config
        if lora != nil { try frozen.apply(to: model, what: "this run") }
        let format = try source.promptFormat(prompt)
        let loaded = try data.fitting(all, ContextFit(tokenizer: tokenizer, prompt: format, context: model.config.maxSeqLen), use: .sft)
        let config = sftConfig()
        let fit = ContextFit(tokenizer: tokenizer, prompt: format, context: model.config.maxSeqLen)
        let evalLength = min(model.config.maxSeqLen, fit.longestPrompt(loaded.eval) + maxNewTokens)
        try MachineMemory.check(.training(model.config, rows: batch, seq: fit.longestSequence(loaded.train), adapters: model.adapters.map { ($0.params.count, $0.config) },
                                          generation: (batch: 64, length: evalLength), bf16Copy: frozen.bf16Copy, int8Copy: frozen.int8Copy),
                                what: "this run", remedy: "lower --batch (now \(batch)), or use shorter examples or a smaller model")

        let trainer = try SFTTrainer(model: model, tokenizer: tokenizer, config: config, train: loaded.train,
                                     eval: loaded.eval, outputDir: out, metrics: nil, prompt: format)
        let folder = try RunFolder.open(out, existing: runOptions.existing, settings: runFile(config: config, model: model.config, lora: lora, dataDescription: loaded.description))
        trainer.metrics = folder.metrics

        let c = model.config
        print("workbench sft: \(loaded.description)")
        print("  from \(source.description)\(prompt == .chat ? ", chat prompts" : "")")
        print("  \(loaded.train.count) training questions, \(loaded.eval.count) held out (\(min(evalExamples, loaded.eval.count)) per evaluation)")
        print("  model: \(c.layers) layers × width \(c.dim), \(c.heads) heads (\(c.kvHeads) kv), ffn \(c.ffnDim), context \(c.maxSeqLen), \(ProgressLine.count(Double(model.params.count))) parameters")
        if let a = model.adapters {
            let share = Double(a.params.count) / Double(model.params.count) * 100
            print("  LoRA: \(a.config.summary): \(ProgressLine.count(Double(a.params.count))) trainable parameters (\(String(format: "%.2f", share))% of the model's), the model frozen, its weights in \(FrozenWeightOptions.describe(model))")
        }
        print("  \(config.steps.map { "\($0) steps" } ?? "\(config.minutes ?? 0) minutes"), batch \(batch), lr \(lr), \(runOptions.threads) threads, seed \(runOptions.seed) → \(out)")

        let progress = ProgressLine()
        Interrupt.install()
        trainer.shouldStop = { Interrupt.requested }
        trainer.onStep = { r in
            let total = r.totalSteps.map { "/\($0)" } ?? ""
            let eta = r.totalSteps.map { ProgressLine.duration(r.trainSeconds / Double(r.step) * Double($0 - r.step)) } ?? "…"
            progress.update(String(format: "step %d%@ | loss %.4f | %@ tok/s | lr %.2e | ETA %@",
                                   r.step, total, r.loss, ProgressLine.count(r.tokensPerSecond), r.lr, eta))
        }
        trainer.onEval = { e in
            progress.finishLine()
            let acc = e.result.accuracy * 100
            print(String(format: "eval @ step %d: accuracy %.1f%% (%d/%d)", e.step, acc, e.result.correct, e.result.total))
            if let s = e.result.samples.first {
                let one = s.completion.replacingOccurrences(of: "\n", with: " ⏎ ")
                print("  e.g. \(s.correct ? "✓" : "✗") \(one.prefix(140))")
            }
        }
        if let point = folder.resumePoint {
            print("  resuming at step \(point.state.position) from \(point.dir)")
        }
        let summary = try folder.record { try trainer.run(resume: folder.resumePoint) }
        progress.finishLine()
        if summary.interrupted {
            print("\nStopped at step \(summary.steps)\(summary.resumeFrom.map { "; checkpoint \($0)" } ?? ""). To continue, run the same command with --resume.")
            try Interrupt.exitIfSignalled()
            return
        }
        print("\nAccuracy on held-out questions (greedy):")
        print(AccuracyCurve.render(summary.evaluations))
        print(String(format: "\n%d steps in %@ of training; final loss %.4f. Checkpoint: %@/final, metrics: %@/metrics.jsonl",
                     summary.steps, ProgressLine.duration(summary.trainSeconds), summary.finalLoss, out, out))
        if let line = AccuracyCurve.finalEvaluation(summary.finalEvaluation, folder: out) { print(line) }
        try Interrupt.exitIfSignalled()
    }

    /// The default length: the default job and comparisons' warm-up.
    static let defaultSteps = 1200

    private func runFile(config: SFTConfig, model: ModelConfig, lora: LoRAConfig?, dataDescription: String) -> some Encodable {
        struct RunFile: Encodable {
            var command = "sft"
            var data: String
            var task: ArithmeticTaskConfig?
            var sft: SFTConfig
            var model: ModelConfig
            var lora: LoRAConfig?
            /// "bf16" or "int8" as --frozen-weights holds the LoRA base; absent for float32, as in runs from before the flag.
            var frozenWeights: String?
            var threads: Int
        }
        let file = RunFile(data: dataDescription, task: data.data == "builtin" ? data.taskConfig : nil,
                           sft: config, model: model, lora: lora,
                           frozenWeights: frozen.recorded, threads: runOptions.threads)
        return file
    }
}
