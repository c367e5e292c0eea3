import Engine
import Foundation
import Testing

/// `workbench bench generate` as bench/generate.sh runs it: the built binary as a subprocess.
/// Only what it produces is checked (every row makes exactly --new-tokens tokens, the lines are
/// the JSON the table reads), never how fast: timings depend on the machine.
@Suite(.enabled(if: FileManager.default.isExecutableFile(atPath: PluginTestSupport.workbench),
                "needs .build/release/workbench (built by scripts/test.sh)"))
struct BenchGenerateTests {
    typealias S = PluginTestSupport

    /// The JSON objects of the command's stdout, one per line, keyed by "mode".
    static func lines(_ stdout: String) throws -> [String: [String: Any]] {
        var out: [String: [String: Any]] = [:]
        for line in stdout.split(separator: "\n") {
            let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], "not a JSON object: \(line)")
            out[try #require(object["mode"] as? String)] = object
        }
        return out
    }

    static func prompts(in dir: String, _ questions: [String]) throws -> String {
        let path = dir + "/prompts.json"
        let data = try JSONSerialization.data(withJSONObject: ["questions": questions])
        try data.write(to: URL(fileURLWithPath: path))
        return path
    }

    /// Token counts and the fields the table prints, for `batch` rows and `single` prompts.
    static func expectCounts(_ modes: [String: [String: Any]], batch: Int, single: Int, newTokens: Int) {
        #expect(Set(modes.keys) == ["single_prompt", "single_decode", "batched"], "\(modes.keys)")
        #expect(modes["batched"]?["tokens"] as? Int == batch * newTokens)
        #expect(modes["batched"]?["rows"] as? Int == batch)
        #expect(modes["single_decode"]?["tokens"] as? Int == single * (newTokens - 1))
        #expect(modes["single_prompt"]?["tokens"] as? Int == modes["single_prompt"]?["prompt_tokens"] as? Int)
        for (mode, line) in modes {
            #expect(line["engine"] as? String == "workbench", "\(mode)")
            #expect(((line["tokens_per_sec"] as? NSNumber)?.doubleValue ?? 0) > 0, "\(mode): \(line)")
            #expect(line["new_tokens_per_row"] as? Int == newTokens, "\(mode)")
        }
        let fingerprints = Set(modes.values.compactMap { $0["prompts_fingerprint"] as? String })
        #expect(fingerprints.count == 1, "\(fingerprints)")
    }

    @Test func aTinyModelMakesExactlyBatchTimesNewTokens() throws {
        let dir = try RealModelCLITests.tempDir("bench-generate")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let ck = try RealModelCLITests.tinyCheckpoint(in: dir, tokenizer: nil)
        // Two questions for three rows: the batch reuses the list from its start.
        let prompts = try Self.prompts(in: dir, ["Tom has 3 apples and buys 4 more. How many?", "What is 2 + 5?"])
        let r = try S.run(S.workbench, ["bench", "generate", "--model", ck, "--prompts", prompts, "--prompt", "plain",
                                        "--batch", "3", "--single", "2", "--new-tokens", "5", "--repeats", "2", "--threads", "2"])
        #expect(r.status == 0, "\(r.all)")
        Self.expectCounts(try Self.lines(r.stdout), batch: 3, single: 2, newTokens: 5)
    }

    @Test(.enabled(if: RealModelCLITests.model != nil, "no SmolLM2 GGUF under models/: run scripts/setup-reference.sh"))
    func smolLM2OnTheBenchPromptsMakesExactlyBatchTimesNewTokens() throws {
        let r = try S.run(S.workbench, ["bench", "generate", "--model", RealModelCLITests.model!,
                                        "--batch", "2", "--single", "1", "--new-tokens", "3", "--repeats", "1"], in: S.root)
        #expect(r.status == 0, "\(r.all)")
        let modes = try Self.lines(r.stdout)
        Self.expectCounts(modes, batch: 2, single: 1, newTokens: 3)
        #expect(modes["batched"]?["prompt_format"] as? String == "chat")
    }

    @Test func aPromptsFileWithoutQuestionsIsNamedWithTheExpectedShape() throws {
        let dir = try RealModelCLITests.tempDir("bench-generate-bad")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let ck = try RealModelCLITests.tinyCheckpoint(in: dir, tokenizer: nil)
        let bad = dir + "/prompts.json"
        try #"["a bare list"]"#.write(toFile: bad, atomically: true, encoding: .utf8)
        let r = try S.run(S.workbench, ["bench", "generate", "--model", ck, "--prompts", bad, "--prompt", "plain"])
        #expect(r.status != 0)
        #expect(r.stderr.contains(bad) && r.stderr.contains(#"{"questions": ["#), "\(r.all)")
    }

    @Test func chatPromptsOnAModelWithoutAChatTemplateSayWhatIsNeeded() throws {
        let dir = try RealModelCLITests.tempDir("bench-generate-chat")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let ck = try RealModelCLITests.tinyCheckpoint(in: dir, tokenizer: nil)
        let prompts = try Self.prompts(in: dir, ["What is 2 + 5?"])
        let r = try S.run(S.workbench, ["bench", "generate", "--model", ck, "--prompts", prompts])
        #expect(r.status != 0)
        #expect(r.stderr.contains("--prompt chat needs a model with a ChatML chat template"), "\(r.all)")
    }
}
