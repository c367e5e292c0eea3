import Testing
@testable import Engine
import TestSupport

/// LoRA adapters on a frozen model: their gradients against finite differences, the base left
/// untouched, and the forward passes (training, incremental, merged) agreeing.
@Suite struct LoRATests {
    static let config = ModelGradientTests.tinyConfig(tied: false)

    /// A tiny model with adapters on every map, B random so every adapter matters.
    static func model(rank: Int = 3, targets: [LoRAConfig.Target] = LoRAConfig.Target.allCases, dropout: Float = 0) throws -> Transformer {
        let model = try Transformer(config: config, seed: 21)
        model.randomizeMatrices(seed: 22, scale: 0.3)
        let adapters = LoRAAdapters(config: LoRAConfig(rank: rank, alpha: 5, targets: targets, dropout: dropout), model: config, seed: 23)
        var rng = RNG(seed: 24)
        for e in adapters.params.entries where e.name.hasSuffix("lora_B.weight") {
            for i in 0..<e.count { adapters.params.values[e.offset + i] = rng.normal() * 0.3 }
        }
        model.attach(adapters)
        return model
    }

    static let tokens: [Int32] = [3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5, 8]
    static let positions = [0, 1, 2, 4, 6, 7, 9, 10]
    static let targets: [Int32] = [1, 4, 1, 9, 6, 5, 5, 8]
    static let weights: [Float] = [0.5, -1, 0.25, 2, -0.75, 1, 0.3, -0.6]

    /// Σ w_i · log p_i, as RL weights tokens by their advantages (a training forward: with
    /// LoRA dropout, the masks of `draw`).
    static func loss(_ model: Transformer, draw: UInt64 = 7, forBackward: Bool = true) -> Double {
        model.dropoutDraw = draw
        model.forward(tokens: tokens, batch: 2, seq: 6, forBackward: forBackward)
        let lp = model.head(positions: positions, targets: targets).logProbs
        return zip(lp, weights).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
    }

    @Test func adapterGradientsMatchFiniteDifferencesAndTheBaseGetsNone() throws {
        let model = try Self.model()
        let lora = model.adapters!
        model.params.zeroGrad()
        lora.params.zeroGrad()
        model.forward(tokens: Self.tokens, batch: 2, seq: 6)
        model.head(positions: Self.positions, targets: Self.targets) { i, _ in Self.weights[i] }
        model.backward()
        #expect(l2Norm(model.params.grads.ptr, model.params.count) == 0, "a frozen base must get no gradient")
        let grads = FloatBuffer(lora.params.count); grads.copy(from: lora.params.grads)
        #expect(l2Norm(grads.ptr, grads.count) > 0)
        for e in lora.params.entries {
            GradCheck.check(e.name, x: lora.params.values.ptr + e.offset, count: e.count,
                            analytic: grads.ptr + e.offset, entries: 3) { Self.loss(model) }
        }
    }

    /// With dropout the adapters' gradients (A's through the dropped-out input, the lower
    /// layers' through dropout's backward into dx) still match finite differences of the loss
    /// the same masks give (ActivationRecomputeTests: the same with layers recomputed).
    @Test func adapterGradientsWithDropoutMatchFiniteDifferences() throws {
        let model = try Self.model(dropout: 0.3), plain = try Self.model()
        let lora = model.adapters!
        lora.params.zeroGrad()
        model.dropoutDraw = 7
        model.forward(tokens: Self.tokens, batch: 2, seq: 6)
        model.head(positions: Self.positions, targets: Self.targets) { i, _ in Self.weights[i] }
        model.backward()
        let grads = FloatBuffer(lora.params.count); grads.copy(from: lora.params.grads)
        // Dropout acts: another loss and other gradients than without it, and another mask another loss.
        plain.adapters!.params.zeroGrad()
        plain.forward(tokens: Self.tokens, batch: 2, seq: 6)
        plain.head(positions: Self.positions, targets: Self.targets) { i, _ in Self.weights[i] }
        plain.backward()
        #expect(Self.loss(model) != Self.loss(plain))
        #expect(Self.loss(model, draw: 8) != Self.loss(model, draw: 7))
        #expect(Self.loss(model, draw: 7) == Self.loss(model, draw: 7))
        #expect(memcmp(grads.ptr, plain.adapters!.params.grads.ptr, grads.count * 4) != 0)
        for e in lora.params.entries {
            GradCheck.check(e.name, x: lora.params.values.ptr + e.offset, count: e.count,
                            analytic: grads.ptr + e.offset, entries: 3) { Self.loss(model) }
        }
    }

    /// Scoring passes never drop: with dropout, a scoring forward gives the model without it to
    /// the bit, whatever the draw; a training forward does not.
    @Test func onlyTrainingPassesDrop() throws {
        let model = try Self.model(dropout: 0.5), plain = try Self.model()
        #expect(Self.loss(model, draw: 1, forBackward: false) == Self.loss(plain, forBackward: false))
        #expect(Self.loss(model, draw: 2, forBackward: false) == Self.loss(plain, forBackward: false))
        #expect(Self.loss(model, draw: 1) != Self.loss(plain))
        #expect(Self.loss(plain, draw: 1) == Self.loss(plain, draw: 2), "without dropout the draw must not matter")
    }

    /// The mask: about p of the entries zeroed, the rest scaled by exactly 1/(1−p); its backward
    /// passes gradient where the forward kept; a mask per draw, layer, adapter and row, and the
    /// same one for the same four whatever the thread count.
    @Test func dropoutDropsAboutPAndScalesTheRest() throws {
        let rows = 300, dim = 100, p: Float = 0.25
        let ones = FloatBuffer([Float](repeating: 1, count: rows * dim)), out = FloatBuffer(rows * dim)
        let d = LoRADropout(p: p, draw: 3)
        d.apply(out.ptr, ones.ptr, rows: rows, dim: dim, layer: 1, target: .up)
        let zeros = out.array.filter { $0 == 0 }.count
        #expect(abs(Double(zeros) / Double(rows * dim) - 0.25) < 0.01, "dropped \(zeros) of \(rows * dim)")
        #expect(out.array.allSatisfy { $0 == 0 || $0 == 1 / (1 - p) })
        // The backward's mask is the forward's.
        let back = FloatBuffer(rows * dim)
        d.accumulate(back.ptr, ones.ptr, rows: rows, dim: dim, layer: 1, target: .up)
        #expect(back.array == out.array)
        func mask(_ d: LoRADropout, layer: Int, target: LoRAConfig.Target) -> [Bool] {
            let o = FloatBuffer(rows * dim)
            d.apply(o.ptr, ones.ptr, rows: rows, dim: dim, layer: layer, target: target)
            return o.array.map { $0 == 0 }
        }
        let m = mask(d, layer: 1, target: .up)
        #expect(mask(LoRADropout(p: p, draw: 4), layer: 1, target: .up) != m)
        #expect(mask(d, layer: 0, target: .up) != m)
        #expect(mask(d, layer: 1, target: .gate) != m)
        #expect(Array(m[0..<dim]) != Array(m[dim..<(2 * dim)]), "rows must get masks of their own")
        let one = ThreadCount.hold(1)
        let single = mask(d, layer: 1, target: .up)
        one.release()
        let two = ThreadCount.hold(2)
        let double = mask(d, layer: 1, target: .up)
        two.release()
        #expect(single == m && double == m)
    }

    @Test func aFreshAdapterAndADisabledOneLeaveTheModelAsItWas() throws {
        let base = try Transformer(config: Self.config, seed: 21)
        base.randomizeMatrices(seed: 22, scale: 0.3)
        let before = Self.loss(base)
        base.attach(LoRAAdapters(config: LoRAConfig(rank: 4), model: Self.config, seed: 1))  // B = 0
        #expect(Self.loss(base) == before)
        let trained = try Self.model()
        #expect(Self.loss(trained) != before)
        trained.adaptersEnabled = false
        #expect(Self.loss(trained) == before)
    }

    @Test(arguments: [[LoRAConfig.Target.q, .v], LoRAConfig.Target.allCases])
    func mergingGivesTheSameModel(targets: [LoRAConfig.Target]) throws {
        let model = try Self.model(targets: targets)
        let with = Self.loss(model)
        model.mergeAdapters()
        #expect(model.adapters == nil)
        #expect(abs(Self.loss(model) - with) < 1e-4 * max(1, abs(with)))
    }

    /// Decoding reads the adapters too: the incremental forward's next-token log-probs equal the
    /// training forward's at every position of a sequence.
    @Test func incrementalDecodingAppliesTheAdapters() throws {
        Self.expectDecodingMatchesTraining(try Self.model(), tolerance: 1e-4)
    }

    /// The incremental forward's next-token log-probs against the training forward's at every
    /// position of one sequence.
    static func expectDecodingMatchesTraining(_ model: Transformer, tolerance: Float) {
        let seq = Array(tokens.prefix(6))
        model.forward(tokens: seq, batch: 1, seq: 6)
        let full = model.head(positions: Array(0..<5), targets: Array(seq.dropFirst())).logProbs
        let inc = IncrementalForward(model: model)
        let cache = KVCache(config: model.config, batch: 1, capacity: 6)
        for t in 0..<5 {
            let logits = inc.append([.init(row: 0, token: seq[t])], to: cache).logits
            let row = Array(UnsafeBufferPointer(start: logits.ptr, count: model.config.vocabSize))
            let mx = row.max()!, lse = mx + Float(Foundation.log(Double(row.reduce(0) { $0 + Foundation.exp($1 - mx) })))
            #expect(abs(row[Int(seq[t + 1])] - lse - full[t]) < tolerance, "position \(t)")
        }
    }

    /// Three rows through the training forward, keeping 6, 0 and 4 positions of them.
    static func keptPrefix(_ model: Transformer) -> KVCache {
        let old: [[Int32]] = [[3, 1, 4, 1, 5, 9, 2, 6], [7, 7, 1, 2], [2, 7, 1, 8, 2, 8]]
        let prefix = KVCache(config: model.config, batch: 3, capacity: 8)
        prefix.lengths = [6, 0, 4]
        model.forward(tokens: old.flatMap { $0 + [Int32](repeating: 0, count: 8 - $0.count) }, batch: 3, seq: 8, keeping: prefix)
        return prefix
    }

    /// The training forward keeps each row's shared start (`forward(keeping:)`) and the inference
    /// forward continues it with other tokens (`appendStates`): the states are the training
    /// forward's over the whole new sequences, adapters included, for a row sharing 6 tokens,
    /// one sharing none and one sharing its whole length. (CARFT's annotated CoTs run this way,
    /// continuing their rollouts' prompts.)
    @Test func aKeptPrefixContinuesAsTheWholeSequence() throws {
        Self.expectKeptPrefixContinues(try Self.model(), tolerance: 1e-5)
    }

    static func expectKeptPrefixContinues(_ model: Transformer, tolerance: Float) {
        let D = model.config.dim
        let prefix = Self.keptPrefix(model)
        let new: [[Int32]] = [[3, 1, 4, 1, 5, 9, 8, 1], [5, 3, 5], [2, 7, 1, 8]]
        let shared = prefix.lengths
        var tokens: [IncrementalForward.Token] = []
        for (b, row) in new.enumerated() { for t in row[shared[b]...] { tokens.append(.init(row: b, token: t)) } }
        #expect(tokens.count == 2 + 3 + 0)
        let states = FloatBuffer(tokens.count * D)
        IncrementalForward(model: model, sampling: false).appendStates(tokens, to: prefix, into: states.ptr)
        #expect(prefix.lengths == new.map(\.count))
        model.forward(tokens: new.flatMap { $0 + [Int32](repeating: 0, count: 8 - $0.count) }, batch: 3, seq: 8)
        var i = 0, worst: Float = 0
        for (b, row) in new.enumerated() {
            for t in shared[b]..<row.count {
                for d in 0..<D { worst = max(worst, abs(states[i * D + d] - model.hiddenStates[(b * 8 + t) * D + d])) }
                i += 1
            }
        }
        #expect(worst < tolerance, "largest difference \(worst)")
        #expect(model.hiddenStates[0] != 0)
    }

    @Test func settingsAreChecked() {
        #expect(LoRAConfig(rank: 0).problem == "the LoRA rank must be between 1 and 4096 (got 0)")
        #expect(LoRAConfig(rank: 5000).problem == "the LoRA rank must be between 1 and 4096 (got 5000)")
        #expect(LoRAConfig(rank: 8, alpha: -1).problem == "the LoRA alpha must be a positive number (got -1.0)")
        #expect(LoRAConfig(rank: 8, targets: []).problem?.contains("at least one target") == true)
        #expect(LoRAConfig(rank: 8, dropout: 1).problem == "the LoRA dropout must be at least 0 and below 1 (got 1.0)")
        #expect(LoRAConfig(rank: 8, dropout: .nan).problem?.contains("dropout must be at least 0") == true)
        #expect(LoRAConfig(rank: 8, dropout: 0.1).problem == nil)
        #expect(LoRAConfig(rank: 8).problem == nil)
        #expect(LoRAConfig(rank: 8).scale == 1)
        #expect(LoRAConfig(rank: 16, alpha: 32).scale == 2)
    }

    @Test func adapterNamesArePEFTs() {
        let a = LoRAAdapters(config: LoRAConfig(rank: 2, targets: [.q, .down]), model: Self.config, seed: 0)
        #expect(a.params.entries.map(\.name).prefix(4) == [
            "base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight",
            "base_model.model.model.layers.0.self_attn.q_proj.lora_B.weight",
            "base_model.model.model.layers.0.mlp.down_proj.lora_A.weight",
            "base_model.model.model.layers.0.mlp.down_proj.lora_B.weight",
        ])
        #expect(a.params.entry("base_model.model.model.layers.1.mlp.down_proj.lora_B.weight")?.shape == [16, 2])
    }
}

import Foundation
