/// The value of `--reward-fn`: `lib.so:symbol:signature`, for example
/// `./libmine.so:score:f64(str,str)` or `/opt/r/libmine.so:score:f64(completion:str, gold_value:f64)`.
///
/// Split from the right, because a path may contain ':' and the named signature form does too:
/// the signature starts after the last ':' that comes before the signature's '(' (the last '(' in
/// the value; signatures have exactly one), the symbol is the field before it, and everything
/// before the symbol is the path. A symbol is a C identifier, so it never holds ':' or '('.
struct FFIRewardSpec: Equatable, CustomStringConvertible {
    var path: String
    var symbol: String
    var signature: FFISignature

    var description: String { "\(path):\(symbol):\(signature)" }

    static let shape = "lib.so:symbol:signature, e.g. ./libmine.so:score:f64(str,str)"

    init(path: String, symbol: String, signature: FFISignature) {
        self.path = path
        self.symbol = symbol
        self.signature = signature
    }

    init(parsing value: String) throws {
        guard let paren = value.lastIndex(of: "(") else {
            throw FFIRewardSpecError("no signature (no '(' found); expected \(Self.shape)")
        }
        let head = value[..<paren]
        guard let sigColon = head.lastIndex(of: ":") else {
            throw FFIRewardSpecError("no ':' before the signature; expected \(Self.shape)")
        }
        let signatureText = String(value[value.index(after: sigColon)...])
        let beforeSignature = value[..<sigColon]
        guard let symColon = beforeSignature.lastIndex(of: ":") else {
            throw FFIRewardSpecError("only one ':' before the signature, so no library path or no symbol; expected \(Self.shape)")
        }
        let symbol = String(beforeSignature[beforeSignature.index(after: symColon)...])
        let path = String(beforeSignature[..<symColon])
        guard !path.isEmpty else {
            throw FFIRewardSpecError("empty library path; expected \(Self.shape)")
        }
        guard !symbol.isEmpty else {
            throw FFIRewardSpecError("empty symbol name; expected \(Self.shape)")
        }
        guard Self.isCIdentifier(symbol) else {
            throw FFIRewardSpecError("symbol '\(symbol)' is not a C identifier (ASCII letters, digits and '_', not starting with a digit)")
        }
        self.path = path
        self.symbol = symbol
        self.signature = try FFISignature(parsing: signatureText)
    }

    static func isCIdentifier(_ s: String) -> Bool {
        guard let first = s.first, !(first.isASCII && first.isNumber) else { return false }
        return s.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") }
    }
}

struct FFIRewardSpecError: Error, Equatable, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
