/// How a question becomes the prompt's token ids: the ReFT text as is (`plain`, what the byte
/// models are trained on), or that text as the user's turn of a chat template followed by the
/// assistant's header (`chat`, for instruct models). The completion after it is the same
/// ReFT reasoning and answer line either way, ended by the tokenizer's EOS.
public enum PromptFormat: Sendable, Equatable {
    case plain
    case chat(ChatTemplate)

    public func text(question: String) -> String {
        switch self {
        case .plain: return ReFTFormat.prompt(question)
        case .chat(let template): return template.render([.user(ReFTFormat.prompt(question))], addGenerationPrompt: true)
        }
    }

    /// The prompt's ids. A chat template's markers are encoded as the tokenizer's special
    /// tokens; a question's own text never is.
    public func encode(question: String, tokenizer: any Tokenizer) -> [Int] {
        switch self {
        case .plain:
            return tokenizer.encode(ReFTFormat.prompt(question))
        case .chat(let template):
            return template.encode([.user(ReFTFormat.prompt(question))], with: tokenizer)
        }
    }
}
