import Foundation

/// Names of the signals that end a training child, in one place for the runner's status.json
/// and console and for the report that reads them back.
enum SignalName {
    /// "SIGABRT", or nil for a signal without a name here.
    static func short(_ s: Int32) -> String? {
        switch s {
        case SIGHUP: "SIGHUP"
        case SIGINT: "SIGINT"
        case SIGILL: "SIGILL"
        case SIGTRAP: "SIGTRAP"
        case SIGABRT: "SIGABRT"
        case SIGBUS: "SIGBUS"
        case SIGFPE: "SIGFPE"
        case SIGKILL: "SIGKILL"
        case SIGSEGV: "SIGSEGV"
        case SIGPIPE: "SIGPIPE"
        case SIGTERM: "SIGTERM"
        default: nil
        }
    }

    /// The name and what usually sends it to a workbench child, e.g. "SIGABRT: an abort, …".
    static func explained(_ s: Int32) -> String {
        guard let name = short(s) else { return "signal \(s)" }
        let cause: String? = switch s {
        case SIGABRT: "an abort, e.g. a failed precondition or a plugin calling abort()"
        case SIGSEGV: "a bad memory access"
        case SIGILL: "a Swift runtime trap, e.g. an overflow or a force-unwrap of nil"
        case SIGTRAP: "a Swift runtime trap"
        case SIGKILL: "killed, perhaps by the out-of-memory killer"
        default: nil
        }
        return cause.map { "\(name): \($0)" } ?? name
    }
}
