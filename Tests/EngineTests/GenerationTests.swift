import Testing
@testable import Engine
import TestSupport

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

@Suite struct GenerationPathTests {
    /// Long enough that a prompt is split into several attention runs (at most
    /// `IncrementalForward.maxRun` tokens each).
    static func model() throws -> Transformer {
        let c = ModelConfig(vocabSize: 21, dim: 32, layers: 2, heads: 4, kvHeads: 2, ffnDim: 48,
                            maxSeqLen: 160, tiedEmbeddings: true)
        let m = try Transformer(config: c, seed: 3)
        m.randomizeMatrices(seed: 4, scale: 0.3)
        return m
    }

    /// A 150-token prompt in one call (three runs), then several tokens at once onto a non-empty
    /// row (a run that starts mid-row), then one token: every call's logits match the training
    /// forward pass at that position.
    @Test func longRunsAndMidRowRunsMatchTrainingForward() throws {
        let m = try Self.model()
        let v = m.config.vocabSize
        let seq: [Int32] = (0..<158).map { (t: Int) -> Int32 in Int32((t * 7 + 3) % 21) }
        let cache = KVCache(config: m.config, batch: 3, capacity: 160)
        let inc = IncrementalForward(model: m)
        m.forward(tokens: seq, batch: 1, seq: seq.count)
        var done = 0
        for chunk in [150, 7, 1] {
            // Row 2 gets the sequence; row 0 gets a short unrelated prompt in the same calls.
            var toks = seq[done..<(done + chunk)].map { IncrementalForward.Token(row: 2, token: $0) }
            if chunk > 1 { toks.insert(.init(row: 0, token: 5), at: 0) }
            let (rows, logits) = inc.append(toks, to: cache)
            done += chunk
            let r = rows.firstIndex(of: 2)!
            let lg = (0..<v).map { logits[r * v + $0] }
            let mx = lg.max()!
            let lse = mx + Foundation.log(lg.reduce(Float(0)) { $0 + Foundation.exp($1 - mx) })
            for tok in [0, 9, 20] {
                let ref = m.head(positions: [done - 1], targets: [Int32(tok)]).logProbs[0]
                #expect(abs((lg[tok] - lse) - ref) < 1e-4, "after \(done) tokens, token \(tok)")
            }
        }
        #expect(cache.lengths == [2, 0, 158])
    }

    /// Decoding in groups of rows (each with its own cache) draws the same tokens as one cache
    /// for the whole batch, and since a group runs single-threaded, the same bits at any
    /// thread count.
    @Test func groupedDecodingMatchesOneCache() throws {
        let m = try Self.model()
        var prompts: [[Int32]] = []
        for r in 0..<20 {
            var p: [Int32] = []
            for t in 0..<(3 + r % 5) { p.append(Int32((t * 5 + r * 3) % 21)) }
            prompts.append(p)
        }
        let options = SamplingOptions(maxNewTokens: 12, stopToken: 2, seed: 7)
        var grouped = Generator(model: m)
        grouped.groupCacheBytes = 1  // groups of 8 rows: 7, 6 and 7 rows
        #expect(grouped.groupRows(capacity: 19) == 8)
        var single = Generator(model: m)
        single.groupCacheBytes = .max
        let held = ThreadCount.hold(1)
        defer { held.release() }
        let one = single.sample(prompts: prompts, options: options)
        let g1 = grouped.sample(prompts: prompts, options: options)
        Parallel.configure(threads: 2)
        let g2 = grouped.sample(prompts: prompts, options: options)
        #expect(one.map(\.tokens) == g1.map(\.tokens))
        #expect(one.map(\.finished) == g1.map(\.finished))
        for (x, y) in zip(one, g1) {
            for (a, b) in zip(x.logProbs, y.logProbs) { #expect(abs(a - b) < 1e-5) }
        }
        #expect(g1.map(\.tokens) == g2.map(\.tokens) && g1.map(\.logProbs) == g2.map(\.logProbs))
        #expect(one.contains { $0.finished } && one.contains { !$0.finished })
        let greedyOne = single.greedy(prompts: prompts, options: .init(maxNewTokens: 12, stopToken: 2))
        let greedyGrouped = grouped.greedy(prompts: prompts, options: .init(maxNewTokens: 12, stopToken: 2))
        #expect(greedyOne == greedyGrouped)
    }

    /// When the weights do not fit in the last-level cache, groups grow until the weights' share
    /// of each token's memory traffic is at most the token's reads of its own cache (half a
    /// row's capacity), and decoding in such groups still draws what one cache does.
    @Test func groupsGrowWhenTheWeightsStreamFromMemory() throws {
        let m = try Self.model()
        var g = Generator(model: m)
        g.groupCacheBytes = 1
        g.lastLevelCacheBytes = 1
        // capacity 8 × 2 layers × (k, v) × kvDim 16 × 4 bytes = 2 KiB per row; half of it per token.
        let weightBytes = m.params.count * 4
        #expect(g.groupRows(capacity: 8) == weightBytes / 1024)
        #expect(g.groupRows(capacity: 8) > 8)
        g.lastLevelCacheBytes = weightBytes  // the weights fit: back to the cache rule
        #expect(g.groupRows(capacity: 8) == 8)

        var prompts: [[Int32]] = []
        for r in 0..<40 { prompts.append((0..<(2 + r % 4)).map { Int32(($0 * 7 + r) % 21) }) }
        g.lastLevelCacheBytes = 1
        g.groupCacheBytes = 1
        let options = Generator.Options(maxNewTokens: 40, stopToken: 2)
        let small = g.groupRows(capacity: 5 + 40)
        var single = Generator(model: m)
        single.groupCacheBytes = .max
        #expect(small < prompts.count)
        #expect(single.greedy(prompts: prompts, options: options) == g.greedy(prompts: prompts, options: options))
    }
}
