/// The seam between text and token ids. The built-in task uses `ByteTokenizer`; real models
/// bring a BPE tokenizer (read from GGUF) behind the same protocol.
public protocol Tokenizer: Sendable {
    var vocabSize: Int { get }
    /// Appended after every SFT target; generation stops when it is produced.
    var eosId: Int { get }
    /// Fills the tail of short rows in a batch; never a training target.
    var padId: Int { get }
    /// The beginning-of-sequence token the vocabulary names, if any. Recorded in exported
    /// configs only: nothing in the engine prepends it.
    var bosId: Int? { get }
    func encode(_ text: String) -> [Int]
    func decode(_ ids: [Int]) -> String
    /// The id of a special token ("<|im_start|>") by its spelling, for chat templates; nil when
    /// the tokenizer has no such special token, and the template then writes it as text.
    func specialTokenId(_ spelling: String) -> Int?
    /// What a checkpoint records as its "tokenizer" so the tokenizer can be rebuilt when it is
    /// opened again: "byte", or "gguf:<path>" for a BPE read from a GGUF file. Nil for one
    /// built in memory, which a checkpoint cannot point back to.
    var checkpointSpec: String? { get }
}

extension Tokenizer {
    public func specialTokenId(_ spelling: String) -> Int? { nil }
    public var checkpointSpec: String? { nil }
}

extension Tokenizer {
    public var bosId: Int? { nil }
}
