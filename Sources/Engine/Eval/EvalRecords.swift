import Foundation

/// One question of an evaluation, as `eval-final.jsonl` holds it: enough to pair two runs'
/// answers question by question (by `id`) and to read what a model wrote.
public struct EvalRecord: Codable, Equatable, Sendable {
    /// The question's id in its data set (`arith-test-17`, a file's record number).
    public var id: String
    public var gold: Double
    /// The number read from the completion; nil when it gave none.
    public var answer: Double?
    public var correct: Bool
    public var question: String
    public var completion: String

    public init(id: String, gold: Double, answer: Double?, correct: Bool, question: String, completion: String) {
        self.id = id
        self.gold = gold
        self.answer = answer
        self.correct = correct
        self.question = question
        self.completion = completion
    }

    public init(_ sample: Evaluator.Sample) {
        self.init(id: sample.id, gold: sample.gold, answer: sample.predicted, correct: sample.correct,
                  question: sample.question, completion: sample.completion)
    }
}

/// Writes and reads an evaluation's per-question records, one JSON object a line.
public enum EvalRecords {
    /// The file a run's final checkpoint is scored into, in its output folder.
    public static let finalFileName = "eval-final.jsonl"

    /// Written whole under a temporary name and renamed into place: a reader (a comparison
    /// report, a resumed run) sees the complete file or none.
    /// Fails now, naming the path, when `write` could not write there (no such folder, no
    /// permission, a folder in the way), so a long evaluation does not end in that error.
    public static func checkWritable(_ path: String) throws {
        var isDir: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDir), isDir.boolValue {
            throw FileError(path: path, problem: "is a folder; give a file name for the answers")
        }
        _ = try StagedFile(path: path)
    }

    public static func write(_ records: [EvalRecord], to path: String) throws {
        let enc = JSONEncoder()
        enc.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        var bytes: [UInt8] = []
        for r in records {
            bytes += try enc.encode(r)
            bytes.append(UInt8(ascii: "\n"))
        }
        let file = try StagedFile(path: path)
        try bytes.withUnsafeBytes { try file.write($0) }
        try file.commit()
    }

    public struct ReadError: Error, CustomStringConvertible {
        public var description: String
    }

    public static func read(_ path: String) throws -> [EvalRecord] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ReadError(description: "\(path): no such file")
        }
        let dec = JSONDecoder()
        var out: [EvalRecord] = []
        for (i, line) in data.split(separator: UInt8(ascii: "\n")).enumerated() where !line.isEmpty {
            do {
                out.append(try dec.decode(EvalRecord.self, from: Data(line)))
            } catch {
                throw ReadError(description: "\(path):\(i + 1): not an evaluation record (id, gold, answer, correct, question, completion): \(error)")
            }
        }
        return out
    }
}
