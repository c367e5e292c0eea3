/// One math word problem: the triplet (question, annotated CoT, answer) of the CARFT paper,
/// with possibly several valid CoTs for the same answer.
public struct MathExample: Codable, Equatable, Sendable {
    /// Stable identifier (record number or generator index), used in errors and reports.
    public var id: String
    public var question: String
    /// Natural-language reasoning, without the final "Therefore, the answer is" line.
    /// `cots[0]` is the canonical annotated CoT; the others are distinct valid alternatives.
    /// Evaluation-only sets (no rationale) hold an empty array.
    public var cots: [String]
    public var answer: Double

    public init(id: String, question: String, cots: [String], answer: Double) {
        self.id = id
        self.question = question
        self.cots = cots
        self.answer = answer
    }
}
