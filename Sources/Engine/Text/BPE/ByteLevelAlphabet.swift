/// GPT-2's byte-level alphabet. Byte-level BPE vocabularies store every token as a string of
/// these characters, one per byte, so that arbitrary bytes (a space, a newline, half of a
/// multi-byte character) can live in a vocabulary file as printable text: a space is "Ġ", a
/// newline "Ċ". Every GPT-2-derived vocabulary (SmolLM, Llama 3, Qwen...) was trained with this
/// exact table, so it is fixed rather than read from the model.
enum ByteLevelAlphabet {
    /// Printable bytes ('!'...'~', '¡'...'¬', '®'...'ÿ') stand for themselves; the other 68
    /// bytes take U+0100, U+0101... in byte order.
    static let scalarForByte: [Unicode.Scalar] = {
        func printable(_ b: Int) -> Bool { (0x21...0x7E).contains(b) || (0xA1...0xAC).contains(b) || (0xAE...0xFF).contains(b) }
        var table: [Unicode.Scalar] = []
        var shifted: UInt32 = 0x100
        for b in 0..<256 {
            if printable(b) {
                table.append(Unicode.Scalar(UInt8(b)))
            } else {
                table.append(Unicode.Scalar(shifted)!)
                shifted += 1
            }
        }
        return table
    }()

    /// Indexed by scalar value; every alphabet character is below U+0144, so an array beats a
    /// dictionary on the decode path.
    private static let byteForScalar: [Int16] = {
        var table = [Int16](repeating: -1, count: 0x144)
        for (b, s) in scalarForByte.enumerated() { table[Int(s.value)] = Int16(b) }
        return table
    }()

    static func byte(for scalar: Unicode.Scalar) -> UInt8? {
        let v = Int(scalar.value)
        guard v < byteForScalar.count, byteForScalar[v] >= 0 else { return nil }
        return UInt8(byteForScalar[v])
    }

    /// The vocabulary spelling of raw bytes.
    static func encode(_ bytes: some Sequence<UInt8>) -> String {
        var s = String.UnicodeScalarView()
        for b in bytes { s.append(scalarForByte[Int(b)]) }
        return String(s)
    }

    /// The bytes a vocabulary string spells, or nil when it holds a character outside the
    /// alphabet (added tokens are often stored as plain text).
    static func decode(_ token: String) -> [UInt8]? {
        var bytes: [UInt8] = []
        for s in token.unicodeScalars {
            guard let b = byte(for: s) else { return nil }
            bytes.append(b)
        }
        return bytes
    }
}
