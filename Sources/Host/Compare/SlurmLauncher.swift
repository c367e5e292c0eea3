import Foundation

/// `workbench compare --launcher slurm`: the comparison as Slurm jobs instead of local children.
///
///     <out>/slurm/warmup.sbatch    the warm-up (cached as locally), then the start's evaluation
///     <out>/slurm/runs.sbatch      a job array, one task per (variant, seed) still to run,
///                                  after the warm-up (--dependency=afterok)
///     <out>/slurm/report.sbatch    `workbench report <out>` after the array (afterany)
///     <out>/slurm/jobs.json        the job ids and which array index is which run
///     <out>/slurm/logs/            Slurm's output files
///
/// Each task runs `workbench compare <file> --task <variant>/seed-<k>`, which plans the
/// comparison again, checks it is still what was submitted, and runs that one child exactly as
/// the local runner does (folder, status.json, log.txt, resuming a run stopped part-way). The
/// submission itself decides what needs running as a local call would: finished runs with
/// unchanged settings are kept and not submitted. Slurm's own tools do the rest: `sbatch` to
/// submit, `squeue` (and `sacct` where accounting is on) for where each task stands.
struct SlurmLauncher {
    struct Options {
        /// `--sbatch key=value` pairs, written as `#SBATCH --key=value` in every script.
        var sbatch: [(key: String, value: String)] = []
    }

    static let folder = "slurm"
    static let warmupTask = "warm-up"
    static let jobsFile = "jobs.json"

    var options: Options
    var experiment: Experiment
    var plan: ExperimentPlan
    var file: String
    var out: String
    var cache: String
    var executable: String
    /// `--jobs` as given on the command line: the array's limit of tasks at once (none otherwise).
    var jobs: Int?

    /// What a submission left behind, for the report and the next submission.
    struct Jobs: Codable, Equatable {
        var warmup: String?
        var runs: String?
        var report: String?
        /// Array index → run label (`<variant>/seed-<k>`).
        var tasks: [String: String]
    }

    static func readJobs(_ out: String) -> Jobs? {
        FileManager.default.contents(atPath: out + "/" + folder + "/" + jobsFile).flatMap { try? JSONDecoder().decode(Jobs.self, from: $0) }
    }

    /// Running (or submitting) again while a submission's jobs are queued or running would run
    /// the same (variant, seed) twice into one folder.
    static func refuseWhileQueued(_ out: String) throws {
        guard let jobs = readJobs(out) else { return }
        let ids = [jobs.warmup, jobs.runs, jobs.report].compactMap { $0 }
        guard !ids.isEmpty, !SlurmQueue.query(ids).isEmpty else { return }
        throw CLIError("jobs of an earlier submission of \(out) to Slurm are still in the queue (\(ids.joined(separator: ", "))); wait for them (squeue) or cancel them (scancel \(ids.joined(separator: " "))), then run again")
    }

    /// The comparison runs locally from now on: its runs' Slurm states are history.
    static func forgetSubmission(_ out: String) {
        try? FileManager.default.removeItem(atPath: out + "/" + folder + "/" + jobsFile)
    }

    /// The lines of one sbatch script.
    func script(name: String, cpus: Int, array: String? = nil, body: [String]) -> String {
        // In --output, '%' starts one of sbatch's patterns; a literal one is '%%'.
        let logs = (absolute(out) + "/" + Self.folder + "/logs").replacingOccurrences(of: "%", with: "%%")
        var lines = ["#!/bin/bash",
                     "#SBATCH --job-name=wb-\(experiment.name)-\(name)",
                     "#SBATCH --output=\(logs)/\(name)-%A\(array == nil ? "" : "_%a").out",
                     "#SBATCH --chdir=\(FileManager.default.currentDirectoryPath)",
                     "#SBATCH --cpus-per-task=\(cpus)"]
        if let array { lines.append("#SBATCH --array=\(array)") }
        lines += options.sbatch.map { "#SBATCH --\($0.key)=\($0.value)" }
        lines.append("set -euo pipefail")
        return (lines + body).joined(separator: "\n") + "\n"
    }

    private func absolute(_ path: String) -> String {
        path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
    }

    private func taskCommand(_ label: String) -> String {
        ExperimentPlan.shellLine([executable, "compare", file, "--out", out, "--cache", cache, "--task"]) + " " + label
    }

    struct Scripts {
        var warmup: String?
        var runs: String?
        var report: String
        var tasks: [String: String]
    }

    /// The scripts for `runs` (labels still to run; "start" means the start's evaluation).
    func scripts(runs: [String]) -> Scripts {
        let warmupThreads = plan.warmup.flatMap { w in w.arguments.firstIndex(of: "--threads").map { Int(w.arguments[$0 + 1]) ?? 1 } } ?? experiment.threads
        let needsWarmup = runs.contains("start") || !(plan.warmup?.isCached ?? true)
        let warmup = needsWarmup ? script(name: "warmup", cpus: max(warmupThreads, experiment.threads), body: ["exec " + taskCommand(Self.warmupTask)]) : nil
        var tasks: [String: String] = [:]
        for (i, r) in plan.runs.enumerated() where runs.contains(r.label) { tasks[String(i)] = r.label }
        var runsScript: String?
        if !tasks.isEmpty {
            let indices = tasks.keys.compactMap(Int.init).sorted().map(String.init).joined(separator: ",") + (jobs.map { "%\($0)" } ?? "")
            var body = ["case \"$SLURM_ARRAY_TASK_ID\" in"]
            for i in tasks.keys.compactMap(Int.init).sorted() { body.append("  \(i)) run=\(tasks[String(i)]!) ;;") }
            body += ["  *) echo \"no run has array index $SLURM_ARRAY_TASK_ID\" >&2; exit 2 ;;", "esac", "exec " + taskCommand("\"$run\"")]
            runsScript = script(name: "runs", cpus: experiment.threads, array: indices, body: body)
        }
        let report = script(name: "report", cpus: 1, body: ["exec " + ExperimentPlan.shellLine([executable, "report", out])])
        return Scripts(warmup: warmup, runs: runsScript, report: report, tasks: tasks)
    }

    func printScripts(runs: [String], resuming: Set<String>, kept: Int) throws {
        let s = scripts(runs: runs)
        print("# \(experiment.name): \(s.tasks.count) run\(s.tasks.count == 1 ? "" : "s") to submit to Slurm (\(kept) kept from before), output in \(out)")
        for (name, text, dependency) in [("warmup.sbatch", s.warmup, nil as String?),
                                         ("runs.sbatch", s.runs, s.warmup == nil ? nil : "--dependency=afterok:<warm-up job>"),
                                         ("report.sbatch", s.report, "--dependency=afterany:<\(s.runs == nil ? "warm-up" : "runs") job>")] {
            guard let text else { continue }
            print("\n# \(out)/\(Self.folder)/\(name), submitted as: sbatch --parsable\(dependency.map { " " + $0 } ?? "") \(name)")
            print(text, terminator: "")
        }
        if !resuming.isEmpty { print("\n# resumed from their last checkpoint: \(resuming.sorted().joined(separator: ", "))") }
    }

    /// Writes the scripts and submits them; the statuses of `runs` are already `pending`.
    func submit(runs: [String], resuming: Set<String>) throws {
        // An #SBATCH line ends at white space, so these paths cannot hold any.
        for (what, path) in [("the working folder", FileManager.default.currentDirectoryPath), ("--out", absolute(out))] where path.contains(where: \.isWhitespace) {
            throw CLIError("\(what) '\(path)' holds white space, which sbatch's #SBATCH lines cannot carry; use a path without spaces")
        }
        let s = scripts(runs: runs)
        guard s.warmup != nil || s.runs != nil else {
            print("compare: every run finished before with the same settings; nothing submitted (--fresh submits them again)\n")
            print(try ComparisonReport.write(experimentDirectory: out))
            return
        }
        let dir = out + "/" + Self.folder
        try FileManager.default.createDirectory(atPath: dir + "/logs", withIntermediateDirectories: true)
        func write(_ name: String, _ text: String) throws -> String {
            let path = dir + "/" + name
            try text.write(toFile: path, atomically: true, encoding: .utf8)
            return path
        }
        // Recorded after every submission, so a later sbatch that fails leaves the jobs already
        // queued known (and a new submission refused until they are gone).
        var jobs = Jobs(tasks: s.tasks)
        func record() throws { try JSONEncoder().encode(jobs).write(to: URL(fileURLWithPath: dir + "/" + Self.jobsFile), options: .atomic) }
        if let w = s.warmup { jobs.warmup = try SlurmQueue.sbatch(try write("warmup.sbatch", w), dependency: nil); try record() }
        if let r = s.runs {
            jobs.runs = try SlurmQueue.sbatch(try write("runs.sbatch", r), dependency: jobs.warmup.map { "afterok:" + $0 })
            try record()
        }
        let last = jobs.runs ?? jobs.warmup
        jobs.report = try SlurmQueue.sbatch(try write("report.sbatch", s.report), dependency: last.map { "afterany:" + $0 })
        try record()
        let parts = [jobs.warmup.map { "warm-up \($0)" }, jobs.runs.map { "runs \($0) (\(s.tasks.count) task\(s.tasks.count == 1 ? "" : "s"))" },
                     jobs.report.map { "report \($0)" }].compactMap { $0 }
        print("compare: submitted to Slurm: \(parts.joined(separator: ", ")) → \(out)")
        if !resuming.isEmpty { print("compare: \(resuming.sorted().joined(separator: ", ")) continue from their last checkpoint") }
        print("compare: `workbench report \(out)` shows where each run stands meanwhile; Slurm's output is in \(dir)/logs")
    }
}
