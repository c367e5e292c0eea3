// Fuzz target: the safetensors reader from raw bytes (header length, header JSON, dtype, shape
// and offset checks, then the conversion of every tensor), and the metadata-only reader over
// the same bytes as a file. A thrown SafetensorsError is the reader refusing bad input: fine.
import Foundation

private let scratch: String = {
    let dir = NSTemporaryDirectory() + "wb-fuzz-safetensors-\(getpid())"
    try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    return dir + "/input.safetensors"
}()

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    if let file = try? Safetensors.decode(bytes, source: "fuzz.safetensors") {
        for (_, t) in file.tensors {
            precondition(t.values.count == t.shape.reduce(1, *), "tensor of shape \(t.shape) decoded to \(t.values.count) values")
        }
    }
    // The metadata-only path reads from a file: the header length field, then just the header.
    writeScratch(data, size)
    _ = try? Safetensors.readMetadata(from: scratch)
    return 0
}

/// The input as the whole content of the scratch file (plain POSIX: FileManager's atomic write
/// would cost more than the parse).
private func writeScratch(_ data: UnsafePointer<UInt8>, _ size: Int) {
    let fd = open(scratch, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
    precondition(fd >= 0, "cannot open \(scratch) for the fuzz input")
    precondition(size == 0 || write(fd, data, size) == size, "cannot write the fuzz input to \(scratch)")
    close(fd)
}
