import Foundation

/// Signals for a parent of training children. Foundation starts each child in its own process
/// group, so a Ctrl-C in the terminal reaches only this process, and a parent that quits without
/// stopping its children would leave them training, unseen, into folders the next call reuses.
///
/// First Ctrl-C, SIGTERM or SIGHUP (a `kill`, `timeout`, Slurm or a closed terminal): sets
/// Interrupt.requested; the runner then stops the children in order (SIGINT, later SIGTERM) and
/// records them as interrupted, so no status is left "running". A second signal: SIGTERM to every
/// child at once, then this process exits with 128 + the signal's number.
enum ChildSignals {
    /// Child pids, read by the signal handler (which may only touch plain memory); 0 = free slot.
    private static let capacity = 256
    nonisolated(unsafe) private static let pids: UnsafeMutablePointer<Int32> = {
        let p = UnsafeMutablePointer<Int32>.allocate(capacity: capacity)
        p.initialize(repeating: 0, count: capacity)
        return p
    }()

    static func register(_ pid: Int32) {
        for i in 0..<capacity where pids[i] == 0 { pids[i] = pid; return }
    }

    static func unregister(_ pid: Int32) {
        for i in 0..<capacity where pids[i] == pid { pids[i] = 0 }
    }

    static func install() {
        _ = pids  // allocated now, not first inside a signal handler
        Interrupt.unblock([SIGINT, SIGTERM, SIGHUP])
        for s in [SIGINT, SIGTERM, SIGHUP] {
            signal(s) { s in
                if Interrupt.requested {
                    ChildSignals.terminateAll()
                    _exit(128 + s)
                }
                Interrupt.requested = true
                Interrupt.signalNumber = s
                let msg = s == SIGINT
                    ? "\ninterrupted: stopping the running children; finished ones are kept (Ctrl-C again to stop them at once and quit)\n"
                    : "\nterminated: stopping the running children; finished ones are kept (a second signal stops them at once)\n"
                _ = msg.withCString { write(STDERR_FILENO, $0, strlen($0)) }
            }
        }
    }

    /// Async-signal-safe: kill(2) on each registered pid.
    private static func terminateAll() {
        for i in 0..<capacity where pids[i] > 0 { kill(pids[i], SIGTERM) }
    }
}
