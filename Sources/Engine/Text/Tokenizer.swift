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
}

extension Tokenizer {
    public var bosId: Int? { nil }
}
