/// A plugin that cannot be loaded, configured or run. Plugins are written by researchers outside
/// this codebase, so every message names where the plugin came from (the library path as the
/// user typed it, or "builtin"), which plugin, which call, and what to do about it.
public struct PluginError: Error, CustomStringConvertible, Equatable, Sendable {
    /// The library path as the user gave it, or "builtin".
    public var library: String?
    /// The plugin's reverse-DNS id, once known.
    public var plugin: String?
    /// What is wrong.
    public var message: String
    /// What to do about it; empty only when the message already says it (a plugin's own words).
    public var remedy: String

    public init(library: String? = nil, plugin: String? = nil, message: String, remedy: String = "") {
        self.library = library
        self.plugin = plugin
        self.message = message
        self.remedy = remedy
    }

    public var description: String {
        var parts: [String] = []
        if let library { parts.append(library) }
        if let plugin { parts.append("plugin \(plugin)") }
        parts.append(remedy.isEmpty ? message : "\(message); \(remedy)")
        return parts.joined(separator: ": ")
    }
}
