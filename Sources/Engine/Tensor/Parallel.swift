import Dispatch

/// Work splitting for the non-BLAS loops. Each index is handled by exactly one worker and the
/// split depends only on `count` and `Parallel.workers`, so results are bit-identical run to run.
public enum Parallel {
    /// Number of workers for the Engine's own loops; matches the BLAS thread count by default.
    nonisolated(unsafe) public static var workers: Int = 1

    /// Runs `body(i)` for i in 0..<count, spread over `workers` contiguous chunks.
    /// `minPerWorker` keeps tiny loops on the calling thread, where dispatch would cost more.
    @inline(__always)
    public static func forEach(_ count: Int, minPerWorker: Int = 1, _ body: (Int) -> Void) {
        let w = min(workers, count / max(1, minPerWorker))
        if w <= 1 {
            for i in 0..<count { body(i) }
            return
        }
        withoutActuallyEscaping(body) { body in
            DispatchQueue.concurrentPerform(iterations: w) { chunk in
                let lo = count * chunk / w, hi = count * (chunk + 1) / w
                for i in lo..<hi { body(i) }
            }
        }
    }

    /// Sets both the Engine's workers and OpenBLAS's threads.
    public static func configure(threads: Int) {
        workers = max(1, threads)
        BLAS.setThreads(workers)
    }
}

extension Parallel {
    /// Like `forEach`, for bodies that call BLAS themselves: OpenBLAS is held to one thread
    /// while the Engine's workers run, so the two thread pools do not oversubscribe the cores.
    public static func forEachCallingBLAS(_ count: Int, _ body: (Int) -> Void) {
        if workers <= 1 || count <= 1 {
            for i in 0..<count { body(i) }
            return
        }
        BLAS.setThreads(1)
        forEach(count, body)
        BLAS.setThreads(workers)
    }
}
