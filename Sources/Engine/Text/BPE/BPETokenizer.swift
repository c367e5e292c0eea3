/// Byte-level BPE as used by GPT-2 and its descendants (SmolLM2, Llama 3, Qwen), built from the
/// tokenizer metadata of a GGUF file. Text is split into pieces (`BPEPreTokenizer`), each
/// piece's UTF-8 bytes start as one token per byte and are merged by rank (`BPEMerges`), so any
/// string encodes and decoding gives the same bytes back, except bytes the vocabulary has no
/// token for (`unspellableBytes`).
public struct BPETokenizer: Tokenizer {
    /// GGUF's `tokenizer.ggml.token_type` values (llama.cpp's `llama_token_type`).
    public enum TokenType: Int32, Sendable {
        case normal = 1, unknown = 2, control = 3, userDefined = 4, unused = 5, byte = 6
    }

    public let vocabSize: Int
    public let eosId: Int
    /// Falls back to EOS when the model names no padding token: the loss mask comes from
    /// target positions, not from the padding id, so sharing an id is harmless.
    public let padId: Int
    public let bosId: Int?
    /// Kept as metadata only: byte-level BPE never needs it, since every byte either has a token
    /// or is dropped (`unspellableBytes`).
    public let unkId: Int?
    public let preTokenizer: BPEPreTokenizer
    /// Bytes with no token in the vocabulary: `encode` drops them, so text containing them does
    /// not round-trip. Data loaders can check for these to warn instead of training on gaps.
    public let unspellableBytes: [UInt8]

    private let tokens: [String]
    private let types: [TokenType?]
    private let ids: [String: Int]
    private let merges: BPEMerges
    /// The first token of every byte: what a piece's bytes are before any merge.
    private let byteSymbols: [Int32]
    /// Every token's bytes end to end, sliced by `byteOffsets`; decoding is then concatenation.
    private let tokenBytes: [UInt8]
    private let byteOffsets: [Int]
    private let specials: SpecialTokenMatcher
    private let cache = BPECache()
    /// "gguf:<path>" when read from a GGUF file (`init(gguf:)`).
    public internal(set) var checkpointSpec: String?

    /// Takes GGUF's metadata as stored: `tokenizer.ggml.tokens`, `.merges`, `.token_type`
    /// (empty means all normal), the `*_token_id` fields and `tokenizer.ggml.pre`.
    public init(tokens: [String], merges: [String], tokenTypes: [Int32], bos: Int?, eos: Int, unk: Int?, pad: Int?,
                preTokenizer: String) throws {
        guard !tokens.isEmpty else {
            throw BPETokenizerError(.emptyVocabulary, "the vocabulary has no tokens",
                                    "check that tokenizer.ggml.tokens was read from the model file")
        }
        guard tokenTypes.isEmpty || tokenTypes.count == tokens.count else {
            throw BPETokenizerError(.tokenTypeCount, "there are \(tokenTypes.count) token types for \(tokens.count) tokens",
                                    "tokenizer.ggml.token_type must have one entry per token, or none")
        }
        guard let pre = BPEPreTokenizer(rawValue: preTokenizer) else {
            let names = BPEPreTokenizer.allCases.map { "'\($0.rawValue)'" }.joined(separator: ", ")
            throw BPETokenizerError(.unknownPreTokenizer, "pre-tokenizer \(debugQuote(preTokenizer)) is not supported",
                                    "supported tokenizer.ggml.pre values: \(names); another one needs its split pattern added to BPEPreTokenizer")
        }
        for (name, id) in [("bos", bos), ("eos", eos), ("unk", unk), ("pad", pad)] {
            if let id, !(0..<tokens.count).contains(id) {
                throw BPETokenizerError(.specialIdOutOfRange, "the \(name) token id \(id) is outside the vocabulary of \(tokens.count) tokens",
                                        "check tokenizer.ggml.\(name == "unk" ? "unknown" : name == "pad" ? "padding" : name)_token_id against the model's tokens")
            }
        }

        var ids: [String: Int] = [:]
        ids.reserveCapacity(tokens.count)
        // A repeated spelling resolves to its last id, as in llama.cpp.
        for (i, t) in tokens.enumerated() { ids[t] = i }
        let merges = try BPEMerges(merges, ids: ids)

        // A vocabulary may lack the symbols of bytes its training text never had (SmolLM2 has no
        // token for six control characters). Hugging Face and llama.cpp both drop such bytes rather
        // than emit the unknown token, so they are dropped here too: -1 marks them.
        var byteSymbols = [Int32](repeating: -1, count: 256)
        for b in 0..<256 {
            if let id = ids[String(Character(ByteLevelAlphabet.scalarForByte[b]))] { byteSymbols[b] = Int32(id) }
        }

        let types = tokens.indices.map { tokenTypes.isEmpty ? TokenType.normal : TokenType(rawValue: tokenTypes[$0]) }
        var tokenBytes: [UInt8] = [], byteOffsets = [0]
        for t in tokens {
            // Added tokens may be stored as plain text rather than in the byte alphabet; like
            // Hugging Face's ByteLevel decoder, such a token decodes to its own UTF-8.
            tokenBytes += ByteLevelAlphabet.decode(t) ?? Array(t.utf8)
            byteOffsets.append(tokenBytes.count)
        }

        self.vocabSize = tokens.count
        self.eosId = eos
        self.padId = pad ?? eos
        self.bosId = bos
        self.unkId = unk
        self.preTokenizer = pre
        self.unspellableBytes = (0..<256).filter { byteSymbols[$0] < 0 }.map { UInt8($0) }
        self.tokens = tokens
        self.types = types
        self.ids = ids
        self.merges = merges
        self.byteSymbols = byteSymbols
        self.tokenBytes = tokenBytes
        self.byteOffsets = byteOffsets
        self.specials = SpecialTokenMatcher(tokens.indices.compactMap { i in
            types[i] == .control || types[i] == .userDefined ? (tokens[i], i) : nil
        })
    }

    /// Plain text, as the trainers use it: special-token spellings are ordinary characters.
    public func encode(_ text: String) -> [Int] {
        encode(text, allowSpecial: false)
    }

    /// With `allowSpecial`, the text of a control or user-defined token ("<|im_start|>") becomes
    /// that token, as in a chat template; without, it is encoded like any other text.
    public func encode(_ text: String, allowSpecial: Bool) -> [Int] {
        var out: [Int] = []
        out.reserveCapacity(text.utf8.count / 3)
        if allowSpecial && !specials.isEmpty {
            specials.split(text, plain: { encodePlain($0, into: &out) }, special: { out.append($0) })
        } else {
            encodePlain(text.unicodeScalars[...], into: &out)
        }
        return out
    }

    private func encodePlain(_ text: Substring.UnicodeScalarView, into out: inout [Int]) {
        let scalars = Array(text)
        var bytes: [UInt8] = []
        preTokenizer.split(scalars) { range in
            bytes.removeAll(keepingCapacity: true)
            for s in scalars[range] { UTF8.encode(s) { bytes.append($0) } }
            if let hit = cache.ids(for: bytes) {
                for id in hit { out.append(Int(id)) }
                return
            }
            // Dropped before merging, as Hugging Face does: the bytes either side may then merge.
            var symbols = bytes.compactMap { b in byteSymbols[Int(b)] >= 0 ? byteSymbols[Int(b)] : nil }
            merges.apply(&symbols)
            cache.store(symbols, for: bytes)
            for id in symbols { out.append(Int(id)) }
        }
    }

    /// Text for display and answer checking: control tokens (EOS, padding, chat markers) are
    /// left out, as `ByteTokenizer` leaves out its specials.
    public func decode(_ ids: [Int]) -> String {
        decode(ids, showSpecial: false)
    }

    /// Sampled ids can cut a multi-byte character in half, so invalid UTF-8 becomes U+FFFD
    /// instead of failing; ids outside the vocabulary are skipped for the same reason.
    public func decode(_ ids: [Int], showSpecial: Bool) -> String {
        String(decoding: decodeBytes(ids, showSpecial: showSpecial), as: UTF8.self)
    }

    /// The raw bytes behind `ids`, before any UTF-8 repair.
    func decodeBytes(_ ids: [Int], showSpecial: Bool = false) -> [UInt8] {
        var bytes: [UInt8] = []
        for id in ids where id >= 0 && id < vocabSize {
            if !showSpecial && types[id] == .control { continue }
            bytes += tokenBytes[byteOffsets[id]..<byteOffsets[id + 1]]
        }
        return bytes
    }

    /// The id of a token by its vocabulary spelling ("<|im_start|>", "Ġthe"), for wiring chat
    /// templates and stop tokens.
    public func id(of token: String) -> Int? { ids[token] }

    /// A control or user-defined token's id by its spelling; ordinary tokens are not special.
    public func specialTokenId(_ spelling: String) -> Int? {
        guard let id = ids[spelling], types[id] == .control || types[id] == .userDefined else { return nil }
        return id
    }

    /// The vocabulary spelling of an id, or nil outside the vocabulary.
    public func token(of id: Int) -> String? { id >= 0 && id < vocabSize ? tokens[id] : nil }

    /// The GGUF type of an id; nil outside the vocabulary or for a type GGUF does not define.
    public func tokenType(of id: Int) -> TokenType? { id >= 0 && id < vocabSize ? types[id] : nil }

    var cachedPieces: Int { cache.count }
}
