import Foundation

/// `tokenizer.json` (the Hugging Face `tokenizers` format) and `tokenizer_config.json` for the
/// byte-level BPE tokenizer a GGUF file describes, so `AutoTokenizer.from_pretrained` on an
/// export gives the ids `BPETokenizer(gguf:)` gives.
///
/// What decides the ids, and how each is written:
/// - vocabulary and merges: the file's, in its order (merge rank = position);
/// - the split before merging: `tokenizer.ggml.pre` as Hugging Face spells it — "gpt-2" is the
///   ByteLevel pre-tokenizer's GPT-2 regex, "smollm" puts Digits(individual_digits) before it
///   (SmolLM's own tokenizer.json does the same);
/// - no `unk_token` in the BPE model: bytes without a token are dropped, as the engine drops
///   them, instead of becoming an unknown id;
/// - control tokens as special added tokens (matched whole in text, skipped when decoding with
///   skip_special_tokens), user-defined ones as plain added tokens (matched whole, decoded), as
///   transformers' own GGUF loader and llama.cpp treat them;
/// - no BOS or EOS added by the tokenizer: the engine adds neither, and the chat template
///   writes its own markers.
/// tokenizer_config.json names `PreTrainedTokenizerFast`: with a model-specific class
/// (GPT2Tokenizer, which SmolLM's Hub files name) transformers 5 rebuilds the pre-tokenizer
/// from the class and drops the Digits split.
public enum HFTokenizerFiles {
    public static let tokenizerFileName = "tokenizer.json"
    public static let configFileName = "tokenizer_config.json"

    /// Both files by name. `modelMaxLength` is the model's context (`model_max_length`).
    public static func make(gguf file: GGUFFile, modelMaxLength: Int) throws -> [String: Data] {
        // The engine's own reading of the file: anything it refuses is refused here, in its words.
        let engine = try BPETokenizer(gguf: file)
        let tokens = file.stringArray("tokenizer.ggml.tokens") ?? []
        let merges = file.stringArray("tokenizer.ggml.merges") ?? []
        var seen: [String: Int] = [:]
        for (id, t) in tokens.enumerated() {
            if let first = seen[t] {
                throw HFTokenizerFilesError(file.path, "token \(debugQuote(t)) is spelled at ids \(first) and \(id); tokenizer.json maps each spelling to one id, so it cannot hold this vocabulary")
            }
            seen[t] = id
        }
        var pairs: [(String, String)] = []
        pairs.reserveCapacity(merges.count)
        for m in merges {
            let parts = m.split(separator: " ", omittingEmptySubsequences: false)
            guard parts.count == 2 else { throw HFTokenizerFilesError(file.path, "merge \(debugQuote(m)) is not two tokens separated by one space") }
            pairs.append((String(parts[0]), String(parts[1])))
        }
        var added: [(id: Int, special: Bool)] = []
        for id in tokens.indices {
            switch engine.tokenType(of: id) {
            case .control: added.append((id, true))
            case .userDefined: added.append((id, false))
            default: break
            }
        }
        func name(_ id: Int?) -> String? { id.map { tokens[$0] } }
        let tokenizer = tokenizerJSON(tokens: tokens, merges: pairs, added: added, pre: engine.preTokenizer)
        let config = configJSON(bos: name(engine.bosId), eos: tokens[engine.eosId], pad: tokens[engine.padId],
                                unk: name(engine.unkId), chatTemplate: file.string("tokenizer.chat_template"),
                                modelMaxLength: modelMaxLength)
        return [tokenizerFileName: Data(tokenizer.utf8), configFileName: Data(config.utf8)]
    }

    /// The `tokenizers` JSON, written by hand with the vocabulary in id order so exports diff
    /// cleanly (Foundation would sort or shuffle 49k keys).
    static func tokenizerJSON(tokens: [String], merges: [(String, String)], added: [(id: Int, special: Bool)],
                              pre: BPEPreTokenizer) -> String {
        let s = JSONText.string
        let byteLevel = #"{"type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true, "use_regex": true}"#
        let preTokenizer: String
        switch pre {
        case .gpt2: preTokenizer = byteLevel
        case .smollm: preTokenizer = #"{"type": "Sequence", "pretokenizers": [{"type": "Digits", "individual_digits": true}, "# + byteLevel + "]}"
        }
        var out = "{\n  \"version\": \"1.0\",\n  \"truncation\": null,\n  \"padding\": null,\n  \"added_tokens\": ["
        out += added.map { a in
            "\n    {\"id\": \(a.id), \"content\": \(s(tokens[a.id])), \"single_word\": false, \"lstrip\": false, \"rstrip\": false, \"normalized\": false, \"special\": \(a.special)}"
        }.joined(separator: ",")
        out += "\n  ],\n  \"normalizer\": null,\n  \"pre_tokenizer\": \(preTokenizer),\n"
        // ByteLevel post-processing only adjusts offsets; it adds no tokens.
        out += "  \"post_processor\": {\"type\": \"ByteLevel\", \"add_prefix_space\": true, \"trim_offsets\": false, \"use_regex\": true},\n"
        out += "  \"decoder\": {\"type\": \"ByteLevel\", \"add_prefix_space\": true, \"trim_offsets\": true, \"use_regex\": true},\n"
        out += "  \"model\": {\n    \"type\": \"BPE\", \"dropout\": null, \"unk_token\": null, \"continuing_subword_prefix\": null, \"end_of_word_suffix\": null,\n"
        out += "    \"fuse_unk\": false, \"byte_fallback\": false, \"ignore_merges\": false,\n    \"vocab\": {"
        out.reserveCapacity(out.utf8.count + tokens.count * 24 + merges.count * 24)
        for (id, t) in tokens.enumerated() {
            out += (id == 0 ? "\n      " : ",\n      ") + s(t) + ": \(id)"
        }
        out += "\n    },\n    \"merges\": ["
        for (i, (a, b)) in merges.enumerated() {
            out += (i == 0 ? "\n      [" : ",\n      [") + s(a) + ", " + s(b) + "]"
        }
        out += "\n    ]\n  }\n}\n"
        return out
    }

    static func configJSON(bos: String?, eos: String, pad: String, unk: String?, chatTemplate: String?, modelMaxLength: Int) -> String {
        let s = JSONText.string
        var fields: [(String, String)] = [
            ("tokenizer_class", s("PreTrainedTokenizerFast")),
            ("add_bos_token", "false"), ("add_eos_token", "false"),
            ("bos_token", bos.map(s) ?? "null"), ("eos_token", s(eos)), ("pad_token", s(pad)), ("unk_token", unk.map(s) ?? "null"),
            // Decoding gives the text back as the engine does, without "cleaning" spaces before punctuation.
            ("clean_up_tokenization_spaces", "false"),
            ("model_max_length", "\(modelMaxLength)"),
        ]
        if let chatTemplate { fields.append(("chat_template", s(chatTemplate))) }
        return "{\n" + fields.map { "  \(s($0.0)): \($0.1)" }.joined(separator: ",\n") + "\n}\n"
    }
}

/// A GGUF tokenizer the engine runs but tokenizer.json cannot express.
public struct HFTokenizerFilesError: Error, CustomStringConvertible {
    public let path: String
    public let problem: String
    init(_ path: String, _ problem: String) {
        self.path = path
        self.problem = problem
    }
    public var description: String { "tokenizer of \(path): \(problem)" }
}
