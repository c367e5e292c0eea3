#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

// The type below has a static `truncate`; this name reaches the POSIX call unambiguously.
@inline(__always) private func posixTruncate(_ path: String, _ length: off_t) -> Int32 { truncate(path, length) }

/// Appends one JSON object per line to a log file. Each line is handed to the OS as soon as it
/// is written, so a crash of the training process loses no logged step; keys are sorted so the
/// same record always produces the same bytes.
public final class MetricsWriter: @unchecked Sendable {
    public let path: String
    private let lock = NSLock()
    private var file: UnsafeMutablePointer<FILE>?
    private var reportedFailure = false

    /// `append: false` starts the file afresh; parent folders are created as needed.
    public init(path: String, append: Bool = true) throws {
        self.path = path
        let parent = URL(fileURLWithPath: path).deletingLastPathComponent().path
        do {
            try FileManager.default.createDirectory(atPath: parent, withIntermediateDirectories: true)
        } catch {
            throw FileError(path: parent, problem: "cannot create the folder for metrics (\(error.localizedDescription)); check the path and permissions")
        }
        guard let f = fopen(path, append ? "a" : "w") else {
            throw FileError.posix(path, "opening the metrics file", hint: "check the path and permissions")
        }
        file = f
    }

    deinit { if let file { fclose(file) } }

    /// Metrics must never stop training, so a failed write is reported once on stderr instead of
    /// thrown; writing after `close()` is a programming error and traps.
    public func write(_ line: MetricsLine) { write(line.fields) }

    func write(_ record: [String: MetricValue]) {
        let line = "{" + record.sorted { $0.key < $1.key }
            .map { JSONText.string($0.key) + ":" + $0.value.json }
            .joined(separator: ",") + "}\n"
        lock.lock()
        defer { lock.unlock() }
        guard let file else { preconditionFailure("MetricsWriter \(path): write after close") }
        let bytes = Array(line.utf8)
        let written = fwrite(bytes, 1, bytes.count, file)
        if (written != bytes.count || fflush(file) != 0) && !reportedFailure {
            reportedFailure = true
            let err = FileError.posix(path, "writing metrics", hint: "check free disk space; later lines may be lost too")
            fputs("warning: \(err)\n", stderr)
        }
    }

    /// The file's length in bytes: where the next line goes. A resumable checkpoint records it,
    /// so a resumed run can cut the lines logged after that checkpoint and write them again.
    public func length() -> UInt64 {
        lock.lock()
        defer { lock.unlock() }
        guard let file else { return 0 }
        fflush(file)
        let end = lseek(fileno(file), 0, SEEK_END)
        return end < 0 ? 0 : UInt64(end)
    }

    /// Cuts `path` back to its first `length` bytes (a resumed run's starting point). Fails when
    /// the file is shorter: then it is not the file the checkpoint was saved beside.
    public static func truncate(_ path: String, to length: UInt64) throws {
        var info = stat()
        guard stat(path, &info) == 0 else {
            throw FileError.posix(path, "reading the metrics file's size", hint: "is this the run's folder?")
        }
        guard UInt64(info.st_size) >= length else {
            throw FileError(path: path, problem: "holds \(info.st_size) bytes but the checkpoint was saved when it held \(length); the metrics belong to another run — resume from a complete run folder or start the run again from the beginning")
        }
        guard posixTruncate(path, off_t(length)) == 0 else {
            throw FileError.posix(path, "cutting the metrics back to the checkpoint", hint: "check permissions")
        }
    }

    public func close() {
        lock.lock()
        defer { lock.unlock() }
        if let file { fclose(file) }
        file = nil
    }
}
