import Engine
import Foundation
import Testing
import TestSupport

/// `workbench eval|sft` started from a real model (SmolLM2-135M-Instruct as GGUF) as a user
/// runs them: the built binary as a subprocess on a two-question GSM8K file. Skips with a
/// message when the model is absent (scripts/setup-reference.sh fetches it).
@Suite(.enabled(if: FileManager.default.isExecutableFile(atPath: PluginTestSupport.workbench),
                "needs .build/release/workbench (built by scripts/test.sh)"))
struct RealModelCLITests {
    typealias S = PluginTestSupport

    static let model = ReferenceModel.smolLM2

    static func tempDir(_ label: String) throws -> String {
        let dir = NSTemporaryDirectory() + "workbench-\(label)-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }

    /// Two short GSM8K-style questions with rationales.
    static func questions(in dir: String) throws -> String {
        let path = dir + "/two.jsonl"
        try """
        {"question": "Tom has 3 apples and buys 4 more. How many apples does he have?", "answer": "Tom has 3 + 4 = <<3+4=7>>7 apples.\\n#### 7"}
        {"question": "A box holds 5 pens. How many pens are in 2 boxes?", "answer": "2 boxes hold 2 * 5 = <<2*5=10>>10 pens.\\n#### 10"}

        """.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// The completions an `eval --dump` file holds.
    static func completions(_ path: String) throws -> [String] {
        try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").map { line in
            let row = try JSONSerialization.jsonObject(with: Data(line.utf8)) as! [String: Any]
            return row["completion"] as! String
        }
    }

    /// Readable English: mostly letters, digits, spaces and punctuation, with several words.
    /// Text decoded with the wrong tokenizer is a stream of odd bytes instead.
    static func isNormalText(_ s: String) -> Bool {
        let plain = s.unicodeScalars.filter { $0.isASCII && ($0.properties.isAlphabetic || $0 == " " || $0.properties.numericType != nil || "+-*=.,:?!\n'()".unicodeScalars.contains($0)) }
        let words = s.split(separator: " ").filter { $0.count >= 2 && $0.allSatisfy(\.isLetter) }
        return !s.isEmpty && Double(plain.count) >= 0.9 * Double(s.unicodeScalars.count) && words.count >= 2
    }

    func evalArguments(_ source: String, data: String, dump: String) -> [String] {
        ["eval", "--checkpoint", source, "--data", "gsm8k:" + data, "--eval-data", "gsm8k:" + data, "--examples", "2",
         "--max-new-tokens", "16", "--threads", "2", "--dump", dump]
    }

    @Test(.enabled(if: model != nil, "no SmolLM2 GGUF under models/: run scripts/setup-reference.sh"))
    func evalRunsOnAGGUFModel() throws {
        let dir = try Self.tempDir("gguf-eval")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let data = try Self.questions(in: dir)
        let r = try S.run(S.workbench, evalArguments(Self.model!, data: data, dump: dir + "/plain.jsonl"))
        #expect(r.status == 0, "\(r.all)")
        #expect(r.stdout.range(of: #"greedy accuracy \d+\.\d% \(\d/2\)"#, options: .regularExpression) != nil, "\(r.stdout)")
        let plain = try Self.completions(dir + "/plain.jsonl")
        #expect(plain.count == 2 && plain.allSatisfy(Self.isNormalText), "\(plain)")

        // As a chat turn: the template's markers are special tokens, never echoed as text.
        let c = try S.run(S.workbench, evalArguments(Self.model!, data: data, dump: dir + "/chat.jsonl") + ["--prompt", "chat"])
        #expect(c.status == 0, "\(c.all)")
        let chat = try Self.completions(dir + "/chat.jsonl")
        #expect(chat.count == 2 && chat.allSatisfy { Self.isNormalText($0) && !$0.contains("<|im_") }, "\(chat)")
    }

    @Test(.enabled(if: model != nil, "no SmolLM2 GGUF under models/: run scripts/setup-reference.sh"))
    func sftFromAGGUFModelSavesACheckpointThatReloadsItsTokenizer() throws {
        let dir = try Self.tempDir("gguf-sft")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let data = try Self.questions(in: dir)
        let out = dir + "/run"
        let sft = try S.run(S.workbench, ["sft", "--init-from", Self.model!, "--data", "gsm8k:" + data, "--eval-data", "gsm8k:" + data,
                                          "--steps", "1", "--batch", "2", "--lr", "1e-5", "--warmup", "0", "--eval-examples", "2",
                                          "--max-new-tokens", "8", "--threads", "2", "--out", out])
        #expect(sft.status == 0, "\(sft.all)")
        let absolute = URL(fileURLWithPath: Self.model!).standardizedFileURL.path
        #expect(try Checkpoint.readMetadata(from: out + "/final")["tokenizer"] == "gguf:" + absolute)
        #expect(try Checkpoint.readConfig(from: out + "/final").maxSeqLen == 1024)  // --context's default for GGUF

        let r = try S.run(S.workbench, evalArguments(out + "/final", data: data, dump: dir + "/after.jsonl"))
        #expect(r.status == 0, "\(r.all)")
        #expect(r.stdout.contains("greedy accuracy"), "\(r.stdout)")
        let after = try Self.completions(dir + "/after.jsonl")
        #expect(after.count == 2 && after.allSatisfy(Self.isNormalText), "\(after)")
    }

    /// A small checkpoint saved by the Engine with the given "tokenizer" metadata (none: nil).
    static func tinyCheckpoint(in dir: String, tokenizer: String?) throws -> String {
        let path = dir + "/ck"
        let model = try Transformer(config: ModelConfig(vocabSize: ByteTokenizer().vocabSize, dim: 16, layers: 1, heads: 2, kvHeads: 2, ffnDim: 32, maxSeqLen: 256), seed: 1)
        try Checkpoint.save(model.params, config: model.config, tokens: SpecialTokenIds(ByteTokenizer()), to: path, metadata: tokenizer.map { ["tokenizer": $0] } ?? [:])
        return path
    }

    @Test func aCheckpointNamingAMissingGGUFFailsWithItsPath() throws {
        let dir = try Self.tempDir("gguf-missing")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let data = try Self.questions(in: dir)
        let missing = dir + "/moved-away/SmolLM2.gguf"
        let ck = try Self.tinyCheckpoint(in: dir, tokenizer: "gguf:" + missing)
        let r = try S.run(S.workbench, evalArguments(ck, data: data, dump: dir + "/d.jsonl"))
        #expect(r.status != 0)
        #expect(r.stderr.contains(missing) && r.stderr.contains("missing"), "\(r.all)")
    }

    @Test func aCheckpointWithoutTokenizerMetadataIsByteAndHasNoChatTemplate() throws {
        let dir = try Self.tempDir("byte-ck")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let data = try Self.questions(in: dir)
        let ck = try Self.tinyCheckpoint(in: dir, tokenizer: nil)
        let r = try S.run(S.workbench, evalArguments(ck, data: data, dump: dir + "/d.jsonl"))
        #expect(r.status == 0, "\(r.all)")
        #expect(r.stdout.contains("greedy accuracy"))
        let chat = try S.run(S.workbench, evalArguments(ck, data: data, dump: dir + "/d.jsonl") + ["--prompt", "chat"])
        #expect(chat.status != 0)
        #expect(chat.stderr.contains("--prompt chat needs a model with a ChatML chat template"), "\(chat.all)")
    }
}
