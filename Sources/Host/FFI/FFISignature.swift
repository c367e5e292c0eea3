/// The signature of a plain C reward function named with `--reward-fn lib.so:symbol:signature`.
///
/// Grammar (spaces allowed between tokens, nothing else):
///
///     signature := return '(' param { ',' param } ')'
///     return    := 'f32' | 'f64' | 'i32' | 'i64'          the score: float, double, int32_t, int64_t
///     param     := type                                   positional form
///                | role ':' type                          named form
///     type      := 'str' | 'f64'                          const char* (UTF-8, NUL-terminated) | double
///     role      := 'prompt' | 'completion' | 'gold' | 'gold_value'
///
/// Either every parameter is named or none is. Roles and their types:
///
///     completion  str   the sampled completion (what the model wrote after the prompt)
///     gold        str   the gold answer as text, "72" or "0.5" (ReFTFormat.formatAnswer)
///     gold_value  f64   the gold answer as a number
///     prompt      str   the question text of the example (without the ReFT prompt template)
///
/// Positional parameters take their roles by position: 1st completion (str), 2nd gold
/// (str) or gold_value (f64), 3rd prompt (str). So `f64(str,str)` is
/// `double f(const char* completion, const char* gold)` and `f64(str,f64)` is
/// `double f(const char* completion, double gold)`. The named form passes the roles in any
/// order, each at most once: `f32(gold_value:f64, completion:str)`.
///
/// The parser is strict on purpose: a C function called with the wrong prototype cannot be
/// detected at run time, so every doubt is an error that names the column and what was expected.
struct FFISignature: Equatable, CustomStringConvertible {
    enum ReturnType: String, CaseIterable {
        case f32, f64, i32, i64
    }

    enum ParameterType: String, CaseIterable {
        case str, f64
    }

    enum Role: String, CaseIterable {
        case prompt, completion, gold
        case goldValue = "gold_value"

        var type: ParameterType { self == .goldValue ? .f64 : .str }
    }

    var returnType: ReturnType
    /// The roles in the order of the C parameters.
    var parameters: [Role]

    /// The canonical named form, e.g. `f64(completion:str, gold:str)`.
    var description: String {
        "\(returnType.rawValue)(" + parameters.map { "\($0.rawValue):\($0.type.rawValue)" }.joined(separator: ", ") + ")"
    }

    /// Roles of positional parameters: index 1 depends on the type written there.
    static let positionalRoles = "completion, gold (str) or gold_value (f64), prompt"

    init(returnType: ReturnType, parameters: [Role]) {
        self.returnType = returnType
        self.parameters = parameters
    }

    init(parsing text: String) throws(FFISignatureError) {
        var p = Parser(text: text)
        self = try p.parse()
    }
}

/// A signature that does not parse: `signature '<text>': <problem> at column <n>; expected <what>`.
/// Columns count characters from 1.
struct FFISignatureError: Error, Equatable, CustomStringConvertible {
    var signature: String
    var problem: String
    var column: Int
    var expected: String

    var description: String {
        "signature '\(signature)': \(problem) at column \(column); expected \(expected)"
    }
}

private struct Parser {
    let text: String
    let chars: [Character]
    var i = 0

    init(text: String) {
        self.text = text
        self.chars = Array(text)
    }

    static let returnTypes = FFISignature.ReturnType.allCases.map(\.rawValue).joined(separator: ", ")
    static let parameterTypes = FFISignature.ParameterType.allCases.map(\.rawValue).joined(separator: ", ")
    static let roles = FFISignature.Role.allCases.map(\.rawValue).joined(separator: ", ")
    static let aParameter = "a parameter: str, f64 or role:type with role one of \(roles)"

    mutating func parse() throws(FFISignatureError) -> FFISignature {
        skipSpaces()
        let (retWord, retColumn) = try word(expected: "a return type: one of \(Self.returnTypes)")
        guard let ret = FFISignature.ReturnType(rawValue: retWord) else {
            throw fail("unknown return type '\(retWord)'", at: retColumn, expected: "one of \(Self.returnTypes)")
        }
        skipSpaces()
        try expect("(", expected: "'('")
        skipSpaces()
        if peek == ")" {
            throw fail("empty parameter list", at: i + 1, expected: "at least one parameter: str, f64 or role:type with role one of \(Self.roles)")
        }

        var roles: [FFISignature.Role] = []
        var named: Bool?
        while true {
            skipSpaces()
            let (first, firstColumn) = try word(expected: Self.aParameter)
            skipSpaces()
            let isNamed = peek == ":"
            if let n = named, n != isNamed {
                throw fail(isNamed ? "named parameter after positional ones" : "positional parameter after named ones",
                           at: firstColumn, expected: "every parameter positional (str, f64) or every one named (role:type)")
            }
            named = isNamed
            let role: FFISignature.Role
            if isNamed {
                guard let r = FFISignature.Role(rawValue: first) else {
                    throw fail("unknown role '\(first)'", at: firstColumn, expected: "one of \(Self.roles)")
                }
                i += 1  // ':'
                skipSpaces()
                let (typeWord, typeColumn) = try word(expected: "the type of '\(first)': \(r.type.rawValue)")
                guard let type = FFISignature.ParameterType(rawValue: typeWord) else {
                    throw fail("unknown type '\(typeWord)'", at: typeColumn, expected: "one of \(Self.parameterTypes)")
                }
                if type != r.type {
                    let hint: String
                    switch r {
                    case .gold: hint = " (gold_value:f64 passes the gold answer as a number)"
                    case .goldValue: hint = " (gold:str passes the gold answer as text)"
                    default: hint = ""
                    }
                    throw fail("role '\(first)' does not take \(typeWord)", at: typeColumn, expected: r.type.rawValue + hint)
                }
                if roles.contains(r) {
                    throw fail("role '\(first)' given twice", at: firstColumn, expected: "each role at most once")
                }
                role = r
            } else {
                guard let type = FFISignature.ParameterType(rawValue: first) else {
                    if let r = FFISignature.Role(rawValue: first) {
                        throw fail("role '\(first)' without a type", at: firstColumn, expected: "'\(first):\(r.type.rawValue)'")
                    }
                    throw fail("unknown type '\(first)'", at: firstColumn, expected: "one of \(Self.parameterTypes)")
                }
                switch (roles.count, type) {
                case (0, .str): role = .completion
                case (1, .str): role = .gold
                case (1, .f64): role = .goldValue
                case (2, .str): role = .prompt
                case (0, .f64), (2, .f64):
                    let r: FFISignature.Role = roles.isEmpty ? .completion : .prompt
                    throw fail("positional parameter \(roles.count + 1) (\(r.rawValue)) cannot be f64", at: firstColumn,
                               expected: "str; positional roles are \(FFISignature.positionalRoles); name the parameters (role:type) for another order")
                default:
                    throw fail("too many positional parameters", at: firstColumn,
                               expected: "at most 3 (\(FFISignature.positionalRoles)); name the parameters (role:type) to pass more")
                }
            }
            roles.append(role)

            skipSpaces()
            if peek == "," {
                i += 1
                continue
            }
            try expect(")", expected: "',' or ')'")
            break
        }
        skipSpaces()
        if let c = peek {
            throw fail("unexpected \(show(c))", at: i + 1, expected: "end of signature")
        }
        return FFISignature(returnType: ret, parameters: roles)
    }

    var peek: Character? { i < chars.count ? chars[i] : nil }

    mutating func skipSpaces() {
        while peek == " " { i += 1 }
    }

    /// Reads `[A-Za-z0-9_]+`, or fails saying what was expected there.
    mutating func word(expected: String) throws(FFISignatureError) -> (String, Int) {
        let start = i
        while let c = peek, c.isASCII, c.isLetter || c.isNumber || c == "_" { i += 1 }
        guard i > start else {
            throw fail(peek.map { "unexpected \(show($0))" } ?? "unexpected end", at: i + 1, expected: expected)
        }
        return (String(chars[start..<i]), start + 1)
    }

    mutating func expect(_ c: Character, expected: String) throws(FFISignatureError) {
        guard let p = peek else { throw fail("unexpected end", at: i + 1, expected: expected) }
        guard p == c else { throw fail("unexpected \(show(p))", at: i + 1, expected: expected) }
        i += 1
    }

    func fail(_ problem: String, at column: Int, expected: String) -> FFISignatureError {
        FFISignatureError(signature: text, problem: problem, column: column, expected: expected)
    }

    /// A character as the message shows it: printable ASCII quoted, anything else by code point.
    func show(_ c: Character) -> String {
        if c.isASCII, let v = c.asciiValue, v >= 0x21, v < 0x7f { return "'\(c)'" }
        return "character " + c.unicodeScalars.map { u -> String in
            let hex = String(u.value, radix: 16, uppercase: true)
            return "U+" + String(repeating: "0", count: max(0, 4 - hex.count)) + hex
        }.joined(separator: " ")
    }
}
