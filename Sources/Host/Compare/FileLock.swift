import Foundation

/// An advisory lock (flock(2)) on a file, held until `release()` or the process ends (the kernel
/// drops it then, so a killed process never leaves a stale lock). Two comparisons writing one
/// output folder, or training one warm-up, would otherwise delete each other's runs.
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

    func release() {
        guard fd >= 0 else { return }
        flock(fd, LOCK_UN)
        close(fd)
        fd = -1
    }

    deinit { release() }
}
