import Foundation

/// Slurm's own tools, called as programs: `sbatch` submits, `squeue` says which jobs and array
/// tasks are pending or running, `sacct` (when the cluster keeps accounting) how they ended.
enum SlurmQueue {
    struct Failure: Error, CustomStringConvertible { var description: String }

    /// Runs a Slurm tool; its stdout, or an error with its stderr.
    static func run(_ tool: String, _ arguments: [String]) throws -> String {
        guard let path = which(tool) else {
            throw Failure(description: "\(tool) is not on PATH: --launcher slurm runs where Slurm's client tools are (a login node); install slurm-client or run there")
        }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: path)
        p.arguments = arguments
        let outPipe = Pipe(), errPipe = Pipe()
        p.standardOutput = outPipe
        p.standardError = errPipe
        try p.run()
        let out = outPipe.fileHandleForReading.readDataToEndOfFile()
        let err = errPipe.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        guard p.terminationStatus == 0 else {
            throw Failure(description: "\(tool) \(arguments.joined(separator: " ")) failed (exit \(p.terminationStatus)): \(String(decoding: err, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines))")
        }
        return String(decoding: out, as: UTF8.self)
    }

    static func which(_ tool: String) -> String? {
        for dir in (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":") {
            let path = "\(dir)/\(tool)"
            if FileManager.default.isExecutableFile(atPath: path) { return path }
        }
        return nil
    }

    /// Submits a script; the job id.
    static func sbatch(_ script: String, dependency: String?) throws -> String {
        // A dependency that can never be met (the warm-up failed) cancels the job instead of
        // leaving it pending for ever; the report job (afterany) then still runs.
        let after = dependency.map { ["--dependency=" + $0, "--kill-on-invalid-dep=yes"] } ?? []
        let out = try run("sbatch", ["--parsable"] + after + [script])
        // --parsable prints "<id>" or "<id>;<cluster>".
        guard let id = out.split(whereSeparator: \.isNewline).first?.split(separator: ";").first.map(String.init), !id.isEmpty else {
            throw Failure(description: "sbatch \(script) printed no job id: \(out)")
        }
        return id
    }

    /// Where each queued job or array task of `jobs` stands, by "<job>" or "<job>_<index>":
    /// PENDING, RUNNING, COMPLETING, ... Jobs no longer in the queue are absent; so is
    /// everything when squeue cannot say (it fails for a single job id that has left the queue).
    static func query(_ jobs: [String]) -> [String: String] {
        guard let out = try? run("squeue", ["-h", "-r", "-j", jobs.joined(separator: ","), "-o", "%i|%T"]) else { return [:] }
        var states: [String: String] = [:]
        for line in out.split(whereSeparator: \.isNewline) {
            let parts = line.split(separator: "|")
            if parts.count == 2 { states[String(parts[0])] = String(parts[1]) }
        }
        return states
    }

    /// How finished jobs and tasks ended (COMPLETED, FAILED, TIMEOUT, CANCELLED, OUT_OF_MEMORY,
    /// NODE_FAIL), by the same keys; empty where the cluster keeps no accounting.
    static func accounting(_ jobs: [String]) -> [String: String] {
        guard let out = try? run("sacct", ["-n", "-P", "-X", "-j", jobs.joined(separator: ","), "-o", "JobID,State"]) else { return [:] }
        var states: [String: String] = [:]
        for line in out.split(whereSeparator: \.isNewline) {
            let parts = line.split(separator: "|")
            if parts.count == 2 { states[String(parts[0])] = String(parts[1].split(separator: " ").first ?? "") }
        }
        return states
    }

    /// Where each run of a submitted comparison stands in Slurm, by run folder ("start" for the
    /// warm-up job's start evaluation): the queue's word (PENDING, RUNNING) while queued, else
    /// accounting's (TIMEOUT, CANCELLED, ...) when there is any; nil when `out` was not
    /// submitted or the queue cannot be asked.
    static func states(of out: String) -> [String: String]? {
        guard let jobs = SlurmLauncher.readJobs(out) else { return nil }
        let ids = [jobs.warmup, jobs.runs].compactMap { $0 }
        guard !ids.isEmpty, which("squeue") != nil else { return nil }
        let queued = query(ids)
        let ended = accounting(ids)
        var states: [String: String] = [:]
        if let w = jobs.warmup { states["start"] = queued[w] ?? ended[w] }
        if let r = jobs.runs {
            // A whole pending array shows as one line, "<job>_[0-3]".
            let wholeArrayPending = queued.first { $0.key.hasPrefix(r + "_[") }?.value
            for (index, label) in jobs.tasks {
                states[label] = queued[r + "_" + index] ?? ended[r + "_" + index] ?? wholeArrayPending
            }
        }
        return states
    }
}
