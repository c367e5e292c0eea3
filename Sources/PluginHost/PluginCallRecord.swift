import CallWatch

/// The call into plugin code in progress, for this process: which plugin, from which library,
/// in which function, since when. Plugins are code the Engine does not control; a call that never
/// returns or that crashes the process can only be reported by naming it, and by the time it
/// matters the calling thread is stuck or dying. So every call is recorded as it begins and
/// cleared as it ends, in plain C memory (CallWatch) that another thread or a signal handler can
/// read. What to do about a hang or a crash (a time limit, a message) is the host's business.
///
/// One call is recorded at a time: the trainer and the checker call plugins from one thread. A
/// call begun while another is recorded replaces it until it ends.
public enum PluginCallRecord {
    /// A call in progress.
    public struct Call: Sendable, Equatable, CustomStringConvertible {
        /// The plugin's id; empty for library code that is not one plugin's (an entry function,
        /// a plain C reward function).
        public var plugin: String
        /// The library path as the user gave it, or "builtin".
        public var library: String
        /// "<kind>.<function>" for a plugin ("reward.score", "pooling.create"), else the symbol.
        public var function: String
        /// How long it has been running.
        public var seconds: Double

        /// "plugin org.x.reward (./libx.so)", or the library alone when there is no plugin id.
        public var owner: String { plugin.isEmpty ? library : "plugin \(plugin) (\(library))" }

        /// "plugin org.x.reward (./libx.so), function reward.score": the words the crash line uses.
        public var description: String { "\(owner), function \(function)" }
    }

    /// Runs `body` as a call into `function` of `plugin` (an id, or "") from `library`.
    @inline(__always)
    public static func during<T>(plugin: String, library: String, function: String, _ body: () throws -> T) rethrows -> T {
        let token = wb_watch_begin(plugin, library, function)
        defer { wb_watch_end(token) }
        return try body()
    }

    /// Runs `body` as a call into `function` of the plugin `descriptor` describes.
    @inline(__always)
    public static func during<T>(_ descriptor: PluginDescriptor, _ function: String, _ body: () throws -> T) rethrows -> T {
        try during(plugin: descriptor.id, library: descriptor.library, function: "\(descriptor.kind).\(function)", body)
    }

    /// The call in progress, or nil when none is.
    public static var current: Call? {
        var started: UInt64 = 0
        var plugin = [CChar](repeating: 0, count: 256), library = [CChar](repeating: 0, count: 1024), function = [CChar](repeating: 0, count: 128)
        let token = wb_watch_current(&started, &plugin, plugin.count, &library, library.count, &function, function.count)
        guard token != 0 else { return nil }
        let now = wb_watch_now_ns()
        func text(_ c: [CChar]) -> String { c.withUnsafeBufferPointer { String(cString: $0.baseAddress!) } }
        return Call(plugin: text(plugin), library: text(library), function: text(function),
                    seconds: now > started ? Double(now - started) / 1e9 : 0)
    }
}
