import Foundation
import Testing
@testable import Engine

@Suite(.serialized) struct RLTrainerTests {
    /// SFT a small model part-way on single-step addition, then PPO: the mean rollout reward
    /// over the last updates must beat the first updates'.
    @Test(arguments: [RLConfig.Algorithm.reft, .drgrpo]) func shortRunRaisesMeanReward(algo: RLConfig.Algorithm) throws {
        Parallel.configure(threads: 2)
        defer { Parallel.configure(threads: 1) }
        let tok = ByteTokenizer()
        var tc = ArithmeticTaskConfig.default
        tc.steps = 1; tc.maxValue = 9; tc.operations = ["add"]
        let task = ArithmeticTask(config: tc, seed: 3)
        let model = try Transformer(config: ModelConfig(vocabSize: tok.vocabSize, dim: 64, layers: 2, heads: 4, kvHeads: 2,
                                                        ffnDim: 176, maxSeqLen: 160), seed: 1)
        var sft = SFTConfig()
        sft.steps = 450; sft.learningRate = 3e-3; sft.evalEvery = 10_000; sft.seed = 3
        _ = try SFTTrainer(model: model, tokenizer: tok, config: sft, train: task.train(count: 3000), eval: [],
                           outputDir: nil, metrics: nil).run()
        let reference = try Transformer(config: model.config)
        reference.params.values.copy(from: model.params.values)
        var c = RLConfig()
        c.algorithm = algo
        c.updates = 50
        // λ = 1 (the paper's appendix value) gives every token the full final score, so a run
        // this short is not spent waiting for the fresh value head to learn credit assignment.
        c.lambda = 1.0
        c.questionsPerUpdate = 32
        c.miniBatchSize = 32
        c.learningRate = 2e-4
        c.maxNewTokens = 64
        c.evalEvery = 10_000
        c.seed = 5
        var rewards: [Double] = []
        let t = try RLTrainer(policy: model, reference: reference, tokenizer: tok, reward: ReFTPartialReward(), config: c,
                              train: task.train(count: 3000), eval: [], outputDir: nil)
        t.onUpdate = { rewards.append($0.meanReward) }
        _ = try t.run()
        let first = rewards.prefix(10).reduce(0, +) / 10, last = rewards.suffix(10).reduce(0, +) / 10
        #expect(last > first + 0.05, "\(algo): mean reward \(first) → \(last)")
    }

    @Test func rewardIsReFTPartial() throws {
        let r = ReFTPartialReward()
        let s = try r.scores([
            RewardInput(question: "", completion: "x\nTherefore, the answer is: 7", gold: 7),
            RewardInput(question: "", completion: "x\nTherefore, the answer is: 8", gold: 7),
            RewardInput(question: "", completion: "no answer", gold: 7),
        ])
        #expect(s == [1, 0.1, 0])
    }

    @Test func invalidSettingsAreRefusedWithTheSetting() throws {
        var c = RLConfig()
        c.updates = 1
        c.algorithm = .drgrpo
        c.samplesPerQuestion = 1
        #expect(c.problems.contains { $0.contains("--group") })
        c = RLConfig()
        #expect(c.problems.contains { $0.contains("--updates") })
    }
}
