import Foundation
import Testing
@testable import Engine
import TestSupport

// SmolLM2 loaded from its GGUF and exported by the engine (HFExport, as `workbench export`
// writes it) must be a folder transformers' LlamaForCausalLM computes the same model from. The check is an independent numpy forward
// written from transformers' Llama (scripts/reference/hf_llama_reference.py): it reads only
// the saved config.json and model.safetensors, refuses any tensor name or shape
// LlamaForCausalLM would not load, and rotates q/k the Hugging Face way.

private enum HFRef {
    static let script = ReferenceEnvironment.packageRoot + "/scripts/reference/hf_llama_reference.py"
    static var ready: Bool { ReferenceEnvironment.model != nil && ReferenceEnvironment.python != nil }
}

/// Little-endian float32 values, as the reference writes logits.
private func readFloats(_ path: String) throws -> [Float] {
    let data = try Data(contentsOf: URL(fileURLWithPath: path))
    return data.withUnsafeBytes { raw in
        (0..<(data.count / 4)).map { Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 4 * $0, as: UInt32.self))) }
    }
}

@Test(.enabled(if: HFRef.ready, "needs \(ReferenceEnvironment.modelRelative) and a Python with numpy: \(ReferenceEnvironment.setupHint)"))
func smolLM2ExportedByTheEngineRunsTheSameUnderAHuggingFaceLlamaForward() throws {
    let loaded = try GGUFModel.load(path: ReferenceEnvironment.model!, maxSeqLen: 512)
    let tok = loaded.tokenizer, template = try #require(loaded.chatTemplate)
    let stop = try #require(template.endToken(in: tok))
    let dir = try makeTempDir("hf-layout")
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let folder = dir + "/model"
    try HFExport.write(model: loaded.model, tokens: SpecialTokenIds(tok), to: folder)

    let prompts: [[Int]] = [
        tok.encode("The capital of France is"),
        template.encode([.user("What is 12 + 30?")], with: tok),
        template.encode([.user("Natalia sold clips to 48 of her friends in April, and then she sold half as many clips in May. How many clips did Natalia sell altogether in April and May?")], with: tok),
    ]
    let newTokens = 12
    let got = Generator(model: loaded.model).greedy(prompts: prompts.map { $0.map(Int32.init) },
                                                    options: .init(maxNewTokens: newTokens, stopToken: stop))

    let request: [String: Any] = ["model_dir": folder, "prompts": prompts, "new_tokens": newTokens, "stop": stop, "logits_dir": dir]
    let reply = try ReferenceEnvironment.run(ReferenceEnvironment.python!, [HFRef.script],
                                             input: String(decoding: try JSONSerialization.data(withJSONObject: request), as: UTF8.self))
    let json = try #require(try JSONSerialization.jsonObject(with: Data(reply.utf8)) as? [String: Any])
    let want = try #require(json["tokens"] as? [[Int]])

    let forward = IncrementalForward(model: loaded.model)
    let V = loaded.model.config.vocabSize
    for (i, prompt) in prompts.enumerated() {
        let g = got[i].map(Int.init)
        #expect(g == want[i], "prompt \(i): engine \(g) «\(tok.decode(g))» vs HF-layout reference \(want[i]) «\(tok.decode(want[i]))»")
        let cache = KVCache(config: loaded.model.config, batch: 1, capacity: prompt.count)
        let (_, logits) = forward.append(prompt.map { .init(row: 0, token: Int32($0)) }, to: cache)
        let ref = try readFloats(dir + "/\(i).f32")
        try #require(ref.count == V)
        var maxDiff: Float = 0, maxAbs: Float = 0
        for j in 0..<V {
            maxDiff = max(maxDiff, abs(logits[j] - ref[j]))
            maxAbs = max(maxAbs, abs(ref[j]))
        }
        print("HF layout, prompt \(i) (\(prompt.count) tokens): max |Δlogit| \(maxDiff) of max |logit| \(maxAbs); «\(tok.decode(g))»")
        // Both sides are float32 with different summation orders over 30 layers (measured: up
        // to 3.6e-5 with logits up to 34); a wrong name, transposed matrix or rotary layout
        // moves logits by whole units.
        #expect(maxDiff <= 1e-4, "prompt \(i): logits differ by up to \(maxDiff) (largest logit \(maxAbs))")
    }
}

/// The parts SmolLM2 does not exercise: an untied lm_head, another rotary base and epsilon,
/// two query heads per key/value head, norm weights other than one.
@Test(.enabled(if: ReferenceEnvironment.python != nil, "needs a Python with numpy: \(ReferenceEnvironment.setupHint)"))
func untiedModelExportedByTheEngineRunsTheSameUnderAHuggingFaceLlamaForward() throws {
    let config = ModelConfig(vocabSize: 64, dim: 32, layers: 2, heads: 4, kvHeads: 2, ffnDim: 48, maxSeqLen: 64,
                             ropeTheta: 500_000, normEps: 1e-6, tiedEmbeddings: false)
    let model = try Transformer(config: config, seed: 3)
    model.randomizeMatrices(seed: 4, scale: 0.3)
    var rng = RNG(seed: 5, stream: "norms")
    for e in model.params.entries where e.shape.count == 1 {
        for i in 0..<e.count { model.params.values[e.offset + i] = 1 + 0.2 * rng.normal() }
    }
    let dir = try makeTempDir("hf-layout-untied")
    defer { try? FileManager.default.removeItem(atPath: dir) }
    try HFExport.write(model: model, tokens: SpecialTokenIds(bos: 0, eos: 1, pad: 1), to: dir + "/model")

    let prompts: [[Int]] = [[5, 9, 17, 33, 2], Array(10..<40)]
    let request: [String: Any] = ["model_dir": dir + "/model", "prompts": prompts, "new_tokens": 8, "stop": NSNull(), "logits_dir": dir]
    let reply = try ReferenceEnvironment.run(ReferenceEnvironment.python!, [HFRef.script],
                                             input: String(decoding: try JSONSerialization.data(withJSONObject: request), as: UTF8.self))
    let want = try #require((try JSONSerialization.jsonObject(with: Data(reply.utf8)) as? [String: Any])?["tokens"] as? [[Int]])
    let got = Generator(model: model).greedy(prompts: prompts.map { $0.map(Int32.init) }, options: .init(maxNewTokens: 8, stopToken: -1))
    let forward = IncrementalForward(model: model)
    for (i, prompt) in prompts.enumerated() {
        #expect(got[i].map(Int.init) == want[i], "prompt \(i)")
        let cache = KVCache(config: config, batch: 1, capacity: prompt.count)
        let (_, logits) = forward.append(prompt.map { .init(row: 0, token: Int32($0)) }, to: cache)
        let ref = try readFloats(dir + "/\(i).f32")
        try #require(ref.count == config.vocabSize)
        let maxDiff = (0..<config.vocabSize).map { abs(logits[$0] - ref[$0]) }.max()!
        let maxAbs = ref.map(abs).max()!
        #expect(maxAbs > 1, "the random model's logits are too flat to tell layouts apart (max |logit| \(maxAbs))")
        #expect(maxDiff <= 1e-4, "prompt \(i): logits differ by up to \(maxDiff) (largest logit \(maxAbs))")
    }
}
