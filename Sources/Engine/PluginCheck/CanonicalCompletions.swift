/// One question answered in the engine's completion format (`ReFTFormat`: CoT, then
/// "Therefore, the answer is: <number>") in the ways a reward must tell apart, for the table
/// the plugin checker prints of a reward's scores. The question is GSM8K's first test
/// question stretched to 100 days, so that its answer (1800) can also be written "1,800".
enum CanonicalCompletions {
    static let question = "Janet’s ducks lay 16 eggs per day. She eats three for breakfast every morning and bakes muffins for her friends every day with four. She sells the remainder at the farmers' market daily for $2 per fresh duck egg. How much in dollars does she make at the farmers' market in 100 days?"
    static let gold = 1800.0

    /// Every line's arithmetic holds, so a reward that checks equations gives it full credit.
    static let cot = "She uses 3 + 4 = 7 eggs a day.\nShe sells 16 - 7 = 9 eggs a day.\nThat makes 9 * 2 = 18 dollars a day.\nIn 100 days she makes 18 * 100 = 1800 dollars."

    /// Right, but a few thousand characters: the running total day by day.
    static let longCoT = (["She uses 3 + 4 = 7 eggs a day and sells 16 - 7 = 9 of them for 9 * 2 = 18 dollars."]
        + (1...100).map { "After day \($0): \(18 * ($0 - 1)) + 18 = \(18 * $0) dollars." }).joined(separator: "\n")

    /// Bytes no UTF-8 decoder accepts (0xFF, 0xFE, a euro sign cut after two of its three bytes)
    /// in a completion without an answer line, as a sampler can produce them token by token.
    static let invalidUTF8: [UInt8] = Array("She sells the eggs for ".utf8) + [0xFF, 0xFE] + Array(" each, ".utf8) + [0xE2, 0x82] + Array(" a day".utf8)

    struct Case {
        var label: String
        var completion: String
        /// The plain right answer must count as right (score ≥ 1), or RL never sees one. The
        /// other right answers may be docked on purpose (length, format), so they only show.
        var mustCountRight = false
        /// Must not count as right: RL's accuracy and CARFT's reward ≥ 1 masks would take it for one.
        var mustNotCountRight = false
    }

    static let answer = "\n" + ReFTFormat.answerMarker
    static let cases: [Case] = [
        Case(label: "correct", completion: cot + answer + "1800", mustCountRight: true),
        Case(label: "wrong number (18, the answer for one day)",
             completion: "She uses 3 + 4 = 7 eggs a day.\nShe sells 16 - 7 = 9 eggs a day.\nThat makes 9 * 2 = 18 dollars a day." + answer + "18",
             mustNotCountRight: true),
        Case(label: "correct, text after the number (\"1800 dollars.\")", completion: cot + answer + "1800 dollars."),
        Case(label: "correct, comma-formatted (\"1,800\")", completion: cot + answer + "1,800"),
        Case(label: "no answer line (1800 only in the CoT)", completion: cot, mustNotCountRight: true),
        Case(label: "empty", completion: "", mustNotCountRight: true),
        Case(label: "very long (correct, \(longCoT.count + answer.count + 4) characters)", completion: longCoT + answer + "1800"),
        // Completions are Swift strings, decoded the way the tokenizers decode sampled bytes.
        Case(label: "non-UTF-8 bytes, no answer line", completion: String(decoding: invalidUTF8, as: UTF8.self), mustNotCountRight: true),
    ]

    /// What the engine's own answer check (evaluation, accuracy) reads in a completion.
    static func reading(_ completion: String) -> String {
        guard let answer = ReFTFormat.extractAnswer(completion) else { return "no answer" }
        return "\(ReFTFormat.formatAnswer(answer)) (\(ReFTFormat.isCorrect(predicted: answer, gold: gold) ? "right" : "wrong"))"
    }
}
