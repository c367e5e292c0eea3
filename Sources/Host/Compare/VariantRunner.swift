import Foundation

/// Runs child processes, up to `jobs` at once, with one live progress line for all of them.
///
/// A child that crashes or exits non-zero is reported through `onFinish` and the others go on.
/// Ctrl-C (ChildSignals) starts no more children and stops the running ones: SIGINT first (a
/// child then stops after its current step), SIGTERM after `grace` seconds, SIGKILL after twice
/// that; every child stopped this way is reported as interrupted, whatever its exit status,
/// because it did not run its full length.
final class VariantRunner {
    struct Job {
        var name: String
        /// After the binary's path, complete (--out included).
        var arguments: [String]
        /// Where the child writes (its log.txt goes here); the caller clears it (a run's holds its
        /// pending status.json).
        var folder: String
    }

    let executable: String
    let jobs: Int
    var grace: Double = 10
    /// Called as a child starts (to write status "running").
    var onStart: (Job) -> Void = { _ in }
    /// Called once per job: with the outcome, or with nil when it could not be started.
    var onFinish: (Job, ChildProcess.Outcome?, _ interrupted: Bool, _ startError: String?) -> Void = { _, _, _, _ in }

    init(executable: String, jobs: Int) {
        self.executable = executable
        self.jobs = max(1, jobs)
    }

    /// Runs `queue` to the end (or to Ctrl-C). Returns false when interrupted; jobs never started
    /// then are not reported.
    func run(_ queue: [Job]) -> Bool {
        var waiting = queue[...]
        var running: [(job: Job, child: ChildProcess, metrics: MetricsTail)] = []
        var finished = 0
        var interruptedAt: Date?
        var escalated = Set<Int32>()
        let progress = ProgressLine()
        let started = Date()
        ChildSignals.install()

        while !waiting.isEmpty || !running.isEmpty {
            if Interrupt.requested && interruptedAt == nil {
                interruptedAt = Date()
                waiting.removeAll()
                progress.finishLine()
                printErr("compare: stopping \(running.map(\.job.name).joined(separator: ", "))")
                for r in running { r.child.send(SIGINT) }
            }
            if let t = interruptedAt {
                let waited = Date().timeIntervalSince(t)
                for r in running {
                    if waited > 2 * grace { r.child.send(SIGKILL) } else if waited > grace && escalated.insert(r.child.processIdentifier).inserted {
                        printErr("compare: \(r.job.name) did not stop after \(Int(grace))s; sending SIGTERM")
                        r.child.send(SIGTERM)
                    }
                }
            }
            while interruptedAt == nil && running.count < jobs, let job = waiting.first {
                waiting.removeFirst()
                do {
                    let child = try ChildProcess(name: job.name, executable: executable, arguments: job.arguments, folder: job.folder)
                    ChildSignals.register(child.processIdentifier)
                    running.append((job, child, MetricsTail(path: job.folder + "/metrics.jsonl")))
                    onStart(job)
                } catch {
                    finished += 1
                    progress.finishLine()
                    onFinish(job, nil, false, "could not start \(executable): \(error)")
                }
            }
            for i in running.indices.reversed() where !running[i].child.isRunning {
                let r = running.remove(at: i)
                let outcome = r.child.wait()
                ChildSignals.unregister(r.child.processIdentifier)
                finished += 1
                progress.finishLine()
                onFinish(r.job, outcome, interruptedAt != nil, nil)
            }
            if !running.isEmpty {
                let parts = running.map { r -> String in r.metrics.poll(); return "\(r.job.name): \(r.metrics.summary)" }
                let line = "[\(finished)/\(queue.count) done] " + parts.joined(separator: " | ") + " | " + ProgressLine.duration(Date().timeIntervalSince(started))
                progress.update(line.count > 200 ? String(line.prefix(199)) + "…" : line)
                Thread.sleep(forTimeInterval: 0.25)
            }
        }
        progress.finishLine()
        return interruptedAt == nil
    }
}
