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
        decode(prompts: prompts, options: options) { _, logits, v in Sampler.greedy(logits, vocab: v) }.map(\.tokens)
    }

    /// Sampled continuation of each prompt. Row r draws from its own stream
    /// "sample/r" of `options.seed`, so its tokens depend only on the seed, r and its prompt:
    /// not on the other rows, the batch size or the thread count.
    public func sample(prompts: [[Int32]], options: SamplingOptions) -> [SampledSequence] {
        var sampler = Sampler(options: options)
        var rngs = prompts.indices.map { RNG(seed: options.seed, stream: "sample/\($0)") }
        return decode(prompts: prompts, options: .init(maxNewTokens: options.maxNewTokens, stopToken: options.stopToken)) {
            row, logits, v in sampler.sample(logits, vocab: v, rng: &rngs[row])
        }
    }

    /// The shared decoding loop; `choose(row, logits, vocab)` picks row's next token from its
    /// logits (which it may overwrite) and reports that token's log-probability.
    public func decode(prompts: [[Int32]], options: Options,
                       choose: (Int, UnsafeMutablePointer<Float>, Int) -> (token: Int32, logProb: Float)) -> [SampledSequence] {
        if prompts.isEmpty { return [] }
        let c = model.config
        let longest = prompts.map(\.count).max()!
        precondition(prompts.allSatisfy { !$0.isEmpty }, "generation needs a non-empty prompt for every row")
        let capacity = min(c.maxSeqLen, longest + options.maxNewTokens)
        precondition(longest < capacity, "a prompt of \(longest) tokens leaves no room in a context of \(c.maxSeqLen)")
        let cache = KVCache(config: c, batch: prompts.count, capacity: capacity)
        let forward = IncrementalForward(model: model)
        var outputs = [SampledSequence](repeating: .init(tokens: [], logProbs: [], finished: false), count: prompts.count)
        var pending: [IncrementalForward.Token] = []
        for (r, p) in prompts.enumerated() { for t in p { pending.append(.init(row: r, token: t)) } }
        while !pending.isEmpty {
            let (rows, logits) = forward.append(pending, to: cache)
            pending = []
            for (i, row) in rows.enumerated() {
                let (next, logProb) = choose(row, logits.ptr + i * c.vocabSize, c.vocabSize)
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
