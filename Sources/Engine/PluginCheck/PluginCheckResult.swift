/// One check of the plugin checker: a PASS, WARN or FAIL line, then, indented under it,
/// what the check shows (a table), what it warns about, and what the plugin logged meanwhile.
public struct PluginCheckResult: Sendable, CustomStringConvertible {
    public var plugin: String
    public var check: String
    public var passed: Bool
    public var detail: String
    /// Shown under the line as they are (a table of scores, say).
    public var lines: [String]
    /// What the check found that a training run would get wrong without failing: the line
    /// reads WARN instead of PASS, and the check still counts as passed.
    public var warnings: [String]
    /// What the plugin logged through host->log while this check ran, in order.
    public var logs: [PluginLogLine]

    public init(plugin: String, check: String, passed: Bool, detail: String,
                lines: [String] = [], warnings: [String] = [], logs: [PluginLogLine] = []) {
        self.plugin = plugin
        self.check = check
        self.passed = passed
        self.detail = detail
        self.lines = lines
        self.warnings = warnings
        self.logs = logs
    }

    public var status: String { !passed ? "FAIL" : warnings.isEmpty ? "PASS" : "WARN" }

    /// Under the plugin id, so the eye runs down the checks without tripping on the extra lines.
    static let indent = "      "

    public var description: String {
        let head = "\(status)  \(plugin)  \(check)\(detail.isEmpty ? "" : ": \(detail)")"
        let under = lines + warnings.map { "WARNING: \($0)" } + logs.map(\.description)
        return ([head] + under.map { Self.indent + $0 }).joined(separator: "\n")
    }
}
