import PluginABI

/// Why a built-in's call fails: the status it returns and the message it sends through
/// host->error. Thrown inside the Swift code and turned into a status at the C boundary
/// (`BuiltinCall`), so nothing unwinds across it.
struct PluginFailure: Error, CustomStringConvertible {
    var status: wb_status
    var message: String

    var description: String { message }

    /// A batch the plugin cannot handle (sizes, NULL inputs).
    static func invalid(_ message: String) -> PluginFailure { PluginFailure(status: wb_status(WB_ERROR_INVALID_ARGUMENT), message: message) }
    /// A config value the plugin rejects.
    static func config(_ message: String) -> PluginFailure { PluginFailure(status: wb_status(WB_ERROR_CONFIG), message: message) }
}
