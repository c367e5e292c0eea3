/// A vocabulary that cannot make a working tokenizer. The metadata comes from model files
/// converted by third-party scripts, so each error names the offending entry and what to check.
public struct BPETokenizerError: Error, CustomStringConvertible, Equatable, Sendable {
    /// The case, so callers and tests can tell errors apart without parsing text.
    public enum Kind: Sendable, Equatable {
        case emptyVocabulary, tokenTypeCount, specialIdOutOfRange, unknownPreTokenizer
        case malformedMerge, mergeNotInVocabulary, notBPE, missingMetadata
    }

    public var kind: Kind
    /// What is wrong.
    public var message: String
    /// What to do about it.
    public var remedy: String

    public init(_ kind: Kind, _ message: String, _ remedy: String) {
        self.kind = kind
        self.message = message
        self.remedy = remedy
    }

    public var description: String { "BPE tokenizer: \(message); \(remedy)" }
}
