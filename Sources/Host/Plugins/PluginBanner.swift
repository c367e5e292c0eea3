import Engine

/// How a run's output names one of its plugins: id, version, where it came from, and the whole
/// config create received (every declared key, defaults included, in declaration order), so
/// the output alone says what ran. run.json and comparison fingerprints keep
/// `RLCommand.describe`, whose text a change here must not alter.
enum PluginBanner {
    static func line(_ i: PluginInstance) -> String {
        let from = i.descriptor.library == PluginLoader.builtinName ? "built-in" : i.descriptor.library
        let config = i.config.isEmpty ? "(no config keys)" : "{" + i.config.map { "\($0.key)=\(PluginConfig.quoted($0.value))" }.joined(separator: ", ") + "}"
        return "\(i.descriptor.id) \(i.descriptor.version) (\(from)) \(config)"
    }
}
