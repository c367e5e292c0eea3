/// How a completion's final answer is read when scoring it.
///
/// Training, rewards and the papers' figures use `.reft`: the number after the last answer
/// marker, nothing else, because that line is what SFT teaches. A model that never learned the
/// line (an untouched instruct model answering "The answer is 180.") scores zero under it, which
/// says nothing about its arithmetic; `.lastNumber` is the "flexible extract" that
/// lm-evaluation-harness reports for GSM8K beside its strict match, for such models only.
public enum AnswerRule: String, CaseIterable, Sendable {
    /// The number after the last "Therefore, the answer is:" (the ReFT/CARFT rule).
    case reft
    /// The ReFT answer line when there is one, else the last number anywhere in the completion.
    case lastNumber = "last-number"

    public func extract(_ completion: String) -> Double? {
        switch self {
        case .reft:
            return ReFTFormat.extractAnswer(completion)
        case .lastNumber:
            return ReFTFormat.extractAnswer(completion) ?? Self.lastNumber(in: completion[...])
        }
    }

    /// The last number in `text`, read as `ReFTFormat` reads numbers (thousands commas, a
    /// trailing sentence period left alone).
    static func lastNumber(in text: Substring) -> Double? {
        var rest = text, last: Substring?
        while let n = ReFTFormat.firstNumber(in: rest) {
            last = n
            rest = rest[n.endIndex...]
        }
        return last.flatMap { Double($0.filter { $0 != "," }) }
    }
}
