#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A failed file-system call, naming the file and what to check, so an I/O failure deep inside a
/// save or load still tells the user which path to look at.
public struct FileError: Error, CustomStringConvertible {
    public let path: String
    public let problem: String
    public var description: String { "\(path): \(problem)" }

    /// Builds the error from the current `errno`, which must be read before any other call.
    static func posix(_ path: String, _ action: String, hint: String) -> FileError {
        let reason = String(cString: strerror(errno))
        return FileError(path: path, problem: "\(action) failed (\(reason)); \(hint)")
    }
}
