import Testing
@testable import Engine

@Suite struct GenerationTests {
    static func model() throws -> Transformer {
        let c = ModelConfig(vocabSize: 13, dim: 16, layers: 2, heads: 4, kvHeads: 2, ffnDim: 24,
                            maxSeqLen: 32, tiedEmbeddings: true)
        let m = try Transformer(config: c, seed: 5)
        m.randomizeMatrices(seed: 9, scale: 0.4)
        return m
    }

    /// Log-probabilities of a whole sequence by the training forward pass, position by position.
    static func fullForwardArgmax(_ m: Transformer, _ seq: [Int32]) -> Int32 {
        m.forward(tokens: seq, batch: 1, seq: seq.count)
        let lp = (0..<m.config.vocabSize).map { m.head(positions: [seq.count - 1], targets: [Int32($0)]).logProbs[0] }
        return Int32(lp.indices.max(by: { lp[$0] < lp[$1] })!)
    }

    @Test func cachedLogitsEqualTrainingForward() throws {
        let m = try Self.model()
        let seq: [Int32] = [1, 4, 2, 8, 5, 7]
        m.forward(tokens: seq, batch: 1, seq: seq.count)
        let cache = KVCache(config: m.config, batch: 2, capacity: 16)
        let inc = IncrementalForward(model: m)
        // Row 1 gets the prompt in two calls (prefill then one token at a time); row 0 stays empty.
        _ = inc.append(seq.prefix(3).map { .init(row: 1, token: $0) }, to: cache)
        for t in 3..<seq.count {
            let (rows, logits) = inc.append([.init(row: 1, token: seq[t])], to: cache)
            #expect(rows == [1])
            // Compare log-softmax of cached logits with the training head at position t.
            let v = m.config.vocabSize
            let mx = (0..<v).map { logits[$0] }.max()!
            let lse = mx + Foundation.log((0..<v).reduce(Float(0)) { $0 + Foundation.exp(logits[$1] - mx) })
            m.forward(tokens: seq, batch: 1, seq: seq.count)
            for tok in [0, 3, 12] {
                let ref = m.head(positions: [t], targets: [Int32(tok)]).logProbs[0]
                #expect(abs((logits[tok] - lse) - ref) < 1e-4, "position \(t) token \(tok)")
            }
        }
        #expect(cache.lengths == [0, seq.count])
    }

    @Test func batchedGreedyEqualsOneAtATimeFullForward() throws {
        let m = try Self.model()
        let prompts: [[Int32]] = [[1, 2, 3], [4], [5, 6, 7, 8, 9]]
        let out = Generator(model: m).greedy(prompts: prompts, options: .init(maxNewTokens: 6, stopToken: 0))
        for (p, o) in zip(prompts, out) {
            var seq = p, ref: [Int32] = []
            for _ in 0..<6 {
                let t = Self.fullForwardArgmax(m, seq)
                ref.append(t)
                if t == 0 { break }
                seq.append(t)
            }
            #expect(o == ref)
        }
    }
}

import Foundation
