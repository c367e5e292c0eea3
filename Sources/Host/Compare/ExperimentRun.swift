import ArgumentParser
import Foundation

/// One call of `workbench compare` (or of `workbench --plugin ...`): plan and check every child
/// command, train or reuse the warm-up, run the variants that are not already done, write the
/// report, and exit non-zero naming the variants that failed.
struct ExperimentRun {
    var experiment: Experiment
    var out: String
    var cache = "runs/cache"
    var jobs: Int?
    var fresh = false
    var dryRun = false
    /// This binary, re-executed for every child; a test may point it elsewhere.
    var executable = ExperimentRun.currentExecutable()

    static func currentExecutable() -> String {
        // Resolved once: if the binary is rebuilt mid-comparison, /proc/self/exe names a deleted
        // file, while the path keeps naming the new build.
        (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
    }

    func run() throws {
        let plan = try ExperimentPlan(experiment, cache: cache)
        let jobs = self.jobs ?? experiment.jobsOrDefault
        if dryRun {
            print("# \(experiment.name): \(plan.variants.count) variant\(plan.variants.count == 1 ? "" : "s"), \(min(jobs, plan.variants.count)) at once, output in \(out)")
            if let w = plan.warmup { print("# warm-up (\(w.isCached ? "cached, would be reused" : "would be trained")):") }
            for line in plan.commandLines(executable: executable, out: out) { print(line) }
            return
        }

        let checkpoint = try warmUp(plan)
        let previous = ComparisonFiles.readManifest(out)
        let manifest = ComparisonFiles.Manifest(
            name: experiment.name,
            variants: plan.variants.map { .init(name: $0.name, algorithm: $0.algorithm.rawValue, plugins: $0.plugins, arguments: Array($0.arguments.dropFirst())) },
            warmup: .init(checkpoint: checkpoint, arguments: plan.warmup.map { Array($0.arguments.dropFirst()) }))
        var toRun: [ExperimentPlan.Child] = []
        for (child, entry) in zip(plan.variants, manifest.variants) {
            let before = previous?.variants.first { $0.name == child.name }
            if !fresh, before == entry, ComparisonFiles.readStatus(out, child.name)?.state == .finished {
                print("\(child.name): finished before with the same arguments; kept (--fresh runs it again)")
            } else {
                toRun.append(child)
            }
        }
        for gone in previous?.variants ?? [] where !manifest.variants.contains(where: { $0.name == gone.name }) {
            print("\(gone.name): no longer in the experiment; its folder \(out)/\(gone.name) is left as it is")
        }
        try ComparisonFiles.write(manifest, to: out)
        for child in toRun {
            let folder = out + "/" + child.name
            if FileManager.default.fileExists(atPath: folder) { try FileManager.default.removeItem(atPath: folder) }
            try ComparisonFiles.write(status(child, .pending), to: out)
        }

        if !toRun.isEmpty {
            print("compare: \(toRun.count) variant\(toRun.count == 1 ? "" : "s") to run (\(toRun.map(\.name).joined(separator: ", "))), \(min(jobs, toRun.count)) at once, \(experiment.threads) thread\(experiment.threads == 1 ? "" : "s") each → \(out)")
        }
        let byName = Dictionary(uniqueKeysWithValues: plan.variants.map { ($0.name, $0) })
        let runner = VariantRunner(executable: executable, jobs: jobs)
        var writeErrors: [String] = []
        func record(_ s: ComparisonFiles.Status) {
            do { try ComparisonFiles.write(s, to: out) } catch { writeErrors.append("\(s.name): \(error)") }
        }
        runner.onStart = { job in
            record(status(byName[job.name]!, .running))
        }
        runner.onFinish = { job, outcome, interrupted, startError in
            var s = status(byName[job.name]!, .failed)
            s.exitCode = outcome?.exitCode.map(Int.init)
            s.signal = outcome?.signal.map(Int.init)
            s.wallSeconds = outcome?.wallSeconds
            let log = job.folder + "/log.txt"
            if let startError {
                s.error = startError
            } else if interrupted {
                s.error = "interrupted (Ctrl-C) before its end; runs again on the next call"
            } else if let outcome, outcome.succeeded {
                s.state = .finished
            } else if let outcome {
                s.error = outcome.failureMessage(log: log)
            }
            record(s)
            let time = outcome.map { " in " + ProgressLine.duration($0.wallSeconds) } ?? ""
            print(s.state == .finished ? "✓ \(job.name) finished\(time)" : "✗ \(job.name) failed\(time): \(s.error!.split(separator: "\n").first ?? "")")
        }
        let completed = runner.run(toRun.map { .init(name: $0.name, arguments: $0.arguments, folder: out + "/" + $0.name) })

        var reportError: String?
        do {
            let table = try ComparisonReport.write(experimentDirectory: out)
            print("")
            print(table)
        } catch {
            reportError = "the report could not be written: \(error)"
        }

        let failed = plan.variants.filter { ComparisonFiles.readStatus(out, $0.name)?.state != .finished }.map(\.name)
        var problems = writeErrors.map { "status not written for \($0)" }
        if let reportError { problems.append(reportError) }
        if !completed {
            printErr("compare: interrupted; \(plan.variants.count - failed.count) of \(plan.variants.count) variants are finished and kept. Run the same command again to run the rest.")
            throw ExitCode(130)
        }
        if !failed.isEmpty {
            problems.insert("\(failed.count) of \(plan.variants.count) variants failed: \(failed.joined(separator: ", ")) (see status.json and log.txt in \(out)/<variant>; rerunning the same command reruns only these)", at: 0)
        }
        if !problems.isEmpty { throw CLIError(problems.joined(separator: "\n")) }
    }

    private func status(_ child: ExperimentPlan.Child, _ state: ComparisonFiles.Status.State) -> ComparisonFiles.Status {
        ComparisonFiles.Status(name: child.name, algorithm: child.algorithm.rawValue, state: state)
    }

    /// The checkpoint the variants start from: the cached warm-up, a fresh one, or the given folder.
    private func warmUp(_ plan: ExperimentPlan) throws -> String {
        guard let w = plan.warmup else {
            print("warm-up: starting every variant from \(plan.checkpoint)")
            return plan.checkpoint
        }
        if w.isCached {
            print("warm-up: reusing the cached SFT checkpoint \(w.checkpoint) (same settings; delete \(w.folder) to train it again)")
            return w.checkpoint
        }
        // A folder without the marker is a warm-up that crashed or was interrupted: start over.
        if FileManager.default.fileExists(atPath: w.folder) { try FileManager.default.removeItem(atPath: w.folder) }
        print("warm-up: training the SFT start (\(ExperimentPlan.shellLine(Array(w.arguments.dropFirst())))) → \(w.folder)")
        var outcome: ChildProcess.Outcome?
        var failure: String?
        let runner = VariantRunner(executable: executable, jobs: 1)
        runner.onFinish = { job, o, _, startError in
            outcome = o
            failure = startError ?? o.flatMap { $0.succeeded ? nil : $0.failureMessage(log: job.folder + "/log.txt") }
        }
        let completed = runner.run([.init(name: "warm-up", arguments: w.arguments, folder: w.folder)])
        guard completed else {
            printErr("compare: interrupted during the warm-up; nothing was kept. Run the same command again to start over.")
            throw ExitCode(130)
        }
        if let failure { throw CLIError("the SFT warm-up failed, so no variant can run: \(failure)") }
        try w.markFinished(wallSeconds: outcome?.wallSeconds ?? 0)
        print("warm-up: done in \(ProgressLine.duration(outcome?.wallSeconds ?? 0)); cached as \(w.folder)")
        return w.checkpoint
    }
}
