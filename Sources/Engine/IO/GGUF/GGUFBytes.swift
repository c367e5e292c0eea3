#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The bytes of a GGUF file, kept alive as long as any `GGUFFile` reads them.
///
/// A file is memory-mapped rather than read: a model is mostly tensor data that is dequantised
/// once, tensor by tensor, so mapping avoids a second full copy in memory and reads only what is
/// used. The price is that a file truncated by another process *while* it is mapped can fault
/// (SIGBUS) on access; everything this reader checks is against the length measured when the
/// file was opened, so any file that stays as it was opened is read safely.
final class GGUFBytes: @unchecked Sendable {
    /// Read-only for the whole lifetime; that is what makes sharing across threads safe.
    let raw: UnsafeRawBufferPointer
    private let release: () -> Void

    init(mapping path: String) throws {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 { throw Self.failure(path, "opening", hint: "check that the path exists and is readable") }
        defer { _ = close(fd) }  // the mapping keeps its own reference to the file
        var st = stat()
        guard fstat(fd, &st) == 0 else {
            throw Self.failure(path, "finding the size", hint: "check that the path is a regular file")
        }
        guard (st.st_mode & S_IFMT) == S_IFREG else {
            throw GGUFError(kind: .unreadable, path: path, problem: "not a regular file; pass the path of a .gguf file")
        }
        let size = Int(st.st_size)
        if size == 0 {
            // mmap refuses length 0; an empty file is reported by the header check as truncated.
            raw = UnsafeRawBufferPointer(start: nil, count: 0)
            release = {}
            return
        }
        guard let base = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0),
              base != UnsafeMutableRawPointer(bitPattern: -1) else {  // MAP_FAILED
            throw Self.failure(path, "memory-mapping", hint: "check that the file is readable and that there is address space for it")
        }
        raw = UnsafeRawBufferPointer(start: base, count: size)
        release = { _ = munmap(base, size) }
    }

    /// A copy of bytes held in memory (files built in tests, or data from elsewhere).
    init(copying bytes: [UInt8]) {
        let storage = UnsafeMutableRawBufferPointer.allocate(byteCount: max(1, bytes.count), alignment: 64)
        bytes.withUnsafeBytes { storage.copyMemory(from: $0) }
        raw = UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(storage)[0..<bytes.count])
        release = { storage.deallocate() }
    }

    deinit { release() }

    /// Must be called right after the failing call, before anything else can change `errno`.
    private static func failure(_ path: String, _ action: String, hint: String) -> GGUFError {
        let reason = String(cString: strerror(errno))
        return GGUFError(kind: .unreadable, path: path, problem: "\(action) failed (\(reason)); \(hint)")
    }
}
