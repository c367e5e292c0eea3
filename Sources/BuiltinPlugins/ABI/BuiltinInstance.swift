import PluginABI

/// The base of every built-in's instance: a Swift object handed to the host as an opaque
/// pointer (Unmanaged, retained by create, released by destroy). It keeps the wb_host the
/// host gave create (alive until destroy returns) for error messages and metrics. Subclasses
/// hold only their immutable config, so instances share no mutable state (the header's
/// thread rule).
class BuiltinInstance {
    let host: UnsafePointer<wb_host>?

    init(host: UnsafePointer<wb_host>?) { self.host = host }

    /// Sends `message` to the host's error sink (the reason for a nonzero status).
    func reportError(_ message: String) {
        guard let host, let sink = host.pointee.error else { return }
        message.withCString { sink(host, $0) }
    }

    /// Records a named scalar in the run's metrics.
    func metric(_ name: String, _ value: Double) {
        guard let host, let sink = host.pointee.metric else { return }
        name.withCString { sink(host, $0, value) }
    }
}
