import ArgumentParser
import Engine
import Foundation

/// One call of `workbench compare` (or of `workbench --plugin ...`): plan and check every child
/// command, train or reuse the warm-up, score the start, run every (variant, seed) not already
/// done, write the report, and exit non-zero naming the runs that failed.
struct ExperimentRun {
    var experiment: Experiment
    var out: String
    var cache = "runs/cache"
    var jobs: Int?
    var fresh = false
    var dryRun = false
    /// Where the children run: here, as local child processes (the default); submitted to Slurm;
    /// or, inside one Slurm task, just one of them.
    var launch: Launch = .local
    /// The experiment file's path as given, for the Slurm tasks that read it again.
    var file: String = ""

    enum Launch {
        case local
        case slurm(SlurmLauncher.Options)
        /// One child of a submitted comparison: `warm-up` (the warm-up, then the start's
        /// evaluation) or a run's label, `<variant>/seed-<k>`.
        case task(String)
    }
    /// This binary, re-executed for every child; a test may point it elsewhere.
    var executable = ExperimentRun.currentExecutable()

    /// Held by the comparison for its lifetime, in its output folder.
    static let lockName = ".compare.lock"

    static func currentExecutable() -> String {
        // Resolved once: if the binary is rebuilt mid-comparison, /proc/self/exe names a deleted
        // file, while the path keeps naming the new build.
        (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
    }

    /// A child of this comparison: the start's evaluation or one (variant, seed).
    private struct Child {
        var label: String
        /// Inside `out`.
        var folder: String
        var status: ComparisonFiles.Status
        var arguments: [String]
    }

    func run() throws {
        // Every variant's plugins are created here first (ExperimentPlan), each under its own
        // plugin-timeout; a create that hangs stops the comparison before anything runs.
        PluginWatchdog.start(timeout: PluginWatchdog.defaultTimeout) { _, message in
            let during = PluginWatchdog.activity.map { " while \($0)" } ?? ""
            printErr("Error: \(message)\(during); nothing has run. Fix the plugin, or raise plugin-timeout for the variant if the call is only slow.")
        }
        // What this process does: run every child here (local), submit them to Slurm, or run
        // one of them inside a Slurm task.
        let task: String?, slurm: SlurmLauncher.Options?
        switch launch {
        case .local: (task, slurm) = (nil, nil)
        case .slurm(let options): (task, slurm) = (nil, options)
        case .task(let label): (task, slurm) = (label, nil)
        }
        let local = task == nil && slurm == nil
        let plan = try ExperimentPlan(experiment, cache: cache, warmupThreads: local ? nil : experiment.threads)
        let jobs = self.jobs ?? experiment.jobsOrDefault
        let runCount = plan.runs.count
        let shape = "\(plan.variants.count) variant\(plan.variants.count == 1 ? "" : "s") × \(plan.seeds.count) seed\(plan.seeds.count == 1 ? "" : "s") (\(plan.seeds.map(String.init).joined(separator: ", "))) = \(runCount) run\(runCount == 1 ? "" : "s")"
        if dryRun && local {
            print("# \(experiment.name): \(shape), \(min(jobs, runCount)) at once, baseline '\(plan.baseline)', output in \(out)")
            if let w = plan.warmup { print("# warm-up (\(w.isCached ? "cached, would be reused" : "would be trained")), then the start's evaluation, then the runs:") }
            for line in plan.commandLines(executable: executable, out: out) { print(line) }
            return
        }

        let submit = slurm.map {
            SlurmLauncher(options: $0, experiment: experiment, plan: plan, file: file, out: out, cache: cache,
                          executable: executable, jobs: self.jobs)
        }
        // Run here, or submit again, what is queued in Slurm, and two runners would share its
        // folders (a Slurm task is that queue's own).
        if task == nil && !dryRun { try SlurmLauncher.refuseWhileQueued(out) }
        // Held to the end: a second comparison on this folder would delete this one's runs. A
        // Slurm task holds only its own run's lock (the child's): its siblings run beside it.
        var lock: FileLock?
        if task == nil && !dryRun {
            lock = try FileLock.acquire(out + "/" + Self.lockName, wait: false)
            guard lock != nil else {
                throw CLIError("another `workbench compare` is running in \(out) (it holds \(out)/\(Self.lockName)); wait for it to end, or give another --out")
            }
        }
        defer { lock?.release() }
        let checkpoint: String
        if submit == nil && (task == nil || task == SlurmLauncher.warmupTask) {
            checkpoint = try warmUp(plan)
        } else if submit != nil {
            checkpoint = plan.checkpoint  // the warm-up is the first Slurm job's
        } else {
            guard plan.warmup?.isCached ?? true else {
                throw CLIError("the warm-up \(plan.warmup!.folder) has not finished, so \(task!) cannot start; its Slurm job runs first (see \(out)/\(SlurmLauncher.folder)/logs)")
            }
            checkpoint = plan.checkpoint
        }
        let previous = ComparisonFiles.readManifest(out)
        let manifest = ComparisonFiles.Manifest(
            name: experiment.name, seeds: plan.seeds, baseline: plan.baseline,
            variants: plan.variants.map { .init(name: $0.name, algorithm: $0.algorithm.rawValue, plugins: $0.plugins,
                                               arguments: Array($0.arguments.dropFirst()), fingerprint: $0.fingerprint) },
            warmup: .init(checkpoint: checkpoint, arguments: plan.warmup.map { Array($0.arguments.dropFirst()) }),
            start: Array(plan.startArguments.dropFirst()))

        var children: [Child] = []
        let startFolder = ExperimentPlan.startFolder
        children.append(Child(label: "start", folder: startFolder,
                              status: .init(name: startFolder, seed: nil, algorithm: "eval", state: .pending),
                              arguments: plan.startArguments + ["--dump", out + "/" + startFolder + "/" + EvalRecords.finalFileName]))
        let algorithms = Dictionary(uniqueKeysWithValues: plan.variants.map { ($0.name, $0.algorithm.rawValue) })
        for r in plan.runs {
            children.append(Child(label: r.label, folder: r.folder,
                                  status: .init(name: r.variant, seed: r.seed, algorithm: algorithms[r.variant]!, state: .pending),
                                  arguments: r.arguments + ["--out", out + "/" + r.folder, "--overwrite"]))
        }

        // Kept: finished before with the same arguments and fingerprint (RunFingerprint), its answers on disk.
        func finished(_ c: Child) -> Bool {
            ComparisonFiles.readStatus(out, c.folder)?.state == .finished
                && FileManager.default.fileExists(atPath: out + "/" + c.folder + "/" + EvalRecords.finalFileName)
        }
        // Resumed: stopped part-way (interrupted, killed or failed) with the same settings and a
        // checkpoint to continue from; it goes on from there instead of starting over.
        func resumePoint(_ c: Child) -> ResumePoint? {
            let dir = out + "/" + c.folder
            guard c.status.seed != nil, let status = RunFolder.readStatus(dir), status.state != .finished else { return nil }
            return try? ResumePoint.newest(in: dir)
        }
        if let task {
            // The task reads the experiment file again: it must still say what was submitted.
            guard previous == manifest else {
                throw CLIError("\(file) no longer says what was submitted to \(out) (\(ComparisonFiles.manifestPath(out)) differs); submit the comparison again with --launcher slurm")
            }
            let labels = children.map(\.label)
            guard task == SlurmLauncher.warmupTask || labels.contains(task) else {
                throw CLIError("\(task) is not a run of this comparison (its runs: \(labels.joined(separator: ", ")))")
            }
            children = children.filter { $0.label == (task == SlurmLauncher.warmupTask ? "start" : task) }
        }
        var kept: [String: [UInt64]] = [:]
        var toRun: [Child] = []
        var resuming = Set<String>()
        for var c in children {
            let same = c.status.seed == nil
                ? previous?.start == manifest.start
                : previous?.variants.first { $0.name == c.status.name } == manifest.variants.first { $0.name == c.status.name }
            if !fresh && same && finished(c) {
                kept[c.status.name, default: []].append(c.status.seed ?? 0)
            } else {
                if !fresh && same, let point = resumePoint(c) {
                    c.arguments = c.arguments.map { $0 == "--overwrite" ? "--resume" : $0 }
                    resuming.insert(c.label)
                    if !dryRun { print("\(c.label): stopped before at \(point.state.run == "sft" ? "step" : "update") \(point.state.position) with the same settings; resuming from there") }
                }
                toRun.append(c)
            }
        }
        if let submit, dryRun {
            try submit.printScripts(runs: toRun.map(\.label), resuming: resuming, kept: kept.values.reduce(0) { $0 + $1.count })
            return
        }
        if kept[startFolder] != nil { print("start: scored before on the same questions; kept") }
        for v in plan.variants {
            if let seeds = kept[v.name] {
                print("\(v.name): seed\(seeds.count == 1 ? "" : "s") \(seeds.map(String.init).joined(separator: ", ")) finished before with the same settings; kept (--fresh runs them again)")
            }
        }
        for gone in previous?.variants ?? [] where !manifest.variants.contains(where: { $0.name == gone.name }) {
            print("\(gone.name): no longer in the experiment; its folder \(out)/\(gone.name) is left as it is")
        }
        for seed in previous?.seeds ?? [] where !manifest.seeds.contains(seed) {
            print("seed \(seed): no longer in the experiment; its runs' folders are left as they are and not reported")
        }
        if task == nil {
            try ComparisonFiles.write(manifest, to: out)
            // Run here from now on: an earlier submission's Slurm states no longer describe the runs.
            if submit == nil { SlurmLauncher.forgetSubmission(out) }
        }
        for c in toRun {
            let folder = out + "/" + c.folder
            if !resuming.contains(c.label) && FileManager.default.fileExists(atPath: folder) { try FileManager.default.removeItem(atPath: folder) }
            try ComparisonFiles.write(c.status, to: out, folder: c.folder)
        }
        if let submit {
            try submit.submit(runs: toRun.map(\.label), resuming: resuming)
            return
        }

        let runsToRun = toRun.filter { $0.status.seed != nil }.count
        if let task {
            print("compare: \(task == SlurmLauncher.warmupTask ? "the warm-up and the start's evaluation" : task) of \(shape) → \(out)")
        } else if !toRun.isEmpty {
            print("compare: \(shape); \(runsToRun) to run, \(min(jobs, toRun.count)) at once, \(experiment.threads) thread\(experiment.threads == 1 ? "" : "s") each → \(out)")
        }
        let byLabel = Dictionary(uniqueKeysWithValues: toRun.map { ($0.label, $0) })
        let runner = VariantRunner(executable: executable, jobs: jobs)
        var writeErrors: [String] = []
        func record(_ s: ComparisonFiles.Status, _ folder: String) {
            do { try ComparisonFiles.write(s, to: out, folder: folder) } catch { writeErrors.append("\(folder): \(error)") }
        }
        runner.onStart = { job in
            let c = byLabel[job.name]!
            var s = c.status
            s.state = .running
            record(s, c.folder)
        }
        runner.onFinish = { job, outcome, interrupted, startError in
            let c = byLabel[job.name]!
            var s = c.status
            s.state = .failed
            s.exitCode = outcome?.exitCode.map(Int.init)
            s.signal = outcome?.signal.map(Int.init)
            s.wallSeconds = outcome?.wallSeconds
            if let startError {
                s.error = startError
                s.failure = ComparisonFiles.Status.Failure.notStarted
            } else if interrupted {
                s.error = "interrupted (\(Interrupt.signalName ?? "SIGINT")) before its end; runs again on the next call"
                s.failure = ComparisonFiles.Status.Failure.interrupted
            } else if let outcome, outcome.succeeded {
                s.state = .finished
            } else if let outcome {
                s.error = outcome.failureMessage(log: job.folder + "/log.txt")
                s.failure = outcome.failure
            }
            record(s, c.folder)
            let time = outcome.map { " in " + ProgressLine.duration($0.wallSeconds) } ?? ""
            let kind = s.failure == ComparisonFiles.Status.Failure.timeout ? " (timeout)" : ""
            print(s.state == .finished ? "✓ \(c.label) finished\(time)" : "✗ \(c.label) failed\(kind)\(time): \(s.error!.split(separator: "\n").first ?? "")")
        }
        let completed = runner.run(toRun.map { .init(name: $0.label, arguments: $0.arguments, folder: out + "/" + $0.folder) })
        if task != nil {
            // The report job writes the report once every task has ended.
            guard completed else { throw ExitCode(128 + (Interrupt.signalNumber == 0 ? SIGINT : Interrupt.signalNumber)) }
            let failed = children.filter { ComparisonFiles.readStatus(out, $0.folder)?.state != .finished }.map(\.label)
            // The warm-up job succeeds with its warm-up: a failed start evaluation (in its
            // status.json, for the report) must not keep every run from starting.
            if task == SlurmLauncher.warmupTask && writeErrors.isEmpty { return }
            if !failed.isEmpty || !writeErrors.isEmpty {
                throw CLIError((failed.map { "\($0) failed (see \(out)/\($0 == "start" ? "start" : $0)/log.txt)" } + writeErrors).joined(separator: "\n"))
            }
            return
        }

        var reportError: String?
        do {
            let table = try ComparisonReport.write(experimentDirectory: out)
            print("")
            print(table)
        } catch {
            reportError = "the report could not be written: \(error)"
        }

        let failed = children.filter { ComparisonFiles.readStatus(out, $0.folder)?.state != .finished }.map(\.label)
        let failedRuns = failed.filter { $0 != "start" }
        var problems = writeErrors.map { "status not written for \($0)" }
        if let reportError { problems.append(reportError) }
        if !completed {
            problems.insert("interrupted; \(runCount - failedRuns.count) of \(runCount) runs are finished and kept. Run the same command again to run the rest (stopped runs continue from their last checkpoint).", at: 0)
            printErr("compare: " + problems.joined(separator: "\n"))
            throw ExitCode(128 + (Interrupt.signalNumber == 0 ? SIGINT : Interrupt.signalNumber))
        }
        if failed.contains("start") {
            problems.append("the start's evaluation failed (see \(out)/start/log.txt), so no gains over it are given; rerunning the same command reruns it")
        }
        if !failedRuns.isEmpty {
            problems.insert("\(failedRuns.count) of \(runCount) runs failed: \(failedRuns.joined(separator: ", ")) (see status.json and log.txt in \(out)/<variant>/seed-<k>; rerunning the same command reruns only these)", at: 0)
        }
        if !problems.isEmpty { throw CLIError(problems.joined(separator: "\n")) }
    }

    /// The checkpoint the variants start from: the cached warm-up, a fresh one, or the given folder.
    private func warmUp(_ plan: ExperimentPlan) throws -> String {
        guard let w = plan.warmup else {
            print("warm-up: starting every variant from \(plan.checkpoint)")
            return plan.checkpoint
        }
        // One comparison trains a given warm-up at a time; another asking for it waits, then reuses it.
        var lock = try FileLock.acquire(w.folder + ".lock", wait: false)
        if lock == nil {
            print("warm-up: another comparison is training \(w.folder); waiting for it")
            lock = try FileLock.acquire(w.folder + ".lock", wait: true)
        }
        defer { lock?.release() }
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
        let completed = runner.run([.init(name: "warm-up", arguments: w.arguments + ["--out", w.folder, "--overwrite"], folder: w.folder)])
        guard completed else {
            printErr("compare: interrupted during the warm-up; nothing was kept. Run the same command again to start over.")
            throw ExitCode(128 + (Interrupt.signalNumber == 0 ? SIGINT : Interrupt.signalNumber))
        }
        if let failure { throw CLIError("the SFT warm-up failed, so no variant can run: \(failure)") }
        try w.markFinished(wallSeconds: outcome?.wallSeconds ?? 0)
        print("warm-up: done in \(ProgressLine.duration(outcome?.wallSeconds ?? 0)); cached as \(w.folder)")
        return w.checkpoint
    }
}
