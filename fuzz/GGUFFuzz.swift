// Fuzz target: the GGUF reader (header, metadata, tensor directory) from raw bytes, then the
// metadata accessors and the dequantisation of every small tensor the parser accepted.
// Built by scripts/fuzz.sh together with Sources/Engine/IO/GGUF/*.swift and HalfFloat.swift,
// so internal names are visible. A thrown GGUFError is the reader refusing bad input: fine.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    guard let file = try? GGUFFile(bytes: bytes, source: "fuzz.gguf") else { return 0 }

    // Everything a model loader reads from the metadata.
    for key in file.metadataKeys {
        let value = file.metadata[key]!
        _ = value.description
        _ = value.type
        _ = file.string(key); _ = file.int(key); _ = file.float(key); _ = file.bool(key)
        _ = file.stringArray(key); _ = file.intArray(key); _ = file.floatArray(key)
        _ = try? file.requireString(key); _ = try? file.requireInt(key); _ = try? file.requireFloat(key)
    }
    _ = file.architecture
    _ = try? file.requireInt("missing.key")

    // Dequantise what the parser says is inside the file; the cap only keeps each run fast.
    for info in file.tensors {
        _ = file.tensor(named: info.name)
        _ = info.rowMajorShape
        guard info.elementCount <= 1 << 16 else { continue }
        if let values = try? file.dequantize(info.name) {
            precondition(values.count == info.elementCount, "dequantize returned \(values.count) of \(info.elementCount) values")
        }
        let raw = file.rawBytes(info)
        precondition(raw.count == info.byteCount)
    }
    return 0
}
