import Foundation

/// How long oneDNN's OpenMP threads spin after a product before they sleep. Two thread pools share
/// the cores: oneDNN's (OpenMP) and the Engine's own (OpenBLAS runs on the Engine's workers,
/// single-threaded: `Parallel`). With libgomp's default (300,000 spins, about a millisecond) an
/// OpenMP thread keeps its core busy through the attention, norms and adapter products that run
/// between two bf16 products, so those run on one core fewer. Measured on SmolLM2 with bf16
/// weights, 2 threads: 1,000 spins made one RL update (16 × 128, reft) 48.1 → 41.3 s and 64-row
/// batched generation 440 → 572 tokens/s, leaving one-row decoding where it was (77.5 → 78.5
/// tokens/s; it was slower with none, OMP_WAIT_POLICY=passive).
///
/// libgomp reads GOMP_SPINCOUNT once, as it loads (with oneDNN, before `main`), so the only way
/// to give it a value is to start again with the variable set: `settle()` does that once, unless
/// the user set it, or OMP_WAIT_POLICY, themselves.
enum OpenMPSpin {
    static let spins = "1000"

    static func settle() {
        let env = ProcessInfo.processInfo.environment
        guard env["GOMP_SPINCOUNT"] == nil, env["OMP_WAIT_POLICY"] == nil else { return }
        setenv("GOMP_SPINCOUNT", spins, 1)
        // On failure (no /proc, say) the run goes on with libgomp's default.
        execv("/proc/self/exe", CommandLine.unsafeArgv)
    }
}
