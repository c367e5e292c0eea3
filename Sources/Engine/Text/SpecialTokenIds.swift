/// The token ids a saved model's Hugging Face configs name (`bos_token_id`, `eos_token_id`,
/// `pad_token_id`): without them transformers assumes Llama 2's 1 and 2, which is wrong for the
/// byte tokenizer and for any BPE vocabulary laid out differently from Llama 2's.
public struct SpecialTokenIds: Equatable, Sendable {
    /// nil when the tokenizer has none; the engine never prepends one either way.
    public var bos: Int?
    /// The token SFT appends after every target and generation stops at.
    public var eos: Int
    public var pad: Int

    public init(bos: Int?, eos: Int, pad: Int) {
        self.bos = bos
        self.eos = eos
        self.pad = pad
    }

    public init(_ tokenizer: any Tokenizer) {
        self.init(bos: tokenizer.bosId, eos: tokenizer.eosId, pad: tokenizer.padId)
    }
}
