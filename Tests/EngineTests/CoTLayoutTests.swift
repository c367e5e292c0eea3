import Testing
import TestSupport
@testable import Engine

/// CARFT's layout of a batch for the plugins, checked on hand-written sequences: which tokens
/// are the chain of thought, which hidden state embeds each token, and that `scatter` is the
/// exact transpose of `gather`.
@Suite struct CoTLayoutTests {
    // Token ids: the answer line starts with [7, 8]; 9 is EOS; 0 pads.
    static let marker: [Int32] = [7, 8], eos: Int32 = 9
    static let sequences = [
        PromptedSequence(ids: [1, 2, 3, 4, 7, 8, 5, 9], promptLength: 2),  // CoT 3 4, then the answer line
        PromptedSequence(ids: [1, 3, 4, 6, 9], promptLength: 3),           // no answer line: all but EOS
        PromptedSequence(ids: [2, 5, 6, 7], promptLength: 1),              // half a marker is CoT; no EOS
    ]

    static func layout(minTokens: Int = 0) -> (CoTLayout, TokenBatch) {
        let batch = TokenBatch(sequences, padId: 0)
        return (CoTLayout(sequences, batch: batch, marker: marker, eos: eos, minTokens: minTokens), batch)
    }

    @Test func rowsHoldTheWholeSequenceWithItsCoTMarked() {
        let (l, _) = Self.layout()
        #expect(l.rows == 3 && l.tokens == 8)
        #expect(l.ids == [1, 2, 3, 4, 7, 8, 5, 9,
                          1, 3, 4, 6, 9, 0, 0, 0,
                          2, 5, 6, 7, 0, 0, 0, 0])
        #expect(l.present == [1, 1, 1, 1, 1, 1, 1, 1,
                              1, 1, 1, 1, 1, 0, 0, 0,
                              1, 1, 1, 1, 0, 0, 0, 0])
        #expect(l.cot == [0, 0, 1, 1, 0, 0, 0, 0,
                          0, 0, 0, 1, 0, 0, 0, 0,
                          0, 1, 1, 1, 0, 0, 0, 0])
        let (padded, _) = Self.layout(minTokens: 11)
        #expect(padded.tokens == 11 && padded.ids.count == 33 && padded.cot.count == 33)
        #expect(padded.ids[11..<16] == [1, 3, 4, 6, 9])
    }

    /// Token t's embedding is read at h_{t−1}, the state that chose it; the first token, chosen
    /// by none, at h_0. The head reads every state a row computes (its input length).
    @Test func eachTokenIsEmbeddedByTheStateThatChoseIt() {
        let (l, batch) = Self.layout()
        #expect(batch.seq == 7)
        #expect(l.headPositions == Array(0..<7) + Array(7..<11) + Array(14..<17))
        #expect(l.tokenState == [0, 0, 1, 2, 3, 4, 5, 6,
                                 7, 7, 8, 9, 10, -1, -1, -1,
                                 11, 11, 12, 13, -1, -1, -1, -1])
    }

    /// ⟨gather(p, v), (G, g)⟩ = ⟨(p, v), scatter(G, g)⟩ for random values: scatter adds every
    /// token's gradient into the state that embedded it (the two first tokens of a row share
    /// h_0), and gather leaves padding 0.
    @Test func scatterIsTheTransposeOfGather() {
        let (l, _) = Self.layout()
        let P = 3, n = l.headPositions.count
        var rng = RNG(seed: 5)
        let projections = GradCheck.randomBuffer(n * P, &rng), values = GradCheck.randomBuffer(n, &rng)
        let g = l.gather(projections: projections.ptr, values: values.ptr, dim: P)
        for (i, s) in l.tokenState.enumerated() where s < 0 {
            #expect(g.values[i] == 0 && (0..<P).allSatisfy { g.tokens[i * P + $0] == 0 })
        }
        let gradTokens = GradCheck.randomBuffer(l.rows * l.tokens * P, &rng), gradValues = GradCheck.randomBuffer(l.rows * l.tokens, &rng)
        let dProjections = FloatBuffer(n * P)
        var dValues = [Float](repeating: 0, count: n)
        l.scatter(gradTokens: gradTokens, gradValues: gradValues, dim: P, dProjections: dProjections.ptr, dValues: &dValues)
        var left = 0.0, right = 0.0
        for i in 0..<(l.rows * l.tokens) {
            left += Double(g.values[i]) * Double(gradValues[i])
            for k in 0..<P { left += Double(g.tokens[i * P + k]) * Double(gradTokens[i * P + k]) }
        }
        for s in 0..<n {
            right += Double(values[s]) * Double(dValues[s])
            for k in 0..<P { right += Double(projections[s * P + k]) * Double(dProjections[s * P + k]) }
        }
        #expect(abs(left - right) < 1e-4 * max(1, abs(left)), "\(left) vs \(right)")
        // h_0 of row 0 embeds tokens 0 and 1: its value gradient is the sum of both.
        #expect(dValues[0] == gradValues[0] + gradValues[1])
    }
}
