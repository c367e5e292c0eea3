// Fuzz target: the safetensors reader from raw bytes (header length, header JSON, dtype, shape
// and offset checks, then the conversion of every tensor), and the metadata-only reader over
// the same bytes as a file. A thrown SafetensorsError is the reader refusing bad input: fine.
import Foundation

private let scratch = ScratchFile(target: "safetensors", fileName: "input.safetensors")

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    if let file = try? Safetensors.decode(bytes, source: "fuzz.safetensors") {
        for (_, t) in file.tensors {
            precondition(t.values.count == t.shape.reduce(1, *), "tensor of shape \(t.shape) decoded to \(t.values.count) values")
        }
    }
    // The metadata-only path reads from a file: the header length field, then just the header.
    scratch.write(data, size)
    _ = try? Safetensors.readMetadata(from: scratch.path)
    return 0
}
