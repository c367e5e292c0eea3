import Foundation
import Testing
@testable import Engine

// The tokenizer.json an export writes, read back by Hugging Face `tokenizers` (the library
// transformers' fast tokenizers run on; scripts/reference/hf_tokenizer_ids.py), must give the
// ids the engine's BPETokenizer gives: with special tokens matched (chat prompts) and as plain
// text (what the trainers encode), on GSM8K text, digits, unicode and random UTF-8.

private enum TokRef {
    static let script = ReferenceEnvironment.packageRoot + "/scripts/reference/hf_tokenizer_ids.py"

    struct Reply: Decodable {
        var vocab_size: Int
        var ids: [[Int]]
        var ids_plain: [[Int]]
        var decoded: [String]
    }

    /// Writes `files` into a fresh folder and asks `tokenizers` for the ids of `texts`.
    static func run(_ files: [String: Data], texts: [String], decode: [[Int]]) throws -> Reply {
        let dir = try makeTempDir("hf-tokenizer")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        for (name, data) in files { try data.write(to: URL(fileURLWithPath: dir + "/" + name)) }
        let request: [String: Any] = ["tokenizer": dir + "/" + HFTokenizerFiles.tokenizerFileName, "texts": texts, "decode": decode]
        let reply = try ReferenceEnvironment.run(ReferenceEnvironment.python!, [script],
                                                 input: String(decoding: try JSONSerialization.data(withJSONObject: request), as: UTF8.self))
        return try JSONDecoder().decode(Reply.self, from: Data(reply.utf8))
    }

    /// Compares every text both ways and every decode; prints the count so a log shows coverage.
    /// `plainAlso` says which texts to compare as plain text too: `tokenizers`' plain mode
    /// (split_special_tokens) still matches user-defined added tokens whole, where the engine's
    /// plain `encode` spells them out, so texts holding one are compared with specials only.
    static func expectSameIds(_ engine: BPETokenizer, _ files: [String: Data], texts: [String], label: String,
                              plainAlso: (String) -> Bool = { _ in true }) throws {
        let engineIds = texts.map { engine.encode($0, allowSpecial: true) }
        let hf = try run(files, texts: texts, decode: engineIds)
        #expect(hf.vocab_size == engine.vocabSize)
        var mismatches = 0
        for (i, text) in texts.enumerated() {
            let plain = engine.encode(text)
            let plainSame = !plainAlso(text) || hf.ids_plain[i] == plain
            if !(hf.ids[i] == engineIds[i] && plainSame && hf.decoded[i] == engine.decode(engineIds[i])) { mismatches += 1 }
            #expect(hf.ids[i] == engineIds[i], "\(label) \(text.debugDescription) with special tokens")
            #expect(plainSame, "\(label) \(text.debugDescription) as plain text: \(hf.ids_plain[i]) vs \(plain)")
            #expect(hf.decoded[i] == engine.decode(engineIds[i]), "\(label) decoding \(text.debugDescription)")
        }
        print("HFTokenizerFiles \(label): \(texts.count) texts, \(mismatches) differ from the engine under tokenizers")
    }
}

// MARK: - A tokenizer-only GGUF, for the gpt-2 split and the refusals

private enum TinyMeta {
    case str(String), strs([String]), u32(UInt32), i32s([Int32])
}

private func tinyTokenizerFile(_ meta: [(String, TinyMeta)]) throws -> GGUFFile {
    func le<T: FixedWidthInteger>(_ x: T) -> [UInt8] { withUnsafeBytes(of: x.littleEndian) { Array($0) } }
    func s(_ x: String) -> [UInt8] { le(UInt64(x.utf8.count)) + Array(x.utf8) }
    var out = Array("GGUF".utf8) + le(UInt32(3)) + le(UInt64(0)) + le(UInt64(meta.count))
    for (key, value) in meta {
        out += s(key)
        switch value {
        case .str(let x): out += le(UInt32(8)) + s(x)
        case .strs(let a): out += le(UInt32(9)) + le(UInt32(8)) + le(UInt64(a.count)) + a.flatMap(s)
        case .u32(let x): out += le(UInt32(4)) + le(x)
        case .i32s(let a): out += le(UInt32(9)) + le(UInt32(5)) + le(UInt64(a.count)) + a.flatMap(le)
        }
    }
    while out.count % 32 != 0 { out.append(0) }
    return try GGUFFile(bytes: out, source: "tiny-tokenizer.gguf")
}

/// Every byte, three merged words, a control token and a user-defined one; GPT-2's split.
private func tinyGPT2File(tokens extra: [String] = ["Ġt", "he", "Ġthe", "12", "<|end|>", "<think>"],
                          merges: [String] = ["Ġ t", "h e", "Ġt he", "1 2"]) throws -> GGUFFile {
    let bytes = (0..<256).map { String(Character(ByteLevelAlphabet.scalarForByte[$0])) }
    let tokens = bytes + extra
    let types = tokens.map { $0 == "<|end|>" ? Int32(3) : $0 == "<think>" ? 4 : 1 }
    return try tinyTokenizerFile([
        ("tokenizer.ggml.model", .str("gpt2")), ("tokenizer.ggml.pre", .str("gpt-2")),
        ("tokenizer.ggml.tokens", .strs(tokens)), ("tokenizer.ggml.merges", .strs(merges)),
        ("tokenizer.ggml.token_type", .i32s(types)),
        ("tokenizer.ggml.eos_token_id", .u32(UInt32(tokens.firstIndex(of: "<|end|>") ?? 0))),
    ])
}

@Test(.enabled(if: ReferenceEnvironment.python != nil, "needs a Python with tokenizers: \(ReferenceEnvironment.setupHint)"))
func tinyGPT2TokenizerExportsWithTheSameIds() throws {
    let file = try tinyGPT2File()
    let engine = try BPETokenizer(gguf: file)
    let files = try HFTokenizerFiles.make(gguf: file, modelMaxLength: 64)
    // GPT-2's split keeps "12" one piece, so its merge applies (SmolLM's would split the digits).
    try TokRef.expectSameIds(engine, files, texts: [
        "the the  then 12 123 1212", "<|end|> and <think>the</think>", "<|end|>the", "tab\tthe\n\nthe ", "ünïcode ½ ٣", "",
    ], label: "tiny gpt-2", plainAlso: { !$0.contains("<think>") })
    #expect(engine.encode("12") == [256 + 3])
}

@Test func tokenizerFilesRefuseWhatTokenizerJSONCannotHold() throws {
    func problem(_ file: GGUFFile) -> String? {
        do { _ = try HFTokenizerFiles.make(gguf: file, modelMaxLength: 64) } catch { return "\(error)" }
        return nil
    }
    // The engine resolves a repeated spelling to its last id; a JSON vocabulary cannot hold both.
    let twice = problem(try tinyGPT2File(tokens: ["Ġt", "he", "Ġthe", "12", "<|end|>", "he"]))
    #expect(twice?.contains(#"token "he" is spelled at ids 257 and 261"#) == true, "\(String(describing: twice))")
    #expect(twice?.contains("tiny-tokenizer.gguf") == true)
    // What the engine itself refuses is refused in its words.
    let notBPE = problem(try tinyTokenizerFile([("tokenizer.ggml.model", .str("llama")), ("tokenizer.ggml.tokens", .strs(["a"]))]))
    #expect(notBPE?.contains("not \"gpt2\"") == true, "\(String(describing: notBPE))")
}

// MARK: - SmolLM2

@Suite(.enabled(if: ReferenceEnvironment.model != nil, "needs \(ReferenceEnvironment.modelRelative): \(ReferenceEnvironment.setupHint)"))
struct SmolLM2TokenizerFilesTests {
    static func load() throws -> (GGUFFile, BPETokenizer, [String: Data]) {
        let file = try GGUFFile(path: ReferenceEnvironment.model!)
        return (file, try BPETokenizer(gguf: file), try HFTokenizerFiles.make(gguf: file, modelMaxLength: 1024))
    }

    @Test(.enabled(if: ReferenceEnvironment.python != nil, "needs a Python with tokenizers: \(ReferenceEnvironment.setupHint)"))
    func exportedTokenizerGivesTheEnginesIdsUnderHuggingFaceTokenizers() throws {
        let (_, engine, files) = try Self.load()
        let template = ChatTemplate.smolLM2
        let chat = [
            "Natalia sold clips to 48 of her friends in April, and then she sold half as many clips in May. How many clips did Natalia sell altogether in April and May?",
            "Weng earns $12 an hour for babysitting. Yesterday, she just did 50 minutes of babysitting. How much did she earn?",
        ].map { template.render([.user(ReFTFormat.prompt($0))]) }
        // Bytes SmolLM2 has no token for are dropped on both sides, not turned into an unknown id.
        let unspellable = "a" + engine.unspellableBytes.filter { $0 < 0x80 }.map { String(UnicodeScalar($0)) }.joined() + "b"
        let texts = BPEReferenceTests.builtInTexts + BPEReferenceTests.gsm8kTexts() + BPEReferenceTests.randomTexts()
            + chat + [unspellable, "1234567890 + 0.5 = 1234567890.5", "x²³ ⅔ ① ٣٤٥ ߁ 𝟙𝟚"]
        try TokRef.expectSameIds(engine, files, texts: texts, label: "SmolLM2")
    }

    @Test func tokenizerConfigNamesTheSpecialTokensAndTheFilesChatTemplate() throws {
        let (file, _, files) = try Self.load()
        let config = try #require(try JSONSerialization.jsonObject(with: files[HFTokenizerFiles.configFileName]!) as? [String: Any])
        // transformers 5 would rebuild GPT2Tokenizer's pre-tokenizer and lose the digit split.
        #expect(config["tokenizer_class"] as? String == "PreTrainedTokenizerFast")
        #expect(config["bos_token"] as? String == "<|im_start|>" && config["eos_token"] as? String == "<|im_end|>")
        #expect(config["pad_token"] as? String == "<|im_end|>" && config["unk_token"] as? String == "<|endoftext|>")
        #expect(config["add_bos_token"] as? Bool == false && config["add_eos_token"] as? Bool == false)
        #expect(config["model_max_length"] as? Int == 1024)
        #expect(config["chat_template"] as? String == file.string("tokenizer.chat_template"))

        let json = try #require(try JSONSerialization.jsonObject(with: files[HFTokenizerFiles.tokenizerFileName]!) as? [String: Any])
        let model = try #require(json["model"] as? [String: Any])
        #expect((model["vocab"] as? [String: Int])?.count == 49152)
        #expect((model["merges"] as? [[String]])?.count == file.stringArray("tokenizer.ggml.merges")?.count)
        #expect(model["unk_token"] is NSNull)
        let added = try #require(json["added_tokens"] as? [[String: Any]])
        #expect(added.count == 17 && added.allSatisfy { $0["special"] as? Bool == true })
        #expect(added.first?["content"] as? String == "<|endoftext|>" && added.first?["id"] as? Int == 0)
    }
}
