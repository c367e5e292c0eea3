import Engine
import Foundation

/// The questions of the generation benchmark, read from the JSON file that bench/ keeps
/// (`{"questions": ["…", …]}`) so that workbench and llama.cpp start from the same texts.
struct BenchPrompts {
    var questions: [String]

    static let defaultPath = "bench/generate_prompts.json"

    static func load(_ path: String) throws -> BenchPrompts {
        guard let data = FileManager.default.contents(atPath: path) else {
            let hint = path == defaultPath
                ? "run from the repository root (the default is relative to it) or pass --prompts <file>"
                : "check the path given to --prompts"
            throw CLIError("cannot read the prompts file \(path); \(hint)")
        }
        let json: Any
        do { json = try JSONSerialization.jsonObject(with: data) } catch {
            throw CLIError("the prompts file \(path) is not JSON (\(error.localizedDescription)); it should be {\"questions\": [\"…\", …]}")
        }
        guard let object = json as? [String: Any], let list = object["questions"] as? [Any] else {
            throw CLIError("the prompts file \(path) has no \"questions\" list; it should be {\"questions\": [\"…\", …]}")
        }
        let questions = try list.enumerated().map { i, q -> String in
            guard let s = q as? String, !s.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
                throw CLIError("question \(i) of \(path) is not a non-empty string")
            }
            return s
        }
        guard !questions.isEmpty else { throw CLIError("the prompts file \(path) has an empty \"questions\" list") }
        return BenchPrompts(questions: questions)
    }

    /// FNV-1a (64-bit) of the prompts' token ids written as "id,id,…\n" per prompt. Both engines
    /// print it, so the table can tell whether they really ran on the same tokens: the texts are
    /// the same, but each engine tokenises and applies the chat template itself.
    static func fingerprint(_ prompts: [[Int32]]) -> String {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for p in prompts {
            for byte in (p.map(String.init).joined(separator: ",") + "\n").utf8 {
                h = (h ^ UInt64(byte)) &* 0x0000_0100_0000_01b3
            }
        }
        return String(h, radix: 16)
    }
}
