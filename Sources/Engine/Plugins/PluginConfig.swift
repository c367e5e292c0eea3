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

/// Config as the user writes it: `key=value` pairs separated by commas.
public enum PluginConfig {
    /// Parses "tau=0.2,similarity=dot". Empty text gives no pairs. A key given twice is an error
    /// (the user almost certainly meant something else by one of them).
    public static func parse(_ text: String) throws -> [String: String] {
        var pairs: [String: String] = [:]
        for item in text.split(separator: ",", omittingEmptySubsequences: true) {
            let part = item.trimmingWhitespace()
            guard let eq = part.firstIndex(of: "="), eq != part.startIndex else {
                throw PluginError(message: "config item '\(part)' is not key=value",
                                  remedy: "write the config as key=value pairs separated by commas, e.g. tau=0.2,similarity=dot")
            }
            let key = String(part[..<eq]).trimmingWhitespace(), value = String(part[part.index(after: eq)...]).trimmingWhitespace()
            guard pairs[key] == nil else {
                throw PluginError(message: "config key '\(key)' is given twice", remedy: "give each key once")
            }
            pairs[key] = value
        }
        return pairs
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
                                   remedy: "check the spelling, or run `workbench plugin list` on the library")
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
