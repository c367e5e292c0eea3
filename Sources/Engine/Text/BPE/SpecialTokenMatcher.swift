/// Finds special tokens (`<|im_start|>`, `<|im_end|>`...) written out in text, for prompts that
/// spell a chat template. Only used when the caller asks: in training text, a literal
/// "<|im_end|>" is just characters and must not end a sequence.
struct SpecialTokenMatcher: Sendable {
    private struct Candidate: Sendable {
        var bytes: [UInt8]
        var id: Int
    }

    /// Candidates by first UTF-8 byte, longest first, so a scan checks only tokens that can
    /// start at a position and the first hit is the longest (Hugging Face matches leftmost-longest).
    private var byFirstByte: [[Candidate]] = Array(repeating: [], count: 256)

    var isEmpty: Bool { byFirstByte.allSatisfy(\.isEmpty) }

    init(_ specials: [(text: String, id: Int)]) {
        for (text, id) in specials where !text.isEmpty {
            let bytes = Array(text.utf8)
            byFirstByte[Int(bytes[0])].append(Candidate(bytes: bytes, id: id))
        }
        for b in 0..<256 { byFirstByte[b].sort { $0.bytes.count > $1.bytes.count } }
    }

    /// Calls `plain` with the text between special tokens and `special` with each token's id, in
    /// order. Valid UTF-8 can only match valid UTF-8 at a scalar boundary, so the plain parts are
    /// whole scalars; they are scalar views, not Substrings, because a String subscript would
    /// round to grapheme boundaries and a combining mark after "<|im_end|>" would move the cut.
    func split(_ text: String, plain: (Substring.UnicodeScalarView) -> Void, special: (Int) -> Void) {
        let utf8 = text.utf8
        var segment = utf8.startIndex
        var i = segment
        scan: while i < utf8.endIndex {
            for c in byFirstByte[Int(utf8[i])] where utf8[i...].starts(with: c.bytes) {
                if segment < i { plain(text.unicodeScalars[segment..<i]) }
                special(c.id)
                i = utf8.index(i, offsetBy: c.bytes.count)
                segment = i
                continue scan
            }
            i = utf8.index(after: i)
        }
        if segment < utf8.endIndex { plain(text.unicodeScalars[segment..<utf8.endIndex]) }
    }
}
