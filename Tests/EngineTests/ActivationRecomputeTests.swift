import Testing
@testable import Engine
import TestSupport

/// Past a size, the attention probabilities, and past a larger one whole layers' activations,
/// are not kept but recomputed in the backward; that must give the very same gradients, and the
/// memory estimate must count it.
@Suite(.serialized) struct ActivationRecomputeTests {
    enum Kept: CaseIterable { case everything, noProbabilities, onlyLayerInputs }

    /// Sets both thresholds for `kept`, restoring them afterwards.
    static func with<T>(_ kept: Kept, _ body: () throws -> T) rethrows -> T {
        let saved = (Activations.recomputeProbsAboveBytes, Activations.recomputeLayersAboveBytes)
        defer { (Activations.recomputeProbsAboveBytes, Activations.recomputeLayersAboveBytes) = saved }
        switch kept {
        case .everything: (Activations.recomputeProbsAboveBytes, Activations.recomputeLayersAboveBytes) = (.max, .max)
        case .noProbabilities: (Activations.recomputeProbsAboveBytes, Activations.recomputeLayersAboveBytes) = (0, .max)
        case .onlyLayerInputs: (Activations.recomputeProbsAboveBytes, Activations.recomputeLayersAboveBytes) = (.max, 0)
        }
        return try body()
    }

    /// The whole model's gradients (and the hidden states the value head reads) with everything
    /// kept, then with probabilities or whole layers recomputed: bit for bit.
    /// With LoRA dropout, a recomputed layer draws the forward's masks again.
    @Test(arguments: [(true, Float(0)), (true, 0.3), (false, 0)])
    func recomputingGivesTheSameGradients(lora: Bool, dropout: Float) throws {
        let model = try Transformer(config: ModelGradientTests.tinyConfig(tied: false), seed: 3)
        model.randomizeMatrices(seed: 4, scale: 0.3)
        if lora {
            let a = LoRAAdapters(config: LoRAConfig(rank: 2, alpha: 4, dropout: dropout), model: model.config, seed: 5)
            for e in a.params.entries where e.name.hasSuffix("lora_B.weight") {
                for i in 0..<e.count { a.params.values[e.offset + i] = Float(i % 7) * 0.05 - 0.15 }
            }
            model.attach(a)
        }
        func run(_ kept: Kept) -> (grads: [Float], hidden: [Float], logProbs: [Float]) {
            Self.with(kept) {
                model.releaseActivations()
                model.trainable.zeroGrad()
                model.dropoutDraw = 9
                model.forward(tokens: LoRATests.tokens, batch: 2, seq: 6)
                let hidden = Array(UnsafeBufferPointer(start: model.hiddenStates, count: 12 * model.config.dim))
                let out = model.head(positions: LoRATests.positions, targets: LoRATests.targets) { i, _ in LoRATests.weights[i] }
                model.backward()
                return (model.trainable.grads.array, hidden, out.logProbs)
            }
        }
        let kept = run(.everything)
        #expect(kept.grads.contains { $0 != 0 })
        for mode in [Kept.noProbabilities, .onlyLayerInputs] {
            let recomputed = run(mode)
            #expect(recomputed.grads == kept.grads, "\(mode)")
            #expect(recomputed.hidden == kept.hidden, "\(mode)")
            #expect(recomputed.logProbs == kept.logProbs, "\(mode)")
        }
    }

    /// The keys and values a forward keeps for a prefix (`forward(keeping:)`) are copied as each
    /// layer runs, before the next overwrites a shared buffer: the same bits whatever is kept.
    @Test func aKeptPrefixIsTheSameWhenLayersAreRecomputed() throws {
        let model = try LoRATests.model()
        func kept(_ mode: Kept) -> [Float] {
            Self.with(mode) {
                model.releaseActivations()
                let cache = LoRATests.keptPrefix(model)
                return (0..<model.config.layers).flatMap { l in
                    (0..<3).flatMap { row in
                        (0..<model.config.kvHeads).flatMap { g in
                            Array(UnsafeBufferPointer(start: cache.keys(layer: l, row: row, head: g), count: 8 * model.config.headDim))
                                + Array(UnsafeBufferPointer(start: cache.values(layer: l, row: row, head: g), count: 8 * model.config.headDim))
                        }
                    }
                }
            }
        }
        let everything = kept(.everything)
        #expect(everything.contains { $0 != 0 })
        #expect(kept(.onlyLayerInputs) == everything)
    }

    /// A model reused for a second batch after recomputing keeps giving the right gradients
    /// (the shared buffers hold the last layer's recomputation, not the forward's).
    @Test func twoStepsInARowWithLayersRecomputed() throws {
        let model = try Transformer(config: ModelGradientTests.tinyConfig(tied: false), seed: 3)
        model.randomizeMatrices(seed: 4, scale: 0.3)
        func twoSteps(_ kept: Kept) -> [Float] {
            Self.with(kept) {
                model.releaseActivations()
                model.trainable.zeroGrad()
                for _ in 0..<2 {
                    model.forward(tokens: LoRATests.tokens, batch: 2, seq: 6)
                    model.head(positions: LoRATests.positions, targets: LoRATests.targets) { i, _ in LoRATests.weights[i] }
                    model.backward()
                }
                return model.trainable.grads.array
            }
        }
        #expect(twoSteps(.onlyLayerInputs) == twoSteps(.everything))
    }

    @Test func theEstimateCountsSharedBuffers() {
        let c = ModelGradientTests.tinyConfig(tied: false)
        let (rows, seq) = (8, 64)
        let kept = Self.with(.everything) { MemoryEstimate.activations(c, rows: rows, seq: seq) }
        let sharedProbs = Self.with(.noProbabilities) { MemoryEstimate.activations(c, rows: rows, seq: seq) }
        let sharedLayers = Self.with(.onlyLayerInputs) { MemoryEstimate.activations(c, rows: rows, seq: seq) }
        let probs = 4.0 * Double(rows * c.heads * seq * seq)
        let layer = 4 * Activations.layerFloats(c, rows: Double(rows * seq))
        #expect(abs((kept - sharedProbs) - Double(c.layers - 1) * probs) < 1)
        #expect(abs((kept - sharedLayers) - Double(c.layers - 1) * (probs + layer)) < 1)
        // And the buffers allocated are what the estimate says is shared.
        Self.with(.onlyLayerInputs) {
            let a = Activations(config: c, batch: rows, seq: seq)
            #expect(a.recomputesLayers && a.recomputesProbs)
            #expect(a.layers.allSatisfy { $0.xn1 === a.layers[0].xn1 && $0.probs === a.layers[0].probs })
            // LoRA's buffers are shared with the layers' (one x·Aᵀ per adapter for all of them).
            let lora = LoRAConfig(rank: 3, targets: [.k, .up], dropout: 0.2)
            let withLoRA = Activations(config: c, batch: rows, seq: seq, lora: lora)
            #expect(MemoryEstimate.activations(c, rows: rows, seq: seq, lora: lora) == Double(withLoRA.bytes))
        }
    }
}
