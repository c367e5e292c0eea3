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
        decode(prompts: prompts, options: options) { logits, v in
            var best = 0
            var bv = logits[0]
            for j in 1..<v where logits[j] > bv { bv = logits[j]; best = j }
            return Int32(best)
        }
    }

    /// The shared decoding loop; `choose` picks the next token from one row of logits.
    public func decode(prompts: [[Int32]], options: Options,
                       choose: (UnsafeMutablePointer<Float>, Int) -> Int32) -> [[Int32]] {
        if prompts.isEmpty { return [] }
        let c = model.config
        let longest = prompts.map(\.count).max()!
        precondition(prompts.allSatisfy { !$0.isEmpty }, "generation needs a non-empty prompt for every row")
        let capacity = min(c.maxSeqLen, longest + options.maxNewTokens)
        precondition(longest < capacity, "a prompt of \(longest) tokens leaves no room in a context of \(c.maxSeqLen)")
        let cache = KVCache(config: c, batch: prompts.count, capacity: capacity)
        let forward = IncrementalForward(model: model)
        var outputs = [[Int32]](repeating: [], count: prompts.count)
        var pending: [IncrementalForward.Token] = []
        for (r, p) in prompts.enumerated() { for t in p { pending.append(.init(row: r, token: t)) } }
        while !pending.isEmpty {
            let (rows, logits) = forward.append(pending, to: cache)
            pending = []
            for (i, row) in rows.enumerated() {
                let next = choose(logits.ptr + i * c.vocabSize, c.vocabSize)
                outputs[row].append(next)
                let done = Int(next) == options.stopToken || outputs[row].count >= options.maxNewTokens
                    || cache.lengths[row] >= capacity
                if !done { pending.append(.init(row: row, token: next)) }
            }
        }
        return outputs
    }
}
