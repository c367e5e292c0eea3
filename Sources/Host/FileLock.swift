import Foundation

/// An advisory lock (flock(2)) on a file, held until `release()` or the process ends (the kernel
/// drops it then, so a killed process never leaves a stale lock). Two runs or comparisons writing
/// one output folder, or training one warm-up, would otherwise delete each other's work.
final class FileLock {
    private var fd: Int32

    private init(fd: Int32) { self.fd = fd }

    /// The lock on `path` (created if need be). With `wait`, blocks until it is free; without,
    /// returns nil when another process holds it.
    static func acquire(_ path: String, wait: Bool) throws -> FileLock? {
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw CLIError("cannot open the lock file \(path): \(String(cString: strerror(errno)))") }
        while flock(fd, LOCK_EX | (wait ? 0 : LOCK_NB)) != 0 {
            if errno == EINTR { continue }
            let err = errno
            close(fd)
            if err == EWOULDBLOCK { return nil }
            throw CLIError("cannot lock \(path): \(String(cString: strerror(err)))")
        }
        return FileLock(fd: fd)
    }

    /// Whether another process holds the lock on `path` (false when there is no such file).
    /// Only for locks this process does not hold itself: flock sees its own second open as another.
    static func isHeld(_ path: String) -> Bool {
        guard FileManager.default.fileExists(atPath: path) else { return false }
        guard let probe = try? acquire(path, wait: false) else { return true }
        probe.release()
        return false
    }

    /// Replaces the lock file's text (a holder's pid, for whoever finds the lock taken).
    func write(contents: String) {
        guard fd >= 0 else { return }
        _ = ftruncate(fd, 0)
        _ = contents.withCString { pwrite(fd, $0, strlen($0), 0) }
    }

    func release() {
        guard fd >= 0 else { return }
        flock(fd, LOCK_UN)
        close(fd)
        fd = -1
    }

    deinit { release() }
}
