/// A question turned into tokens for supervised fine-tuning: prompt, target CoT with the
/// answer line, EOS. Only the target's tokens are trained on.
public struct SFTSequence: Sendable {
    public var ids: [Int32]
    public var promptLength: Int

    public init(example: MathExample, cot: String, tokenizer: any Tokenizer) {
        let prompt = tokenizer.encode(ReFTFormat.prompt(example.question))
        let target = tokenizer.encode(ReFTFormat.target(cot: cot, answer: example.answer))
        ids = (prompt + target + [tokenizer.eosId]).map { Int32($0) }
        promptLength = prompt.count
    }

    /// Positions fed to the model: the last token (EOS) is only ever a target.
    public var inputLength: Int { ids.count - 1 }
}

/// A right-padded batch of SFT sequences with the flat positions whose next token is a
/// target. Padding and prompt positions are simply not listed, which is the loss mask.
public struct SFTBatch {
    public let batch: Int
    public let seq: Int
    public let tokens: [Int32]
    public let positions: [Int]
    public let targets: [Int32]

    public init(_ rows: [SFTSequence], padId: Int) {
        batch = rows.count
        seq = rows.map(\.inputLength).max() ?? 0
        var tokens = [Int32](repeating: Int32(padId), count: batch * seq)
        var positions: [Int] = [], targets: [Int32] = []
        for (b, r) in rows.enumerated() {
            for t in 0..<r.inputLength { tokens[b * seq + t] = r.ids[t] }
            for t in (r.promptLength - 1)..<r.inputLength {
                positions.append(b * seq + t)
                targets.append(r.ids[t + 1])
            }
        }
        self.tokens = tokens
        self.positions = positions
        self.targets = targets
        tokenCount = rows.reduce(0) { $0 + $1.inputLength }
    }

    public var targetCount: Int { positions.count }
    /// Real (non-padding) tokens through the model: the unit of training throughput.
    public let tokenCount: Int
}
