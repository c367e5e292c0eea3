import Foundation
import Testing
@testable import Engine
import TestSupport

@Suite struct SamplingTests {
    /// Descending-probability order is 2, 0, 5, 3, 6, 1, 7, 4 (not id order, so the heap is
    /// exercised). At temperature 1 the running mass is .433 .627 .771 .859 .917 ..., and at
    /// temperature 2 it is .263 .439 .591 .709 ..., far enough from 0.6 and 0.9 that float
    /// rounding cannot move a nucleus boundary.
    static let logits: [Float] = [1.2, -0.3, 2.0, 0.4, -1.5, 0.9, 0.0, -0.8]
    static let draws = 20_000
    /// A frequency's standard deviation is at most sqrt(0.25 / 20000) ≈ 0.0035, so 0.012 is
    /// over 3.4 sigma for every token; the seeds are fixed, so the outcome is too.
    static let bound = 0.012

    /// Float64 softmax of logits / temperature.
    static func softmax(_ l: [Float], temperature t: Double) -> [Double] {
        let s = l.map { Double($0) / t }, mx = s.max()!
        let e = s.map { Foundation.exp($0 - mx) }, z = e.reduce(0, +)
        return e.map { $0 / z }
    }

    /// Float64 log-softmax of logits / temperature.
    static func logSoftmax(_ l: [Float], temperature t: Double) -> [Double] {
        let s = l.map { Double($0) / t }, mx = s.max()!
        let lse = mx + Foundation.log(s.map { Foundation.exp($0 - mx) }.reduce(0, +))
        return s.map { $0 - lse }
    }

    /// `probs` restricted to `keep` and renormalised.
    static func renormalised(_ probs: [Double], keep: Set<Int>) -> [Double] {
        let z = keep.reduce(0) { $0 + probs[$1] }
        return probs.indices.map { keep.contains($0) ? probs[$0] / z : 0 }
    }

    /// Draws `n` tokens from a fresh copy of `l` each time (sampling overwrites the row).
    static func draw(_ options: SamplingOptions, _ l: [Float], n: Int) -> [(token: Int, logProb: Float)] {
        var sampler = Sampler(options: options)
        var rng = RNG(seed: options.seed, stream: "test")
        return (0..<n).map { _ in
            var row = l
            let (t, lp) = row.withUnsafeMutableBufferPointer { sampler.sample($0.baseAddress!, vocab: l.count, rng: &rng) }
            return (Int(t), lp)
        }
    }

    static func frequencies(_ tokens: [Int], vocab: Int) -> [Double] {
        var counts = [Int](repeating: 0, count: vocab)
        for t in tokens { counts[t] += 1 }
        return counts.map { Double($0) / Double(tokens.count) }
    }

    static func options(temperature: Float = 1, topK: Int = 0, topP: Float = 1, seed: UInt64 = 1) -> SamplingOptions {
        SamplingOptions(temperature: temperature, topK: topK, topP: topP, maxNewTokens: 1, stopToken: -1, seed: seed)
    }

    // MARK: distribution of draws

    @Test(arguments: [Float(1), 0.5, 2])
    func frequenciesMatchTemperatureScaledSoftmax(temperature: Float) {
        let got = Self.frequencies(Self.draw(Self.options(temperature: temperature), Self.logits, n: Self.draws).map(\.token),
                                   vocab: Self.logits.count)
        let want = Self.softmax(Self.logits, temperature: Double(temperature))
        let dev = zip(got, want).map { abs($0 - $1) }.max()!
        #expect(dev < Self.bound, "temperature \(temperature): got \(got), want \(want)")
    }

    @Test func topKKeepsTheKMostProbableRenormalised() {
        let got = Self.frequencies(Self.draw(Self.options(topK: 2), Self.logits, n: Self.draws).map(\.token),
                                   vocab: Self.logits.count)
        let want = Self.renormalised(Self.softmax(Self.logits, temperature: 1), keep: [2, 0])
        for j in got.indices where want[j] == 0 { #expect(got[j] == 0, "token \(j) is outside the top 2") }
        #expect(zip(got, want).map { abs($0 - $1) }.max()! < Self.bound, "got \(got), want \(want)")
    }

    @Test(arguments: [
        (Float(0.6), Float(1), Set([2, 0])),
        (0.9, 1, Set([2, 0, 5, 3, 6])),
        (0.6, 2, Set([2, 0, 5, 3])),
    ])
    func topPKeepsExactlyTheNucleus(p: Float, temperature: Float, nucleus: Set<Int>) {
        let tokens = Self.draw(Self.options(temperature: temperature, topP: p), Self.logits, n: Self.draws).map(\.token)
        #expect(Set(tokens) == nucleus)
        let got = Self.frequencies(tokens, vocab: Self.logits.count)
        let want = Self.renormalised(Self.softmax(Self.logits, temperature: Double(temperature)), keep: nucleus)
        #expect(zip(got, want).map { abs($0 - $1) }.max()! < Self.bound, "p \(p) T \(temperature): got \(got), want \(want)")
    }

    /// Both filters are measured on the untruncated distribution, so together they keep the
    /// shorter of the two prefixes.
    @Test func topKAndTopPTogetherKeepTheShorterPrefix() {
        let probs = Self.softmax(Self.logits, temperature: 1)
        for (k, p, keep) in [(3, Float(0.6), Set([2, 0])), (2, 0.9, Set([2, 0]))] {
            let tokens = Self.draw(Self.options(topK: k, topP: p), Self.logits, n: Self.draws).map(\.token)
            #expect(Set(tokens) == keep, "k \(k) p \(p)")
            let got = Self.frequencies(tokens, vocab: Self.logits.count)
            let want = Self.renormalised(probs, keep: keep)
            #expect(zip(got, want).map { abs($0 - $1) }.max()! < Self.bound, "k \(k) p \(p): got \(got), want \(want)")
        }
    }

    @Test func zeroTemperatureIsArgmaxWithRawLogSoftmax() {
        let raw = Self.logSoftmax(Self.logits, temperature: 1)
        for d in Self.draw(Self.options(temperature: 0, topK: 3, topP: 0.5), Self.logits, n: 100) {
            #expect(d.token == 2)
            #expect(abs(Double(d.logProb) - raw[2]) < 1e-6)
        }
    }

    @Test func tiesGoToTheLowerTokenId() {
        let tied: [Float] = [1, 3, 0, 3, 3]
        for d in Self.draw(Self.options(temperature: 0), tied, n: 10) { #expect(d.token == 1) }
        for d in Self.draw(Self.options(topK: 1), tied, n: 200) { #expect(d.token == 1) }
        // Top-2 of three equal logits is the two lower ids, each drawn about half the time.
        let tokens = Self.draw(Self.options(topK: 2), tied, n: 2_000).map(\.token)
        #expect(Set(tokens) == [1, 3])
        #expect(abs(Double(tokens.filter { $0 == 1 }.count) / 2_000 - 0.5) < 0.05)
    }

    // MARK: reported log-probability

    @Test func logProbIsTheUntruncatedTemperatureScaledLogSoftmax() {
        let cases = [Self.options(), Self.options(temperature: 0.5), Self.options(temperature: 2),
                     Self.options(temperature: 0.7, topK: 3), Self.options(temperature: 1.3, topP: 0.6),
                     Self.options(temperature: 0.9, topK: 4, topP: 0.8)]
        for o in cases {
            let ref = Self.logSoftmax(Self.logits, temperature: Double(o.temperature))
            for d in Self.draw(o, Self.logits, n: 500) {
                #expect(abs(Double(d.logProb) - ref[d.token]) < 1e-5, "\(o) token \(d.token)")
            }
        }
    }

    /// A SmolLM-sized vocabulary: the kept sets are checked against a full float64 sort.
    @Test func largeVocabularyFiltersAndLogProbs() {
        let v = 49_152
        var rng = RNG(seed: 3)
        let l = (0..<v).map { _ in rng.normal() * 3 }
        let probs = Self.softmax(l, temperature: 0.8), ref = Self.logSoftmax(l, temperature: 0.8)
        let order = probs.indices.sorted { probs[$0] > probs[$1] || (probs[$0] == probs[$1] && $0 < $1) }
        var cum = 0.0, nucleus = Set<Int>()
        for j in order where cum < 0.5 { cum += probs[j]; nucleus.insert(j) }
        let topK = Set(order.prefix(40))
        for (o, keep) in [(Self.options(temperature: 0.8, topK: 40), topK),
                          (Self.options(temperature: 0.8, topP: 0.5), nucleus),
                          (Self.options(temperature: 0.8), Set(0..<v))] {
            for d in Self.draw(o, l, n: 300) {
                #expect(keep.contains(d.token), "\(o) drew \(d.token)")
                #expect(abs(Double(d.logProb) - ref[d.token]) < 1e-4, "\(o) token \(d.token)")
            }
        }
    }

    @Test func optionsDecodeWithFilterKnobsLeftOut() throws {
        let json = #"{"maxNewTokens": 64, "stopToken": 257, "seed": 9}"#
        let o = try JSONDecoder().decode(SamplingOptions.self, from: Data(json.utf8))
        #expect(o == SamplingOptions(temperature: 1, topK: 0, topP: 1, maxNewTokens: 64, stopToken: 257, seed: 9))
        let full = SamplingOptions(temperature: 0.7, topK: 20, topP: 0.95, maxNewTokens: 8, stopToken: 1, seed: 4)
        #expect(try JSONDecoder().decode(SamplingOptions.self, from: JSONEncoder().encode(full)) == full)
    }

    // MARK: sampling from a model

    static let prompts: [[Int32]] = [[1, 2, 3], [4], [5, 6, 7, 8, 9]]

    /// Log-probabilities of `continuation` after `prompt` by the training forward pass.
    static func teacherForced(_ m: Transformer, prompt: [Int32], continuation: [Int32]) -> [Float] {
        let seq = prompt + continuation
        m.forward(tokens: seq, batch: 1, seq: seq.count)
        return m.head(positions: continuation.indices.map { prompt.count - 1 + $0 }, targets: continuation).logProbs
    }

    static func rollout(_ m: Transformer, _ prompts: [[Int32]], temperature: Float = 1, topK: Int = 0,
                        maxNewTokens: Int = 8, stopToken: Int = -1, seed: UInt64 = 11) -> [SampledSequence] {
        Generator(model: m).sample(prompts: prompts, options: .init(temperature: temperature, topK: topK, maxNewTokens: maxNewTokens,
                                                                   stopToken: stopToken, seed: seed))
    }

    @Test func sampledLogProbsEqualTeacherForcedLogProbs() throws {
        let m = try GenerationTests.model()
        let out = Self.rollout(m, Self.prompts)
        for (p, o) in zip(Self.prompts, out) {
            #expect(o.tokens.count == 8 && o.logProbs.count == 8)
            let ref = Self.teacherForced(m, prompt: p, continuation: o.tokens)
            for (a, b) in zip(o.logProbs, ref) { #expect(abs(a - b) < 1e-4, "\(o.logProbs) vs \(ref)") }
        }
    }

    @Test func zeroTemperatureSampleIsGreedy() throws {
        let m = try GenerationTests.model()
        let greedy = Generator(model: m).greedy(prompts: Self.prompts, options: .init(maxNewTokens: 6, stopToken: -1))
        let out = Self.rollout(m, Self.prompts, temperature: 0, maxNewTokens: 6)
        #expect(out.map(\.tokens) == greedy)
        for (p, o) in zip(Self.prompts, out) {
            let ref = Self.teacherForced(m, prompt: p, continuation: o.tokens)
            for (a, b) in zip(o.logProbs, ref) { #expect(abs(a - b) < 1e-4) }
        }
    }

    /// With `minNewTokens` the stop token cannot end a row early; the other tokens' draws are
    /// unchanged until a row would have drawn it. Each row's first token is made the stop token,
    /// so without the option every row stops after one token.
    @Test func minNewTokensKeepsRowsFromStoppingEarly() throws {
        let m = try GenerationTests.model()
        let free = Self.rollout(m, Self.prompts, temperature: 0.05, maxNewTokens: 6)
        for (r, p) in Self.prompts.enumerated() {
            let stop = Int(free[r].tokens[0])
            let early = Self.rollout(m, [p], temperature: 0.05, maxNewTokens: 6, stopToken: stop)
            #expect(early[0].tokens == [Int32(stop)] && early[0].finished)
            let held = Generator(model: m).sample(prompts: [p], options: .init(temperature: 0.05, maxNewTokens: 6, minNewTokens: 4,
                                                                              stopToken: stop, seed: 11))
            #expect(held[0].tokens.count >= 4)
            #expect(!held[0].tokens.prefix(4).contains(Int32(stop)), "\(held[0].tokens) drew the stop token \(stop) before 4 tokens")
        }
    }

    @Test func seedDecidesTheSamples() throws {
        let m = try GenerationTests.model()
        let a = Self.rollout(m, Self.prompts, seed: 11), b = Self.rollout(m, Self.prompts, seed: 11)
        let c = Self.rollout(m, Self.prompts, seed: 12)
        #expect(a.map(\.tokens) == b.map(\.tokens))
        #expect(a.map(\.logProbs) == b.map(\.logProbs))
        #expect(a.map(\.tokens) != c.map(\.tokens))
        // Rows draw from their own streams, so equal prompts in one batch still differ.
        let twins = Self.rollout(m, [[1, 2, 3], [1, 2, 3]])
        #expect(twins[0].tokens != twins[1].tokens)
    }

    /// A row's sample depends on the seed, its index and its prompt only.
    @Test func rowSamplesDoNotDependOnTheRestOfTheBatch() throws {
        let m = try GenerationTests.model()
        let batch = Self.rollout(m, Self.prompts)
        let alone = Self.rollout(m, [Self.prompts[0]])
        let others = Self.rollout(m, [Self.prompts[0], Self.prompts[1], [2, 2, 2, 2, 2, 2, 2], [7]])
        let row2 = Self.rollout(m, [[3], [11, 12], Self.prompts[2]])
        #expect(alone[0].tokens == batch[0].tokens)
        #expect(others[0].tokens == batch[0].tokens && others[1].tokens == batch[1].tokens)
        #expect(row2[2].tokens == batch[2].tokens)
        for (x, y) in [(alone[0], batch[0]), (others[0], batch[0]), (others[1], batch[1]), (row2[2], batch[2])] {
            for (a, b) in zip(x.logProbs, y.logProbs) { #expect(abs(a - b) < 1e-5) }
        }
    }

    /// Rows whose prompt an earlier row has (GRPO's samples of one question) run it once and
    /// copy its keys, values and first logits; each still samples exactly as it would alone,
    /// though the row before it has drawn from (and overwritten) the logits they share.
    @Test func rowsRepeatingAPromptSampleAsIfAlone() throws {
        let m = try GenerationTests.model()
        let p = Self.prompts[2]
        let shared = Self.rollout(m, [p, [4], p, p], topK: 5)
        let alone = [Self.rollout(m, [p], topK: 5)[0], Self.rollout(m, [[9], [8], p], topK: 5)[2],
                     Self.rollout(m, [[9], [8], [7], p], topK: 5)[3]]
        for (i, r) in [0, 2, 3].enumerated() {
            #expect(shared[r].tokens == alone[i].tokens, "row \(r)")
            for (a, b) in zip(shared[r].logProbs, alone[i].logProbs) { #expect(abs(a - b) < 1e-5) }
            let ref = Self.teacherForced(m, prompt: p, continuation: shared[r].tokens)
            for (a, b) in zip(shared[r].logProbs, ref) { #expect(abs(a - b) < 1e-4) }
        }
        #expect(shared[0].tokens != shared[2].tokens && shared[2].tokens != shared[3].tokens)
        // Without the copy, every row runs its own prompt: the same samples.
        var generator = Generator(model: m)
        generator.copiesRepeatedPrompts = false
        let unshared = generator.sample(prompts: [p, [4], p, p], options: .init(topK: 5, maxNewTokens: 8, stopToken: -1, seed: 11))
        #expect(unshared.map(\.tokens) == shared.map(\.tokens))
    }

    /// Large enough that the prefill's products are split across workers. The split changes
    /// OpenBLAS's blocking, so logits (and log-probs) may move in the last bit across thread
    /// counts, as in training; the tokens must not, and a fixed thread count is bit-exact.
    @Test func threadCountDoesNotChangeSamples() throws {
        let c = ModelConfig(vocabSize: 258, dim: 64, layers: 2, heads: 4, kvHeads: 2, ffnDim: 128,
                            maxSeqLen: 64, tiedEmbeddings: true)
        let m = try Transformer(config: c, seed: 6)
        m.randomizeMatrices(seed: 8, scale: 0.2)
        let prompts: [[Int32]] = (0..<4).map { r in (0..<9).map { Int32(($0 * 37 + r * 11) % 258) } }
        let held = ThreadCount.hold(1)
        defer { held.release() }
        let one = Self.rollout(m, prompts, topK: 50, maxNewTokens: 12)
        Parallel.configure(threads: 2)
        let two = Self.rollout(m, prompts, topK: 50, maxNewTokens: 12)
        let again = Self.rollout(m, prompts, topK: 50, maxNewTokens: 12)
        #expect(one.map(\.tokens) == two.map(\.tokens))
        for (x, y) in zip(one, two) {
            for (a, b) in zip(x.logProbs, y.logProbs) { #expect(abs(a - b) < 1e-5) }
        }
        #expect(two.map(\.tokens) == again.map(\.tokens) && two.map(\.logProbs) == again.map(\.logProbs))
        #expect(one.allSatisfy { $0.tokens.count == 12 })
        // The weights make the draws far from uniform, so equal tokens are not a coincidence of u alone.
        #expect(one.flatMap(\.logProbs).max()! > -3)
    }

    @Test func stopsAtTheStopTokenOrAfterMaxNewTokens() throws {
        let m = try GenerationTests.model()
        let free = Self.rollout(m, Self.prompts, maxNewTokens: 10)
        for o in free { #expect(o.tokens.count == 10 && !o.finished) }
        let short = Self.rollout(m, Self.prompts, maxNewTokens: 4)
        for (s, f) in zip(short, free) {
            #expect(s.tokens == Array(f.tokens.prefix(4)) && s.logProbs == Array(f.logProbs.prefix(4)) && !s.finished)
        }
        // Stopping at the token row 0 drew third leaves the draws before it unchanged.
        let stop = free[0].tokens[2]
        let cut = free[0].tokens.firstIndex(of: stop)!
        let stopped = Self.rollout(m, Self.prompts, maxNewTokens: 10, stopToken: Int(stop))
        for (s, f) in zip(stopped, free) {
            let end = f.tokens.firstIndex(of: stop).map { $0 + 1 } ?? 10
            #expect(s.tokens == Array(f.tokens.prefix(end)))
            #expect(s.logProbs == Array(f.logProbs.prefix(end)))
            #expect(s.finished == f.tokens.contains(stop))
        }
        #expect(stopped[0].tokens.count == cut + 1 && stopped[0].finished && stopped[0].tokens.last == stop)
    }
}
