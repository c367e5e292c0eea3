import Foundation
import Testing
@testable import Engine
import TestSupport

/// RL with LoRA adapters: the policy's frozen base is the reference, so no second model exists,
/// and that gives the same numbers as a separate frozen copy would.
@Suite(.serialized) struct LoRARLTests {
    static func run(algorithm: RLConfig.Algorithm, separateReference: Bool, dropout: Float = 0) throws -> (adapters: [Float], base: [Float], kl: [Double]) {
        let held = ThreadCount.hold(1)
        defer { held.release() }
        let (tok, task, model, copy) = try RLTrainerTests.onePolicy(randomizeScale: 0.3)
        let adapters = LoRAAdapters(config: LoRAConfig(rank: 4, alpha: 8, targets: [.q, .v, .gate, .down], dropout: dropout),
                                    model: model.config, seed: 3)
        model.attach(adapters)
        var c = RLConfig()
        c.algorithm = algorithm
        c.updates = 3
        c.questionsPerUpdate = 8
        c.samplesPerQuestion = algorithm == .drgrpo ? 2 : 1
        c.miniBatchSize = 8
        c.learningRate = 1e-2
        c.klBeta = 0.05
        c.maxNewTokens = 16
        c.evalEvery = 10_000
        c.seed = 4
        var kl: [Double] = []
        let t = try RLTrainer(policy: model, reference: separateReference ? copy : nil, tokenizer: tok,
                              reward: BuiltinRewards.reftPartial(), config: c, train: task.train(count: 200), eval: [], outputDir: nil)
        t.onUpdate = { kl.append($0.kl) }
        _ = try t.run()
        return (Array(UnsafeBufferPointer(start: adapters.params.values.ptr, count: adapters.params.count)),
                Array(UnsafeBufferPointer(start: model.params.values.ptr, count: model.params.count)), kl)
    }

    @Test(arguments: [RLConfig.Algorithm.reft, .drgrpo])
    func theFrozenBaseIsTheReferenceBitForBit(algorithm: RLConfig.Algorithm) throws {
        let shared = try Self.run(algorithm: algorithm, separateReference: false)
        let separate = try Self.run(algorithm: algorithm, separateReference: true)
        #expect(shared.adapters == separate.adapters)
        #expect(shared.kl == separate.kl)
        // The adapters start as the identity (B = 0), so the first update's KL is 0; under reft
        // they learn and move the policy away from its reference (this random one-layer policy
        // earns no reward, so Dr.GRPO's group advantages are all 0 and it has nothing to learn).
        #expect(shared.kl[0] == 0)
        if algorithm == .reft { #expect(shared.kl.last! != 0) }
        // The base did not move.
        let (_, _, fresh, _) = try RLTrainerTests.onePolicy(randomizeScale: 0.3)
        #expect(shared.base == Array(UnsafeBufferPointer(start: fresh.params.values.ptr, count: fresh.params.count)))
    }

    /// LoRA dropout in RL: the training passes drop (other adapters than without), the masks
    /// follow the seed and update (the same run twice gives the same adapters), and the
    /// reference and scoring passes do not (the first update's KL is still exactly 0).
    @Test func dropoutTrainsOtherAdaptersTheSameWayTwice() throws {
        let plain = try Self.run(algorithm: .reft, separateReference: false)
        let dropped = try Self.run(algorithm: .reft, separateReference: false, dropout: 0.3)
        let again = try Self.run(algorithm: .reft, separateReference: false, dropout: 0.3)
        #expect(dropped.adapters != plain.adapters)
        #expect(dropped.adapters == again.adapters && dropped.kl == again.kl)
        #expect(dropped.kl[0] == 0)
    }

    @Test func withoutAReferenceThePolicyMustHaveAdapters() throws {
        let (tok, task, model, _) = try RLTrainerTests.onePolicy()
        var c = RLConfig()
        c.updates = 1
        #expect(throws: TrainingError.self) {
            _ = try RLTrainer(policy: model, reference: nil, tokenizer: tok, reward: BuiltinRewards.reftPartial(), config: c,
                              train: task.train(count: 10), eval: [], outputDir: nil)
        }
    }
}
