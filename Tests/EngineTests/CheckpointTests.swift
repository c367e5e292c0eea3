import Foundation
import Testing
@testable import Engine

private let tinyConfig = ModelConfig(vocabSize: 16, dim: 8, layers: 1, heads: 2, kvHeads: 1, ffnDim: 12,
                                     maxSeqLen: 32, ropeTheta: 10000, normEps: 1e-5, tiedEmbeddings: true)

private let tinyLayout: [(String, [Int])] = [
    ("model.embed_tokens.weight", [16, 8]),
    ("model.layers.0.input_layernorm.weight", [8]),
    ("model.layers.0.self_attn.q_proj.weight", [8, 8]),
    ("model.layers.0.mlp.down_proj.weight", [8, 12]),
    ("model.norm.weight", [8]),
]

private func filledStore(_ layout: [(String, [Int])] = tinyLayout, seed: UInt64 = 1) -> ParameterStore {
    let store = ParameterStore(layout: layout)
    var rng = RNG(seed: seed, stream: "checkpoint")
    for i in 0..<store.count { store.values[i] = rng.normal() }
    return store
}

private func checkpointError(_ body: () throws -> Void) -> String? {
    do { try body() } catch let e as CheckpointError { return e.description } catch { return "other: \(error)" }
    return nil
}

@Test func checkpointRoundTripIsBitIdentical() throws {
    let dir = try makeTempDir("ckpt") + "/nested/step-10"
    let saved = filledStore()
    try Checkpoint.save(saved, config: tinyConfig, to: dir, metadata: ["step": "10"])

    let loaded = ParameterStore(layout: tinyLayout)
    try Checkpoint.loadWeights(from: dir, into: loaded)
    #expect(loaded.values.array.map(\.bitPattern) == saved.values.array.map(\.bitPattern))
    #expect(try Checkpoint.readConfig(from: dir) == tinyConfig)

    #expect(try FileManager.default.contentsOfDirectory(atPath: dir).sorted() == ["config.json", "model.safetensors"])
    let file = try Safetensors.read(from: dir + "/model.safetensors")
    #expect(file.metadata == ["format": "pt", "step": "10"])

    // The config must be what transformers needs to pick the Llama class.
    let json = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir + "/config.json"))) as! [String: Any]
    #expect(json["architectures"] as? [String] == ["LlamaForCausalLM"])
    #expect(json["model_type"] as? String == "llama")
    #expect(json["hidden_size"] as? Int == 8)

    // Saving again over the same folder replaces the checkpoint.
    let other = filledStore(seed: 2)
    try Checkpoint.save(other, config: tinyConfig, to: dir)
    try Checkpoint.loadWeights(from: dir, into: loaded)
    #expect(loaded.values.array.map(\.bitPattern) == other.values.array.map(\.bitPattern))
}

@Test func checkpointReadsHubStyleConfigWithExtraKeys() throws {
    let dir = try makeTempDir("ckpt-hub")
    let text = """
    {"architectures":["LlamaForCausalLM"],"bos_token_id":1,"hidden_act":"silu","hidden_size":576,
     "intermediate_size":1536,"max_position_embeddings":8192,"model_type":"llama","num_attention_heads":9,
     "num_hidden_layers":30,"num_key_value_heads":3,"rms_norm_eps":1e-05,"rope_theta":100000,
     "tie_word_embeddings":true,"torch_dtype":"bfloat16","vocab_size":49152}
    """
    try text.write(toFile: dir + "/config.json", atomically: true, encoding: .utf8)
    #expect(try Checkpoint.readConfig(from: dir) == .smolLM2_135M)

    try #"{"hidden_size":8}"#.write(toFile: dir + "/config.json", atomically: true, encoding: .utf8)
    let missing = checkpointError { _ = try Checkpoint.readConfig(from: dir) }
    #expect(missing?.contains("config.json") == true)
    #expect(missing?.contains("missing key") == true)

    let absent = checkpointError { _ = try Checkpoint.readConfig(from: dir + "/nope") }
    #expect(absent?.contains("nope/config.json") == true)
}

@Test func checkpointRejectsMismatchedTensorsAndLeavesStoreUntouched() throws {
    let dir = try makeTempDir("ckpt-bad")
    try Checkpoint.save(filledStore(), config: tinyConfig, to: dir)

    // The model has a tensor the checkpoint lacks.
    let bigger = filledStore(tinyLayout + [("lm_head.weight", [16, 8])], seed: 3)
    let before = bigger.values.array
    let missing = checkpointError { try Checkpoint.loadWeights(from: dir, into: bigger) }
    #expect(missing?.contains("\"lm_head.weight\" [16, 8] is missing") == true)
    #expect(missing?.contains(dir + "/model.safetensors") == true)
    #expect(bigger.values.array.map(\.bitPattern) == before.map(\.bitPattern))

    // Same names, one shape differs.
    var reshaped = tinyLayout
    reshaped[3] = ("model.layers.0.mlp.down_proj.weight", [12, 8])
    let wrongShape = checkpointError { try Checkpoint.loadWeights(from: dir, into: ParameterStore(layout: reshaped)) }
    #expect(wrongShape?.contains("\"model.layers.0.mlp.down_proj.weight\" has shape [8, 12] but the model expects [12, 8]") == true)

    // The checkpoint has a tensor the model does not.
    let extra = checkpointError { try Checkpoint.loadWeights(from: dir, into: ParameterStore(layout: Array(tinyLayout.dropLast()))) }
    #expect(extra?.contains("\"model.norm.weight\" is not part of the model") == true)

    let noDir = checkpointError { try Checkpoint.loadWeights(from: dir + "/absent", into: filledStore()) }
    #expect(noDir?.contains("absent/model.safetensors") == true)
}

@Test func checkpointLoadsHalfPrecisionWeights() throws {
    // Hub checkpoints are often BF16; loading widens them into the F32 store.
    let dir = try makeTempDir("ckpt-bf16")
    var header = Array(#"{"w":{"dtype":"BF16","shape":[2],"data_offsets":[0,4]}}"#.utf8)
    while header.count % 8 != 0 { header.append(UInt8(ascii: " ")) }
    var bytes: [UInt8] = []
    withUnsafeBytes(of: UInt64(header.count).littleEndian) { bytes.append(contentsOf: $0) }
    bytes += header + [0x80, 0x3F, 0x20, 0xC0]  // 1.0, -2.5
    try Data(bytes).write(to: URL(fileURLWithPath: dir + "/model.safetensors"))
    let store = ParameterStore(layout: [("w", [2])])
    try Checkpoint.loadWeights(from: dir, into: store)
    #expect(store.values.array == [1, -2.5])
}

@Test func checkpointRefusesInvalidConfig() throws {
    let dir = try makeTempDir("ckpt-invalid")
    var bad = tinyConfig
    bad.heads = 3
    let e = checkpointError { try Checkpoint.save(filledStore(), config: bad, to: dir) }
    #expect(e?.contains("divisible") == true)
    #expect(try FileManager.default.contentsOfDirectory(atPath: dir).isEmpty)
}
