import Foundation

/// Reading a dataset file with the failure modes users actually hit (a wrong path, a folder
/// instead of a file, a file with nothing in it) turned into DataErrors that say what to do.
enum DataFile {
    static func contents(of path: String) throws -> Data {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw DataError(file: path, message: "file not found",
                            remedy: "check the path (relative paths are resolved from \(FileManager.default.currentDirectoryPath))")
        }
        guard !isDirectory.boolValue else {
            throw DataError(file: path, message: "is a folder, not a file",
                            remedy: "point at the .jsonl or .json file inside it")
        }
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw DataError(file: path, message: "cannot be read (\(error.localizedDescription))",
                            remedy: "check the file's permissions")
        }
        guard data.contains(where: { !isWhitespace($0) }) else {
            throw DataError(file: path, message: "file is empty",
                            remedy: "regenerate or re-download it; a dataset needs at least one record")
        }
        return data
    }

    /// A JSONL file's records: each non-blank line parsed as JSON, with its line number, which is
    /// its record number (so an id like "gsm8k-12" and an error about record 12 both point at
    /// line 12). Blank lines are tolerated because editors and `cat` often leave them, but they
    /// still count as lines. `remedy` is what to say about a line that is not JSON.
    static func jsonLines(of path: String, remedy: String) throws -> [(object: Any, record: Int)] {
        var records: [(object: Any, record: Int)] = []
        var lineNumber = 0
        for line in try contents(of: path).split(separator: 0x0A, omittingEmptySubsequences: false) {
            lineNumber += 1
            guard line.contains(where: { !isWhitespace($0) }) else { continue }
            do {
                records.append((try JSONSerialization.jsonObject(with: Data(line)), lineNumber))
            } catch {
                throw DataError(file: path, record: lineNumber, message: "line is not valid JSON", remedy: remedy)
            }
        }
        return records
    }

    private static func isWhitespace(_ byte: UInt8) -> Bool {
        byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D
    }

    /// The short name used in example ids, e.g. "svamp_nl_train" for ".../svamp_nl_train.json".
    static func stem(of path: String) -> String {
        URL(fileURLWithPath: path).deletingPathExtension().lastPathComponent
    }
}
