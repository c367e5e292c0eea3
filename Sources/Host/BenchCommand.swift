import ArgumentParser
import Engine
import Foundation

struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Micro-benchmarks driven by the scripts in bench/ (which compare against PyTorch).",
        subcommands: [TrainStep.self]
    )

    struct TrainStep: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "train-step",
            abstract: "Time full training steps (forward, backward, AdamW) on random tokens; prints one JSON line.",
            discussion: "Loss is the mean next-token cross-entropy over all batch × seq positions, as in bench/torch_train_step.py."
        )
        @Option(help: "Transformer layers.") var layers = 4
        @Option(help: "Model width.") var dim = 128
        @Option(help: "Attention heads.") var heads = 4
        @Option(name: .customLong("kv-heads"), help: "Key/value heads.") var kvHeads = 4
        @Option(help: "SwiGLU hidden width.") var ffn = 352
        @Option(help: "Vocabulary size (random tokens are drawn from it).") var vocab = 64
        @Option(help: "Sequences per step.") var batch = 16
        @Option(help: "Tokens per sequence.") var seq = 128
        @Option(help: "Timed steps.") var steps = 20
        @Option(help: "Untimed steps first.") var warmup = 3
        @Option(help: "Threads.") var threads = 2
        @Option(help: "Seed for weights and data.") var seed: UInt64 = 0

        func run() throws {
            Parallel.configure(threads: threads)
            let c = ModelConfig(vocabSize: vocab, dim: dim, layers: layers, heads: heads, kvHeads: kvHeads,
                                ffnDim: ffn, maxSeqLen: seq, tiedEmbeddings: true)
            let model = try Transformer(config: c, seed: seed)
            let opt = AdamW(store: model.params)
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
                model.params.zeroGrad()
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
            print(String(format: "{\"engine\":\"workbench\",\"tokens_per_sec\":%.1f,\"step_ms\":%.2f,\"loss_first\":%.4f,\"loss_last\":%.4f}",
                         tps, secs / Double(steps) * 1000, first, last))
        }
    }
}
