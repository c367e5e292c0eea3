#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// Somewhere bytes can be streamed: a file being written, or memory (for tests and `encode`).
protocol ByteSink: AnyObject {
    func write(_ bytes: UnsafeRawBufferPointer) throws
}

final class MemorySink: ByteSink {
    var bytes: [UInt8] = []
    func write(_ bytes: UnsafeRawBufferPointer) throws { self.bytes.append(contentsOf: bytes) }
}

// The method below is also called `write`; these names reach the POSIX calls unambiguously.
@inline(__always) private func posixWrite(_ fd: Int32, _ p: UnsafeRawPointer, _ n: Int) -> Int { write(fd, p, n) }
@inline(__always) private func posixClose(_ fd: Int32) -> Int32 { close(fd) }

/// A file written under a temporary name in its final folder and renamed into place only once it
/// is complete and synced. rename(2) within one folder is atomic, so a crash or a full disk
/// mid-write leaves the previous file (or none) — never a truncated one that loads as garbage.
final class StagedFile: ByteSink {
    let path: String
    let tempPath: String
    private var fd: Int32
    private var committed = false

    init(path: String) throws {
        let url = URL(fileURLWithPath: path)
        self.path = url.path
        // The random suffix only keeps concurrent writers apart; it never affects results.
        tempPath = url.deletingLastPathComponent().path + "/." + url.lastPathComponent
            + ".partial-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        fd = open(tempPath, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        if fd < 0 {
            throw FileError.posix(tempPath, "creating a temporary file", hint: "check that the folder exists and is writable")
        }
    }

    func write(_ bytes: UnsafeRawBufferPointer) throws {
        precondition(fd >= 0, "StagedFile \(path): write after finish")
        guard let base = bytes.baseAddress else { return }
        var done = 0
        while done < bytes.count {
            let n = posixWrite(fd, base + done, bytes.count - done)
            if n < 0 {
                if errno == EINTR { continue }
                throw FileError.posix(tempPath, "writing", hint: "check free disk space and permissions")
            }
            done += n
        }
    }

    /// Syncs and closes the temporary file without making it visible yet, so several files can
    /// all be complete on disk before any of them replaces its predecessor.
    func finish() throws {
        guard fd >= 0 else { return }
        let ok = fsync(fd) == 0
        let err = FileError.posix(tempPath, "syncing to disk", hint: "check free disk space")
        _ = posixClose(fd)
        fd = -1
        if !ok { throw err }
    }

    func commit() throws {
        try finish()
        if rename(tempPath, path) != 0 {
            throw FileError.posix(path, "renaming \(tempPath) into place", hint: "check that the folder is writable")
        }
        committed = true
        // Syncing the folder makes the rename itself durable; failure here loses nothing already
        // written, so it is not an error (some file systems refuse fsync on folders).
        let dirFd = open(URL(fileURLWithPath: path).deletingLastPathComponent().path, O_RDONLY | O_CLOEXEC)
        if dirFd >= 0 {
            _ = fsync(dirFd)
            _ = posixClose(dirFd)
        }
    }

    deinit {
        if fd >= 0 { _ = posixClose(fd) }
        if !committed { unlink(tempPath) }
    }
}
