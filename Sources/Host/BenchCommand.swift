import ArgumentParser
import Engine
import Foundation

struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Micro-benchmarks driven by the scripts in bench/ (which compare against PyTorch and llama.cpp).",
        subcommands: [TrainStep.self, Rollout.self, Generate.self]
    )

    struct TrainStep: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "train-step",
            abstract: "Time full training steps (forward, backward, AdamW) on random tokens; prints one JSON line.",
            discussion: "Loss is the mean next-token cross-entropy over all batch × seq positions, as in bench/torch_train_step.py. With --init the model is loaded (its shape flags ignored, tokens drawn from its vocabulary), and with --lora-rank only adapters train, as bench/torch_peft_step.py does in PyTorch + PEFT."
        )
        @Option(parsing: .unconditional, help: "Transformer layers.") var layers = 4
        @Option(parsing: .unconditional, help: "Model width.") var dim = 128
        @Option(parsing: .unconditional, help: "Attention heads.") var heads = 4
        @Option(name: .customLong("kv-heads"), parsing: .unconditional, help: "Key/value heads.") var kvHeads = 4
        @Option(parsing: .unconditional, help: "SwiGLU hidden width.") var ffn = 352
        @Option(parsing: .unconditional, help: "Vocabulary size (random tokens are drawn from it).") var vocab = 64
        @Option(parsing: .unconditional, help: "Sequences per step.") var batch = 16
        @Option(parsing: .unconditional, help: "Tokens per sequence.") var seq = 128
        @Option(parsing: .unconditional, help: "Timed steps.") var steps = 20
        @Option(parsing: .unconditional, help: "Untimed steps first.") var warmup = 3
        @Option(parsing: .unconditional, help: "Threads.") var threads = 2
        @Option(parsing: .unconditional, help: "Seed for weights and data.") var seed: UInt64 = 0
        @Option(name: .customLong("init"), help: ArgumentHelp("A model to train instead of a fresh one of the shape flags' size: a .gguf file or checkpoint folder.", valueName: "path"))
        var initFrom: String?
        @OptionGroup(title: "LoRA") var loraOptions: LoRAOptions
        @OptionGroup var frozen: FrozenWeightOptions

        func validate() throws {
            typealias L = FlagLimits
            try L.check(batch, "--batch", L.batch)
            try L.check(seq, "--seq", L.tokens)
            if try loraOptions.config() != nil && initFrom == nil { throw ValidationError("--lora-rank needs a model to put adapters on: add --init") }
            try frozen.requireLoRA(rank: loraOptions.rank, command: "bench train-step")
            try L.check(steps, "--steps", L.steps)
            try L.check(warmup, "--warmup", 0...L.steps.upperBound)
            try L.check(threads, "--threads", L.threads)
            try L.check(vocab, "--vocab", 2...(1 << 24))
        }

        func run() throws {
            Parallel.configure(threads: threads)
            let model: Transformer
            if let initFrom {
                model = try ModelSource.open(initFrom, context: ModelSource.isGGUF(initFrom) ? seq : nil).model
                guard model.config.maxSeqLen >= seq else { throw CLIError("--seq \(seq) exceeds \(initFrom)'s context of \(model.config.maxSeqLen)") }
                _ = try loraOptions.attach(to: model, base: initFrom, seed: seed)
                if model.adapters != nil { try frozen.apply(to: model, what: "the step") }
            } else {
                let c = ModelConfig(vocabSize: vocab, dim: dim, layers: layers, heads: heads, kvHeads: kvHeads,
                                    ffnDim: ffn, maxSeqLen: seq, tiedEmbeddings: true)
                model = try Transformer(config: c, seed: seed)
            }
            let vocab = model.config.vocabSize
            let opt = AdamW(store: model.trainable)
            var rng = RNG(seed: seed, stream: "bench-data")
            let data = (0..<(batch * (seq + 1))).map { _ in Int32(rng.int(in: 0...(vocab - 1))) }
            var tokens = [Int32](), targets = [Int32]()
            for b in 0..<batch {
                tokens += data[(b * (seq + 1))..<(b * (seq + 1) + seq)]
                targets += data[(b * (seq + 1) + 1)..<((b + 1) * (seq + 1))]
            }
            let positions = Array(0..<(batch * seq))
            let n = Float(batch * seq)
            func step() -> Float {
                model.trainable.zeroGrad()
                model.forward(tokens: tokens, batch: batch, seq: seq)
                let lp = model.head(positions: positions, targets: targets) { _, _ in -1 / n }.logProbs
                model.backward()
                opt.step(lr: 1e-3)
                return -lp.reduce(0, +) / n
            }
            var first: Float = 0, last: Float = 0
            for i in 0..<warmup { let l = step(); if i == 0 { first = l } }
            let clock = ContinuousClock(), start = clock.now
            for i in 0..<steps { last = step(); if warmup == 0 && i == 0 { first = last } }
            let secs = (clock.now - start).seconds
            let tps = Double(batch * seq * steps) / secs
            print(String(format: "{\"engine\":\"workbench\",\"tokens_per_sec\":%.1f,\"step_ms\":%.2f,\"loss_first\":%.4f,\"loss_last\":%.4f,\"peak_rss_mb\":%.0f}",
                         tps, secs / Double(steps) * 1000, first, last, peakResidentMB()))
        }
    }

    struct Rollout: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "rollout",
            abstract: "Time RL rollouts: sampling (temperature 1) from a batch of prompts and from one prompt; prints JSON lines.",
            discussion: "The model is freshly initialised (or --init), and generation never stops early: every row makes --new-tokens tokens, so the figures are comparable between runs."
        )
        @Option(help: ArgumentHelp("Checkpoint folder to sample from (default: a fresh model of the tiny preset's shape).", valueName: "dir")) var initFrom: String?
        @Option(parsing: .unconditional, help: "Prompts in the batched measurement.") var batch = 64
        @Option(name: .customLong("prompt-tokens"), parsing: .unconditional, help: "Prompt length.") var promptTokens = 60
        @Option(name: .customLong("new-tokens"), parsing: .unconditional, help: "Tokens generated per prompt.") var newTokens = 100
        @Option(parsing: .unconditional, help: "Threads.") var threads = 2
        @Option(parsing: .unconditional, help: "Seed for weights, prompts and sampling.") var seed: UInt64 = 0
        @Option(parsing: .unconditional, help: "Timed runs per measurement; the fastest is reported (the machine is shared, so the best run is the least disturbed).") var repeats = 1

        func validate() throws {
            typealias L = FlagLimits
            try L.check(batch, "--batch", L.batch)
            try L.check(promptTokens, "--prompt-tokens", L.tokens)
            try L.check(newTokens, "--new-tokens", L.tokens)
            try L.check(threads, "--threads", L.threads)
            try L.check(repeats, "--repeats", 1...1_000)
        }

        func run() throws {
            Parallel.configure(threads: threads)
            let model: Transformer
            if let initFrom {
                model = try Transformer(config: try Checkpoint.readConfig(from: initFrom))
                try Checkpoint.loadWeights(from: initFrom, into: model.params)
            } else {
                model = try Transformer(config: ModelPreset.tiny.config(vocabSize: ByteTokenizer().vocabSize), seed: seed)
            }
            guard promptTokens < model.config.maxSeqLen else {
                throw CLIError("--prompt-tokens \(promptTokens) leaves no room to generate in the model's context of \(model.config.maxSeqLen)")
            }
            var rng = RNG(seed: seed, stream: "bench-prompts")
            let v = model.config.vocabSize
            // A stop token outside the vocabulary: every row runs to --new-tokens.
            let options = SamplingOptions(maxNewTokens: newTokens, stopToken: v, seed: seed)
            for rows in [batch, 1] {
                let prompts = (0..<rows).map { _ in (0..<promptTokens).map { _ in Int32(rng.int(in: 0...(v - 1))) } }
                let clock = ContinuousClock()
                var secs = Double.infinity, out: [SampledSequence] = []
                for _ in 0..<max(1, repeats) {
                    let start = clock.now
                    out = Generator(model: model).sample(prompts: prompts, options: options)
                    secs = min(secs, (clock.now - start).seconds)
                }
                let made = out.reduce(0) { $0 + $1.tokens.count }
                print(String(format: "{\"engine\":\"workbench\",\"prompts\":%d,\"new_tokens\":%d,\"tokens_per_sec\":%.1f,\"seconds\":%.3f}",
                             rows, made, Double(made) / secs, secs))
            }
        }
    }
}
