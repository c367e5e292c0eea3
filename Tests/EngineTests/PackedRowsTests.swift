import Testing
@testable import Engine
import TestSupport

/// A right-padded batch given with its rows' lengths runs on its real tokens only
/// (`PackedRows`). Since a right-padded row's real tokens never attend to its padding, that must
/// change nothing the caller reads: log-probs, hidden states and every gradient, whatever the
/// activations keep.
@Suite(.serialized) struct PackedRowsTests {
    static let batch = 3, seq = 8
    static let lengths = [8, 5, 2]
    /// Real tokens, then padding (id 0) after each row's length.
    static let tokens: [Int32] = [3, 1, 4, 1, 5, 9, 2, 6,
                                  5, 3, 5, 8, 9, 0, 0, 0,
                                  7, 9, 0, 0, 0, 0, 0, 0]
    /// Targets at real positions only, as a TokenBatch lists them.
    static let positions = [0, 2, 5, 6, 8, 9, 11, 12, 16, 17]
    static let targets: [Int32] = [1, 1, 2, 6, 3, 5, 9, 4, 9, 10]
    static let weights: [Float] = [0.5, -1, 0.25, 2, -0.75, 1, 0.3, -0.6, 1.5, -0.2]

    struct Pass { let grads: [Float]; let hidden: [Float]; let logProbs: [Float]; let hiddenGradNorm: Double }

    static func run(_ model: Transformer, lengths: [Int]?) -> Pass {
        model.releaseActivations()
        model.trainable.zeroGrad()
        model.forward(tokens: tokens, batch: batch, seq: seq, lengths: lengths)
        let hidden = Array(UnsafeBufferPointer(start: model.hiddenStates, count: batch * seq * model.config.dim))
        let out = model.head(positions: positions, targets: targets) { i, _ in weights[i] }
        // A value head's share, in the padded layout callers hold.
        let g = (0..<(batch * seq * model.config.dim)).map { i in Float(i % 13) * 0.01 - 0.06 }
        let masked = (0..<g.count).map { i in Self.isReal(i / model.config.dim) ? g[i] : 0 }
        masked.withUnsafeBufferPointer { model.addHiddenGradient($0.baseAddress!) }
        let norm = model.hiddenGradientNorm
        model.backward()
        return Pass(grads: model.trainable.grads.array, hidden: hidden, logProbs: out.logProbs, hiddenGradNorm: norm)
    }

    /// The tiny test model with random weights, or LoRATests' model with its adapters.
    static func model(lora: Bool) throws -> Transformer {
        if lora { return try LoRATests.model() }
        let model = try Transformer(config: ModelGradientTests.tinyConfig(tied: false), seed: 3)
        model.randomizeMatrices(seed: 4, scale: 0.3)
        return model
    }

    static func isReal(_ padded: Int) -> Bool { padded % seq < lengths[padded / seq] }

    static func close(_ a: [Float], _ b: [Float], _ tol: Float = 2e-5) -> Bool {
        let scale = max(1, b.map(abs).max() ?? 0)
        return a.count == b.count && zip(a, b).allSatisfy { abs($0 - $1) <= tol * scale }
    }

    @Test(arguments: [false, true]) func packedRowsChangeNothingTheCallerReads(lora: Bool) throws {
        let model = try Self.model(lora: lora)
        for kept in ActivationRecomputeTests.Kept.allCases {
            let (padded, packed) = ActivationRecomputeTests.with(kept) {
                (Self.run(model, lengths: nil), Self.run(model, lengths: Self.lengths))
            }
            #expect(padded.grads.contains { $0 != 0 })
            #expect(Self.close(packed.grads, padded.grads), "\(kept): gradients")
            #expect(Self.close(packed.logProbs, padded.logProbs), "\(kept): log-probs")
            #expect(abs(packed.hiddenGradNorm - padded.hiddenGradNorm) <= 1e-5 * padded.hiddenGradNorm, "\(kept)")
            let D = model.config.dim
            for p in 0..<(Self.batch * Self.seq) {
                let a = Array(packed.hidden[(p * D)..<((p + 1) * D)]), b = Array(padded.hidden[(p * D)..<((p + 1) * D)])
                if Self.isReal(p) {
                    #expect(Self.close(a, b), "\(kept): hidden state at \(p)")
                } else {
                    #expect(a.allSatisfy { $0 == 0 }, "\(kept): padding position \(p) holds zeros")
                }
            }
        }
    }

    /// A packed batch's padding is not computed at all: a NaN embedding for the padding id
    /// reaches nothing.
    @Test func paddingIsNotComputed() throws {
        let model = try Transformer(config: ModelGradientTests.tinyConfig(tied: false), seed: 3)
        model.randomizeMatrices(seed: 4, scale: 0.3)
        let D = model.config.dim
        for d in 0..<D { model.weights.embed[0 * D + d] = .nan }  // the padding id's row
        model.forward(tokens: Self.tokens, batch: Self.batch, seq: Self.seq, lengths: Self.lengths)
        let hidden = UnsafeBufferPointer(start: model.hiddenStates, count: Self.batch * Self.seq * D)
        #expect(hidden.allSatisfy { $0.isFinite })
        let out = model.head(positions: Self.positions, targets: Self.targets)
        #expect(out.logProbs.allSatisfy { $0.isFinite && $0 < 0 })
    }

    /// A scoring pass (`forBackward: false`, its own buffers) gives the training forward's
    /// log-probs and hidden states bit for bit, and leaves the training pass's buffers alone: a
    /// mini-batch trained after it gets the gradients it gets alone.
    @Test(arguments: [false, true]) func scoringPassesKeepNothingAndChangeNothing(lora: Bool) throws {
        let model = try Self.model(lora: lora)
        let alone = Self.run(model, lengths: Self.lengths)
        model.forward(tokens: Self.tokens, batch: Self.batch, seq: Self.seq, lengths: Self.lengths, forBackward: false)
        let hidden = Array(UnsafeBufferPointer(start: model.hiddenStates, count: Self.batch * Self.seq * model.config.dim))
        #expect(hidden == alone.hidden)
        #expect(model.head(positions: Self.positions, targets: Self.targets).logProbs == alone.logProbs)
        // Training, scoring a larger batch in between, then the backward.
        model.trainable.zeroGrad()
        model.forward(tokens: Self.tokens, batch: Self.batch, seq: Self.seq, lengths: Self.lengths)
        let twice = Self.tokens + Self.tokens
        model.forward(tokens: twice, batch: 2 * Self.batch, seq: Self.seq, lengths: Self.lengths + Self.lengths, forBackward: false)
        model.forward(tokens: Self.tokens, batch: Self.batch, seq: Self.seq, lengths: Self.lengths)
        _ = model.head(positions: Self.positions, targets: Self.targets) { i, _ in Self.weights[i] }
        let g = (0..<(Self.batch * Self.seq * model.config.dim)).map { i in Self.isReal(i / model.config.dim) ? Float(i % 13) * 0.01 - 0.06 : 0 }
        g.withUnsafeBufferPointer { model.addHiddenGradient($0.baseAddress!) }
        model.backward()
        #expect(model.trainable.grads.array == alone.grads)
    }

    @Test func layoutOfARightPaddedBatch() {
        let rows = PackedRows(batch: 3, seq: 8, lengths: [8, 5, 2])
        #expect(rows.count == 15 && rows.offsets == [0, 8, 13] && !rows.isDense)
        #expect(rows.position == Array(0..<8) + Array(0..<5) + Array(0..<2))
        #expect(rows.packed(9) == 9 && rows.packed(12) == 12 && rows.packed(13) == nil && rows.packed(17) == 14 && rows.packed(18) == nil)
        #expect(PackedRows(batch: 2, seq: 4).isDense)
    }
}
