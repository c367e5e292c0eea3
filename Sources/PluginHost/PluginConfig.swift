import PluginABI

/// The value type of a config key, as declared by the plugin (WB_CONFIG_*).
public enum PluginConfigType: Int, Sendable, CustomStringConvertible {
    case bool = 1, int = 2, float = 3, string = 4

    public var description: String {
        switch self {
        case .bool: "bool"
        case .int: "int"
        case .float: "float"
        case .string: "string"
        }
    }

    var example: String {
        switch self {
        case .bool: "true or false"
        case .int: "an integer such as 3"
        case .float: "a finite number such as 0.2 or 1e-3"
        case .string: "any text"
        }
    }
}

/// One config key a plugin declares.
public struct PluginConfigKey: Sendable, Equatable {
    public var name: String
    public var type: PluginConfigType
    public var defaultValue: String
    public var help: String
    /// For string keys restricted to a set of values; nil when any string is allowed.
    public var choices: [String]?

    public init(name: String, type: PluginConfigType, defaultValue: String, help: String, choices: [String]? = nil) {
        self.name = name
        self.type = type
        self.defaultValue = defaultValue
        self.help = help
        self.choices = choices
    }

    /// "float", or "string: cosine|dot" when the key lists its choices.
    public var typeDescription: String {
        if let choices { return "\(type): \(choices.joined(separator: "|"))" }
        return type.description
    }

    /// The value in the canonical form the header promises plugins ("true"/"false" for bools),
    /// or nil when it does not parse as this key's type.
    public func normalize(_ value: String) -> String? {
        switch type {
        case .bool:
            switch value.lowercased() {
            case "true", "1", "yes", "on": return "true"
            case "false", "0", "no", "off": return "false"
            default: return nil
            }
        case .int:
            return Int64(value) == nil ? nil : value
        case .float:
            // Swift's Double() also accepts "nan", "inf" and hex; the header promises finite decimals.
            guard let d = Double(value), d.isFinite, !value.lowercased().hasPrefix("0x"),
                  !value.lowercased().hasPrefix("-0x"), !value.lowercased().hasPrefix("+0x") else { return nil }
            return value
        case .string:
            if let choices, !choices.contains(value) { return nil }
            return value
        }
    }
}

/// Config as the user writes it: `key=value` pairs separated by commas. A value that holds a
/// comma, a double quote or spaces at its ends is written in double quotes, where `\"` is a
/// quote and `\\` a backslash: `prefix="Therefore, the answer is:",tau=0.2`.
public enum PluginConfig {
    static let remedy = #"write the config as key=value pairs separated by commas, e.g. tau=0.2,similarity=dot; put a value holding commas in double quotes, e.g. prefix="Therefore, the answer is:""#

    /// Parses "tau=0.2,similarity=dot". Empty text gives no pairs. Spaces around keys and
    /// unquoted values are dropped. A key given twice is an error (the user almost certainly
    /// meant something else by one of them).
    public static func parse(_ text: String) throws -> [String: String] {
        var pairs: [String: String] = [:]
        let chars = Array(text)
        var i = 0
        func skipSpaces() { while i < chars.count, chars[i].isWhitespace { i += 1 } }
        func bad(_ message: String) -> PluginError { PluginError(message: message, remedy: remedy) }
        while true {
            skipSpaces()
            if i == chars.count { break }
            if chars[i] == "," { i += 1; continue }
            let keyStart = i
            while i < chars.count, chars[i] != "=", chars[i] != "," { i += 1 }
            let key = String(chars[keyStart..<i]).trimmingWhitespace()
            guard i < chars.count, chars[i] == "=", !key.isEmpty else {
                var end = i
                while end < chars.count, chars[end] != "," { end += 1 }
                throw bad("config item '\(String(chars[keyStart..<end]).trimmingWhitespace())' is not key=value")
            }
            i += 1
            skipSpaces()
            var value = ""
            if i < chars.count, chars[i] == "\"" {
                i += 1
                var closed = false
                while i < chars.count {
                    let c = chars[i]
                    i += 1
                    if c == "\"" { closed = true; break }
                    if c == "\\" {
                        guard i < chars.count, chars[i] == "\"" || chars[i] == "\\" else {
                            throw bad("the quoted value of '\(key)' has a backslash before \(i < chars.count ? "'\(chars[i])'" : "its end"); inside quotes \\\" is a quote and \\\\ a backslash")
                        }
                        value.append(chars[i])
                        i += 1
                    } else {
                        value.append(c)
                    }
                }
                guard closed else { throw bad("the value of '\(key)' opens a double quote that is never closed") }
                skipSpaces()
                guard i == chars.count || chars[i] == "," else {
                    throw bad("after the quoted value of '\(key)' comes '\(chars[i])'; separate pairs with commas")
                }
            } else {
                let valueStart = i
                while i < chars.count, chars[i] != "," { i += 1 }
                value = String(chars[valueStart..<i]).trimmingWhitespace()
            }
            guard pairs[key] == nil else {
                throw PluginError(message: "config key '\(key)' is given twice", remedy: "give each key once")
            }
            pairs[key] = value
        }
        return pairs
    }

    /// The pairs as `parse` reads them back: `key=value,...`, quoting the values that need it.
    public static func text(_ pairs: [(key: String, value: String)]) -> String {
        pairs.map { "\($0.key)=\(quoted($0.value))" }.joined(separator: ",")
    }

    /// The value as written in a config: bare when `parse` reads it back unchanged, else quoted.
    public static func quoted(_ value: String) -> String {
        let bare = !value.contains(",") && value.first != "\"" && value.first?.isWhitespace != true && value.last?.isWhitespace != true
        if bare { return value }
        return "\"" + value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
    }

    /// The full config a plugin's create receives: every declared key in declaration order, the
    /// user's value (normalized) where given, the default elsewhere. Unknown keys and ill-typed
    /// values are errors naming the plugin, the key and, for unknown keys, the keys it has.
    public static func resolve(_ given: [String: String], for descriptor: PluginDescriptor) throws -> [(key: String, value: String)] {
        let keys = descriptor.configKeys
        for name in given.keys.sorted() where !keys.contains(where: { $0.name == name }) {
            let known = keys.isEmpty ? "it takes no config keys"
                : "its keys are: " + keys.map { "\($0.name) (\($0.typeDescription))" }.joined(separator: ", ")
            throw descriptor.error("has no config key '\(name)'; \(known)",
                                   remedy: "check the spelling against the keys above")
        }
        return try keys.map { key in
            guard let raw = given[key.name] else { return (key.name, key.defaultValue) }
            guard let value = key.normalize(raw) else {
                let expected = key.choices.map { "one of " + $0.joined(separator: ", ") } ?? key.type.example
                let article = key.type == .int ? "an" : "a"
                throw descriptor.error("config key '\(key.name)' is \(article) \(key.typeDescription) but got '\(raw)'",
                                       remedy: "give \(expected), e.g. \(key.name)=\(key.defaultValue)")
            }
            return (key.name, value)
        }
    }
}

extension StringProtocol {
    fileprivate func trimmingWhitespace() -> String {
        var s = Substring(self)
        while let c = s.first, c.isWhitespace { s.removeFirst() }
        while let c = s.last, c.isWhitespace { s.removeLast() }
        return String(s)
    }
}
