import Foundation

/// One `workbench` child (the warm-up or a variant) in its own process, so a crash, a hang or a
/// divergence costs only that run. Its stdout and stderr go to `<folder>/log.txt`; the last lines
/// of its stderr are kept to say why it failed.
final class ChildProcess {
    struct Outcome {
        /// The exit status when it exited, nil when a signal ended it.
        var exitCode: Int32?
        var signal: Int32?
        var wallSeconds: Double
        var stderrTail: [String]
        /// The child's run.json says training broke down (a loss or gradient stopped being a number).
        var diverged = false

        var succeeded: Bool { exitCode == 0 }
        /// The child's plugin watchdog stopped it: a plugin call overran --plugin-timeout.
        var timedOut: Bool { exitCode == PluginWatchdog.exitCode }

        /// What went wrong, for status.json and the console: our words and the child's own error
        /// line on the first line (the one a table or the console shows), then where the log is
        /// and the child's last stderr lines (for a crash: the crash report's frames and the line
        /// naming the plugin and the function it crashed in).
        func failureMessage(log: String) -> String {
            let what = signal.map { "crashed: killed by signal \($0) (\(SignalName.explained($0)))" }
                ?? (timedOut ? "stopped by the plugin watchdog (exit status \(PluginWatchdog.exitCode))" : "exited with status \(exitCode ?? -1)")
            let head = errorLine.map { "\(what): \($0)" } ?? what
            let tail = stderrTail.isEmpty ? "" : "\n" + stderrTail.joined(separator: "\n")
            return "\(head)\nfull output in \(log)\(tail)"
        }

        /// The child's own words for what went wrong: the line naming the plugin and function it
        /// crashed in (PluginWatchdog's crash handler), else its last "Error: …" line (how
        /// workbench reports a refused input, a failed run or a hung plugin call), else a Swift
        /// runtime "Fatal error" line.
        var errorLine: String? {
            stderrTail.last { $0.hasPrefix(PluginWatchdog.crashLinePrefix) }
                ?? stderrTail.last { $0.hasPrefix("Error: ") }
                ?? stderrTail.last { $0.localizedCaseInsensitiveContains("fatal error") }
        }

        /// What kind of failure it was, in status.json's words.
        var failure: String? {
            succeeded ? nil : signal != nil ? ComparisonFiles.Status.Failure.crash
                : timedOut ? ComparisonFiles.Status.Failure.timeout
                : diverged ? ComparisonFiles.Status.Failure.diverged : ComparisonFiles.Status.Failure.error
        }
    }

    let name: String
    let folder: String
    var log: String { folder + "/log.txt" }
    private let process = Process()
    private let started = Date()
    /// Enough for an error and a crash report's frames (the line naming the plugin comes last).
    private let tail = LineTail(keep: 40)
    private let drained = DispatchSemaphore(value: 0)

    /// Starts `executable arguments` (which name `folder` as the child's output), after creating
    /// the folder for its log.
    init(name: String, executable: String, arguments: [String], folder: String) throws {
        self.name = name
        self.folder = folder
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let logPath = folder + "/log.txt"
        // O_APPEND: the child writes stdout and we write its stderr into the same file, each at the
        // end; a resumed run adds to the log of the run it continues (a rerun starts in a new folder).
        let fd = open(logPath, O_WRONLY | O_CREAT | O_APPEND, 0o644)
        guard fd >= 0 else { throw CLIError("cannot create \(logPath): \(String(cString: strerror(errno)))") }
        let logHandle = FileHandle(fileDescriptor: fd, closeOnDealloc: true)
        let stderrPipe = Pipe()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = logHandle
        process.standardError = stderrPipe
        // A crash report of the crashed thread only, without registers and loaded images, on
        // stderr (where the status's error is read from; the runtime's default is stdout): the
        // last lines of stderr then show what crashed, not register dumps.
        var environment = ProcessInfo.processInfo.environment
        if environment["SWIFT_BACKTRACE"] == nil {
            environment["SWIFT_BACKTRACE"] = "interactive=no,color=no,threads=crashed,registers=none,images=none,output-to=stderr"
        }
        process.environment = environment
        try process.run()

        // A plain thread with blocking reads: it ends at EOF, i.e. once the child and anything it
        // started have closed stderr, so no line is lost between exit and the status write.
        let reading = stderrPipe.fileHandleForReading
        let tail = self.tail, drained = self.drained
        Thread.detachNewThread {
            while true {
                let chunk = reading.availableData
                if chunk.isEmpty { break }
                chunk.withUnsafeBytes { raw in _ = write(fd, raw.baseAddress, raw.count) }
                tail.append(chunk)
            }
            withExtendedLifetime(logHandle) {}
            drained.signal()
        }
    }

    var isRunning: Bool { process.isRunning }
    var processIdentifier: Int32 { process.processIdentifier }
    var elapsed: Double { Date().timeIntervalSince(started) }

    func send(_ signal: Int32) {
        if process.isRunning { kill(process.processIdentifier, signal) }
    }

    /// Waits for the exit (and for its stderr to be read to the end).
    func wait() -> Outcome {
        process.waitUntilExit()
        drained.wait()
        drained.signal()  // so a second wait() returns too
        let bySignal = process.terminationReason == .uncaughtSignal
        return Outcome(exitCode: bySignal ? nil : process.terminationStatus,
                       signal: bySignal ? process.terminationStatus : nil,
                       wallSeconds: elapsed, stderrTail: tail.lines,
                       diverged: RunFolder.readStatus(folder)?.failure == .diverged)
    }
}

/// The last lines of a byte stream, with control sequences of progress lines (\r) resolved.
final class LineTail: @unchecked Sendable {
    private let keep: Int
    private let lock = NSLock()
    private var done: [String] = []
    private var partial = Data()

    init(keep: Int) { self.keep = keep }

    func append(_ data: Data) {
        lock.lock()
        defer { lock.unlock() }
        partial.append(data)
        while let nl = partial.firstIndex(of: 0x0A) {
            let line = String(decoding: partial[partial.startIndex..<nl], as: UTF8.self)
            partial = Data(partial[partial.index(after: nl)...])
            // A progress line rewritten in place: only its last version matters.
            done.append(String(line.split(separator: "\r", omittingEmptySubsequences: false).last ?? ""))
            if done.count > keep { done.removeFirst(done.count - keep) }
        }
    }

    var lines: [String] {
        lock.lock()
        defer { lock.unlock() }
        let last = partial.isEmpty ? [] : [String(decoding: partial, as: UTF8.self)]
        return Array((done + last).suffix(keep)).filter { !$0.trimmingCharacters(in: .whitespaces).isEmpty }
    }
}
