/// A prompt and its continuation as one token sequence: for SFT the annotated CoT with the
/// answer line and EOS, for RL a sampled response. Only the continuation's tokens are
/// targets (actions).
public struct PromptedSequence: Sendable {
    public var ids: [Int32]
    public var promptLength: Int

    public init(ids: [Int32], promptLength: Int) {
        precondition(promptLength >= 1 && ids.count > promptLength, "a prompted sequence needs a non-empty prompt and continuation")
        self.ids = ids
        self.promptLength = promptLength
    }

    /// The SFT target: prompt, CoT, answer line, EOS.
    public init(example: MathExample, cot: String, tokenizer: any Tokenizer, prompt format: PromptFormat = .plain) {
        let prompt = format.encode(question: example.question, tokenizer: tokenizer)
        let target = tokenizer.encode(ReFTFormat.target(cot: cot, answer: example.answer))
        ids = (prompt + target + [tokenizer.eosId]).map { Int32($0) }
        promptLength = prompt.count
    }

    /// Positions fed to the model: the last token (EOS) is only ever a target.
    public var inputLength: Int { ids.count - 1 }
}

/// A right-padded batch of prompted sequences with the flat positions whose next token is a
/// target. Padding and prompt positions are simply not listed, which is the loss mask.
/// `positions` run sequence by sequence, in order, so `ranges[b]` slices row b's targets.
public struct TokenBatch {
    public let batch: Int
    public let seq: Int
    public let tokens: [Int32]
    public let positions: [Int]
    public let targets: [Int32]

    public let ranges: [Range<Int>]
    /// Row b's real tokens: its first `lengths[b]`; the rest of the row is padding.
    public let lengths: [Int]
    /// Rows that start alike run that start once (`Transformer.forward`'s shared starts; the
    /// rule is `sharedStarts`): GRPO's G rollouts of a question pass its prompt through the
    /// model once, not G times, and chat prompts their system message.
    public let shared: [SharedStart?]

    public init(_ rows: [PromptedSequence], padId: Int) {
        batch = rows.count
        seq = rows.map(\.inputLength).max() ?? 0
        var tokens = [Int32](repeating: Int32(padId), count: batch * seq)
        var positions: [Int] = [], targets: [Int32] = [], ranges: [Range<Int>] = []
        for (b, r) in rows.enumerated() {
            for t in 0..<r.inputLength { tokens[b * seq + t] = r.ids[t] }
            let start = positions.count
            for t in (r.promptLength - 1)..<r.inputLength {
                positions.append(b * seq + t)
                targets.append(r.ids[t + 1])
            }
            ranges.append(start..<positions.count)
        }
        self.ranges = ranges
        lengths = rows.map(\.inputLength)
        shared = Self.sharedStarts(rows)
        self.tokens = tokens
        self.positions = positions
        self.targets = targets
        tokenCount = rows.reduce(0) { $0 + $1.inputLength }
    }

    /// Each row's shared start (`SharedStart`), with a row that shares none itself:
    /// - a row whose prompt an earlier row has shares with the first such row their common
    ///   input tokens (the prompt at least): GRPO's G rollouts of a question;
    /// - a row whose prompt no other row has shares the longest common start, if at least
    ///   `minimumCommonStart` tokens, with an earlier row: a chat template's system message.
    /// Never a row's last input token (it keeps one of its own).
    static func sharedStarts(_ rows: [PromptedSequence]) -> [SharedStart?] {
        var promptCount: [ArraySlice<Int32>: Int] = [:]
        for r in rows { promptCount[r.ids[..<r.promptLength], default: 0] += 1 }
        var shared: [SharedStart?] = [], first: [ArraySlice<Int32>: Int] = [:], sources: [Int] = []
        func common(_ a: PromptedSequence, _ b: PromptedSequence) -> Int {
            let limit = min(a.inputLength - 1, b.inputLength)
            var n = 0
            while n < limit && a.ids[n] == b.ids[n] { n += 1 }
            return n
        }
        for (b, r) in rows.enumerated() {
            let prompt = r.ids[..<r.promptLength]
            var share: SharedStart?
            if let f = first[prompt] {
                let n = common(r, rows[f])
                share = n >= 1 ? SharedStart(row: f, length: n) : nil
            } else if promptCount[prompt] == 1,
                      let best = sources.map({ (row: $0, length: common(r, rows[$0])) }).max(by: { $0.length < $1.length }),
                      best.length >= minimumCommonStart {
                share = SharedStart(row: best.row, length: best.length)
            }
            if first[prompt] == nil { first[prompt] = b }
            if share == nil { sources.append(b) }
            shared.append(share)
        }
        return shared
    }

    /// The shortest start that rows of different prompts run once rather than each: shorter
    /// ones save little and tie rows together for nothing.
    static let minimumCommonStart = 16

    public var targetCount: Int { positions.count }
    /// Real (non-padding) tokens through the model: the unit of training throughput.
    public let tokenCount: Int
}
