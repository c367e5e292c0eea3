import Foundation
import Testing
@testable import Engine

// Importing a llama GGUF (SmolLM2-135M-Instruct) into the engine: config, tensor names, the q/k
// row order, the chat template, and greedy generation against an independent numpy forward
// (scripts/reference/llama_reference.py).

private enum SmolRef {
    static let packageRoot = ReferenceEnvironment.packageRoot
    static let script = packageRoot + "/scripts/reference/llama_reference.py"
    static let setupHint = ReferenceEnvironment.setupHint
    static var python: String? { ReferenceEnvironment.python }
    static let modelRelative = ReferenceEnvironment.modelRelative
    static var model: String? { ReferenceEnvironment.model }

    @discardableResult
    static func run(_ executable: String, _ arguments: [String], input: String = "") throws -> String {
        try ReferenceEnvironment.run(executable, arguments, input: input)
    }
}

// MARK: - A tiny llama GGUF, for the loader's errors and the q/k row order

private func le<T: FixedWidthInteger>(_ x: T) -> [UInt8] { withUnsafeBytes(of: x.littleEndian) { Array($0) } }
private func gstr(_ s: String) -> [UInt8] { le(UInt64(s.utf8.count)) + Array(s.utf8) }

private enum Meta {
    case u32(UInt32), f32(Float), str(String), strs([String])
    var bytes: [UInt8] {
        switch self {
        case .u32(let v): return le(UInt32(4)) + le(v)
        case .f32(let v): return le(UInt32(6)) + le(v.bitPattern)
        case .str(let s): return le(UInt32(8)) + gstr(s)
        case .strs(let a): return le(UInt32(9)) + le(UInt32(8)) + le(UInt64(a.count)) + a.flatMap(gstr)
        }
    }
}

/// An F32 GGUF file; tensors are given in numpy (row-major) shape.
private func ggufBytes(_ metadata: [(String, Meta)], _ tensors: [(String, [Int], [Float])]) -> [UInt8] {
    var out = Array("GGUF".utf8) + le(UInt32(3)) + le(UInt64(tensors.count)) + le(UInt64(metadata.count))
    for (k, v) in metadata { out += gstr(k) + v.bytes }
    var offset = 0
    var data: [UInt8] = []
    for (name, shape, values) in tensors {
        out += gstr(name) + le(UInt32(shape.count)) + shape.reversed().flatMap { le(UInt64($0)) } + le(UInt32(0)) + le(UInt64(offset))
        data += values.flatMap { le($0.bitPattern) }
        while data.count % 32 != 0 { data.append(0) }
        offset = data.count
    }
    while out.count % 32 != 0 { out.append(0) }
    return out + data
}

/// dim 8, 2 heads of 4, 1 kv head, ffn 12, vocab 5, 1 layer; value v of tensor t is t·1000 + index.
private struct TinyLlama {
    var architecture = "llama"
    var drop: String? = nil
    var reshape: (String, [Int])? = nil
    var extra: (String, [Int])? = nil

    static let shapes: [(String, [Int])] = [
        ("token_embd.weight", [5, 8]), ("blk.0.attn_norm.weight", [8]),
        ("blk.0.attn_q.weight", [8, 8]), ("blk.0.attn_k.weight", [4, 8]), ("blk.0.attn_v.weight", [4, 8]),
        ("blk.0.attn_output.weight", [8, 8]), ("blk.0.ffn_norm.weight", [8]),
        ("blk.0.ffn_gate.weight", [12, 8]), ("blk.0.ffn_up.weight", [12, 8]), ("blk.0.ffn_down.weight", [8, 12]),
        ("output_norm.weight", [8]),
    ]

    func file() throws -> GGUFFile {
        let meta: [(String, Meta)] = [
            ("general.architecture", .str(architecture)),
            ("\(architecture).block_count", .u32(1)), ("\(architecture).context_length", .u32(64)),
            ("\(architecture).embedding_length", .u32(8)), ("\(architecture).feed_forward_length", .u32(12)),
            ("\(architecture).attention.head_count", .u32(2)), ("\(architecture).attention.head_count_kv", .u32(1)),
            ("\(architecture).rope.freq_base", .f32(10000)),
            ("\(architecture).attention.layer_norm_rms_epsilon", .f32(1e-5)),
            ("tokenizer.ggml.tokens", .strs(["a", "b", "c", "d", "e"])),
        ]
        var tensors: [(String, [Int], [Float])] = []
        for (t, (name, shape)) in Self.shapes.enumerated() where name != drop {
            let s = reshape?.0 == name ? reshape!.1 : shape
            tensors.append((name, s, (0..<s.reduce(1, *)).map { Float(t * 1000 + $0) }))
        }
        if let (name, shape) = extra { tensors.append((name, shape, (0..<shape.reduce(1, *)).map { -Float($0) })) }
        return try GGUFFile(bytes: ggufBytes(meta, tensors), source: "tiny.gguf")
    }
}

private func modelError(_ body: () throws -> Void) -> GGUFModelError? {
    do { try body() } catch let e as GGUFModelError { return e } catch { Issue.record("unexpected error \(error)") }
    return nil
}

@Test func ggufModelLoadsATinyLlamaAndUndoesTheRotaryPermutation() throws {
    let m = try GGUFModel.loadTransformer(TinyLlama().file())
    let c = m.config
    #expect(c == ModelConfig(vocabSize: 5, dim: 8, layers: 1, heads: 2, kvHeads: 1, ffnDim: 12, maxSeqLen: 64,
                             ropeTheta: 10000, normEps: 1e-5, tiedEmbeddings: true))
    // llama.cpp's converter: w.reshape(heads, 2, hd/2, in).swapaxes(1, 2), so the file's row
    // h·hd + 2j + s is Hugging Face's row h·hd + s·hd/2 + j. Value = tensor·1000 + row·8 + col.
    func expectRows(_ name: String, tensor: Int, heads: Int) {
        let w = m.params.value(name)
        var bad = 0
        for h in 0..<heads { for s in 0..<2 { for j in 0..<2 { for col in 0..<8 {
            let hfRow = h * 4 + s * 2 + j, fileRow = h * 4 + 2 * j + s
            if w[hfRow * 8 + col] != Float(tensor * 1000 + fileRow * 8 + col) { bad += 1 }
        } } } }
        #expect(bad == 0, "\(name): \(bad) values in the wrong place")
    }
    expectRows("model.layers.0.self_attn.q_proj.weight", tensor: 2, heads: 2)
    expectRows("model.layers.0.self_attn.k_proj.weight", tensor: 3, heads: 1)
    // Other tensors are copied in file order.
    let v = m.params.value("model.layers.0.self_attn.v_proj.weight"), down = m.params.value("model.layers.0.mlp.down_proj.weight")
    #expect((0..<32).allSatisfy { v[$0] == Float(4000 + $0) })
    #expect((0..<96).allSatisfy { down[$0] == Float(9000 + $0) })
    #expect(m.params.value("model.norm.weight")[7] == 10_007)
}

@Test func ggufModelErrorsNameTheTensorOrArchitecture() throws {
    let missing = modelError { _ = try GGUFModel.loadTransformer(TinyLlama(drop: "blk.0.attn_k.weight").file()) }
    #expect(missing?.kind == .missingTensor)
    #expect(missing?.description.contains("\"blk.0.attn_k.weight\"") == true, "\(String(describing: missing))")
    #expect(missing?.description.contains("tiny.gguf") == true)

    let shaped = modelError { _ = try GGUFModel.loadTransformer(TinyLlama(reshape: ("blk.0.ffn_up.weight", [8, 12])).file()) }
    #expect(shaped?.kind == .wrongShape)
    #expect(shaped?.description.contains("\"blk.0.ffn_up.weight\"") == true, "\(String(describing: shaped))")

    let extra = modelError { _ = try GGUFModel.loadTransformer(TinyLlama(extra: ("rope_freqs.weight", [2])).file()) }
    #expect(extra?.kind == .unexpectedTensor)
    #expect(extra?.description.contains("rope_freqs.weight") == true, "\(String(describing: extra))")

    let arch = modelError { _ = try GGUFModel.loadTransformer(TinyLlama(architecture: "qwen2").file()) }
    #expect(arch?.kind == .unsupportedArchitecture)
    #expect(arch?.description.contains("\"qwen2\"") == true, "\(String(describing: arch))")

    // output.weight present: an untied head, loaded as lm_head and checked like the others.
    let untied = try GGUFModel.loadTransformer(TinyLlama(extra: ("output.weight", [5, 8])).file())
    #expect(!untied.config.tiedEmbeddings)
    #expect(untied.params.value("lm_head.weight")[39] == -39)
    let badHead = modelError { _ = try GGUFModel.loadTransformer(TinyLlama(extra: ("output.weight", [8, 5])).file()) }
    #expect(badHead?.kind == .wrongShape)
    #expect(badHead?.description.contains("\"output.weight\"") == true, "\(String(describing: badHead))")
}

// MARK: - Chat template

@Test func chatTemplateRendersChatMLWithTheDefaultSystemMessage() {
    let t = ChatTemplate.smolLM2
    #expect(t.render([.user("Hi")]) ==
        "<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n")
    #expect(t.render([.system("Be brief."), .user("Hi"), .assistant("Hello"), .user("2+2?")], addGenerationPrompt: false) ==
        "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\nHello<|im_end|>\n<|im_start|>user\n2+2?<|im_end|>\n")
    #expect(ChatTemplate(jinja: "{{ bos_token }}{% for m in messages %}[INST] {{ m['content'] }} [/INST]{% endfor %}") == nil)
}

@Test(.enabled(if: SmolRef.model != nil, "needs \(SmolRef.modelRelative) under $WORKBENCH_MODELS or models/: \(SmolRef.setupHint)"))
func smolLM2ConfigAndChatTemplateFromTheFile() throws {
    let file = try GGUFFile(path: SmolRef.model!)
    var want = ModelConfig.smolLM2_135M
    want.maxSeqLen = GGUFModel.defaultMaxSeqLen
    #expect(try GGUFModel.config(file) == want)
    #expect(try GGUFModel.config(file, maxSeqLen: 100_000).maxSeqLen == 8192)  // llama.context_length
    #expect(try GGUFModel.config(file, maxSeqLen: 512).maxSeqLen == 512)

    let template = try #require(ChatTemplate(gguf: file))
    #expect(template == .smolLM2)
    let tok = try BPETokenizer(gguf: file)
    #expect(tok.checkpointSpec == "gguf:" + file.path)
    let ids = template.encode([.user("What is 2 + 3?")], with: tok)
    let start = try #require(tok.id(of: "<|im_start|>")), end = try #require(template.endToken(in: tok))
    #expect(ids.first == start && ids.filter { $0 == start }.count == 3 && ids.filter { $0 == end }.count == 2)
    #expect(tok.decode(ids, showSpecial: true) == template.render([.user("What is 2 + 3?")]))
    let question = [ChatTemplate.Message.user("Natalia sold clips to 48 of her friends in April, and then she sold half as many clips in May.")]
    #expect(template.encode(question, with: tok) == tok.encode(template.render(question), allowSpecial: true))
    #expect(end == tok.eosId)
}

// MARK: - Generation against the numpy reference

@Test(.enabled(if: SmolRef.model != nil && SmolRef.python != nil,
               "needs \(SmolRef.modelRelative) and a Python with gguf and numpy: \(SmolRef.setupHint)"))
func smolLM2GreedyGenerationMatchesNumpyReference() throws {
    let clock = ContinuousClock()
    let t0 = clock.now
    let loaded = try GGUFModel.load(path: SmolRef.model!)
    let loadTime = clock.now - t0
    let tok = loaded.tokenizer, template = try #require(loaded.chatTemplate)
    let stop = try #require(template.endToken(in: tok))
    let prompts: [[Int]] = [
        tok.encode("The capital of France is"),
        template.encode([.user("What is 2 + 3?")], with: tok),
        template.encode([.user("Natalia sold clips to 48 of her friends in April, and then she sold half as many clips in May. How many clips did Natalia sell altogether in April and May?")], with: tok),
    ]
    let newTokens = 16

    let t1 = clock.now
    let got = Generator(model: loaded.model).greedy(prompts: prompts.map { $0.map(Int32.init) },
                                                    options: .init(maxNewTokens: newTokens, stopToken: stop))
    let genTime = clock.now - t1

    let dir = try makeTempDir("smollm-ref")
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let request: [String: Any] = ["model": SmolRef.model!, "prompts": prompts, "new_tokens": newTokens, "stop": stop, "logits_dir": dir]
    let t2 = clock.now
    let reply = try SmolRef.run(SmolRef.python!, [SmolRef.script],
                                input: String(decoding: try JSONSerialization.data(withJSONObject: request), as: UTF8.self))
    let refTime = clock.now - t2
    let json = try #require(try JSONSerialization.jsonObject(with: Data(reply.utf8)) as? [String: Any])
    let want = try #require(json["tokens"] as? [[Int]])
    print("SmolLM2: load \(loadTime), Swift generation \(genTime), numpy reference \(refTime)")

    let forward = IncrementalForward(model: loaded.model)
    for (i, prompt) in prompts.enumerated() {
        let g = got[i].map(Int.init)
        #expect(g == want[i], "prompt \(i): engine \(g) «\(tok.decode(g))» vs reference \(want[i]) «\(tok.decode(want[i]))»")
        #expect(g.count == newTokens || g.last == stop)
        // The logits of the first new token, so a near miss shows before it flips a token.
        let cache = KVCache(config: loaded.model.config, batch: 1, capacity: prompt.count)
        let (_, logits) = forward.append(prompt.map { .init(row: 0, token: Int32($0)) }, to: cache)
        let data = try Data(contentsOf: URL(fileURLWithPath: dir + "/\(i).f32"))
        let ref: [Float] = data.withUnsafeBytes { raw in
            (0..<(data.count / 4)).map { Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 4 * $0, as: UInt32.self))) }
        }
        let V = loaded.model.config.vocabSize
        try #require(ref.count == V)
        var maxDiff: Float = 0, maxAbs: Float = 0
        for j in 0..<V {
            maxDiff = max(maxDiff, abs(logits[j] - ref[j]))
            maxAbs = max(maxAbs, abs(ref[j]))
        }
        print("SmolLM2 prompt \(i) (\(prompt.count) tokens): max |Δlogit| \(maxDiff) of max |logit| \(maxAbs); «\(tok.decode(g))»")
        #expect(maxDiff <= 1e-3 * maxAbs, "prompt \(i): logits differ by up to \(maxDiff) (largest logit \(maxAbs))")
    }
}
