/// A problem in a dataset file, located as precisely as the format allows. Datasets are edited
/// by hand and converted by scripts, so every error names the file, the record and the field,
/// and ends with what to do about it.
public struct DataError: Error, CustomStringConvertible, Equatable, Sendable {
    /// The path as the user gave it, so the message matches what they typed.
    public var file: String
    /// 1-based: the line number in JSONL files, the array position in JSON files.
    public var record: Int?
    public var field: String?
    /// What is wrong.
    public var message: String
    /// What to do about it; required so that no error leaves the user guessing.
    public var remedy: String

    public init(file: String, record: Int? = nil, field: String? = nil, message: String, remedy: String) {
        self.file = file
        self.record = record
        self.field = field
        self.message = message
        self.remedy = remedy
    }

    public var description: String {
        var parts = [file]
        if let record { parts.append("record \(record)") }
        if let field { parts.append("field '\(field)'") }
        parts.append("\(message); \(remedy)")
        return parts.joined(separator: ": ")
    }
}
