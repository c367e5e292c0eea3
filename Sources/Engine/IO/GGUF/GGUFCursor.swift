/// A bounds-checked reader over a file's bytes: every read first checks that the bytes it needs
/// lie inside the file, so a short or damaged file becomes a `GGUFError` naming the field being
/// read, never an out-of-bounds access. GGUF is little-endian throughout.
struct GGUFCursor {
    let bytes: UnsafeRawBufferPointer
    let path: String
    private(set) var offset = 0

    init(_ bytes: UnsafeRawBufferPointer, path: String) {
        self.bytes = bytes
        self.path = path
    }

    var remaining: Int { bytes.count - offset }

    /// `what` is built only when the check fails, so naming fields costs nothing on the way.
    func need(_ count: Int, _ what: @autoclosure () -> String) throws {
        guard count <= remaining else {
            throw GGUFError(kind: .truncated, path: path,
                            problem: "the file ends inside \(what()): it needs \(count) bytes at offset \(offset) but the file has \(bytes.count) bytes; \(GGUFFile.damaged)")
        }
    }

    mutating func skip(_ count: Int) { offset += count }

    mutating func u8(_ what: @autoclosure () -> String) throws -> UInt8 {
        try need(1, what())
        defer { offset += 1 }
        return bytes[offset]
    }

    mutating func u16(_ what: @autoclosure () -> String) throws -> UInt16 {
        try need(2, what())
        defer { offset += 2 }
        return UInt16(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt16.self))
    }

    mutating func u32(_ what: @autoclosure () -> String) throws -> UInt32 {
        try need(4, what())
        defer { offset += 4 }
        return UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt32.self))
    }

    mutating func u64(_ what: @autoclosure () -> String) throws -> UInt64 {
        try need(8, what())
        defer { offset += 8 }
        return UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt64.self))
    }

    /// A GGUF string: a uint64 byte length, then that many bytes of UTF-8 with no terminator.
    /// Invalid UTF-8 is decoded with replacement characters rather than refused, as llama.cpp
    /// itself never validates it.
    mutating func string(_ what: @autoclosure () -> String) throws -> String {
        let declared = try u64("the length of \(what())")
        guard declared <= UInt64(remaining) else {
            throw GGUFError(kind: .truncated, path: path,
                            problem: "\(what()) has length \(declared) at offset \(offset - 8), which runs past the end of the \(bytes.count)-byte file; \(GGUFFile.damaged)")
        }
        let n = Int(declared)
        defer { offset += n }
        return String(decoding: UnsafeRawBufferPointer(rebasing: bytes[offset..<(offset + n)]), as: UTF8.self)
    }
}
