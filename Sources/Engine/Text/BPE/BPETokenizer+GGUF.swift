/// The tokenizer a GGUF model file describes in its `tokenizer.ggml.*` metadata.
extension BPETokenizer {
    public init(gguf file: GGUFFile) throws {
        let model = file.string("tokenizer.ggml.model")
        guard model == "gpt2" else {
            throw BPETokenizerError(.notBPE, "\(file.path) has tokenizer.ggml.model \(model.map { "\"\($0)\"" } ?? "missing"), not \"gpt2\" (byte-level BPE)",
                                    "use a model whose tokenizer is byte-level BPE (GPT-2, SmolLM, Llama 3 families)")
        }
        func need<T>(_ value: T?, _ key: String) throws -> T {
            guard let value else {
                throw BPETokenizerError(.missingMetadata, "\(file.path) has no \(key) (or it is not the expected type)",
                                        "convert the model again with llama.cpp's convert_hf_to_gguf.py")
            }
            return value
        }
        let tokens = try need(file.stringArray("tokenizer.ggml.tokens"), "tokenizer.ggml.tokens")
        let merges = try need(file.stringArray("tokenizer.ggml.merges"), "tokenizer.ggml.merges")
        let eos = try need(file.int("tokenizer.ggml.eos_token_id"), "tokenizer.ggml.eos_token_id")
        try self.init(tokens: tokens, merges: merges,
                      tokenTypes: (file.intArray("tokenizer.ggml.token_type") ?? []).map { Int32(truncatingIfNeeded: $0) },
                      bos: file.int("tokenizer.ggml.bos_token_id"), eos: eos,
                      unk: file.int("tokenizer.ggml.unknown_token_id"), pad: file.int("tokenizer.ggml.padding_token_id"),
                      preTokenizer: file.string("tokenizer.ggml.pre") ?? "gpt-2")
        checkpointSpec = "gguf:" + file.path
    }
}
