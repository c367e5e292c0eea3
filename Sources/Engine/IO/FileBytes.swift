#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Reads a whole file into memory with read(2). Copying rather than mapping means a file that is
/// truncated or replaced while we read it yields short data (caught by validation), not SIGBUS.
func readWholeFile(_ path: String) throws -> [UInt8] {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    if fd < 0 { throw FileError.posix(path, "opening", hint: "check that the path exists and is readable") }
    defer { _ = close(fd) }
    let end = lseek(fd, 0, SEEK_END)
    if end < 0 || lseek(fd, 0, SEEK_SET) != 0 {
        throw FileError.posix(path, "finding the size", hint: "check that the path is a regular file")
    }
    let size = Int(end)
    if size == 0 { return [] }
    var failure: FileError?
    let bytes = [UInt8](unsafeUninitializedCapacity: size) { buf, initialized in
        var done = 0
        while done < size {
            let n = read(fd, buf.baseAddress! + done, size - done)
            if n < 0 {
                if errno == EINTR { continue }
                failure = FileError.posix(path, "reading", hint: "check that the path is a readable regular file")
                break
            }
            if n == 0 { break }  // shrank since we measured it; validation reports the short data
            done += n
        }
        initialized = done
    }
    if let failure { throw failure }
    return bytes
}
