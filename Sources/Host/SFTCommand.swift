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

        With neither --steps nor --minutes, trains for \(SFTCommand.defaultSteps) steps (about 6 \
        minutes on 2 cores from scratch; a count, so every machine trains the same model for the \
        same seed and threads). --minutes counts training \
        time only (not evaluation); for bit-reproducible runs give --steps.
        """
    )

    @OptionGroup(title: "Data") var data: DataOptions
    @OptionGroup(title: "Model") var modelOptions: ModelOptions
    @OptionGroup(title: "Run") var runOptions: RunOptions

    @Option(help: "Optimiser steps to train for (default \(SFTCommand.defaultSteps) unless --minutes is given).") var steps: Int?
    @Option(help: "Training-time budget in minutes (evaluation excluded) instead of --steps; the step count is fixed from the speed of the first steps, so it depends on the machine.") var minutes: Double?
    @Option(help: "Questions per batch.") var batch: Int = 32
    @Option(help: "Peak learning rate (AdamW; linear warm-up, then linear decay to --final-lr).") var lr: Float = SFTConfig().learningRate
    @Option(name: .customLong("final-lr"), help: "Learning rate at the last step (linear schedule).") var finalLR: Float = 0
    @Option(help: "Learning-rate schedule: 'linear' (warm-up, then linear decay to --final-lr) or 'constant' (--lr throughout).") var schedule: String = "linear"
    @Option(help: "Warm-up steps.") var warmup: Int = 20
    @Option(name: .customLong("weight-decay"), help: "Decoupled weight decay on matrices (AdamW).") var weightDecay: Float = 0
    @Option(name: .customLong("grad-clip"), help: "Clip the global gradient norm to this value.") var gradClip: Float = 1
    @Option(name: .customLong("eval-every"), help: "Evaluate (greedy accuracy) and checkpoint every N steps.") var evalEvery: Int = 100
    @Option(name: .customLong("eval-examples"), help: "Held-out questions per evaluation.") var evalExamples: Int = 256
    @Option(name: .customLong("final-eval"), help: "Held-out questions the final checkpoint is scored on, each answer kept in eval-final.jsonl (default: all of them; 0: none).") var finalEval: Int?
    @Option(name: .customLong("max-new-tokens"), help: "Longest completion generated at evaluation.") var maxNewTokens: Int = 160
    @Option(help: "Which CoT to train on when a question has several: 'random' (one per visit) or 'first' (the annotated one).") var cot: String = "random"
    @Option(help: ArgumentHelp("Start from this checkpoint folder or llama .gguf file instead of a fresh model (it sets the shape and tokenizer, so model flags other than --context for a .gguf are refused with it).", valueName: "dir|file.gguf")) var initFrom: String?
    @Option(help: "Prompt: 'plain' (the ReFT text) or 'chat' (that text as the user turn of the model's chat template; needs a .gguf model or a checkpoint trained from one).") var prompt: PromptStyle = .plain

    func validate() throws {
        if let steps, steps < 1 { throw ValidationError("--steps must be at least 1") }
        if let minutes, !(minutes > 0) { throw ValidationError("--minutes must be positive") }
        if steps != nil && minutes != nil { throw ValidationError("give --steps or --minutes, not both") }
        if batch < 1 { throw ValidationError("--batch must be at least 1") }
        if !(lr > 0) { throw ValidationError("--lr must be positive") }
        if evalEvery < 1 { throw ValidationError("--eval-every must be at least 1") }
        if let finalEval, finalEval < 0 { throw ValidationError("--final-eval must be ≥ 0 (0 skips the final evaluation)") }
        if let initFrom, ModelSource.isGGUF(initFrom) {
            var others = modelOptions
            others.context = nil
            if others.anyGiven { throw ValidationError("--init-from takes the model's shape from the GGUF file; of the model flags only --context applies") }
        } else if initFrom != nil && modelOptions.anyGiven {
            throw ValidationError("--init-from takes the model's shape from the checkpoint; drop the model flags (--layers, --dim, ...)")
        }
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
        Parallel.configure(threads: runOptions.threads)
        let loaded = try data.load(seed: runOptions.seed)
        let source: ModelSource
        if let initFrom {
            source = try ModelSource.open(initFrom, context: modelOptions.context)
        } else {
            let tokenizer = ByteTokenizer()
            let model = try Transformer(config: modelOptions.config(vocabSize: tokenizer.vocabSize), seed: runOptions.seed)
            source = ModelSource(model: model, tokenizer: tokenizer, description: "fresh model, byte tokenizer")
        }
        let model = source.model, tokenizer = source.tokenizer
        let format = try source.promptFormat(prompt)
        let config = sftConfig()

        let trainer = try SFTTrainer(model: model, tokenizer: tokenizer, config: config, train: loaded.train,
                                     eval: loaded.eval, outputDir: runOptions.out, metrics: nil, prompt: format)
        let metrics = try RunFolder.create(runOptions.out, settings: runFile(config: config, model: model.config, dataDescription: loaded.description))
        defer { metrics.close() }
        trainer.metrics = metrics

        let c = model.config
        print("workbench sft: \(loaded.description)")
        print("  from \(source.description)\(prompt == .chat ? ", chat prompts" : "")")
        print("  \(loaded.train.count) training questions, \(loaded.eval.count) held out (\(min(evalExamples, loaded.eval.count)) per evaluation)")
        print("  model: \(c.layers) layers × width \(c.dim), \(c.heads) heads (\(c.kvHeads) kv), ffn \(c.ffnDim), context \(c.maxSeqLen), \(ProgressLine.count(Double(model.params.count))) parameters")
        print("  \(config.steps.map { "\($0) steps" } ?? "\(config.minutes ?? 0) minutes"), batch \(batch), lr \(lr), \(runOptions.threads) threads, seed \(runOptions.seed) → \(runOptions.out)")

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
        let summary = try trainer.run()
        progress.finishLine()
        print("\nAccuracy on held-out questions (greedy):")
        print(AccuracyCurve.render(summary.evaluations))
        print(String(format: "\n%d steps in %@ of training; final loss %.4f. Checkpoint: %@/final, metrics: %@/metrics.jsonl",
                     summary.steps, ProgressLine.duration(summary.trainSeconds), summary.finalLoss, runOptions.out, runOptions.out))
        if let line = AccuracyCurve.finalEvaluation(summary.finalEvaluation, folder: runOptions.out) { print(line) }
    }

    /// The default length: the default job and comparisons' warm-up.
    static let defaultSteps = 1200

    private func runFile(config: SFTConfig, model: ModelConfig, dataDescription: String) -> some Encodable {
        struct RunFile: Encodable {
            var command = "sft"
            var data: String
            var task: ArithmeticTaskConfig?
            var sft: SFTConfig
            var model: ModelConfig
            var threads: Int
        }
        let file = RunFile(data: dataDescription, task: data.data == "builtin" ? data.taskConfig : nil,
                           sft: config, model: model, threads: runOptions.threads)
        return file
    }
}
