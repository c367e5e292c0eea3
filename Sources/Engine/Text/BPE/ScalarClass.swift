/// The character classes the GPT-2 split pattern distinguishes: `\p{L}`, `\p{N}`, `\s` and
/// everything else. Computed once per scalar so the splitter compares small integers instead of
/// asking Unicode properties again at every alternative.
enum ScalarClass: UInt8 {
    case letter, number, space, other

    /// ASCII is most of the text, and its classes never change between Unicode versions.
    private static let ascii: [ScalarClass] = (0..<128).map { v in
        let s = Unicode.Scalar(UInt8(v))
        return classify(s)
    }

    static func of(_ s: Unicode.Scalar) -> ScalarClass {
        s.value < 128 ? ascii[Int(s.value)] : classify(s)
    }

    /// `\s` is Unicode White_Space (so U+00A0 and U+3000 are spaces but U+200B is not), and
    /// `\p{L}`/`\p{N}` are general categories, not `isAlphabetic`, which would also take
    /// combining marks and letter-like numbers. Hugging Face's Oniguruma pattern classifies the
    /// same way; the reference test checks it on mixed-script text.
    private static func classify(_ s: Unicode.Scalar) -> ScalarClass {
        let p = s.properties
        if p.isWhitespace { return .space }
        switch p.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter:
            return .letter
        case .decimalNumber, .letterNumber, .otherNumber:
            return .number
        default:
            return .other
        }
    }
}
