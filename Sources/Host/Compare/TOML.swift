import Foundation

/// The part of TOML an experiment file needs: `key = value` lines, `[table]` and `[[array]]`
/// headers, basic and literal strings, integers, floats (`2e-5`), booleans, arrays of those
/// (over several lines, trailing comma allowed) and `#` comments. Anything else (inline tables,
/// dotted keys, dates, multi-line strings) is refused with the line, rather than half-read.
enum TOML {
    enum Value: Equatable {
        case string(String)
        /// Numbers keep their text as written (minus `_` separators), so `lr = 2e-5` reaches the
        /// command line as `2e-5`, not as Swift's rendering of the Double.
        case integer(Int64, text: String)
        case float(Double, text: String)
        case bool(Bool)
        case array([Value])
        case table(Table)
        case tables([Table])

        var typeName: String {
            switch self {
            case .string: return "a string"
            case .integer: return "an integer"
            case .float: return "a float"
            case .bool: return "a boolean"
            case .array: return "an array"
            case .table: return "a table"
            case .tables: return "an array of tables"
            }
        }
    }

    /// One table's keys in the order written, each with the line it was set on (for messages).
    struct Table: Equatable {
        struct Entry: Equatable {
            var key: String
            var value: Value
            var line: Int
        }

        var line: Int
        private(set) var entries: [Entry] = []

        init(line: Int) { self.line = line }

        subscript(key: String) -> Value? { entries.first { $0.key == key }?.value }
        func line(of key: String) -> Int { entries.first { $0.key == key }?.line ?? line }

        mutating func set(_ key: String, _ value: Value, line: Int) { entries.append(Entry(key: key, value: value, line: line)) }
        mutating func replace(_ key: String, _ value: Value) {
            if let i = entries.firstIndex(where: { $0.key == key }) { entries[i].value = value }
        }
    }

    struct ParseError: Error, CustomStringConvertible {
        var file: String
        var line: Int
        var message: String
        var description: String { "\(file):\(line): \(message)" }
    }

    /// Parses `text`; `file` only names the source in error messages.
    static func parse(_ text: String, file: String) throws -> Table {
        var parser = Parser(text: text, file: file)
        return try parser.document()
    }
}

private struct Parser {
    let chars: [Character]
    let file: String
    var i = 0
    var line = 1

    init(text: String, file: String) {
        chars = Array(text.replacingOccurrences(of: "\r\n", with: "\n"))
        self.file = file
    }

    func fail(_ message: String, line: Int? = nil) -> TOML.ParseError {
        TOML.ParseError(file: file, line: line ?? self.line, message: message)
    }

    var peek: Character? { i < chars.count ? chars[i] : nil }

    mutating func advance() {
        if chars[i] == "\n" { line += 1 }
        i += 1
    }

    mutating func skipSpaces() {
        while let c = peek, c == " " || c == "\t" { advance() }
    }

    /// Spaces, a comment, then the end of the line (or file); anything else is an error.
    mutating func endOfLine(after what: String) throws {
        skipSpaces()
        if peek == "#" { while let c = peek, c != "\n" { advance() } }
        guard let c = peek else { return }
        guard c == "\n" else { throw fail("unexpected '\(c)' after \(what); one key = value or [table] per line") }
        advance()
    }

    /// Where the values of the current section go: the root, a [table], or the last [[array]] entry.
    enum Target { case root, table(String), arrayEntry(String) }

    mutating func document() throws -> TOML.Table {
        var root = TOML.Table(line: 1)
        var target = Target.root
        var current = TOML.Table(line: 1)

        func store(_ table: TOML.Table, into root: inout TOML.Table, at target: Target) {
            switch target {
            case .root: root = table
            case .table(let name): root.replace(name, .table(table))
            case .arrayEntry(let name):
                if case .tables(var list) = root[name] { list[list.count - 1] = table; root.replace(name, .tables(list)) }
            }
        }

        while true {
            skipSpaces()
            guard let c = peek else { break }
            if c == "\n" { advance(); continue }
            if c == "#" { try endOfLine(after: "comment"); continue }
            if c == "[" {
                store(current, into: &root, at: target)
                let headerLine = line
                advance()
                let isArray = peek == "["
                if isArray { advance() }
                skipSpaces()
                let name = try key()
                skipSpaces()
                if peek == "." { throw fail("dotted table names ([a.b]) are not supported; use a plain [name]") }
                for _ in 0..<(isArray ? 2 : 1) {
                    guard peek == "]" else { throw fail("expected '\(isArray ? "]]" : "]")' to close the table header [\(isArray ? "[" : "")\(name)") }
                    advance()
                }
                try endOfLine(after: "the table header")
                if isArray {
                    switch root[name] {
                    case nil: root.set(name, .tables([TOML.Table(line: headerLine)]), line: headerLine)
                    case .tables(var list)?:
                        list.append(TOML.Table(line: headerLine))
                        root.replace(name, .tables(list))
                    case let other?:
                        throw fail("[[\(name)]] but '\(name)' is already \(other.typeName) (line \(root.line(of: name)))", line: headerLine)
                    }
                    target = .arrayEntry(name)
                } else {
                    if root[name] != nil { throw fail("'\(name)' is defined twice (first on line \(root.line(of: name)))", line: headerLine) }
                    root.set(name, .table(TOML.Table(line: headerLine)), line: headerLine)
                    target = .table(name)
                }
                current = TOML.Table(line: headerLine)
                continue
            }
            let keyLine = line
            let k = try key()
            skipSpaces()
            if peek == "." { throw fail("dotted keys (a.b = ...) are not supported; use a [table]") }
            guard peek == "=" else { throw fail("expected '=' after the key '\(k)'") }
            advance()
            skipSpaces()
            let v = try value()
            if current[k] != nil { throw fail("'\(k)' is set twice (first on line \(current.line(of: k)))", line: keyLine) }
            current.set(k, v, line: keyLine)
            try endOfLine(after: "the value of '\(k)'")
        }
        store(current, into: &root, at: target)
        return root
    }

    mutating func key() throws -> String {
        if peek == "\"" || peek == "'" {
            let s = try string()
            guard !s.isEmpty else { throw fail("empty key") }
            return s
        }
        var s = ""
        while let c = peek, c.isLetter || c.isNumber || c == "-" || c == "_" { s.append(c); advance() }
        guard !s.isEmpty else {
            throw fail(peek.map { "expected a key (letters, digits, '-', '_'), found '\($0)'" } ?? "expected a key, found the end of the file")
        }
        return s
    }

    mutating func value() throws -> TOML.Value {
        guard let c = peek, c != "\n" else { throw fail("missing value after '='") }
        switch c {
        case "\"", "'":
            if i + 2 < chars.count && chars[i + 1] == c && chars[i + 2] == c {
                throw fail("multi-line strings (\(String(repeating: c, count: 3))) are not supported")
            }
            return .string(try string())
        case "[": return try array()
        case "{": throw fail("inline tables ({ ... }) are not supported; use a [table]")
        default: return try bareValue()
        }
    }

    mutating func string() throws -> String {
        let quote = peek!
        let start = line
        advance()
        var s = ""
        while true {
            guard let c = peek, c != "\n" else { throw fail("unterminated string (opened with \(quote))", line: start) }
            advance()
            if c == quote { return s }
            if c == "\\" && quote == "\"" {
                guard let e = peek else { throw fail("unterminated string") }
                advance()
                switch e {
                case "n": s.append("\n")
                case "t": s.append("\t")
                case "r": s.append("\r")
                case "\\": s.append("\\")
                case "\"": s.append("\"")
                case "u", "U":
                    let n = e == "u" ? 4 : 8
                    var hex = ""
                    for _ in 0..<n { if let h = peek, h.isHexDigit { hex.append(h); advance() } }
                    guard hex.count == n, let code = UInt32(hex, radix: 16), let scalar = Unicode.Scalar(code) else {
                        throw fail("bad \\\(e) escape: expected \(n) hex digits of a Unicode scalar")
                    }
                    s.unicodeScalars.append(scalar)
                default: throw fail("unknown escape '\\\(e)' in a string (use \\\\ for a backslash, or a 'literal string')")
                }
            } else {
                s.append(c)
            }
        }
    }

    /// Arrays open inside arrays; bounded, so a file of a million '[' is an error, not a stack overflow.
    var depth = 0
    static let maxDepth = 32

    mutating func array() throws -> TOML.Value {
        guard depth < Self.maxDepth else { throw fail("arrays nested more than \(Self.maxDepth) deep") }
        depth += 1
        defer { depth -= 1 }
        advance()  // [
        var items: [TOML.Value] = []
        while true {
            try skipSpacesNewlinesAndComments()
            if peek == "]" { advance(); return .array(items) }
            items.append(try value())
            try skipSpacesNewlinesAndComments()
            if peek == "," { advance(); continue }
            if peek == "]" { advance(); return .array(items) }
            throw fail(peek.map { "expected ',' or ']' in the array, found '\($0)'" } ?? "unterminated array")
        }
    }

    mutating func skipSpacesNewlinesAndComments() throws {
        while let c = peek {
            if c == " " || c == "\t" || c == "\n" { advance() } else if c == "#" { while let d = peek, d != "\n" { advance() } } else { break }
        }
    }

    /// true/false or a number: the token runs to a delimiter.
    mutating func bareValue() throws -> TOML.Value {
        var token = ""
        while let c = peek, !" \t\n,]#".contains(c) { token.append(c); advance() }
        if token == "true" { return .bool(true) }
        if token == "false" { return .bool(false) }
        let digits = token.replacingOccurrences(of: "_", with: "")
        if digits.range(of: #"^[+-]?[0-9]+$"#, options: .regularExpression) != nil, let n = Int64(digits) {
            return .integer(n, text: digits)
        }
        if digits.range(of: #"^[+-]?[0-9]+(\.[0-9]+)?([eE][+-]?[0-9]+)?$"#, options: .regularExpression) != nil, let x = Double(digits) {
            return .float(x, text: digits)
        }
        if token.isEmpty { throw fail("missing value") }
        throw fail("'\(token)' is not a value: strings need quotes (\"\(token)\"); numbers look like 3, 0.5 or 2e-5; booleans are true or false")
    }
}
