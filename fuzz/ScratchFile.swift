// The current fuzz input as the whole content of a file, for readers that take a path.
import Foundation

struct ScratchFile {
    let path: String

    /// A file in a folder of this process's own, so targets run side by side do not share one.
    init(target: String, fileName: String) {
        let dir = NSTemporaryDirectory() + "wb-fuzz-\(target)-\(getpid())"
        try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        path = dir + "/" + fileName
    }

    /// Plain POSIX: FileManager's atomic write would cost more than the parse.
    func write(_ data: UnsafePointer<UInt8>, _ size: Int) {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        precondition(fd >= 0, "cannot open \(path) for the fuzz input")
        precondition(size == 0 || Foundation.write(fd, data, size) == size, "cannot write the fuzz input to \(path)")
        close(fd)
    }
}
