import Foundation

/// Ctrl-C handling for long runs: the first interrupt asks the trainer to stop after the
/// current step (it then evaluates and writes its final checkpoint, so no finished work is
/// lost); a second one exits at once.
enum Interrupt {
    nonisolated(unsafe) static var requested = false

    static func install() {
        signal(SIGINT) { _ in
            if Interrupt.requested { _exit(130) }
            Interrupt.requested = true
            let msg = "\ninterrupted: finishing this step, then a final evaluation and checkpoint (Ctrl-C again to quit now)\n"
            _ = msg.withCString { write(STDERR_FILENO, $0, strlen($0)) }
        }
    }
}
