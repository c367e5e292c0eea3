/// Hand-written JSON pieces for files whose exact bytes must be stable (safetensors headers,
/// metrics lines): Foundation's serialisers promise neither key order nor number spelling.
enum JSONText {
    static func string(_ s: String) -> String {
        var out = "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where u.value < 0x20:
                let hex = String(u.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(u)
            }
        }
        return out + "\""
    }

    /// Shortest round-tripping spelling; JSON has no NaN or infinity, so those become null.
    static func number(_ d: Double) -> String { d.isFinite ? "\(d)" : "null" }
}
