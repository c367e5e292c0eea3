/// Parses and checks everything in a GGUF file except the tensor data itself.
///
/// Layout (all little-endian): "GGUF", uint32 version, uint64 tensor count, uint64 metadata
/// count; the metadata entries (string key, uint32 value type, value); the tensor directory
/// (string name, uint32 dimension count, uint64 dimensions, uint32 ggml type, uint64 offset into
/// the data section); padding to the alignment; the data section.
enum GGUFParser {
    struct Parsed {
        var version: Int
        var metadata: [String: GGUFValue]
        var metadataKeys: [String]
        var tensors: [GGUFTensorInfo]
        var alignment: Int
        var dataOffset: Int
        var directoryOffset: Int
    }

    static let headerBytes = 24
    /// ggml's GGML_MAX_DIMS: tensors have at most four dimensions.
    static let maxDimensions = 4
    /// Bounds recursion on crafted input; real files nest arrays at most once, if at all.
    static let maxArrayDepth = 16
    /// A metadata entry takes at least a key length (8), a value type (4) and a 1-byte value; a
    /// directory entry a name length (8), a dimension count (4), a type (4) and an offset (8).
    /// Counts larger than the remaining bytes allow are refused before anything is allocated.
    static let minMetadataEntryBytes = 13
    static let minTensorEntryBytes = 24
    /// A shape whose data would exceed this (16 TiB) is a damaged directory, whatever the file size.
    static let maxTensorBytes = 1 << 44

    static func parse(_ bytes: UnsafeRawBufferPointer, path: String) throws -> Parsed {
        func fail(_ kind: GGUFError.Kind, _ problem: String) -> GGUFError {
            GGUFError(kind: kind, path: path, problem: problem)
        }
        var c = GGUFCursor(bytes, path: path)

        // The magic is checked before the length so that a short file of some other kind is
        // called what it is rather than a truncated GGUF file.
        if bytes.count >= 4 {
            let magic = Array(bytes[0..<4])
            guard magic == Array("GGUF".utf8) else {
                let hex = magic.map { String($0, radix: 16, uppercase: true) }.map { $0.count == 1 ? "0" + $0 : $0 }
                throw fail(.notGGUF, "not a GGUF file: it begins with bytes \(hex.joined(separator: " ")) instead of \"GGUF\" (47 47 55 46); pass a .gguf model (files in the older GGML/GGJT formats must first be converted with llama.cpp)")
            }
        }
        guard bytes.count >= headerBytes else {
            throw fail(.truncated, "only \(bytes.count) bytes, fewer than the \(headerBytes)-byte header (magic, version, tensor count, metadata count); \(GGUFFile.damaged)")
        }
        c.skip(4)

        let version = try c.u32("the version")
        guard version == UInt32(GGUFFile.supportedVersion) else {
            if version.byteSwapped <= 3 {
                throw fail(.unsupportedVersion, "a big-endian GGUF file (version \(version.byteSwapped) with its bytes swapped); only little-endian files can be read — convert the model again without --bigendian")
            }
            if version == 1 || version == 2 {
                throw fail(.unsupportedVersion, "GGUF version \(version) is not supported, only version \(GGUFFile.supportedVersion); convert the model again with a current llama.cpp or gguf Python package")
            }
            throw fail(.unsupportedVersion, "unknown GGUF version \(version), only version \(GGUFFile.supportedVersion) can be read; \(GGUFFile.damaged)")
        }
        let declaredTensors = try c.u64("the tensor count")
        let declaredEntries = try c.u64("the metadata count")

        guard declaredEntries <= UInt64(c.remaining / minMetadataEntryBytes) else {
            throw fail(.truncated, "the header declares \(declaredEntries) metadata entries, but they need at least \(minMetadataEntryBytes) bytes each and only \(c.remaining) bytes follow the header; \(GGUFFile.damaged)")
        }
        let entryCount = Int(declaredEntries)
        var metadata: [String: GGUFValue] = [:]
        var keys: [String] = []
        keys.reserveCapacity(entryCount)
        for i in 0..<entryCount {
            let key = try c.string("the key of metadata entry \(i + 1) of \(entryCount)")
            let rawType = try c.u32("the value type of metadata key \"\(key)\"")
            guard let type = GGUFValueType(rawValue: rawType) else {
                throw fail(.badMetadata, "metadata key \"\(key)\" has value type \(rawType), which GGUF does not define (0…12); \(GGUFFile.damaged)")
            }
            let value = try readValue(type, &c, key: key, depth: 0)
            guard metadata.updateValue(value, forKey: key) == nil else {
                throw fail(.badMetadata, "metadata key \"\(key)\" appears twice; \(GGUFFile.damaged)")
            }
            keys.append(key)
        }

        var alignment = GGUFFile.defaultAlignment
        if let value = metadata["general.alignment"] {
            guard let a = value.intValue, a > 0, a <= Int(UInt32.max), a & (a - 1) == 0 else {
                throw fail(.badMetadata, "general.alignment is \(value) (\(value.type)); it must be a power of two that fits in a uint32 (GGUF's default is \(GGUFFile.defaultAlignment)) — \(GGUFFile.damaged)")
            }
            alignment = a
        }

        guard declaredTensors <= UInt64(c.remaining / minTensorEntryBytes) else {
            throw fail(.truncated, "the header declares \(declaredTensors) tensors, but their directory entries need at least \(minTensorEntryBytes) bytes each and only \(c.remaining) bytes follow the metadata; \(GGUFFile.damaged)")
        }
        let tensorCount = Int(declaredTensors)
        let directoryOffset = c.offset
        var entries: [(name: String, shape: [Int], type: GGMLType, offset: UInt64, count: Int, byteCount: Int)] = []
        entries.reserveCapacity(tensorCount)
        var seen = Set<String>()
        for i in 0..<tensorCount {
            let name = try c.string("the name of tensor \(i + 1) of \(tensorCount)")
            guard seen.insert(name).inserted else {
                throw fail(.badTensorInfo, "tensor \"\(name)\" appears twice in the tensor directory; \(GGUFFile.damaged)")
            }
            let nDims = try c.u32("the dimension count of tensor \"\(name)\"")
            guard nDims <= UInt32(maxDimensions) else {
                throw fail(.badTensorInfo, "tensor \"\(name)\" has \(nDims) dimensions, but ggml allows at most \(maxDimensions); \(GGUFFile.damaged)")
            }
            var shape: [Int] = []
            for d in 0..<Int(nDims) {
                let raw = try c.u64("dimension \(d) of tensor \"\(name)\"")
                guard let n = Int(exactly: raw) else {
                    throw fail(.badTensorInfo, "tensor \"\(name)\" has dimension \(d) of \(raw), far beyond any real tensor; \(GGUFFile.damaged)")
                }
                shape.append(n)
            }
            let rawType = try c.u32("the ggml type of tensor \"\(name)\"")
            guard let type = GGMLType(rawValue: rawType) else {
                throw fail(.badTensorInfo, "tensor \"\(name)\" has ggml type \(rawType), which this reader does not know; the file may be newer than this reader or damaged — convert the model to one of \(supportedList)")
            }
            let offset = try c.u64("the data offset of tensor \"\(name)\"")

            var count = 1
            for n in shape {
                let (product, overflow) = count.multipliedReportingOverflow(by: n)
                guard !overflow else {
                    throw fail(.badTensorInfo, "tensor \"\(name)\" has shape \(shape), more elements than any file can hold; \(GGUFFile.damaged)")
                }
                count = product
            }
            let rowLength = shape.first ?? 1
            guard rowLength % type.blockSize == 0 else {
                throw fail(.badTensorInfo, "tensor \"\(name)\" has rows of \(rowLength) elements (ne[0]), not a whole number of \(type.name) blocks of \(type.blockSize); \(GGUFFile.damaged)")
            }
            // Against a fixed limit, not the file size: a tensor larger than a truncated file is
            // reported below as running past its end, which is what the user needs to hear.
            let (byteCount, overflow) = (count / type.blockSize).multipliedReportingOverflow(by: type.blockBytes)
            guard !overflow, byteCount <= maxTensorBytes else {
                throw fail(.badTensorInfo, "tensor \"\(name)\" has shape \(shape) of \(type.name), which would need \(overflow ? "more" : "\(byteCount)") bytes — more than the \(maxTensorBytes >> 40) TiB any real tensor comes near; the tensor directory is damaged — download or convert the file again")
            }
            entries.append((name, shape, type, offset, count, byteCount))
        }

        // The data section starts at the next multiple of the alignment after the directory.
        // Offsets stay below the file size plus a uint32, so none of this can overflow an Int.
        let directoryEnd = c.offset
        let dataOffset = (directoryEnd + alignment - 1) / alignment * alignment

        var tensors: [GGUFTensorInfo] = []
        tensors.reserveCapacity(tensorCount)
        for e in entries {
            guard e.offset % UInt64(alignment) == 0 else {
                throw fail(.misalignedTensor, "tensor \"\(e.name)\" starts at data offset \(e.offset), which is not a multiple of the file's alignment \(alignment); \(GGUFFile.damaged)")
            }
            // Both terms are checked against the file size first, so their sum cannot overflow.
            guard e.offset <= UInt64(bytes.count), dataOffset + Int(e.offset) + e.byteCount <= bytes.count else {
                let start = UInt64(dataOffset) &+ e.offset
                throw fail(.tensorOutOfBounds, "tensor \"\(e.name)\" (\(e.type.name), shape \(e.shape), \(e.byteCount) bytes) starts at byte \(start) and runs past the end of the \(bytes.count)-byte file; the file is truncated or damaged — download or convert it again")
            }
            tensors.append(GGUFTensorInfo(name: e.name, shape: e.shape, type: e.type, offset: Int(e.offset),
                                          elementCount: e.count, byteCount: e.byteCount,
                                          fileOffset: dataOffset + Int(e.offset)))
        }

        // No two tensors may share bytes: one of them would be read as the other's data.
        let ordered = tensors.filter { $0.byteCount > 0 }.sorted { ($0.fileOffset, $0.name) < ($1.fileOffset, $1.name) }
        for (a, b) in zip(ordered, ordered.dropFirst()) where b.fileOffset < a.fileRange.upperBound {
            throw fail(.overlappingTensors, "tensors \"\(a.name)\" (data bytes \(a.offset)..<\(a.offset + a.byteCount)) and \"\(b.name)\" (data bytes \(b.offset)..<\(b.offset + b.byteCount)) overlap; \(GGUFFile.damaged)")
        }

        return Parsed(version: Int(version), metadata: metadata, metadataKeys: keys, tensors: tensors,
                      alignment: alignment, dataOffset: dataOffset, directoryOffset: directoryOffset)
    }

    static var supportedList: String { GGMLType.dequantizable.map(\.name).joined(separator: ", ") }

    /// `key` names the entry in errors; it is a closure so that the elements of a long array do
    /// not each build a name they will almost never need.
    private static func readValue(_ type: GGUFValueType, _ c: inout GGUFCursor, key: @autoclosure () -> String,
                                  depth: Int) throws -> GGUFValue {
        switch type {
        case .uint8: return .uint8(try c.u8("the value of metadata key \"\(key())\""))
        case .int8: return .int8(Int8(bitPattern: try c.u8("the value of metadata key \"\(key())\"")))
        case .uint16: return .uint16(try c.u16("the value of metadata key \"\(key())\""))
        case .int16: return .int16(Int16(bitPattern: try c.u16("the value of metadata key \"\(key())\"")))
        case .uint32: return .uint32(try c.u32("the value of metadata key \"\(key())\""))
        case .int32: return .int32(Int32(bitPattern: try c.u32("the value of metadata key \"\(key())\"")))
        case .uint64: return .uint64(try c.u64("the value of metadata key \"\(key())\""))
        case .int64: return .int64(Int64(bitPattern: try c.u64("the value of metadata key \"\(key())\"")))
        case .float32: return .float32(Float(bitPattern: try c.u32("the value of metadata key \"\(key())\"")))
        case .float64: return .float64(Double(bitPattern: try c.u64("the value of metadata key \"\(key())\"")))
        case .bool:
            // gguf.c refuses anything but 0 and 1 too; another byte means the entry is misread.
            let b = try c.u8("the value of metadata key \"\(key())\"")
            guard b <= 1 else {
                throw GGUFError(kind: .badMetadata, path: c.path, problem: "metadata key \"\(key())\" is a bool holding byte \(b), not 0 or 1; \(GGUFFile.damaged)")
            }
            return .bool(b == 1)
        case .string: return .string(try c.string("the value of metadata key \"\(key())\""))
        case .array: return try readArray(&c, key: key(), depth: depth + 1)
        }
    }

    private static func readArray(_ c: inout GGUFCursor, key: String, depth: Int) throws -> GGUFValue {
        guard depth <= maxArrayDepth else {
            throw GGUFError(kind: .badMetadata, path: c.path, problem: "metadata key \"\(key)\" nests arrays more than \(maxArrayDepth) deep; \(GGUFFile.damaged)")
        }
        let rawType = try c.u32("the element type of array metadata key \"\(key)\"")
        guard let elementType = GGUFValueType(rawValue: rawType) else {
            throw GGUFError(kind: .badMetadata, path: c.path, problem: "metadata key \"\(key)\" is an array of value type \(rawType), which GGUF does not define (0…12); \(GGUFFile.damaged)")
        }
        let declared = try c.u64("the element count of array metadata key \"\(key)\"")
        // Refused before reserving memory: a damaged count must not become a huge allocation.
        guard declared <= UInt64(c.remaining / elementType.minimumBytes) else {
            throw GGUFError(kind: .truncated, path: c.path, problem: "metadata key \"\(key)\" is an array of \(declared) \(elementType) values, at least \(elementType.minimumBytes) bytes each, which runs past the end of the file: only \(c.remaining) bytes remain after offset \(c.offset); \(GGUFFile.damaged)")
        }
        let count = Int(declared)
        var values: [GGUFValue] = []
        values.reserveCapacity(count)
        for i in 0..<count {
            switch elementType {
            case .string: values.append(.string(try c.string("string \(i) of array metadata key \"\(key)\"")))
            case .array: values.append(try readArray(&c, key: "\(key)[\(i)]", depth: depth + 1))
            default: values.append(try readValue(elementType, &c, key: "\(key)[\(i)]", depth: depth))
            }
        }
        return .array(elementType, values)
    }
}
