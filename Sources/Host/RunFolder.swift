import Engine
import Foundation

/// A run's output folder, held for the run's lifetime.
///
/// A folder that already holds anything is refused unless the caller says what to do with it
/// (`--overwrite`), because reusing one silently truncated the old metrics, left old checkpoints
/// beside new ones, or replaced the checkpoint another run started from. An exclusive lock
/// (flock(2) on `<dir>/.lock`, holding the pid) keeps two runs out of one folder; the kernel drops
/// it when the process dies, so a run.json still saying "running" with a free lock is a run that
/// was killed. run.json holds the settings and how the run ended.
final class RunFolder {
    /// What to do with a folder that already holds files: refuse it, replace the run in it, or
    /// continue that run from its newest checkpoint.
    enum Existing { case refuse, overwrite, resume }

    /// How the run went, in run.json's "status".
    struct Status: Codable, Equatable {
        enum State: String, Codable { case running, finished, interrupted, failed }
        var state: State
        var pid: Int32
        var started: String
        var ended: String?
        /// For failed: the error; for interrupted: the signal; for finished: an early stop, if any.
        var detail: String?
        /// How many times the run was resumed (absent: never).
        var resumed: Int?
        /// For failed: `diverged` when training broke down (a loss or gradient stopped being a
        /// number), which a comparison counts as a collapse; absent for any other failure.
        var failure: Failure?

        enum Failure: String, Codable { case diverged }
    }

    let path: String
    let metrics: MetricsWriter
    /// With `.resume`: the checkpoint the run continues from.
    let resumePoint: ResumePoint?
    private let lock: FileLock
    private let writeRunFile: (Status) throws -> Void
    private var status: Status
    /// `end` may come from the plugin watchdog's thread while the training thread is stuck in a
    /// plugin; the first end wins.
    private let endLock = NSLock()
    private var ended = false

    static let lockName = ".lock"
    /// What a run writes, and `--overwrite` removes (other files, such as compare's log.txt and
    /// status.json, are left alone).
    static let runFiles = ["run.json", "metrics.jsonl", "checkpoints", "final", EvalRecords.finalFileName]

    /// Fails when the folder cannot be used as asked; called before the data and model load, so
    /// a refused run fails at once and leaves nothing behind. `open` checks again under the lock.
    static func check(_ dir: String, existing: Existing, flag: String = "--out", locked: Bool = false) throws {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: dir, isDirectory: &isDir) else {
            if existing == .resume { throw CLIError("--resume: \(dir) does not exist, so there is no run to continue; drop --resume to start one there") }
            if let obstacle = FileError.folderObstacle(dir) { throw CLIError("cannot create the output folder \(dir): \(obstacle); give another \(flag)") }
            return
        }
        guard isDir.boolValue else { throw CLIError("\(flag) \(dir) is a file, not a folder; give a folder for the run's output") }
        if !locked, let holder = holder(dir) {
            throw CLIError("\(dir) is in use by another run (pid \(holder)); wait for it to end, or give another \(flag)")
        }
        let entries = contents(dir)
        if existing == .resume {
            guard let status = readStatus(dir) else {
                throw CLIError("--resume: \(dir) holds no run (no run.json with a status); drop --resume to start one there")
            }
            if status.state == .finished {
                throw CLIError("--resume: the run in \(dir) finished; there is nothing to continue (give a new \(flag), or --overwrite to run it again)")
            }
        }
        if existing == .refuse && !entries.isEmpty {
            let shown = entries.prefix(4).joined(separator: ", ") + (entries.count > 4 ? ", …" : "")
            throw CLIError("\(dir) is not empty (\(shown)); give a new \(flag), or --overwrite to replace the run in it (\(runFiles.joined(separator: ", ")) are deleted, other files kept)")
        }
    }

    /// Takes the folder: creates it, locks it, clears a previous run's files when overwriting,
    /// and writes run.json (settings, status "running") and an empty metrics.jsonl.
    static func open(_ dir: String, existing: Existing, settings: some Encodable) throws -> RunFolder {
        try check(dir, existing: existing)
        do {
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        } catch {
            throw CLIError("cannot create the output folder \(dir): \(FileError.folderObstacle(dir) ?? FileError.reason(error)); give another --out")
        }
        guard let lock = try FileLock.acquire(dir + "/" + lockName, wait: false) else {
            throw CLIError("\(dir) is in use by another run (pid \(holder(dir).map(String.init) ?? "unknown")); wait for it to end, or give another --out")
        }
        lock.write(contents: "\(getpid())\n")
        // Checked again under the lock: another run may have written here since `check`.
        try check(dir, existing: existing, locked: true)
        var resumePoint: ResumePoint?
        var resumed: Int?
        if existing == .resume {
            try checkSameSettings(dir, settings)
            guard let point = try ResumePoint.newest(in: dir) else {
                throw CLIError("--resume: \(dir) has no checkpoint to continue from (the run stopped before its first one); start it again with --overwrite")
            }
            // Lines logged after the checkpoint are logged again by the resumed run.
            try MetricsWriter.truncate(dir + "/metrics.jsonl", to: point.state.metricsLength)
            resumePoint = point
            resumed = (readStatus(dir)?.resumed ?? 0) + 1
        }
        let replaced = existing == .resume ? ["final", EvalRecords.finalFileName] : runFiles
        for name in replaced where FileManager.default.fileExists(atPath: dir + "/" + name) {
            do { try FileManager.default.removeItem(atPath: dir + "/" + name) } catch {
                throw CLIError("cannot remove the previous run's \(dir)/\(name): \(FileError.reason(error))")
            }
        }
        let runFile = dir + "/run.json"
        let write: (Status) throws -> Void = { status in
            let enc = JSONEncoder()
            enc.outputFormatting = [.prettyPrinted, .sortedKeys]
            do {
                try enc.encode(RunFile(settings: settings, status: status)).write(to: URL(fileURLWithPath: runFile), options: .atomic)
            } catch let e as EncodingError {
                throw CLIError("cannot record the settings in \(runFile): \(e)")
            } catch {
                throw CLIError("cannot write \(runFile): \(FileError.reason(error)); check the path and free space")
            }
        }
        let status = Status(state: .running, pid: getpid(), started: timestamp(), ended: nil, detail: nil, resumed: resumed)
        try write(status)
        let metrics = try MetricsWriter(path: dir + "/metrics.jsonl", append: existing == .resume)
        return RunFolder(path: dir, metrics: metrics, resumePoint: resumePoint, lock: lock, status: status, write: write)
    }

    /// A resumed run must be the run that was stopped: the same flags, defaults, data and
    /// threads (which decide the numbers), or it would be a different run stitched onto the first.
    private static func checkSameSettings(_ dir: String, _ settings: some Encodable) throws {
        let enc = JSONEncoder()
        enc.outputFormatting = [.sortedKeys]
        guard let now = (try? enc.encode(settings)).flatMap({ try? JSONSerialization.jsonObject(with: $0) }),
              let data = FileManager.default.contents(atPath: dir + "/run.json"),
              var before = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else {
            throw CLIError("--resume: cannot read the settings in \(dir)/run.json; start the run again with --overwrite")
        }
        before["status"] = nil
        let (a, b) = (flatten(before), flatten(now))
        let differing = Set(a.keys).union(b.keys).filter { a[$0] != b[$0] }.sorted()
        guard differing.isEmpty else {
            let shown = differing.prefix(6).map { "\($0) (was \(a[$0] ?? "unset"), now \(b[$0] ?? "unset"))" }
            throw CLIError("--resume: the settings differ from the run's in \(dir)/run.json: \(shown.joined(separator: "; "))\(differing.count > 6 ? "; …" : ""). Resume with the command that started it, or start again with --overwrite")
        }
    }

    /// Leaf values of a JSON object by dotted path, as text.
    private static func flatten(_ value: Any, _ prefix: String = "") -> [String: String] {
        if let object = value as? [String: Any] {
            return object.reduce(into: [:]) { out, kv in out.merge(flatten(kv.value, prefix.isEmpty ? kv.key : prefix + "." + kv.key)) { a, _ in a } }
        }
        if value is NSNull { return [prefix: "null"] }
        if let array = value as? [Any] { return [prefix: "[" + array.map { flatten($0).values.sorted().joined(separator: ",") }.joined(separator: ", ") + "]"] }
        return [prefix: "\(value)"]
    }

    private init(path: String, metrics: MetricsWriter, resumePoint: ResumePoint?, lock: FileLock, status: Status, write: @escaping (Status) throws -> Void) {
        self.path = path
        self.metrics = metrics
        self.resumePoint = resumePoint
        self.lock = lock
        self.status = status
        self.writeRunFile = write
    }

    /// Runs the training and records how it ended: finished, interrupted (a signal asked it to
    /// stop early; it saved a resumable checkpoint instead of a final one), or failed with the error.
    /// `detail`: what to say of a finished run (such as an early stop), in run.json's detail.
    func record<T>(detail: (T) -> String? = { _ in nil }, _ body: () throws -> T) throws -> T {
        do {
            let result = try body()
            if let signal = Interrupt.signalName { end(.interrupted, detail: signal) } else { end(.finished, detail: detail(result)) }
            return result
        } catch {
            let shown = SettingFlags.shown(error)
            end(.failed, detail: "\(shown)", failure: (error as? TrainingError)?.diverged == true ? .diverged : nil)
            throw shown
        }
    }

    /// Records how the run ended and lets the folder go. A failure to record it is reported, not
    /// thrown: the run's own outcome (and error) matters more.
    func end(_ state: Status.State, detail: String? = nil, failure: Status.Failure? = nil) {
        endLock.lock()
        defer { endLock.unlock() }
        guard !ended else { return }
        ended = true
        status.state = state
        status.ended = Self.timestamp()
        status.detail = detail
        status.failure = failure
        metrics.close()
        do { try writeRunFile(status) } catch { printErr("workbench: \(error)") }
        lock.release()
    }

    /// The pid holding `dir`'s lock, or nil when no process holds it.
    static func holder(_ dir: String) -> Int32? {
        let path = dir + "/" + lockName
        guard FileLock.isHeld(path) else { return nil }
        let text = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
        return Int32(text.trimmingCharacters(in: .whitespacesAndNewlines)) ?? -1
    }

    /// The run's status from its run.json, nil when there is none (or no status: an older run).
    static func readStatus(_ dir: String) -> Status? {
        struct File: Decodable { var status: Status? }
        return FileManager.default.contents(atPath: dir + "/run.json").flatMap { try? JSONDecoder().decode(File.self, from: $0) }?.status
    }

    private static func contents(_ dir: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).filter { $0 != lockName }.sorted()
    }

    private static func timestamp() -> String { ISO8601DateFormatter().string(from: Date()) }

    /// The settings' own keys, plus "status".
    private struct RunFile<Settings: Encodable>: Encodable {
        var settings: Settings
        var status: Status
        enum Key: String, CodingKey { case status }
        func encode(to encoder: Encoder) throws {
            try settings.encode(to: encoder)
            var c = encoder.container(keyedBy: Key.self)
            try c.encode(status, forKey: .status)
        }
    }
}
