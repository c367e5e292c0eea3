import ArgumentParser
import Foundation

/// What `workbench plugin new` writes: a plugin folder for one kind in one language, as
/// relative paths and their contents. Built from the name alone, so the folder depends on
/// nothing but the header text it carries.
struct PluginScaffold {
    enum Language: String, ExpressibleByArgument, CaseIterable {
        case c, swift
    }

    enum Kind: String, ExpressibleByArgument, CaseIterable {
        case reward, pooling, contrastive
    }

    struct File {
        var path: String
        var contents: [UInt8]

        init(_ path: String, _ text: String) {
            self.path = path
            contents = Array(text.utf8)
        }

        init(_ path: String, bytes: [UInt8]) {
            self.path = path
            contents = bytes
        }
    }

    let name: PluginName
    let language: Language
    let kind: Kind

    /// The plugin's id, as its descriptor declares it.
    var id: String { "org.example.\(kind.rawValue).\(name.text)" }
    /// The file the build makes, relative to the plugin folder.
    var library: String {
        switch language {
        case .c: return "lib\(name.text).so"
        case .swift: return ".build/release/lib\(name.text).so"
        }
    }

    var files: [File] {
        switch language {
        case .c: return CPluginTemplate(self).files
        case .swift: return SwiftPluginTemplate(self).files
        }
    }
}

/// A plugin's name as `plugin new` takes it. It becomes the library's file name (lib<name>.so),
/// the last label of the plugin id (org.example.<kind>.<name>), a metric prefix and, for Swift,
/// the package and product name, so it is held to what all of those accept and a --plugin spec
/// parses unambiguously (no '.', ':', '@', '=', '/' or spaces).
struct PluginName: CustomStringConvertible {
    let text: String
    static let maxLength = 64
    static let rule = "ASCII letters, digits, '-' and '_', starting with a letter, at most \(maxLength) characters"

    var description: String { text }

    init(_ text: String) throws {
        func refuse(_ why: String) -> CLIError {
            CLIError("plugin name '\(text)' \(why); the name becomes the library lib<name>.so and the id org.example.<kind>.<name>, so use \(Self.rule) (e.g. my-reward)")
        }
        guard let first = text.unicodeScalars.first else { throw refuse("is empty") }
        guard first.isASCII && first.properties.isAlphabetic else { throw refuse("starts with '\(first)'") }
        if let bad = text.unicodeScalars.first(where: { !($0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || $0 == "-" || $0 == "_")) }) {
            throw refuse("contains '\(bad.isASCII && bad.value >= 32 && bad.value != 127 ? String(bad) : String(format: "U+%04X", bad.value))'")
        }
        guard text.unicodeScalars.count <= Self.maxLength else { throw refuse("is \(text.unicodeScalars.count) characters long") }
        self.text = text
    }

    /// The name as a Swift type and module name: "my-reward" → "MyReward".
    var upperCamel: String {
        text.split(whereSeparator: { $0 == "-" || $0 == "_" }).map { $0.prefix(1).uppercased() + $0.dropFirst() }.joined()
    }
}
