import Foundation

/// Reads the JSON layout of the ReFT release: one array of objects with `question`,
/// `answer_value` (usually a string like "203.0"), an optional `answer_cot` and an optional
/// `item_id`. Files without `answer_cot` (the GSM8K test set) load as evaluation-only examples.
public enum ReFTJSONLoader {
    public static func load(path: String) throws -> [MathExample] {
        let data = try DataFile.contents(of: path)
        let top: Any
        do {
            top = try JSONSerialization.jsonObject(with: data)
        } catch {
            throw DataError(file: path, message: "not valid JSON",
                            remedy: "check the file with a JSON validator; it must be one array of objects")
        }
        guard let records = top as? [Any] else {
            throw DataError(file: path, message: "top level is not a JSON array",
                            remedy: "wrap the records in [ ... ]; a .jsonl file with one object per line loads with the gsm8k: prefix")
        }
        guard !records.isEmpty else {
            throw DataError(file: path, message: "the array has no records",
                            remedy: "add at least one {\"question\": ..., \"answer_value\": ...} object")
        }
        let stem = DataFile.stem(of: path)
        return try records.enumerated().map { index, object in
            try parseRecord(object, file: path, record: index + 1, stem: stem)
        }
    }

    static func parseRecord(_ object: Any, file: String, record: Int, stem: String) throws -> MathExample {
        let fields = try JSONRecord(object, file: file, record: record,
                                    example: "{\"question\": \"...\", \"answer_value\": \"72\"}")
        let question = try fields.string("question")
        let answer = try answerValue(fields)
        let cots = try fields.optionalString("answer_cot").map { [stripFinalAnswerSentence($0)] } ?? []
        return MathExample(id: try itemID(fields) ?? "\(stem)-\(record)", question: question,
                           cots: cots, answer: answer)
    }

    static func answerValue(_ fields: JSONRecord) throws -> Double {
        try fields.number("answer_value")
    }

    static func itemID(_ fields: JSONRecord) throws -> String? {
        guard let value = fields.fields["item_id"], !(value is NSNull) else { return nil }
        if let text = value as? String, !text.isEmpty { return text }
        if let number = value as? NSNumber, String(cString: number.objCType) != "c" { return number.stringValue }
        throw fields.error("item_id", "is neither a string nor a number",
                           "write 'item_id' as a string like \"svamp_12\", or leave it out")
    }

    /// The CoTs end with "Therefore, the answer is <N>." but the target format appends its own
    /// "\nTherefore, the answer is: N", so the original sentence is removed to avoid saying it
    /// twice. Only a final sentence that is nothing but that statement is removed.
    static func stripFinalAnswerSentence(_ cot: String) -> String {
        let trimmed = cot.trimmingCharacters(in: .whitespacesAndNewlines)
        guard let marker = trimmed.range(of: "Therefore, the answer is", options: .backwards) else { return trimmed }
        let before = trimmed[..<marker.lowerBound]
        // The statement must begin a line or a sentence, so "... Therefore, the answer is"
        // inside a longer sentence is kept.
        let startsSentence = before.isEmpty || before.hasSuffix("\n")
            || before.hasSuffix(". ") || before.hasSuffix("! ") || before.hasSuffix("? ")
        guard startsSentence, isBareAnswer(trimmed[marker.upperBound...]) else { return trimmed }
        return before.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// True for what follows "Therefore, the answer is" when it is only the answer:
    /// " <203>.", ": 203", " 12.5%." and the like.
    private static func isBareAnswer(_ tail: Substring) -> Bool {
        var rest = tail.trimmingCharacters(in: .whitespaces)
        if rest.hasPrefix(":") { rest.removeFirst() }
        rest = rest.trimmingCharacters(in: .whitespaces)
        if rest.hasSuffix(".") { rest.removeLast() }
        if rest.hasPrefix("<") && rest.hasSuffix(">") { rest = String(rest.dropFirst().dropLast()) }
        if rest.hasSuffix("%") { rest.removeLast() }
        return ReFTFormat.parseNumber(rest) != nil
    }
}
