import Testing
@testable import Engine
import TestSupport

/// Past a size, the attention probabilities are not kept per layer but recomputed in the
/// backward; that must give the very same gradients, and the memory estimate must count it.
@Suite(.serialized) struct AttentionRecomputeTests {
    /// The whole model's gradients with the probabilities kept, then recomputed: bit for bit.
    @Test(arguments: [true, false]) func recomputedProbabilitiesGiveTheSameGradients(lora: Bool) throws {
        let model = try Transformer(config: ModelGradientTests.tinyConfig(tied: false), seed: 3)
        model.randomizeMatrices(seed: 4, scale: 0.3)
        if lora {
            let a = LoRAAdapters(config: LoRAConfig(rank: 2, alpha: 4), model: model.config, seed: 5)
            for e in a.params.entries where e.name.hasSuffix("lora_B.weight") {
                for i in 0..<e.count { a.params.values[e.offset + i] = Float(i % 7) * 0.05 - 0.15 }
            }
            model.attach(a)
        }
        let saved = Activations.recomputeProbsAboveBytes
        defer { Activations.recomputeProbsAboveBytes = saved }
        func gradients(threshold: Int) -> [Float] {
            Activations.recomputeProbsAboveBytes = threshold
            model.releaseActivations()
            model.trainable.zeroGrad()
            model.forward(tokens: LoRATests.tokens, batch: 2, seq: 6)
            model.head(positions: LoRATests.positions, targets: LoRATests.targets) { i, _ in LoRATests.weights[i] }
            model.backward()
            return model.trainable.grads.array
        }
        let kept = gradients(threshold: Int.max)
        let recomputed = gradients(threshold: 0)
        #expect(kept == recomputed)
        #expect(kept.contains { $0 != 0 })
    }

    @Test func theEstimateCountsOneSharedBuffer() {
        let c = ModelGradientTests.tinyConfig(tied: false)
        let saved = Activations.recomputeProbsAboveBytes
        defer { Activations.recomputeProbsAboveBytes = saved }
        Activations.recomputeProbsAboveBytes = Int.max
        let kept = MemoryEstimate.activations(c, rows: 8, seq: 64)
        Activations.recomputeProbsAboveBytes = 0
        let shared = MemoryEstimate.activations(c, rows: 8, seq: 64)
        let probs = 4.0 * 8 * Double(c.heads) * 64 * 64
        #expect(abs((kept - shared) - Double(c.layers - 1) * probs) < 1)
    }
}
