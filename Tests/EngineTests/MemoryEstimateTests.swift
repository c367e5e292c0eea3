import Foundation
import Testing
@testable import Engine

/// The memory estimate is the Engine's own buffers counted: if an allocation changes, these fail.
@Suite struct MemoryEstimateTests {
    static let config = ModelConfig(vocabSize: 300, dim: 48, layers: 3, heads: 4, kvHeads: 2, ffnDim: 80, maxSeqLen: 64)

    @Test func activationsMatchWhatTheTrainingForwardAllocates() {
        for (batch, seq) in [(1, 1), (3, 17), (8, 64)] {
            let a = Activations(config: Self.config, batch: batch, seq: seq)
            let buffers = a.resid + a.layers.flatMap { [$0.xn1, $0.rstd1, $0.q, $0.k, $0.v, $0.probs, $0.attn, $0.xMid, $0.xn2, $0.rstd2, $0.gate, $0.up, $0.h] }
                + [a.xf, a.rstdf, a.dx, a.dxn, a.dxf, a.dq, a.dk, a.dv, a.dattn, a.dgate, a.dup, a.dh]
            // Each buffer once: the layers share xn1, xn2, attn and h.
            var seen = Set<ObjectIdentifier>()
            let unique = buffers.filter { seen.insert(ObjectIdentifier($0)).inserted }
            #expect(unique.count == buffers.count - 4 * (Self.config.layers - 1))
            let bytes = Double(unique.reduce(0) { $0 + $1.count } + batch * seq) * 4
            #expect(MemoryEstimate.activations(Self.config, rows: batch, seq: seq) == bytes, "batch \(batch), seq \(seq)")
        }
    }

    /// With LoRA, the adapters' buffers too (x·Aᵀ per adapter and layer, du, and with dropout
    /// its two scratch buffers; ActivationRecomputeTests: when the layers share one set).
    @Test(arguments: [Float(0), 0.1])
    func loraBuffersAreCounted(dropout: Float) {
        let lora = LoRAConfig(rank: 5, targets: [.q, .v, .down], dropout: dropout)
        for (batch, seq) in [(1, 1), (3, 17), (8, 64)] {
            let a = Activations(config: Self.config, batch: batch, seq: seq, lora: lora)
            #expect(MemoryEstimate.activations(Self.config, rows: batch, seq: seq, lora: lora) == Double(a.bytes), "batch \(batch), seq \(seq)")
            #expect(MemoryEstimate.activations(Self.config, rows: batch, seq: seq, lora: lora) > MemoryEstimate.activations(Self.config, rows: batch, seq: seq))
            let s = Activations(config: Self.config, batch: batch, seq: seq, lora: lora, inference: true)
            let padded = s.xfPadded(count: batch * seq * Self.config.dim)
            #expect(MemoryEstimate.scoring(Self.config, rows: batch, seq: seq, lora: lora) == Double(s.bytes + 4 * padded.count), "batch \(batch), seq \(seq)")
        }
    }

    @Test func scoringMatchesWhatTheScoringForwardAllocates() {
        for (batch, seq) in [(1, 1), (3, 17), (8, 64)] {
            let a = Activations(config: Self.config, batch: batch, seq: seq, inference: true)
            let buffers = a.resid + a.layers.flatMap { [$0.xn1, $0.rstd1, $0.q, $0.k, $0.v, $0.probs, $0.attn, $0.xMid, $0.xn2, $0.rstd2, $0.gate, $0.up, $0.h] }
                + [a.xf, a.rstdf]
            // Each buffer once: two residual buffers, and one set every layer shares.
            var seen = Set<ObjectIdentifier>()
            let unique = buffers.filter { seen.insert(ObjectIdentifier($0)).inserted }
            #expect(unique.count == 2 + 13 + 2)
            // With the hidden states in the padded layout, which a packed batch adds.
            let padded = a.xfPadded(count: batch * seq * Self.config.dim)
            let bytes = Double(unique.reduce(0) { $0 + $1.count } + padded.count + batch * seq) * 4
            #expect(MemoryEstimate.scoring(Self.config, rows: batch, seq: seq) == bytes, "batch \(batch), seq \(seq)")
        }
    }

    /// An RL run's estimate: training activations for the mini-batch in the policy alone, and
    /// the scoring buffers for the whole batch in the policy and in its frozen reference.
    @Test func anRLRunChargesTrainingActivationsOnceAndScoringPerModel() {
        let e = MemoryEstimate.training(Self.config, rows: 4, seq: 32, scoring: (16, 32), frozen: 1)
        let p = MemoryEstimate.parameters(Self.config)
        #expect(e.total == 16 * p + 4 * p + MemoryEstimate.activations(Self.config, rows: 4, seq: 32)
                + 2 * MemoryEstimate.scoring(Self.config, rows: 16, seq: 32))
    }

    @Test func parametersAndCacheMatchTheModelAndTheCache() throws {
        let model = try Transformer(config: Self.config)
        #expect(MemoryEstimate.parameters(Self.config) == Double(model.params.count))
        let cache = KVCache(config: Self.config, batch: 5, capacity: 40)
        let floats = (cache.keys + cache.values).reduce(0) { $0 + $1.count }
        #expect(MemoryEstimate.kvCache(Self.config, batch: 5, length: 40) == Double(floats) * 4)
    }

    @Test func aHugeShapeIsAFigureNotAnOverflow() {
        var c = Self.config
        c.maxSeqLen = 1 << 20
        let e = MemoryEstimate.training(c, rows: 100_000_000, seq: 1 << 20, frozen: 1, generation: (batch: 100_000_000, length: 1 << 20))
        #expect(e.total.isFinite && e.total > 1e20)
        #expect(MemoryEstimate.text(e.total).hasSuffix("TiB"))
        #expect(MemoryEstimate.text(3 * 1_073_741_824) == "3.0 GiB" && MemoryEstimate.text(10 * 1_048_576) == "10 MiB")
    }

    /// Under LoRA only the adapters carry gradients and AdamW moments; a frozen copy is values only.
    @Test func loraAndFrozenCopiesAreChargedTheirValuesOnly() {
        let p = MemoryEstimate.parameters(Self.config)
        let full = MemoryEstimate.training(Self.config, rows: 0, seq: 0, frozen: 1).total
        let lora = MemoryEstimate.training(Self.config, rows: 0, seq: 0, adapters: (1000, LoRAConfig(rank: 4))).total
        #expect(full == 16 * p + 4 * p)
        #expect(lora == 4 * p + 16 * 1000)
    }
}
