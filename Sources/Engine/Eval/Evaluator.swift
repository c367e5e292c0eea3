/// Greedy-decoding accuracy on held-out questions, scored as the ReFT/CARFT code scores it:
/// the number after the last "Therefore, the answer is:" within 1e-2 of the gold answer
/// (or as `answerRule` says).
public struct Evaluator {
    public let tokenizer: any Tokenizer
    public var maxNewTokens: Int
    public var batchSize: Int
    public var prompt: PromptFormat
    public var answerRule: AnswerRule

    public init(tokenizer: any Tokenizer, maxNewTokens: Int, batchSize: Int = 64, prompt: PromptFormat = .plain,
                answerRule: AnswerRule = .reft) {
        self.tokenizer = tokenizer
        self.prompt = prompt
        self.maxNewTokens = maxNewTokens
        self.batchSize = batchSize
        self.answerRule = answerRule
    }

    public struct Sample: Sendable {
        /// The example's id, so two evaluations of one set can be paired question by question.
        public var id: String
        public var question: String
        public var completion: String
        public var predicted: Double?
        public var gold: Double
        public var correct: Bool
    }

    public struct Result: Sendable {
        public var correct: Int
        public var total: Int
        public var accuracy: Double { total == 0 ? 0 : Double(correct) / Double(total) }
        /// Completions produced per second of evaluation.
        public var tokensPerSecond: Double
        public var samples: [Sample]
    }

    /// Greedy by default; with `sampling` the completions are drawn as rollouts are, which shows
    /// how far the sampled policy RL trains on sits from the greedy one it is judged by.
    /// `progress(done, total, tokens)` runs on the calling thread after each batch of questions.
    public func evaluate(model: Transformer, examples: [MathExample], sampling: SamplingOptions? = nil,
                         progress: ((Int, Int, Int) -> Void)? = nil) -> Result {
        let generator = Generator(model: model)
        var samples: [Sample] = []
        var correct = 0, generated = 0
        let clock = ContinuousClock(), start = clock.now
        var i = 0
        while i < examples.count {
            let chunk = Array(examples[i..<min(examples.count, i + batchSize)])
            let prompts = chunk.map { ex in prompt.encode(question: ex.question, tokenizer: tokenizer).map { Int32($0) } }
            let outs: [[Int32]]
            if var options = sampling {
                options.maxNewTokens = maxNewTokens
                options.stopToken = tokenizer.eosId
                options.seed = options.seed &+ UInt64(i)
                outs = generator.sample(prompts: prompts, options: options).map(\.tokens)
            } else {
                outs = generator.greedy(prompts: prompts, options: .init(maxNewTokens: maxNewTokens, stopToken: tokenizer.eosId))
            }
            for (ex, out) in zip(chunk, outs) {
                generated += out.count
                let text = tokenizer.decode(out.map { Int($0) })
                let pred = answerRule.extract(text)
                let ok = ReFTFormat.isCorrect(predicted: pred, gold: ex.answer)
                if ok { correct += 1 }
                samples.append(Sample(id: ex.id, question: ex.question, completion: text, predicted: pred, gold: ex.answer, correct: ok))
            }
            i += batchSize
            progress?(min(i, examples.count), examples.count, generated)
        }
        let secs = (clock.now - start).seconds
        return Result(correct: correct, total: examples.count,
                      tokensPerSecond: secs > 0 ? Double(generated) / secs : 0, samples: samples)
    }
}

extension Duration {
    public var seconds: Double {
        let c = components
        return Double(c.seconds) + Double(c.attoseconds) * 1e-18
    }
}
