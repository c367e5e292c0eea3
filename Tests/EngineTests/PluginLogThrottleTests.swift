import PluginABI
import Testing
@testable import Engine
@testable import PluginHost

/// What of a plugin's log reaches stderr in training: no debug, each distinct line once, and a
/// notice instead of everything past the limit.
@Suite struct PluginLogThrottleTests {
    func line(_ level: Int, _ message: String) -> PluginLogLine { PluginLogLine(level: level, message: message) }

    @Test func debugIsDroppedAndRepeatsAreShownOnce() {
        var t = PluginLogThrottle(pluginID: "org.x.reward")
        #expect(t.lines(for: line(WB_LOG_DEBUG, "score called")) == [])
        #expect(t.lines(for: line(WB_LOG_INFO, "table loaded")) == ["plugin org.x.reward: info: table loaded"])
        #expect(t.lines(for: line(WB_LOG_WARNING, "no table")) == ["plugin org.x.reward: warning: no table"])
        #expect(t.lines(for: line(WB_LOG_WARNING, "no table")) == [])
        // The same text at another level is another line.
        #expect(t.lines(for: line(WB_LOG_ERROR, "no table")) == ["plugin org.x.reward: error: no table"])
        #expect(t.lines(for: line(7, "odd")) == ["plugin org.x.reward: level 7: odd"])
    }

    @Test func aPluginLoggingEveryCallIsCutOffAfterTheLimit() {
        var t = PluginLogThrottle(pluginID: "org.x.reward")
        let shown = (0..<1000).flatMap { t.lines(for: line(WB_LOG_INFO, "batch \($0)")) }
        #expect(shown.count == PluginLogThrottle.limit + 1)
        #expect(shown[PluginLogThrottle.limit - 1] == "plugin org.x.reward: info: batch \(PluginLogThrottle.limit - 1)")
        #expect(shown.last == "plugin org.x.reward: logged more than \(PluginLogThrottle.limit) different lines; the rest are not shown (the plugin checker shows every line, under the check that logged it)")
        #expect(t.lines(for: line(WB_LOG_ERROR, "a new error")) == [])
    }
}
