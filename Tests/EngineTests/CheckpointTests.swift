import Foundation
import Testing
@testable import Engine

private let tinyConfig = ModelConfig(vocabSize: 16, dim: 8, layers: 1, heads: 2, kvHeads: 1, ffnDim: 12,
                                     maxSeqLen: 32, ropeTheta: 10000, normEps: 1e-5, tiedEmbeddings: true)

/// Byte-tokenizer-like ids: no BOS, EOS and padding at the top of the vocabulary.
private let tinyTokens = SpecialTokenIds(bos: nil, eos: 14, pad: 15)

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
    try Checkpoint.save(saved, config: tinyConfig, tokens: tinyTokens, to: dir, metadata: ["step": "10"])

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
    try Checkpoint.save(other, config: tinyConfig, tokens: tinyTokens, to: dir)
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
    try Checkpoint.save(filledStore(), config: tinyConfig, tokens: tinyTokens, to: dir)

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
    let e = checkpointError { try Checkpoint.save(filledStore(), config: bad, tokens: tinyTokens, to: dir) }
    #expect(e?.contains("divisible") == true)
    #expect(try FileManager.default.contentsOfDirectory(atPath: dir).isEmpty)
}

private func configObject(_ dir: String) throws -> [String: Any] {
    try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir + "/config.json"))) as! [String: Any]
}

@Test func checkpointConfigStatesEveryKeyTransformersWouldOtherwiseDefault() throws {
    // LlamaConfig's defaults (bos 1, eos 2, untied embeddings, eps 1e-6, context 2048, no
    // dtype) are wrong for this model; each key must be written with the model's own value.
    let dir = try makeTempDir("ckpt-keys")
    var config = tinyConfig
    config.ropeTheta = 100_000
    try Checkpoint.save(filledStore(), config: config, tokens: tinyTokens, to: dir)
    let json = try configObject(dir)
    #expect(json["architectures"] as? [String] == ["LlamaForCausalLM"])
    #expect(json["model_type"] as? String == "llama")
    #expect(json["hidden_act"] as? String == "silu")
    #expect(json["head_dim"] as? Int == 4)
    #expect(json["attention_bias"] as? Bool == false && json["mlp_bias"] as? Bool == false)
    #expect(json["vocab_size"] as? Int == 16 && json["hidden_size"] as? Int == 8 && json["intermediate_size"] as? Int == 12)
    #expect(json["num_hidden_layers"] as? Int == 1 && json["num_attention_heads"] as? Int == 2 && json["num_key_value_heads"] as? Int == 1)
    #expect(json["max_position_embeddings"] as? Int == 32)
    #expect(json["rms_norm_eps"] as? Double == 1e-5)
    #expect(json["tie_word_embeddings"] as? Bool == true)
    #expect(json["rope_theta"] as? Double == 100_000)
    let rope = json["rope_parameters"] as? [String: Any]
    #expect(rope?["rope_type"] as? String == "default" && rope?["rope_theta"] as? Double == 100_000)
    #expect(json["rope_scaling"] is NSNull)
    // No BOS is said as null: a missing key would mean id 1.
    #expect(json["bos_token_id"] is NSNull)
    #expect(json["eos_token_id"] as? Int == 14 && json["pad_token_id"] as? Int == 15)
    #expect(json["dtype"] as? String == "float32" && json["torch_dtype"] as? String == "float32")
    #expect(try Checkpoint.readConfig(from: dir) == config)

    let generation = try JSONSerialization.jsonObject(with: HFConfig.generationJSON(tokens: SpecialTokenIds(bos: 3, eos: 4, pad: 4))) as! [String: Any]
    #expect(generation as NSDictionary == ["bos_token_id": 3, "eos_token_id": 4, "pad_token_id": 4] as NSDictionary)
}

@Test func checkpointSaveRefusesTokenIdsOutsideTheVocabulary() throws {
    let dir = try makeTempDir("ckpt-token-range")
    let e = checkpointError { try Checkpoint.save(filledStore(), config: tinyConfig, tokens: SpecialTokenIds(bos: nil, eos: 256, pad: 15), to: dir) }
    #expect(e?.contains("eos token id 256 is outside the vocabulary of 16") == true, "\(String(describing: e))")
    #expect(try FileManager.default.contentsOfDirectory(atPath: dir).isEmpty)
}

@Test func checkpointReadsOldConfigsAndTransformers5Configs() throws {
    let dir = try makeTempDir("ckpt-versions")
    // What Checkpoint.save wrote before the Hugging Face keys were added.
    try """
    {"architectures":["LlamaForCausalLM"],"hidden_size":8,"intermediate_size":12,"max_position_embeddings":32,
     "model_type":"llama","num_attention_heads":2,"num_hidden_layers":1,"num_key_value_heads":1,
     "rms_norm_eps":1.0000000000000001e-05,"rope_theta":10000,"tie_word_embeddings":true,"vocab_size":16}
    """.write(toFile: dir + "/config.json", atomically: true, encoding: .utf8)
    #expect(try Checkpoint.readConfig(from: dir) == tinyConfig)

    // transformers 5 keeps the rotary base only inside rope_parameters.
    try """
    {"architectures":["LlamaForCausalLM"],"attention_bias":false,"bos_token_id":1,"dtype":"bfloat16","eos_token_id":2,
     "head_dim":64,"hidden_act":"silu","hidden_size":576,"intermediate_size":1536,"max_position_embeddings":8192,
     "mlp_bias":false,"model_type":"llama","num_attention_heads":9,"num_hidden_layers":30,"num_key_value_heads":3,
     "rms_norm_eps":1e-05,"rope_parameters":{"rope_theta":100000.0,"rope_type":"default"},
     "tie_word_embeddings":true,"transformers_version":"5.24.0","vocab_size":49152}
    """.write(toFile: dir + "/config.json", atomically: true, encoding: .utf8)
    #expect(try Checkpoint.readConfig(from: dir) == .smolLM2_135M)
}

@Test func checkpointRefusesConfigsOfModelsTheEngineDoesNotCompute() throws {
    let dir = try makeTempDir("ckpt-unsupported")
    let base = #""hidden_size":8,"intermediate_size":12,"max_position_embeddings":32,"num_attention_heads":2,"num_hidden_layers":1,"num_key_value_heads":1,"rms_norm_eps":1e-05,"tie_word_embeddings":true,"vocab_size":16"#
    let cases: [(String, String)] = [
        (#""hidden_act":"gelu""#, #"hidden_act is "gelu""#),
        (#""attention_bias":true"#, "attention_bias is true"),
        (#""mlp_bias":true"#, "mlp_bias is true"),
        (#""head_dim":8"#, "head_dim is 8 but hidden_size / num_attention_heads is 4"),
        (#""rope_theta":10000,"rope_scaling":{"rope_type":"llama3","factor":8.0}"#, #"rope_scaling asks for rope_type "llama3""#),
        (#""rope_parameters":{"rope_type":"linear","rope_theta":10000,"factor":2.0}"#, #"rope_parameters asks for rope_type "linear""#),
        (#""rope_parameters":{"full_attention":{"rope_type":"default","rope_theta":10000}}"#, "per layer type"),
        (#""rope_theta":10000,"rope_parameters":{"rope_type":"default","rope_theta":500000}"#, "rope_theta is 10000.0 but rope_parameters.rope_theta is 500000.0"),
    ]
    for (extra, message) in cases {
        try "{\(base),\(extra)}".write(toFile: dir + "/config.json", atomically: true, encoding: .utf8)
        let e = checkpointError { _ = try Checkpoint.readConfig(from: dir) }
        #expect(e?.contains(message) == true && e?.contains("config.json") == true, "\(extra): \(String(describing: e))")
    }
    // A context of 1e12 positions is refused with its figure instead of allocating 64 TB.
    try "{\(base.replacingOccurrences(of: "\"max_position_embeddings\":32", with: "\"max_position_embeddings\":1000000000000"))}"
        .write(toFile: dir + "/config.json", atomically: true, encoding: .utf8)
    let huge = checkpointError { _ = try Checkpoint.readConfig(from: dir) }
    #expect(huge?.contains("max_position_embeddings is 1000000000000, above the largest") == true, "\(String(describing: huge))")
    // The same keys with the engine's values are accepted.
    try "{\(base),\"hidden_act\":\"silu\",\"attention_bias\":false,\"head_dim\":4,\"rope_scaling\":null,\"rope_theta\":10000}"
        .write(toFile: dir + "/config.json", atomically: true, encoding: .utf8)
    #expect(try Checkpoint.readConfig(from: dir) == tinyConfig)
}

/// A NaN or an infinity in saved weights is refused at load, naming the tensor and the index,
/// instead of evaluating to 0% and training into "lower the learning rate".
@Test func checkpointRefusesNonFiniteWeightsNamingTheTensor() throws {
    for bad in [Float.nan, Float.infinity, -Float.infinity] {
        let dir = try makeTempDir("ckpt-nan")
        let store = filledStore()
        let q = store.entry("model.layers.0.self_attn.q_proj.weight")!
        store.values[q.offset + 5] = bad
        try Checkpoint.save(store, config: tinyConfig, tokens: tinyTokens, to: dir)
        let e = checkpointError { try Checkpoint.loadWeights(from: dir, into: ParameterStore(layout: tinyLayout)) }
        #expect(e?.contains("tensor \"model.layers.0.self_attn.q_proj.weight\" holds \(bad) at flat index 5") == true, "\(e ?? "nil")")
    }
    #expect(filledStore().firstNonFinite() == nil)
}
