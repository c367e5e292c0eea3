import Testing
@testable import Engine
import TestSupport

/// The whole model's loss (masked next-token cross-entropy through `head`) against finite
/// differences, for every parameter tensor, with grouped key/value heads and both head kinds.
@Suite struct ModelGradientTests {
    static func tinyConfig(tied: Bool) -> ModelConfig {
        ModelConfig(vocabSize: 11, dim: 16, layers: 2, heads: 4, kvHeads: 2, ffnDim: 24,
                    maxSeqLen: 8, ropeTheta: 10000, normEps: 1e-5, tiedEmbeddings: tied)
    }

    @Test(arguments: [true, false]) func wholeModelLoss(tied: Bool) throws {
        let model = try Transformer(config: Self.tinyConfig(tied: tied), seed: 11)
        // Larger weights than the 0.02 init, so every layer matters to the loss.
        var rng = RNG(seed: 12)
        for e in model.params.entries where e.shape.count == 2 {
            for i in 0..<e.count { model.params.values[e.offset + i] = rng.normal() * 0.3 }
        }
        let batch = 2, seq = 6
        let tokens: [Int32] = (0..<(batch * seq)).map { _ in Int32(rng.int(in: 0...10)) }
        let positions = [1, 2, 3, 4, 7, 8, 9]  // a mask: prompt and padding positions left out
        let targets: [Int32] = positions.map { _ in Int32(rng.int(in: 0...10)) }
        let w = Float(positions.count)
        func loss() -> Double {
            model.forward(tokens: tokens, batch: batch, seq: seq)
            let lp = model.head(positions: positions, targets: targets).logProbs
            return -lp.reduce(0.0) { $0 + Double($1) } / Double(w)
        }
        model.params.zeroGrad()
        model.forward(tokens: tokens, batch: batch, seq: seq)
        model.head(positions: positions, targets: targets) { _, _ in -1 / w }
        model.backward()
        let grads = FloatBuffer(model.params.count); grads.copy(from: model.params.grads)
        for e in model.params.entries {
            GradCheck.check(e.name, x: model.params.values.ptr + e.offset, count: e.count,
                            analytic: grads.ptr + e.offset, entries: 4, loss: loss)
        }
    }

    /// RL scores tempered samples under softmax(logits / T) and weights each token differently
    /// (its advantage): the gradient must carry both the 1/T and the per-position weight.
    @Test func temperedHeadWithPerTokenWeights() throws {
        let model = try Transformer(config: Self.tinyConfig(tied: true), seed: 5)
        model.randomizeMatrices(seed: 6, scale: 0.3)
        var rng = RNG(seed: 7)
        let batch = 2, seq = 5, T: Float = 0.6
        let tokens: [Int32] = (0..<(batch * seq)).map { _ in Int32(rng.int(in: 0...10)) }
        let positions = [0, 2, 3, 6, 9]
        let targets: [Int32] = positions.map { _ in Int32(rng.int(in: 0...10)) }
        let weights: [Float] = positions.map { _ in rng.normal() }
        func loss() -> Double {
            model.forward(tokens: tokens, batch: batch, seq: seq)
            let lp = model.head(positions: positions, targets: targets, temperature: T).logProbs
            return zip(lp, weights).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
        }
        // Tempered log-probs are log-softmax of logits / T.
        model.forward(tokens: tokens, batch: batch, seq: seq)
        let lpT = model.head(positions: [2], targets: [4], temperature: T).logProbs[0]
        let hidden = model.hiddenStates, w = model.params.value(model.headWeightName)
        let c = model.config
        let logits = (0..<c.vocabSize).map { v in
            (0..<c.dim).reduce(0.0) { $0 + Double(hidden[2 * c.dim + $1]) * Double(w[v * c.dim + $1]) } / Double(T)
        }
        let m = logits.max()!
        let lse = m + Foundation.log(logits.reduce(0) { $0 + Foundation.exp($1 - m) })
        #expect(abs(Double(lpT) - (logits[4] - lse)) < 1e-5)

        model.params.zeroGrad()
        model.forward(tokens: tokens, batch: batch, seq: seq)
        model.head(positions: positions, targets: targets, temperature: T) { i, _ in weights[i] }
        model.backward()
        let grads = FloatBuffer(model.params.count); grads.copy(from: model.params.grads)
        for e in model.params.entries {
            GradCheck.check(e.name, x: model.params.values.ptr + e.offset, count: e.count,
                            analytic: grads.ptr + e.offset, entries: 3, loss: loss)
        }
    }

    @Test func headLogProbsAndEntropyMatchNaiveSoftmax() throws {
        let c = Self.tinyConfig(tied: false)
        let model = try Transformer(config: c, seed: 3)
        let tokens: [Int32] = [1, 2, 3, 4]
        model.forward(tokens: tokens, batch: 1, seq: 4)
        let out = model.head(positions: [0, 3], targets: [5, 7], entropy: true)
        let hidden = model.hiddenStates, w = model.params.value("lm_head.weight")
        for (k, (pos, tgt)) in [(0, 5), (3, 7)].enumerated() {
            let logits = (0..<c.vocabSize).map { v in
                (0..<c.dim).reduce(0.0) { $0 + Double(hidden[pos * c.dim + $1]) * Double(w[v * c.dim + $1]) }
            }
            let m = logits.max()!
            let lse = m + Foundation.log(logits.reduce(0) { $0 + Foundation.exp($1 - m) })
            let p = logits.map { Foundation.exp($0 - lse) }
            let h = -zip(p, logits).reduce(0) { $0 + $1.0 * ($1.1 - lse) }
            #expect(abs(Double(out.logProbs[k]) - (logits[tgt] - lse)) < 1e-5)
            #expect(abs(Double(out.entropies[k]) - h) < 1e-5)
        }
    }

    @Test func smolLM2ShapeIsAccepted() throws {
        let c = ModelConfig.smolLM2_135M
        try c.validate()
        #expect(c.headDim == 64 && c.kvDim == 192)
        let n = Transformer.layout(c).reduce(0) { $0 + $1.1.reduce(1, *) }
        #expect(n == 134_515_008)  // SmolLM2-135M's parameter count with tied embeddings
    }

    @Test func invalidConfigsAreRejectedWithTheField() {
        var c = Self.tinyConfig(tied: true)
        c.kvHeads = 3
        #expect(throws: ModelConfigError.self) { try c.validate() }
        do { try c.validate() } catch { #expect("\(error)".contains("num_key_value_heads")) }
        c = Self.tinyConfig(tied: true); c.dim = 18
        do { try c.validate() } catch { #expect("\(error)".contains("hidden_size")) }
    }
}

import Foundation
