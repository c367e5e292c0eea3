import ArgumentParser
import Foundation

/// Child command lines checked in this process, with the children's own parsers, so a typo in an
/// experiment fails before anything trains rather than minutes into a comparison.
enum ArgumentCheck {
    /// Parses `arguments` as `type` would in the child (including its validate()); on failure,
    /// the parser's message, prefixed by `what` and followed by where the offending flag was set.
    @discardableResult
    static func parse<C: ParsableArguments>(_ type: C.Type, _ arguments: [String], what: String, settings: [Setting]) throws -> C {
        do {
            return try type.parse(arguments)
        } catch {
            let message = type.message(for: error)
            let source = settings.first { mentions(message, flag: $0.key) }.map { " (set at \($0.origin))" } ?? ""
            throw ExperimentFile.Error(description: "\(what): \(message)\(source)")
        }
    }

    /// Whether `type` has a `--key` flag: parsing just `required + ["--key"]` fails with
    /// "Unknown option" only when it does not (a missing value means the flag exists).
    static func accepts<C: ParsableArguments>(_ type: C.Type, _ key: String, required: [String] = []) -> Bool {
        do {
            _ = try type.parse(required + ["--\(key)"])
            return true
        } catch {
            return !type.message(for: error).contains("Unknown option '--\(key)'")
        }
    }

    /// True when `message` names `--key` itself (not a longer flag that starts with it).
    static func mentions(_ message: String, flag key: String) -> Bool {
        var rest = message[...]
        while let r = rest.range(of: "--\(key)") {
            let next = rest[r.upperBound...].first
            if next.map({ !($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") }) ?? true { return true }
            rest = rest[r.upperBound...]
        }
        return false
    }
}
