import Foundation

/// Where a variant's run stands, from its status.json (written by the comparison runner).
enum RunState: Equatable {
    case finished
    case running
    /// Recorded as running, but no process holds the run or its comparison: killed (SIGKILL,
    /// a power cut, an out-of-memory kill) before it could record how it ended.
    case killed
    /// Pending, or no folder at all: the comparison never got to it.
    case notRun
    /// Waiting in the Slurm queue (a comparison submitted with --launcher slurm).
    case queued
    case failed(exitCode: Int?, signal: Int?, error: String?)
    /// A state word this report does not know, or a status.json it could not read.
    case other(String)

    init(file: ComparisonFiles.Status?) {
        guard let file else { self = .notRun; return }
        switch file.state {
        case .finished: self = .finished
        case .running: self = .running
        case .pending: self = .notRun
        case .failed: self = .failed(exitCode: file.exitCode, signal: file.signal, error: file.error)
        default: self = .other(file.state.rawValue)
        }
    }

    /// What the run's status says, corrected by its Slurm task's state (`squeue`'s PENDING,
    /// RUNNING, ..., or how `sacct` says it ended): a task on another node holds no lock visible
    /// here, and one Slurm ended (time limit, scancel, node failure) never recorded its end.
    func seenInSlurm(_ word: String) -> RunState {
        let queued = ["PENDING", "REQUEUED"].contains(word), active = ["RUNNING", "COMPLETING", "CONFIGURING"].contains(word)
        if queued && (self == .notRun || self == .killed) { return .queued }
        if active && (self == .notRun || self == .killed) { return .running }
        if !queued && !active && word != "COMPLETED" && (self == .running || self == .killed || self == .notRun) {
            // Cancelled while queued, refused to start, or stopped before it could record its end.
            return .failed(exitCode: nil, signal: nil, error: "Slurm ended the task: \(word)")
        }
        return self
    }

    var isFailed: Bool { if case .failed = self { return true } else { return false } }

    /// Failed because the run's plugin watchdog stopped it: a plugin call overran
    /// --plugin-timeout (the exit status the watchdog alone uses; status.json's "failure" says
    /// "timeout" too).
    var timedOut: Bool { if case .failed(Int(PluginWatchdog.exitCode)?, nil, _) = self { return true } else { return false } }

    /// Whether the run has ended the way it will end, so its curve can be judged (collapse).
    var hasEnded: Bool {
        switch self {
        case .finished, .failed: return true
        case .running, .killed, .notRun, .queued, .other: return false
        }
    }

    /// The error's first non-empty line: what a reader needs in a table; log.txt has the rest.
    var errorLine: String? {
        guard case .failed(_, _, let error?) = self else { return nil }
        return error.split(whereSeparator: \.isNewline)
            .map { $0.trimmingCharacters(in: .whitespaces) }
            .first { !$0.isEmpty }
    }

    /// "finished", "FAILED (signal 6)", "FAILED (timeout)", "FAILED (exit 1)", "running", "not run": short, for the
    /// terminal row; `failureDetail` goes on a line of its own under it.
    var label: String {
        switch self {
        case .finished: return "finished"
        case .running: return "running"
        case .killed: return "killed"
        case .notRun: return "not run"
        case .queued: return "pending"
        case .other(let word): return word
        case .failed(let code, let signal, _):
            if let signal { return "FAILED (signal \(signal))" }
            if timedOut { return "FAILED (timeout)" }
            if let code { return "FAILED (exit \(code))" }
            return "FAILED"
        }
    }

    /// The signal's name and the error's first line, e.g. "SIGABRT: fatal error: …". The runner's
    /// own words for a crash ("crashed: killed by signal 6 (SIGABRT: …)") already name it.
    var failureDetail: String? {
        guard case .failed(_, let signal, _) = self else { return nil }
        if timedOut { return ["timeout", errorLine].compactMap { $0 }.joined(separator: ": ") }
        let name = signal.flatMap { SignalName.short(Int32($0)) }
        if let line = errorLine, let name, line.contains(name) { return line }
        let parts = [name, errorLine].compactMap { $0 }
        return parts.isEmpty ? nil : parts.joined(separator: ": ")
    }

    /// Everything in one cell, for Markdown and HTML: "FAILED (signal 6 SIGABRT: fatal error: …)".
    var labelWithError: String {
        guard case .failed(let code, let signal, _) = self else { return label }
        if timedOut { return "FAILED (timeout" + (errorLine.map { ": " + $0 } ?? "") + ")" }
        if let line = errorLine, let signal, line.contains("signal \(signal)") { return "FAILED (\(line))" }
        let what = signal.map { "signal \($0)" + (SignalName.short(Int32($0)).map { " " + $0 } ?? "") } ?? code.map { "exit \($0)" }
        let inside = [what, errorLine].compactMap { $0 }.joined(separator: ": ")
        return inside.isEmpty ? "FAILED" : "FAILED (\(inside))"
    }
}
