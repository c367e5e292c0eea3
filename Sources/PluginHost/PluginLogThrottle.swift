import PluginABI

/// What of a plugin's log reaches stderr when nobody collects it, as in training. A plugin that
/// logs on every call would otherwise print thousands of lines over the progress line, so debug
/// lines are dropped, each distinct line is shown once, and after `limit` distinct lines one
/// notice says the rest are not shown. The plugin checker collects every line instead.
struct PluginLogThrottle {
    static let limit = 20

    let pluginID: String
    private var shown: Set<String> = []
    private var stopped = false

    init(pluginID: String) { self.pluginID = pluginID }

    /// The stderr lines for one log call: none, the line, or the notice that ends the log.
    mutating func lines(for line: PluginLogLine) -> [String] {
        guard line.level > WB_LOG_DEBUG, !stopped else { return [] }
        let text = "plugin \(pluginID): \(line.levelName): \(line.message)"
        if shown.contains(text) { return [] }
        guard shown.count < Self.limit else {
            stopped = true
            return ["plugin \(pluginID): logged more than \(Self.limit) different lines; the rest are not shown (the plugin checker shows every line, under the check that logged it)"]
        }
        shown.insert(text)
        return [text]
    }
}
