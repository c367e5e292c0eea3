import PluginABI

/// One line a plugin wrote through host->log.
public struct PluginLogLine: Sendable, Equatable, CustomStringConvertible {
    /// WB_LOG_*.
    public var level: Int
    public var message: String

    public init(level: Int, message: String) {
        self.level = level
        self.message = message
    }

    public var levelName: String {
        switch level {
        case WB_LOG_DEBUG: "debug"
        case WB_LOG_INFO: "info"
        case WB_LOG_WARNING: "warning"
        case WB_LOG_ERROR: "error"
        // The header defines four levels, but a plugin may pass any int32.
        default: "level \(level)"
        }
    }

    public var description: String { "log (\(levelName)): \(message)" }
}
