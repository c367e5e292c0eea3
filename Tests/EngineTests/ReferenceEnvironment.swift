import Foundation
import TestSupport

/// Where the reference tests find what scripts/setup-reference.sh installs: a Python with the
/// gguf and numpy packages, and the SmolLM2 GGUF. Tests that need either are disabled with a
/// message naming the setup script when this machine lacks it.
enum ReferenceEnvironment {
    static let packageRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
    static let setupHint = "run scripts/setup-reference.sh"

    /// The first candidate interpreter that can import gguf and numpy.
    static let python: String? = {
        var candidates: [String] = []
        if let env = ProcessInfo.processInfo.environment["WORKBENCH_REF_PYTHON"], !env.isEmpty { candidates.append(env) }
        candidates.append(packageRoot + "/.venv-ref/bin/python")
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0) && (try? run($0, ["-c", "import gguf, numpy"])) != nil }
    }()

    static let modelRelative = ReferenceModel.relativePath
    static let model = ReferenceModel.smolLM2

    /// Runs a program with `input` on its standard input; its standard output, or an error
    /// quoting its standard error. Everything goes through files so no pipe can fill.
    @discardableResult
    static func run(_ executable: String, _ arguments: [String], input: String = "") throws -> String {
        let dir = try makeTempDir("reference-run")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let inPath = dir + "/in", outPath = dir + "/out", errPath = dir + "/err"
        try input.write(toFile: inPath, atomically: true, encoding: .utf8)
        _ = FileManager.default.createFile(atPath: outPath, contents: nil)
        _ = FileManager.default.createFile(atPath: errPath, contents: nil)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: executable)
        p.arguments = arguments
        p.standardInput = FileHandle(forReadingAtPath: inPath)
        p.standardOutput = FileHandle(forWritingAtPath: outPath)
        p.standardError = FileHandle(forWritingAtPath: errPath)
        try p.run()
        p.waitUntilExit()
        let out = (try? String(contentsOfFile: outPath, encoding: .utf8)) ?? ""
        guard p.terminationStatus == 0 else {
            let err = (try? String(contentsOfFile: errPath, encoding: .utf8)) ?? ""
            throw CocoaError(.fileReadUnknown, userInfo: [NSLocalizedDescriptionKey: "\(executable) \(arguments.joined(separator: " ")) exited \(p.terminationStatus): \(err)"])
        }
        return out
    }
}
