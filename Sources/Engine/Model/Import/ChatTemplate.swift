/// The ChatML chat format of SmolLM2 (and Qwen and others), as its `tokenizer.chat_template`
/// renders it:
///
///     <|im_start|>system\n…<|im_end|>\n<|im_start|>user\n…<|im_end|>\n<|im_start|>assistant\n
///
/// When the conversation does not start with a system message, the template's default one is
/// put first, as the Jinja template does. Only ChatML is implemented; a file with another
/// template gets no `ChatTemplate` rather than a wrong one.
public struct ChatTemplate: Sendable, Equatable {
    public struct Message: Sendable, Equatable {
        public var role: String
        public var content: String
        public init(role: String, content: String) {
            self.role = role
            self.content = content
        }
        public static func system(_ s: String) -> Message { Message(role: "system", content: s) }
        public static func user(_ s: String) -> Message { Message(role: "user", content: s) }
        public static func assistant(_ s: String) -> Message { Message(role: "assistant", content: s) }
    }

    /// Put first when the conversation has no system message; nil adds none.
    public var defaultSystem: String?
    public static let start = "<|im_start|>", end = "<|im_end|>"
    public static let smolLM2DefaultSystem = "You are a helpful AI assistant named SmolLM, trained by Hugging Face"

    public init(defaultSystem: String?) { self.defaultSystem = defaultSystem }

    public static let smolLM2 = ChatTemplate(defaultSystem: smolLM2DefaultSystem)

    /// The template a GGUF file's `tokenizer.chat_template` describes, when it is ChatML; its
    /// default system message is read from the template's text.
    public init?(gguf file: GGUFFile) {
        guard let jinja = file.string("tokenizer.chat_template") else { return nil }
        self.init(jinja: jinja)
    }

    /// Recognises a ChatML Jinja template and the default system message written into it
    /// (`'<|im_start|>system\n…<|im_end|>` as a literal).
    public init?(jinja: String) {
        guard jinja.contains(Self.start), jinja.contains(Self.end), jinja.contains("add_generation_prompt") else { return nil }
        let marker = Self.start + "system\n"
        if let r = jinja.range(of: marker), let e = jinja.range(of: Self.end, range: r.upperBound..<jinja.endIndex) {
            defaultSystem = String(jinja[r.upperBound..<e.lowerBound])
        } else {
            defaultSystem = nil
        }
    }

    /// A rendered conversation is the template's markers and the text between them; only the
    /// markers may become special tokens.
    public enum Piece: Sendable, Equatable {
        case marker(String)
        case text(String)
    }

    /// The conversation as markers and text, ending with the assistant's header when
    /// `addGenerationPrompt`. The text between two markers is one piece, because a tokenizer
    /// that splits special tokens out of a rendered string (HF, llama.cpp) encodes exactly those
    /// stretches.
    public func pieces(_ messages: [Message], addGenerationPrompt: Bool = true) -> [Piece] {
        var out: [Piece] = []
        func turn(_ role: String, _ content: String) {
            out += [.marker(Self.start), .text(role + "\n" + content), .marker(Self.end), .text("\n")]
        }
        if messages.first?.role != "system", let s = defaultSystem { turn("system", s) }
        for m in messages { turn(m.role, m.content) }
        if addGenerationPrompt { out += [.marker(Self.start), .text("assistant\n")] }
        return out
    }

    /// The conversation as text, ending with the assistant's header when `addGenerationPrompt`.
    public func render(_ messages: [Message], addGenerationPrompt: Bool = true) -> String {
        pieces(messages, addGenerationPrompt: addGenerationPrompt).map { piece in
            switch piece {
            case .marker(let m): return m
            case .text(let t): return t
            }
        }.joined()
    }

    /// The conversation as token ids: the markers as the tokenizer's special tokens, the
    /// messages as plain text, so a message that spells out "<|im_end|>" cannot end its turn.
    /// A tokenizer without the markers as special tokens gets them as text.
    public func encode(_ messages: [Message], with tokenizer: any Tokenizer, addGenerationPrompt: Bool = true) -> [Int] {
        var ids: [Int] = []
        for piece in pieces(messages, addGenerationPrompt: addGenerationPrompt) {
            switch piece {
            case .marker(let m): if let id = tokenizer.specialTokenId(m) { ids.append(id) } else { ids += tokenizer.encode(m) }
            case .text(let t): ids += tokenizer.encode(t)
            }
        }
        return ids
    }

    /// The token that ends an assistant turn, to stop generation at.
    public func endToken(in tokenizer: BPETokenizer) -> Int? { tokenizer.id(of: Self.end) }
}
