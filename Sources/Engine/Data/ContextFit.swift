/// Which examples fit a model's context. Checked before a run starts, so a long question is a
/// clear error (or, when the caller chooses, a counted skip) instead of a trap deep inside
/// generation at the first evaluation.
public struct ContextFit {
    public let tokenizer: any Tokenizer
    public let prompt: PromptFormat
    /// The model's context, in tokens.
    public let context: Int

    public init(tokenizer: any Tokenizer, prompt: PromptFormat, context: Int) {
        self.tokenizer = tokenizer
        self.prompt = prompt
        self.context = context
    }

    /// One example that does not fit, with what it needs.
    public struct TooLong: Sendable, Equatable {
        /// Position in the array checked (ids need not be unique in a user's file).
        public var index: Int
        public var id: String
        public var tokens: Int
    }

    /// Questions whose prompt leaves no room for a generated token (evaluation and rollouts need
    /// at least one; a completion that would run past the context is cut there, as at max-new-tokens).
    public func promptsTooLong(_ examples: [MathExample]) -> [TooLong] {
        examples.enumerated().compactMap { i, ex in
            let n = prompt.encode(question: ex.question, tokenizer: tokenizer).count
            return n >= context ? TooLong(index: i, id: ex.id, tokens: n) : nil
        }
    }

    /// Examples with a CoT that, prompted and followed by the answer line and EOS, exceeds the
    /// context as a teacher-forced input (every token but the last). SFT trains on every CoT;
    /// CARFT teacher-forces the first, the annotated one.
    public func sequencesTooLong(_ examples: [MathExample], firstCoTOnly: Bool = false) -> [TooLong] {
        examples.enumerated().compactMap { i, ex in
            let cots = firstCoTOnly ? Array(ex.cots.prefix(1)) : ex.cots
            let n = cots.map { PromptedSequence(example: ex, cot: $0, tokenizer: tokenizer, prompt: prompt).inputLength }.max() ?? 0
            return n > context ? TooLong(index: i, id: ex.id, tokens: n) : nil
        }
    }

    /// The longest prompt, in tokens (0 for none).
    public func longestPrompt(_ examples: [MathExample]) -> Int {
        examples.map { prompt.encode(question: $0.question, tokenizer: tokenizer).count }.max() ?? 0
    }

    /// The longest teacher-forced input (as `sequencesTooLong` counts it), in tokens.
    public func longestSequence(_ examples: [MathExample], firstCoTOnly: Bool = false) -> Int {
        examples.map { ex in
            (firstCoTOnly ? Array(ex.cots.prefix(1)) : ex.cots)
                .map { PromptedSequence(example: ex, cot: $0, tokenizer: tokenizer, prompt: prompt).inputLength }.max() ?? 0
        }.max() ?? 0
    }
}
