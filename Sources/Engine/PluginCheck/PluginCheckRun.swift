/// The checks of one plugin as they run: each body is one check, a throw becomes its FAIL line,
/// and what the plugin logs while a body runs is attached to that check's result, so a log line
/// shows under the check whose call wrote it.
final class PluginCheckRun {
    /// What a check body returns besides passing.
    struct Report {
        var detail = ""
        var lines: [String] = []
        var warnings: [String] = []
    }

    let plugin: String
    private let starting: (String) -> Void
    private let finished: (PluginCheckResult) -> Void
    private(set) var results: [PluginCheckResult] = []
    private var logged: [PluginLogLine] = []

    init(plugin: String, starting: @escaping (String) -> Void, finished: @escaping (PluginCheckResult) -> Void) {
        self.plugin = plugin
        self.starting = starting
        self.finished = finished
    }

    /// For PluginInstance's onLog. Weak: the instance may outlive the run.
    var logSink: (Int, String) -> Void {
        { [weak self] level, message in self?.logged.append(PluginLogLine(level: level, message: message)) }
    }

    func check(_ name: String, _ body: () throws -> String) {
        report(name) { Report(detail: try body()) }
    }

    func report(_ name: String, _ body: () throws -> Report) {
        starting(name)
        logged = []
        var result: PluginCheckResult
        do {
            let r = try body()
            result = PluginCheckResult(plugin: plugin, check: name, passed: true, detail: r.detail, lines: r.lines, warnings: r.warnings)
        } catch {
            result = PluginCheckResult(plugin: plugin, check: name, passed: false, detail: "\(error)")
        }
        result.logs = logged
        logged = []
        results.append(result)
        finished(result)
    }
}
