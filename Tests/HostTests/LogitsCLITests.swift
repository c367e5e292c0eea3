import Engine
import Foundation
import Testing

/// `workbench logits`, the JSON protocol check_transformers_export.py reads the engine through:
/// what it prints and writes must be the engine's own ids and logits, and a bad request must
/// say what is wrong.
@Suite(.enabled(if: FileManager.default.isExecutableFile(atPath: PluginTestSupport.workbench),
                "needs .build/release/workbench (built by scripts/test.sh)"))
struct LogitsCLITests {
    /// Runs the binary with `request` on stdin (through a file, so no pipe can fill).
    static func logits(_ arguments: [String], request: String, in dir: String) throws -> PluginTestSupport.Output {
        let input = dir + "/request.json"
        try request.write(toFile: input, atomically: true, encoding: .utf8)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: PluginTestSupport.workbench)
        p.arguments = ["logits"] + arguments
        p.standardInput = FileHandle(forReadingAtPath: input)
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        let o = out.fileHandleForReading.readDataToEndOfFile(), e = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return .init(status: p.terminationStatus, stdout: String(decoding: o, as: UTF8.self), stderr: String(decoding: e, as: UTF8.self))
    }

    @Test func printsTheEnginesIdsTokensAndWritesItsLogits() throws {
        let dir = try ExportCLITests.tempDir("logits")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let ck = try RealModelCLITests.tinyCheckpoint(in: dir, tokenizer: "byte")
        let r = try Self.logits([ck, "--threads", "1"], request: #"{"prompts": ["ab", "xyz!"], "new_tokens": 3, "logits_dir": "\#(dir)"}"#, in: dir)
        #expect(r.status == 0, "\(r.all)")
        let reply = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        #expect(reply["prompt_ids"] as? [[Int]] == [[97, 98], [120, 121, 122, 33]])

        // The same model through the Engine directly: greedy tokens and the first token's logits
        // (to float rounding: this process may run other thread counts, so other summation orders).
        let model = try Transformer(config: try Checkpoint.readConfig(from: ck))
        try Checkpoint.loadWeights(from: ck, into: model.params)
        let want = Generator(model: model).greedy(prompts: [[97, 98], [120, 121, 122, 33]], options: .init(maxNewTokens: 3, stopToken: ByteTokenizer.eos))
        #expect(reply["tokens"] as? [[Int]] == want.map { $0.map(Int.init) })
        #expect(reply["texts"] as? [String] == want.map { ByteTokenizer().decode($0.map(Int.init)) })
        let forward = IncrementalForward(model: model)
        for (i, prompt) in [[97, 98], [120, 121, 122, 33]].enumerated() {
            let cache = KVCache(config: model.config, batch: 1, capacity: prompt.count)
            let (_, logits) = forward.append(prompt.map { .init(row: 0, token: Int32($0)) }, to: cache)
            let data = try Data(contentsOf: URL(fileURLWithPath: dir + "/\(i).f32"))
            try #require(data.count == 4 * model.config.vocabSize)
            let written: [Float] = data.withUnsafeBytes { raw in
                (0..<(data.count / 4)).map { Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 4 * $0, as: UInt32.self))) }
            }
            let maxDiff = (0..<model.config.vocabSize).map { abs(written[$0] - logits[$0]) }.max()!
            #expect(maxDiff <= 1e-5, "prompt \(i): logits written differ from the engine's by up to \(maxDiff)")
            #expect(written.contains { $0 != 0 })
        }
    }

    @Test func aBadRequestSaysWhatIsWrong() throws {
        let dir = try ExportCLITests.tempDir("logits-bad")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let ck = try RealModelCLITests.tinyCheckpoint(in: dir, tokenizer: "byte")

        let notJSON = try Self.logits([ck], request: "prompts: ab", in: dir)
        #expect(notJSON.status != 0 && notJSON.stderr.contains("the request on stdin is not"), "\(notJSON.all)")

        let chat = try Self.logits([ck], request: #"{"prompts": ["ab"], "chat": true, "new_tokens": 2}"#, in: dir)
        #expect(chat.status != 0 && chat.stderr.contains("needs a model with a ChatML chat template"), "\(chat.all)")

        // tinyCheckpoint's context is 256.
        let long = try Self.logits([ck], request: #"{"prompts": ["\#(String(repeating: "a", count: 250))"], "new_tokens": 10}"#, in: dir)
        #expect(long.status != 0 && long.stderr.contains("prompt 0 has 250 tokens") && long.stderr.contains("context of 256"), "\(long.all)")

        let none = try Self.logits([ck], request: #"{"prompts": ["ab"], "new_tokens": 0}"#, in: dir)
        #expect(none.status != 0 && none.stderr.contains("new_tokens must be in 1…1,048,576 (got 0)"), "\(none.all)")
    }
}
