import CallWatch
import Engine
import Foundation

/// The watchdog on plugin calls (`--plugin-timeout`). A plugin call that never returns would
/// stall `rl`, `plugin check` or a whole comparison for good, and a Ctrl-C would then promise a
/// checkpoint that never comes: the trainer stops between steps, and the step never ends. So a
/// thread polls the call in progress (PluginCallRecord) twice a second; once one has run longer
/// than the limit, the command's handler says which plugin and which function hung and records
/// the failure, and the process exits with `exitCode`. The stuck thread cannot be unwound (it is
/// inside the plugin's own code), so what is on disk is what there is: the metrics written so
/// far and the checkpoints of past evaluations.
///
/// Crashes inside a plugin are the crash handler's (CallWatch, installed at startup): it writes
/// the plugin and the function as the last line before the signal ends the process.
enum PluginWatchdog {
    /// The exit status of a process the watchdog stopped: 124, as timeout(1) exits when the
    /// command it ran overran its limit.
    static let exitCode: Int32 = 124
    /// Generous: a plugin that scores a batch for two minutes is broken, not slow.
    static let defaultTimeout = 120

    /// Run on the watchdog's thread just before the process exits: prints what the command has
    /// to say (`message` names the plugin, the function and the limit) and records the failure.
    typealias Handler = (_ call: PluginCallRecord.Call, _ message: String) -> Void

    private static let lock = NSLock()
    nonisolated(unsafe) private static var timeout = defaultTimeout
    nonisolated(unsafe) private static var handler: Handler?
    nonisolated(unsafe) private static var started = false
    nonisolated(unsafe) private static var activityText: String?

    /// Starts the watchdog, once per process; a later call changes the limit and the handler.
    static func start(timeout seconds: Int, handler: @escaping Handler) {
        lock.lock()
        timeout = seconds
        self.handler = handler
        let first = !started
        started = true
        lock.unlock()
        guard first else { return }
        let thread = Thread {
            while true {
                Thread.sleep(forTimeInterval: 0.5)
                if let (call, limit, handler) = overrun() { stop(call, limit: limit, handler: handler) }
            }
        }
        thread.name = "plugin watchdog"
        thread.start()
    }

    /// Runs `body` with `seconds` as the limit and `activity` as what the process is doing (for
    /// the handler's message), then restores both.
    static func limit<T>(_ seconds: Int, while activity: String, _ body: () throws -> T) rethrows -> T {
        lock.lock()
        let before = (timeout, activityText)
        timeout = seconds
        activityText = activity
        lock.unlock()
        defer {
            lock.lock()
            (timeout, activityText) = before
            lock.unlock()
        }
        return try body()
    }

    /// What the process was doing when the call hung, as set by `limit(_:while:_:)`.
    static var activity: String? {
        lock.lock()
        defer { lock.unlock() }
        return activityText
    }

    /// "plugin org.x (./libx.so) did not return from reward.score within 120 s (--plugin-timeout 120)"
    static func message(_ call: PluginCallRecord.Call, limit: Int) -> String {
        "\(call.owner) did not return from \(call.function) within \(limit) s (--plugin-timeout \(limit))"
    }

    /// The call in progress when it has run past the limit, with the limit and the handler.
    private static func overrun() -> (PluginCallRecord.Call, Int, Handler?)? {
        guard let call = PluginCallRecord.current else { return nil }
        lock.lock()
        defer { lock.unlock() }
        return call.seconds >= Double(timeout) ? (call, timeout, handler) : nil
    }

    private static func stop(_ call: PluginCallRecord.Call, limit: Int, handler: Handler?) -> Never {
        // A progress line rewritten in place on a terminal would otherwise run into the message.
        if isatty(STDERR_FILENO) == 1 { _ = write(STDERR_FILENO, "\n", 1) }
        let message = message(call, limit: limit)
        if let handler { handler(call, message) } else { printErr("Error: \(message); stopped") }
        fflush(stdout)
        // _exit, not exit: the stuck thread is still inside the plugin, and atexit handlers
        // (the plugin's own among them) must not run under it.
        _exit(exitCode)
    }

    /// Installs the crash handler (once): a crash inside a plugin call ends with the line
    /// "workbench: crashed (SIGSEGV) inside plugin <id> (<library>), function <kind.function>".
    static func installCrashHandler() {
        _ = wb_watch_install_crash_handler("workbench")
    }

    /// How the crash handler's line starts.
    static let crashLinePrefix = "workbench: crashed ("
}
