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
        run(model, tokens: tokens, lengths: lengths, real: Self.lengths, shared: nil, positions: positions, targets: targets)
    }

    /// `real`: the rows' real lengths, where the value head's share is added (`lengths` nil: the
    /// batch runs padded).
    static func run(_ model: Transformer, tokens: [Int32], lengths: [Int]?, real: [Int], shared: [SharedStart?]?,
                    positions: [Int], targets: [Int32]) -> Pass {
        model.releaseActivations()
        model.trainable.zeroGrad()
        model.forward(tokens: tokens, batch: batch, seq: seq, lengths: lengths, shared: shared)
        let hidden = Array(UnsafeBufferPointer(start: model.hiddenStates, count: batch * seq * model.config.dim))
        let out = model.head(positions: positions, targets: targets) { i, _ in weights[i % weights.count] }
        // A value head's share, in the padded layout callers hold.
        let g = (0..<(batch * seq * model.config.dim)).map { i in Float(i % 13) * 0.01 - 0.06 }
        let masked = (0..<g.count).map { i in (i / model.config.dim) % seq < real[i / model.config.dim / seq] ? g[i] : 0 }
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

    /// Rows 1 and 3 start as rows 0 and 2 do (4 and 3 tokens): with `shared` those run once.
    static let sharing: (tokens: [Int32], lengths: [Int], shared: [SharedStart?], positions: [Int], targets: [Int32]) = (
        [3, 1, 4, 1, 5, 9, 2, 6,
         3, 1, 4, 1, 7, 7, 0, 0,
         5, 3, 5, 8, 9, 0, 0, 0],
        [8, 6, 5],
        [nil, SharedStart(row: 0, length: 4), nil],
        // Targets in the shared start (9, 10, 11), at its last token (11) and after it.
        [0, 2, 5, 6, 9, 10, 11, 12, 13, 16, 17, 19],
        [1, 1, 2, 6, 4, 1, 7, 7, 3, 3, 5, 9])

    /// A batch whose rows share starts gives what it gives with every row run whole: log-probs,
    /// every hidden state, every gradient (the value head's share added at shared positions of
    /// both rows), whatever the activations keep, with and without adapters.
    @Test(arguments: [false, true]) func sharedStartsChangeNothingTheCallerReads(lora: Bool) throws {
        let model = try Self.model(lora: lora), x = Self.sharing
        for kept in ActivationRecomputeTests.Kept.allCases {
            let (whole, shared) = ActivationRecomputeTests.with(kept) {
                (Self.run(model, tokens: x.tokens, lengths: x.lengths, real: x.lengths, shared: nil, positions: x.positions, targets: x.targets),
                 Self.run(model, tokens: x.tokens, lengths: x.lengths, real: x.lengths, shared: x.shared, positions: x.positions, targets: x.targets))
            }
            #expect(whole.grads.contains { $0 != 0 })
            #expect(Self.close(shared.grads, whole.grads), "\(kept): gradients")
            #expect(Self.close(shared.logProbs, whole.logProbs), "\(kept): log-probs")
            #expect(Self.close(shared.hidden, whole.hidden), "\(kept): hidden states")
        }
        // Two rows sharing one start, and a row that shares all but its last token.
        let three: [Int32] = [2, 7, 1, 8, 2, 8, 1, 8,
                              2, 7, 1, 8, 3, 3, 0, 0,
                              2, 7, 1, 8, 2, 8, 1, 5]
        let shares = [nil, SharedStart(row: 0, length: 4), SharedStart(row: 0, length: 7)]
        let positions = [3, 5, 11, 12, 18, 22, 23], targets: [Int32] = [2, 1, 3, 3, 1, 5, 4]
        let whole = Self.run(model, tokens: three, lengths: [8, 6, 8], real: [8, 6, 8], shared: nil, positions: positions, targets: targets)
        let shared = Self.run(model, tokens: three, lengths: [8, 6, 8], real: [8, 6, 8], shared: shares, positions: positions, targets: targets)
        #expect(Self.close(shared.grads, whole.grads) && Self.close(shared.logProbs, whole.logProbs) && Self.close(shared.hidden, whole.hidden))
    }

    /// The keys and values a forward keeps for a prefix (`forward(keeping:)`, CARFT's shared
    /// start with the annotated sequences) are the same when rows share starts: a shared
    /// position's are read from the row that ran it.
    @Test func aKeptPrefixIsTheSameWithSharedStarts() throws {
        let model = try Self.model(lora: true), x = Self.sharing, c = model.config
        func kept(_ shared: [SharedStart?]?) -> [Float] {
            let cache = KVCache(config: c, batch: Self.batch, capacity: Self.seq)
            cache.lengths = [7, 5, 3]  // row 1 keeps its 4 shared positions and 1 of its own
            model.forward(tokens: x.tokens, batch: Self.batch, seq: Self.seq, lengths: x.lengths, shared: shared, keeping: cache,
                          forBackward: false)
            return (0..<c.layers).flatMap { l in
                (0..<Self.batch).flatMap { row in
                    (0..<c.kvHeads).flatMap { g in
                        Array(UnsafeBufferPointer(start: cache.keys(layer: l, row: row, head: g), count: cache.lengths[row] * c.headDim))
                            + Array(UnsafeBufferPointer(start: cache.values(layer: l, row: row, head: g), count: cache.lengths[row] * c.headDim))
                    }
                }
            }
        }
        let whole = kept(nil)
        #expect(whole.contains { $0 != 0 })
        #expect(Self.close(kept(x.shared), whole))
    }

    @Test func layoutOfRowsSharingAStart() {
        let rows = PackedRows(batch: 4, seq: 8, lengths: [8, 6, 5, 7],
                              shared: [nil, SharedStart(row: 0, length: 4), nil, SharedStart(row: 0, length: 3)])
        #expect(rows.count == 8 + 2 + 5 + 4 && rows.offsets == [0, 8, 10, 15] && !rows.isDense)
        #expect(rows.position == Array(0..<8) + [4, 5] + Array(0..<5) + Array(3..<7))
        #expect(rows.start(1) == 4 && rows.ownLength(1) == 2 && rows.start(2) == 0)
        // Row 1's token 3 is row 0's; its token 4 its own first; row 3's token 2 is row 0's.
        #expect(rows.packed(8 + 3) == 3 && rows.packed(8 + 4) == 8 && rows.packed(8 + 6) == nil)
        #expect(rows.packed(24 + 2) == 2 && rows.packed(24 + 3) == 15 && rows.packed(24 + 6) == 18)
    }

    /// TokenBatch shares a row's start with the first earlier row of the same prompt: their
    /// common input tokens, never a row's last one; other prompts share nothing.
    @Test func tokenBatchesShareTheStartsOfRowsWithOnePrompt() {
        let rows = [PromptedSequence(ids: [5, 6, 7, 1, 2, 3], promptLength: 3),
                    PromptedSequence(ids: [5, 6, 7, 1, 4, 4], promptLength: 3),  // one response token in common
                    PromptedSequence(ids: [5, 6, 8, 1, 2], promptLength: 3),   // another prompt
                    PromptedSequence(ids: [5, 6, 7, 1, 2, 3, 9], promptLength: 3),  // row 0's input and more
                    PromptedSequence(ids: [5, 6, 8, 9], promptLength: 3)]      // input = its prompt: shares all but one
        let batch = TokenBatch(rows, padId: 0)
        #expect(batch.shared == [nil, SharedStart(row: 0, length: 4), nil, SharedStart(row: 0, length: 5), SharedStart(row: 2, length: 2)])
        #expect(TokenBatch(Array(rows[..<1]) + [rows[2]], padId: 0).shared == [nil, nil])
        // Rows of different prompts share a common start of at least `minimumCommonStart`
        // tokens (a chat template's system message), with the earlier row of the longest.
        let system = (1...16).map { Int32($0) }, n = TokenBatch.minimumCommonStart
        let chats = [PromptedSequence(ids: system + [40, 41, 50, 51], promptLength: 18),
                     PromptedSequence(ids: system + [40, 42, 50], promptLength: 18),
                     PromptedSequence(ids: system + [40, 41, 43, 50], promptLength: 19),
                     PromptedSequence(ids: Array(system.prefix(n - 1)) + [99, 50, 51], promptLength: n + 1)]
        #expect(TokenBatch(chats, padId: 0).shared == [nil, SharedStart(row: 0, length: n + 1), SharedStart(row: 0, length: n + 2), nil])
    }

    @Test func layoutOfARightPaddedBatch() {
        let rows = PackedRows(batch: 3, seq: 8, lengths: [8, 5, 2])
        #expect(rows.count == 15 && rows.offsets == [0, 8, 13] && !rows.isDense)
        #expect(rows.position == Array(0..<8) + Array(0..<5) + Array(0..<2))
        #expect(rows.packed(9) == 9 && rows.packed(12) == 12 && rows.packed(13) == nil && rows.packed(17) == 14 && rows.packed(18) == nil)
        #expect(PackedRows(batch: 2, seq: 4).isDense)
    }
}
