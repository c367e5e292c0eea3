import Engine
import Foundation

/// One `--plugin` value: which plugins to take from which library, and their config.
///
///     path/to/libx.so                   every plugin in the library
///     path/to/libx.so@org.x.reward      one plugin of a library that holds several
///     path/to/libx.so:margin=0.3,k=v    config, each key going to the plugin that declares it
///     path/to/libx.so:p="a, b"          a value holding commas, in double quotes
///                                       (a ':' in a folder name is part of the path)
///     builtin:carft-embedding           a built-in, by id or by the id's last part
struct PluginSpec: CustomStringConvertible, Equatable {
    var library: String
    var id: String?
    var config: [String: String]
    let text: String

    var description: String { text }

    /// The library file, or nil for a built-in.
    var path: String? { library == PluginLoader.builtinName ? nil : library }

    static let builtinPrefix = PluginLoader.builtinName + ":"

    init(parsing text: String) throws {
        self.text = text
        var rest = Substring(text)
        if rest.hasPrefix(Self.builtinPrefix) {
            library = PluginLoader.builtinName
            rest = rest.dropFirst(Self.builtinPrefix.count)
            let name = rest.prefix { $0 != ":" }
            guard !name.isEmpty else {
                throw CLIError("--plugin \(text): name the built-in after `builtin:` (see `workbench plugin list builtin`)")
            }
            id = String(name)
            rest = rest.dropFirst(name.count)
        } else {
            // The config starts at the first ':' after the file name, so folder names may hold
            // ':' (config values, after their '=', may hold '/').
            let beforeValues = rest[..<(rest.firstIndex(of: "=") ?? rest.endIndex)]
            let nameStart = beforeValues.lastIndex(of: "/").map { rest.index(after: $0) } ?? rest.startIndex
            let head = rest[..<(rest[nameStart...].firstIndex(of: ":") ?? rest.endIndex)]
            rest = rest[head.endIndex...]
            if let at = head.lastIndex(of: "@"), head[head.index(after: at)...].contains(".") {
                library = String(head[..<at])
                id = String(head[head.index(after: at)...])
            } else {
                library = String(head)
                id = nil
            }
            guard !library.isEmpty else { throw CLIError("--plugin \(text): give the path of a plugin library (.so)") }
        }
        config = [:]
        if rest.hasPrefix(":") {
            do {
                config = try PluginConfig.parse(String(rest.dropFirst()))
            } catch {
                throw CLIError("--plugin \(text): \(error)")
            }
        }
    }

    /// The descriptors this spec names, each with the config keys it declares. Every given key
    /// must belong to one of them: a typo is an error, not a default.
    func resolve() throws -> [(descriptor: PluginDescriptor, config: [String: String])] {
        let lib = try PluginLoader.library(library)
        var chosen: [PluginDescriptor]
        if let id {
            if library == PluginLoader.builtinName, !lib.plugins.contains(where: { $0.id == id }) {
                let matches = lib.plugins.filter { $0.id.hasSuffix("." + id) }
                guard matches.count == 1 else {
                    throw CLIError("--plugin \(text): no built-in plugin is called '\(id)'; the built-ins are \(lib.plugins.map(\.id).joined(separator: ", "))")
                }
                chosen = matches
            } else {
                chosen = [try lib.plugin(id)]
            }
        } else {
            chosen = lib.plugins
        }
        for key in config.keys.sorted() where !chosen.contains(where: { $0.configKeys.contains { $0.name == key } }) {
            let known = Set(chosen.flatMap { $0.configKeys.map(\.name) }).sorted()
            throw CLIError("--plugin \(text): no plugin here has the config key '\(key)'; the keys are: \(known.isEmpty ? "(none)" : known.joined(separator: ", ")) (see `workbench plugin list \(library)`)")
        }
        return chosen.map { d in (d, config.filter { k, _ in d.configKeys.contains { $0.name == k } }) }
    }
}

/// The plugins of one run, at most one per kind, each replacing the built-in of its kind.
struct PluginSelection {
    var reward: (descriptor: PluginDescriptor, config: [String: String])?
    var pooling: (descriptor: PluginDescriptor, config: [String: String])?
    var contrastive: (descriptor: PluginDescriptor, config: [String: String])?

    init(_ specs: [PluginSpec]) throws {
        var origin: [PluginKind: String] = [:]
        for spec in specs {
            for (d, config) in try spec.resolve() {
                if let earlier = origin[d.kind] {
                    throw CLIError("two \(d.kind) plugins: \(d.id) from --plugin \(spec) and one from --plugin \(earlier); a run takes one plugin of each kind (pick one with lib.so@<id>)")
                }
                origin[d.kind] = spec.text
                switch d.kind {
                case .reward: reward = (d, config)
                case .pooling: pooling = (d, config)
                case .contrastive: contrastive = (d, config)
                }
            }
        }
    }

    var isEmpty: Bool { reward == nil && pooling == nil && contrastive == nil }

    /// The built-in defaults of CARFT, as its reference code runs it: softmax(V)-weighted pooling of p_t and the
    /// positive masked InfoNCE.
    static let defaultPooling = "org.workbench.pooling.softmax-values"
    static let defaultContrastive = "org.workbench.contrastive.infonce-positive"

    /// CARFT's pooling and contrastive loss, created: the selected plugins, else the built-in defaults.
    func carftPlugins() throws -> (pooling: PluginPooling, contrastive: PluginContrastiveLoss) {
        let builtin = try PluginLoader.library(PluginLoader.builtinName)
        let pooling = try PluginPooling(self.pooling?.descriptor ?? builtin.plugin(Self.defaultPooling), config: self.pooling?.config ?? [:])
        let contrastive = try PluginContrastiveLoss(self.contrastive?.descriptor ?? builtin.plugin(Self.defaultContrastive),
                                                    config: self.contrastive?.config ?? [:])
        return (pooling, contrastive)
    }
}
