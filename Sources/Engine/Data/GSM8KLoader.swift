import Foundation

/// Reads the GSM8K JSONL release: one object per line with `question` and `answer`, where the
/// answer is the rationale followed by a final `#### N` line.
public enum GSM8KLoader {
    public static func load(path: String) throws -> [MathExample] {
        try DataFile.jsonLines(of: path, remedy: "each line must be one complete JSON object; check for a line break inside a string or a truncated line")
            .map { try parseRecord($0.object, file: path, record: $0.record) }
    }

    static func parseRecord(_ object: Any, file: String, record: Int) throws -> MathExample {
        let fields = try JSONRecord(object, file: file, record: record,
                                    example: "{\"question\": \"...\", \"answer\": \"...\\n#### 72\"}")
        let question = try fields.string("question")
        let answerText = try fields.string("answer")

        // Swift reads "\r\n" as one Character, not "\r" then "\n", so splitting on "\n" alone
        // would leave a Windows-edited answer as a single line with no '####' line.
        var lines = stripCalculatorNotes(answerText)
            .split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" || $0 == "\r" })
            .map { $0.trimmingCharacters(in: .whitespaces) }
        while lines.last?.isEmpty == true { lines.removeLast() }
        guard let finalLine = lines.last, finalLine.hasPrefix("####") else {
            throw fields.error("answer", "no final '#### N' line",
                               "each record needs the answer after '####' on the answer's last line")
        }
        let answerString = String(finalLine.dropFirst(4))
        guard let answer = ReFTFormat.parseNumber(answerString) else {
            throw fields.error("answer", "'####' is followed by '\(answerString.trimmingCharacters(in: .whitespaces))', not a number",
                               "put a plain number after '####', e.g. '#### 72' or '#### 1,000'")
        }
        let cot = lines.dropLast().filter { !$0.isEmpty }.joined(separator: "\n")
        return MathExample(id: "gsm8k-\(record)", question: question,
                           cots: cot.isEmpty ? [] : [cot], answer: answer)
    }

    /// GSM8K annotates arithmetic as `48/2 = <<48/2=24>>24`; the notes were for a calculator
    /// tool, and the text around them already states the result, so they are dropped.
    static func stripCalculatorNotes(_ text: String) -> String {
        var out = ""
        var rest = Substring(text)
        while let open = rest.range(of: "<<") {
            guard let close = rest[open.upperBound...].range(of: ">>") else { break }
            out += rest[..<open.lowerBound]
            rest = rest[close.upperBound...]
        }
        out += rest
        return out
    }
}
