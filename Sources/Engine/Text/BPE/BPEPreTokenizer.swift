/// Splits text into the pieces BPE merges within; merges never cross a piece boundary, so the
/// split decides token ids as much as the merges do. Named as in GGUF's `tokenizer.ggml.pre`.
///
/// Both kinds run the GPT-2 pattern
///     's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
/// written out by hand: a regex engine per call would cost more than the merges themselves.
public enum BPEPreTokenizer: String, CaseIterable, Sendable {
    /// The pattern alone (GPT-2 and its direct descendants).
    case gpt2 = "gpt-2"
    /// Every `\p{N}` scalar is a piece of its own, and the pattern runs on the text between them:
    /// SmolLM's tokenizer.json is Sequence[Digits(individual_digits), ByteLevel], which llama.cpp
    /// writes as the regexes "\p{N}" then the GPT-2 pattern for pre-type "smollm". So " 72"
    /// becomes " ", "7", "2", never " 72".
    case smollm = "smollm"

    /// Calls `piece` with each piece's range in `scalars`, in order, covering every scalar.
    func split(_ scalars: [Unicode.Scalar], _ piece: (Range<Int>) -> Void) {
        let classes = scalars.map(ScalarClass.of)
        switch self {
        case .gpt2:
            Self.splitGPT2(scalars, classes, 0..<scalars.count, piece)
        case .smollm:
            var start = 0
            for i in scalars.indices where classes[i] == .number {
                if start < i { Self.splitGPT2(scalars, classes, start..<i, piece) }
                piece(i..<(i + 1))
                start = i + 1
            }
            if start < scalars.count { Self.splitGPT2(scalars, classes, start..<scalars.count, piece) }
        }
    }

    /// The pieces as strings, for tests and for inspecting a tokenization by eye.
    func pieces(_ text: String) -> [String] {
        let scalars = Array(text.unicodeScalars)
        var out: [String] = []
        split(scalars) { r in
            var s = String.UnicodeScalarView()
            s.append(contentsOf: scalars[r])
            out.append(String(s))
        }
        return out
    }

    /// The GPT-2 pattern on `range` as if it were the whole text: the lookahead `(?!\S)` sees the
    /// end of the range as the end of the input, which is how a sequence of pre-tokenizers behaves.
    private static func splitGPT2(_ s: [Unicode.Scalar], _ cls: [ScalarClass], _ range: Range<Int>,
                                  _ piece: (Range<Int>) -> Void) {
        let end = range.upperBound
        var i = range.lowerBound
        while i < end {
            if let n = contractionLength(s, at: i, end: end) {
                piece(i..<(i + n))
                i += n
                continue
            }
            // " ?X+": one plain space (not a tab or newline) may lead a run of letters, numbers or
            // other symbols, which is why words carry their preceding space ("Ġthe").
            let head = s[i] == " " && i + 1 < end && cls[i + 1] != .space ? i + 1 : i
            let kind = cls[head]
            var j = head + 1
            if kind != .space {
                while j < end && cls[j] == kind { j += 1 }
            } else {
                while j < end && cls[j] == .space { j += 1 }
                // "\s+(?!\S)" backs off one space before a non-space so that space can lead the
                // next word; a single space there falls through to "\s+" and stays whole.
                if j < end && j - i > 1 { j -= 1 }
            }
            piece(i..<j)
            i = j
        }
    }

    /// The English contractions, case-sensitive as in the pattern ("I'M" keeps "'" and "M" apart).
    private static func contractionLength(_ s: [Unicode.Scalar], at i: Int, end: Int) -> Int? {
        guard s[i] == "'", i + 1 < end else { return nil }
        switch s[i + 1] {
        case "s", "t", "m", "d":
            return 2
        case "r", "v":
            return i + 2 < end && s[i + 2] == "e" ? 3 : nil
        case "l":
            return i + 2 < end && s[i + 2] == "l" ? 3 : nil
        default:
            return nil
        }
    }
}
