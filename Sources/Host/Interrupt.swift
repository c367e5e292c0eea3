import ArgumentParser
import CallWatch
import Foundation

/// Stopping a long run cleanly: Ctrl-C (SIGINT) and SIGTERM (what `kill`, `timeout`,
/// `docker stop` and Slurm send) ask the trainer to stop after the current step; it then saves
/// a resumable checkpoint (`--resume` continues from it), so no finished work is lost, and the process exits
/// with 128 + the signal's number, as if the signal had ended it. A second signal exits at once.
/// When the step is inside a plugin call, the message names the call: the step cannot end before
/// it returns, and the plugin watchdog (--plugin-timeout) ends a call that never does.
enum Interrupt {
    nonisolated(unsafe) static var requested = false
    /// The signal that asked; 0 when none did.
    nonisolated(unsafe) static var signalNumber: Int32 = 0

    static func install() {
        unblock([SIGINT, SIGTERM])
        for s in [SIGINT, SIGTERM] {
            signal(s) { s in
                if Interrupt.requested { _exit(128 + s) }
                Interrupt.requested = true
                Interrupt.signalNumber = s
                let msg = s == SIGINT
                    ? "\ninterrupted: finishing this step, then a final evaluation and checkpoint (Ctrl-C again to quit now)\n"
                    : "\nSIGTERM: finishing this step, then a final evaluation and checkpoint (a second signal quits now)\n"
                _ = msg.withCString { write(STDERR_FILENO, $0, strlen($0)) }
                // A step inside a plugin call ends only when the call returns; say which, and
                // that the watchdog ends the wait if it never does.
                _ = wb_watch_write_current(STDERR_FILENO, "waiting for ",
                                           ", to return; if it never does, --plugin-timeout stops the run\n")
            }
        }
    }

    /// A process inherits its parent's blocked signals (a test runner's threads, some process
    /// managers block them), and a blocked SIGTERM would never reach the handler: the run would
    /// train on, unstoppable but by SIGKILL. Handling them means receiving them.
    static func unblock(_ signals: [Int32]) {
        var set = sigset_t()
        sigemptyset(&set)
        for s in signals { sigaddset(&set, s) }
        pthread_sigmask(SIG_UNBLOCK, &set, nil)
    }

    /// The signal's name when one stopped the run.
    static var signalName: String? { signalNumber == 0 ? nil : SignalName.short(signalNumber) ?? "signal \(signalNumber)" }

    /// Ends the process the way the signal would have (after the run's output is complete).
    static func exitIfSignalled() throws {
        if signalNumber != 0 { throw ExitCode(128 + signalNumber) }
    }
}
