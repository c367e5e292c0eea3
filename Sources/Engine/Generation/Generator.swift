import Foundation

/// One row's continuation with what an RL update needs from the rollout.
public struct SampledSequence: Sendable {
    /// New tokens, the stop token included when it was drawn.
    public var tokens: [Int32]
    /// log π(token) under the sampling temperature, before top-k/top-p truncation.
    public var logProbs: [Float]
    /// True when the row ended with the stop token rather than by running out of room.
    public var finished: Bool
}

/// Decodes continuations for a batch of prompts of different lengths over one KV cache.
/// Greedy decoding (evaluation) is the zero-temperature case of the same loop that sampling
/// uses, so the two cannot drift apart.
public struct Generator {
    public let model: Transformer
    /// Whether a prompt that an earlier row of the call has runs once, its cache and first
    /// logits copied to the later rows (GRPO's G samples of a question). Off, every row runs its
    /// own prompt: what a benchmark against an engine that does not copy must measure.
    public var copiesRepeatedPrompts = true
    public init(model: Transformer) { self.model = model }

    public struct Options {
        public var maxNewTokens: Int
        public var stopToken: Int
        public init(maxNewTokens: Int, stopToken: Int) {
            self.maxNewTokens = maxNewTokens
            self.stopToken = stopToken
        }
    }

    /// Greedy continuation of each prompt, stopping at `stopToken` (included in the output) or
    /// after `maxNewTokens`. Prompts longer than the model's context are an error.
    public func greedy(prompts: [[Int32]], options: Options) -> [[Int32]] {
        decodeInGroups(prompts: prompts, options: options) { _ in
            { _, logits, v in Sampler.greedy(logits, vocab: v) }
        }.map(\.tokens)
    }

    /// Sampled continuation of each prompt. Row r draws from its own stream
    /// "sample/r" of `options.seed`, so its tokens depend only on the seed, r and its prompt:
    /// not on the other rows, the batch size or the thread count (with one exception: a model
    /// holding int8 weights decodes batches of up to `Int8Base.maxRows` rows in int8).
    public func sample(prompts: [[Int32]], options: SamplingOptions) -> [SampledSequence] {
        decodeInGroups(prompts: prompts, options: .init(maxNewTokens: options.maxNewTokens, stopToken: options.stopToken)) { rows in
            var sampler = Sampler(options: options)
            var rngs = rows.map { RNG(seed: options.seed, stream: "sample/\($0)") }
            var made = [Int](repeating: 0, count: rows.count)
            let stop = options.stopToken, minNew = options.minNewTokens
            return { row, logits, v in
                let i = row - rows.lowerBound
                if made[i] < minNew && stop >= 0 && stop < v { logits[stop] = -.infinity }
                made[i] += 1
                return sampler.sample(logits, vocab: v, rng: &rngs[i])
            }
        }
    }

    /// Chooses a row's next token from its logits (which it may overwrite) and reports that
    /// token's log-probability; called with the row's index in the whole batch.
    public typealias Chooser = (Int, UnsafeMutablePointer<Float>, Int) -> (token: Int32, logProb: Float)

    /// The shared decoding loop; `choose(row, logits, vocab)` picks row's next token from its
    /// logits (which it may overwrite) and reports that token's log-probability. All rows share
    /// one KV cache and every product is split over the workers; `choose` is called on the
    /// calling thread.
    public func decode(prompts: [[Int32]], options: Options, choose: Chooser) -> [SampledSequence] {
        if prompts.isEmpty { return [] }
        return decode(prompts[...], options: options, choose: choose)
    }

    /// Rows per independently decoded group. Two costs set it, both of the model and the lengths
    /// only, never of the thread count:
    /// - a small model's weights stay in the last-level cache and the group's KV cache is the
    ///   traffic, so a group holds as many rows as keep that cache near `groupCacheBytes`
    ///   (16 rows of the tiny preset at 160 positions; two groups in flight then stay within a
    ///   32 MiB L3);
    /// - a model whose weights do not fit in that cache (SmolLM2-135M: 540 MB in float32) streams
    ///   them from memory once per step of each group, so a group needs enough rows that the
    ///   weights' share of a token's traffic is no more than the token's own reads of its cache
    ///   (on average half its capacity): weights / (half a row's cache) rows.
    /// At least 8 rows, so the projections stay matrix products.
    var groupCacheBytes = 12 << 20
    var lastLevelCacheBytes = 32 << 20
    func groupRows(capacity: Int) -> Int {
        let c = model.config
        let perRow = capacity * c.layers * 2 * c.kvDim * MemoryLayout<Float>.size
        let cacheBound = groupCacheBytes / max(1, perRow)
        let weightBytes = model.params.count * MemoryLayout<Float>.size
        let weightBound = weightBytes > lastLevelCacheBytes ? weightBytes / max(1, perRow / 2) : 0
        return max(8, cacheBound, weightBound)
    }

    /// Decodes fixed groups of consecutive rows independently, each with its own KV cache and
    /// single-threaded products, the workers taking groups in turn. One decoding step of a
    /// large batch reads every row's keys and values; with all rows in one cache that is more
    /// than the last-level cache, so each step streamed it from memory and waited on a barrier
    /// per product. A group's cache stays resident across its steps, and a group needs no
    /// synchronisation. Each group gets its own chooser from `makeChooser(rows)`.
    /// A batch that makes a single group keeps the split products instead.
    func decodeInGroups(prompts: [[Int32]], options: Options,
                        makeChooser: (Range<Int>) -> Chooser) -> [SampledSequence] {
        if prompts.isEmpty { return [] }
        // A model held in bf16 multiplies through one oneDNN instance, which is not thread-safe
        // (its compiled products and rounding scratch are shared): one group, split products.
        let size = model.bf16 != nil ? prompts.count : groupRows(capacity: capacity(prompts: prompts[...], options: options))
        let n = prompts.count, count = (n + size - 1) / size
        let groups = (0..<count).map { (n * $0 / count)..<(n * ($0 + 1) / count) }
        if groups.count == 1 {
            return decode(prompts[...], options: options, choose: makeChooser(groups[0]))
        }
        var outputs = [SampledSequence](repeating: .init(tokens: [], logProbs: [], finished: false), count: prompts.count)
        let next = GroupCounter()
        outputs.withUnsafeMutableBufferPointer { out in
            let out = out
            // Which worker takes which group changes nothing: a group's arithmetic is its own.
            Parallel.forEach(min(Parallel.workers, groups.count)) { _ in
                while let g = next.take(below: groups.count) {
                    let rows = groups[g]
                    let result = decode(prompts[rows], options: options, choose: makeChooser(rows))
                    for (i, r) in rows.enumerated() { out[r] = result[i] }
                }
            }
        }
        return outputs
    }

    private func capacity(prompts: ArraySlice<[Int32]>, options: Options) -> Int {
        let longest = prompts.map(\.count).max()!
        return min(model.config.maxSeqLen, longest + options.maxNewTokens)
    }

    /// Decodes `prompts` (a slice of the batch; row indices passed to `choose` are the slice's).
    private func decode(_ prompts: ArraySlice<[Int32]>, options: Options, choose: Chooser) -> [SampledSequence] {
        let c = model.config, base = prompts.startIndex
        let longest = prompts.map(\.count).max()!
        precondition(prompts.allSatisfy { !$0.isEmpty }, "generation needs a non-empty prompt for every row")
        let capacity = capacity(prompts: prompts, options: options)
        precondition(longest < capacity, "a prompt of \(longest) tokens leaves no room in a context of \(c.maxSeqLen)")
        let cache = KVCache(config: c, batch: prompts.count, capacity: capacity)
        // int8 (when the model holds it) for a generation of a few rows, decided for the whole
        // call: a large batch must not switch to it as its rows finish.
        let forward = IncrementalForward(model: model, sampling: prompts.count <= Int8Base.maxRows)
        var outputs = [SampledSequence](repeating: .init(tokens: [], logProbs: [], finished: false), count: prompts.count)
        // A prompt that an earlier row has (GRPO's G samples of a question) runs once, in that
        // row; the others copy its keys, values and first logits.
        var pending: [IncrementalForward.Token] = [], firstRow: [[Int32]: Int] = [:], copies: [(row: Int, of: Int)] = []
        for (r, p) in prompts.enumerated() {
            if copiesRepeatedPrompts, let f = firstRow[p] { copies.append((r, f)); continue }
            firstRow[p] = r
            for t in p { pending.append(.init(row: r, token: t)) }
        }
        while !pending.isEmpty {
            let (ranRows, logits) = forward.append(pending, to: cache)
            var rows = ranRows
            pending.removeAll(keepingCapacity: true)
            // The copies choose from logits of their own (`choose` may overwrite them), after the
            // rows that ran.
            let ran = rows.count, V = c.vocabSize
            var copied: FloatBuffer?
            if !copies.isEmpty {
                let index = Dictionary(uniqueKeysWithValues: rows.enumerated().map { ($1, $0) })
                copied = FloatBuffer(copies.count * V)
                for (i, (r, f)) in copies.enumerated() {
                    cache.copyRow(f, to: r)
                    (copied!.ptr + i * V).update(from: logits.ptr + index[f]! * V, count: V)
                    rows.append(r)
                }
                copies = []
            }
            for (i, row) in rows.enumerated() {
                let l = i < ran ? logits.ptr + i * V : copied!.ptr + (i - ran) * V
                let (next, logProb) = choose(base + row, l, V)
                outputs[row].tokens.append(next)
                outputs[row].logProbs.append(logProb)
                let stopped = Int(next) == options.stopToken
                outputs[row].finished = stopped
                let done = stopped || outputs[row].tokens.count >= options.maxNewTokens
                    || cache.lengths[row] >= capacity
                if !done { pending.append(.init(row: row, token: next)) }
            }
        }
        return outputs
    }
}

/// Hands out group indices to workers, each exactly once.
final class GroupCounter: @unchecked Sendable {
    private var next = 0
    private let lock = NSLock()
    func take(below n: Int) -> Int? {
        lock.lock(); defer { lock.unlock() }
        if next >= n { return nil }
        next += 1
        return next - 1
    }
}
