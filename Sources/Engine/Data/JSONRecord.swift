import Foundation

/// One decoded JSON object from a dataset file, with field access that reports problems as
/// DataErrors pointing at this record. Shared so that both file layouts word errors alike.
struct JSONRecord {
    let fields: [String: Any]
    let file: String
    let record: Int

    init(_ object: Any, file: String, record: Int, example: String) throws {
        guard let fields = object as? [String: Any] else {
            throw DataError(file: file, record: record, message: "record is not a JSON object",
                            remedy: "write each record as an object like \(example)")
        }
        self.fields = fields
        self.file = file
        self.record = record
    }

    func error(_ field: String, _ message: String, _ remedy: String) -> DataError {
        DataError(file: file, record: record, field: field, message: message, remedy: remedy)
    }

    /// A required, non-empty string: an empty question or answer would train on nothing.
    func string(_ name: String) throws -> String {
        guard let value = fields[name] else {
            throw error(name, "missing", "add '\(name)' to the record as a string")
        }
        guard let text = try optionalString(name, value: value) else {
            throw error(name, "is null", "write '\(name)' as a JSON string in quotes")
        }
        return text
    }

    /// A required number, written as a JSON number or a numeric string: ReFT stores answers as
    /// strings ("203.0") but hand-made files and SVAMP use bare numbers, and both mean the same
    /// thing. A boolean is a mistake, not the number 0 or 1.
    func number(_ name: String) throws -> Double {
        let remedy = "give '\(name)' as a number or a numeric string, e.g. \"72\" or 72"
        guard let value = fields[name], !(value is NSNull) else {
            throw error(name, "missing", remedy)
        }
        if let text = value as? String {
            guard let number = ReFTFormat.parseNumber(text) else {
                throw error(name, "'\(text)' is not a number", remedy)
            }
            return number
        }
        // JSONSerialization returns booleans as NSNumbers of type char ("c"), nothing else does.
        if let number = value as? NSNumber, String(cString: number.objCType) != "c" {
            return number.doubleValue
        }
        throw error(name, "is neither a number nor a string", remedy)
    }

    /// A string that may be absent or null; present but of another type is still an error.
    func optionalString(_ name: String) throws -> String? {
        guard let value = fields[name] else { return nil }
        return try optionalString(name, value: value)
    }

    private func optionalString(_ name: String, value: Any) throws -> String? {
        if value is NSNull { return nil }
        guard let text = value as? String else {
            throw error(name, "is not a string", "write '\(name)' as a JSON string in quotes")
        }
        guard !text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
            throw error(name, "is empty", "fill in '\(name)' or remove the record")
        }
        return text
    }
}
