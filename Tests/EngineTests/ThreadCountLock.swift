import Dispatch
import Engine

/// Parallel's thread count is one process-wide setting and Swift Testing runs tests at once, so
/// a test that sets the count (and asserts bit-exact numbers, or a learning margin that a change
/// of count mid-run can tip) holds it through this lock: no other such test changes the count
/// under it. A semaphore, not a mutex, because the release may run on another thread.
enum ThreadCount {
    private static let gate = DispatchSemaphore(value: 1)

    struct Held {
        func release() {
            Parallel.configure(threads: 1)
            ThreadCount.gate.signal()
        }
    }

    /// Waits for the other holders, then sets `threads`; `release()` restores one thread.
    static func hold(_ threads: Int) -> Held {
        gate.wait()
        Parallel.configure(threads: threads)
        return Held()
    }
}
