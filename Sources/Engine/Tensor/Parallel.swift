import Dispatch

/// Work splitting for the Engine, BLAS calls included. OpenBLAS itself runs single-threaded:
/// its own pool spins (sched_yield) between calls and fought the Engine's loops for the two
/// cores, so the Engine splits large products into row blocks and runs them on its workers.
/// Each index is handled by exactly one worker and the split depends only on the sizes and
/// `Parallel.workers`, so results are bit-identical run to run.
public enum Parallel {
    /// Number of workers for the Engine's own loops and for split BLAS calls.
    nonisolated(unsafe) public private(set) static var workers: Int = 1
    /// True while a parallel loop runs, so code inside it (a BLAS call in an attention head)
    /// stays on its worker instead of dispatching again.
    nonisolated(unsafe) static var inRegion = false

    /// Runs `body(i)` for i in 0..<count, spread over `workers` contiguous chunks.
    /// `minPerWorker` keeps tiny loops on the calling thread, where dispatch would cost more.
    @inline(__always)
    public static func forEach(_ count: Int, minPerWorker: Int = 1, _ body: (Int) -> Void) {
        let w = inRegion ? 1 : min(workers, count / max(1, minPerWorker))
        if w <= 1 {
            for i in 0..<count { body(i) }
            return
        }
        inRegion = true
        defer { inRegion = false }
        withoutActuallyEscaping(body) { body in
            DispatchQueue.concurrentPerform(iterations: w) { chunk in
                let lo = count * chunk / w, hi = count * (chunk + 1) / w
                for i in lo..<hi { body(i) }
            }
        }
    }

    /// Sets the Engine's worker count; OpenBLAS stays at one thread (see above), oneDNN's bf16
    /// products (called outside parallel loops) use as many as the workers.
    public static func configure(threads: Int) {
        workers = max(1, threads)
        BLAS.setThreads(1)
        BF16GEMM.applyThreads()
    }
}
