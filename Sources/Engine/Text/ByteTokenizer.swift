/// The tokenizer of the built-in task: one token per UTF-8 byte plus two specials. It needs no
/// vocabulary file, so a fresh clone can train a character-level model with nothing downloaded.
public struct ByteTokenizer: Tokenizer {
    public static let eos = 256
    public static let pad = 257

    public var vocabSize: Int { 258 }
    public var eosId: Int { Self.eos }
    public var padId: Int { Self.pad }
    public var checkpointSpec: String? { "byte" }

    public init() {}

    public func encode(_ text: String) -> [Int] {
        text.utf8.map { Int($0) }
    }

    /// Sampled ids can form invalid UTF-8 (a multi-byte character cut short, bytes in the wrong
    /// order), so decoding substitutes U+FFFD instead of failing: callers always get text back.
    public func decode(_ ids: [Int]) -> String {
        let bytes = ids.compactMap { $0 >= 0 && $0 < 256 ? UInt8($0) : nil }
        return String(decoding: bytes, as: UTF8.self)
    }
}
