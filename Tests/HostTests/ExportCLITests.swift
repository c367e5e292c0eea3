import Engine
import Foundation
import Testing

/// `workbench export` as a user runs it: the built binary on small checkpoints, its refusals
/// and the folder it writes. (That the folder computes the same model under a Hugging Face
/// Llama forward is EngineTests' HFLayoutTests.)
@Suite(.enabled(if: FileManager.default.isExecutableFile(atPath: PluginTestSupport.workbench),
                "needs .build/release/workbench (built by scripts/test.sh)"))
struct ExportCLITests {
    typealias S = PluginTestSupport

    static func tempDir(_ label: String) throws -> String {
        let dir = NSTemporaryDirectory() + "workbench-\(label)-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }

    static func json(_ path: String) throws -> [String: Any] {
        try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as! [String: Any]
    }

    @Test func exportsAByteCheckpointAsAHuggingFaceFolder() throws {
        let dir = try Self.tempDir("export-byte")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let ck = try RealModelCLITests.tinyCheckpoint(in: dir, tokenizer: "byte")
        let out = dir + "/hf/smol"  // the parent does not exist yet either
        let r = try S.run(S.workbench, ["export", ck, "--out", out])
        #expect(r.status == 0, "\(r.all)")
        #expect(r.stdout.contains("no tokenizer files") && r.stdout.contains("256 is EOS"), "\(r.stdout)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: out).sorted() == ["config.json", "generation_config.json", "model.safetensors"])
        // Nothing of the staging folder is left beside it.
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir + "/hf") == ["smol"])

        let config = try Self.json(out + "/config.json")
        #expect(config["eos_token_id"] as? Int == 256 && config["pad_token_id"] as? Int == 257 && config["bos_token_id"] is NSNull)
        #expect(config["architectures"] as? [String] == ["LlamaForCausalLM"] && config["hidden_act"] as? String == "silu")
        let generation = try Self.json(out + "/generation_config.json")
        #expect(generation["eos_token_id"] as? Int == 256 && generation["pad_token_id"] as? Int == 257 && generation["bos_token_id"] is NSNull)

        // The export is still a checkpoint: same config, bit-identical weights, same tokenizer.
        let shape = try Checkpoint.readConfig(from: ck)
        #expect(try Checkpoint.readConfig(from: out) == shape)
        let a = try Transformer(config: shape), b = try Transformer(config: shape)
        try Checkpoint.loadWeights(from: ck, into: a.params)
        try Checkpoint.loadWeights(from: out, into: b.params)
        #expect(a.params.values.array.map(\.bitPattern) == b.params.values.array.map(\.bitPattern))
        #expect(try Checkpoint.readMetadata(from: out)["tokenizer"] == "byte")
    }

    @Test func refusesSourcesThatAreNotCheckpointsAndSaysWhatToGive() throws {
        let dir = try Self.tempDir("export-sources")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        func export(_ source: String) throws -> PluginTestSupport.Output { try S.run(S.workbench, ["export", source, "--out", dir + "/out"]) }

        let missing = try export(dir + "/nope")
        #expect(missing.status != 0 && missing.stderr.contains(dir + "/nope does not exist") && missing.stderr.contains("runs/sft/final"), "\(missing.all)")

        // A run folder: the checkpoint is one level down.
        try FileManager.default.createDirectory(atPath: dir + "/run/final", withIntermediateDirectories: true)
        let run = try export(dir + "/run")
        #expect(run.status != 0 && run.stderr.contains("did you mean \(dir)/run/final?"), "\(run.all)")

        try FileManager.default.createDirectory(atPath: dir + "/half", withIntermediateDirectories: true)
        try "{}".write(toFile: dir + "/half/config.json", atomically: true, encoding: .utf8)
        let half = try export(dir + "/half")
        #expect(half.status != 0 && half.stderr.contains("is not a checkpoint folder: it has no model.safetensors"), "\(half.all)")

        try "x".write(toFile: dir + "/notes.txt", atomically: true, encoding: .utf8)
        let file = try export(dir + "/notes.txt")
        #expect(file.status != 0 && file.stderr.contains("notes.txt is a file; export takes a checkpoint folder"), "\(file.all)")

        // A checkpoint whose config the engine cannot read fails naming the file.
        let ck = try RealModelCLITests.tinyCheckpoint(in: dir, tokenizer: "byte")
        try #"{"hidden_size": 16}"#.write(toFile: ck + "/config.json", atomically: true, encoding: .utf8)
        let bad = try export(ck)
        #expect(bad.status != 0 && bad.stderr.contains(ck + "/config.json") && bad.stderr.contains("missing key"), "\(bad.all)")
        #expect(!FileManager.default.fileExists(atPath: dir + "/out"))
    }

    @Test func refusesAnOutFolderThatHoldsSomethingAndLeavesItAlone() throws {
        let dir = try Self.tempDir("export-out")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let ck = try RealModelCLITests.tinyCheckpoint(in: dir, tokenizer: "byte")

        try FileManager.default.createDirectory(atPath: dir + "/old", withIntermediateDirectories: true)
        try "old".write(toFile: dir + "/old/tokenizer.json", atomically: true, encoding: .utf8)
        let full = try S.run(S.workbench, ["export", ck, "--out", dir + "/old"])
        #expect(full.status != 0 && full.stderr.contains("already holds 1 item (tokenizer.json)") && full.stderr.contains("choose another --out"), "\(full.all)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir + "/old") == ["tokenizer.json"])

        try "x".write(toFile: dir + "/a-file", atomically: true, encoding: .utf8)
        let file = try S.run(S.workbench, ["export", ck, "--out", dir + "/a-file"])
        #expect(file.status != 0 && file.stderr.contains("is a file, not a folder"), "\(file.all)")

        // An empty folder is fine: it is what `mkdir out` leaves.
        try FileManager.default.createDirectory(atPath: dir + "/empty", withIntermediateDirectories: true)
        let empty = try S.run(S.workbench, ["export", ck, "--out", dir + "/empty"])
        #expect(empty.status == 0, "\(empty.all)")
        #expect(FileManager.default.fileExists(atPath: dir + "/empty/model.safetensors"))
    }

    @Test(.enabled(if: RealModelCLITests.model != nil, "no SmolLM2 GGUF under models/: run scripts/setup-reference.sh"))
    func exportsAGGUFModelWithItsTokenizerFiles() throws {
        let dir = try Self.tempDir("export-gguf")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let r = try S.run(S.workbench, ["export", RealModelCLITests.model!, "--out", dir + "/smol"])
        #expect(r.status == 0, "\(r.all)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir + "/smol").sorted()
                == ["config.json", "generation_config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json"])
        #expect(r.stdout.contains("tokenizer.json, tokenizer_config.json (BPE of 49152 tokens") && r.stdout.contains("chat template"), "\(r.stdout)")
        let config = try Self.json(dir + "/smol/config.json")
        // A GGUF keeps its own context (llama.context_length), not eval's default of 1024.
        #expect(config["max_position_embeddings"] as? Int == 8192)
        #expect(config["bos_token_id"] as? Int == 1 && config["eos_token_id"] as? Int == 2 && config["pad_token_id"] as? Int == 2)
        #expect(try Self.json(dir + "/smol/tokenizer_config.json")["model_max_length"] as? Int == 8192)
        let absolute = URL(fileURLWithPath: RealModelCLITests.model!).standardizedFileURL.path
        #expect(try Checkpoint.readMetadata(from: dir + "/smol")["tokenizer"] == "gguf:" + absolute)
    }

    @Test func helpExplainsWhatIsWritten() throws {
        let r = try S.run(S.workbench, ["export", "--help"])
        #expect(r.status == 0)
        // The help is wrapped to the terminal; phrases may break across lines.
        let help = r.stdout.split(whereSeparator: \.isWhitespace).joined(separator: " ")
        for phrase in ["model.safetensors", "config.json", "generation_config.json", "tokenizer.json", "tokenizer_config.json",
                       "chat template", "AutoModelForCausalLM", "AutoTokenizer", "--out", "must not exist yet or be empty"] {
            #expect(help.contains(phrase), "help lacks \(phrase): \(r.stdout)")
        }
        let missingOut = try S.run(S.workbench, ["export", "somewhere"])
        #expect(missingOut.status != 0 && missingOut.stderr.contains("--out"), "\(missingOut.all)")
    }
}
