import Foundation

// Tensor data is copied between files and Float buffers as raw memory, which is only correct
// when the host byte order matches the format's little-endian order.
#if _endian(big)
#error("safetensors data is little-endian; reading it on a big-endian host needs byte swapping")
#endif

/// One tensor as stored in a file: row-major values with their shape.
public struct TensorData: Equatable, Sendable {
    public var shape: [Int]
    public var values: [Float]

    public init(shape: [Int], values: [Float]) {
        self.shape = shape
        self.values = values
    }
}

/// The decoded contents of a safetensors file, every tensor widened to Float.
public struct SafetensorsFile: Equatable, Sendable {
    public var tensors: [String: TensorData]
    public var metadata: [String: String]

    public init(tensors: [String: TensorData], metadata: [String: String] = [:]) {
        self.tensors = tensors
        self.metadata = metadata
    }
}

public struct SafetensorsError: Error, CustomStringConvertible, Equatable {
    /// What went wrong, so callers and tests can tell the cases apart without parsing text.
    public enum Kind: Sendable, Equatable {
        case unreadable, tooShort, headerTooLarge, headerNotJSON, badHeader
        case unknownDType, badShape, badOffsets, uncoveredData, invalidTensor
    }

    public let kind: Kind
    public let path: String
    public let problem: String
    public var description: String { "safetensors file \(path): \(problem)" }
}

/// Reader and writer of Hugging Face's safetensors format: an 8-byte little-endian header length
/// N, N bytes of JSON `{name: {dtype, shape, data_offsets}, "__metadata__": {…}}` padded with
/// spaces, then the raw tensor bytes. Everything in the header is checked against the file
/// before any tensor byte is touched, so a damaged file is an error, never a crash.
public enum Safetensors {
    enum DType: String, Sendable {
        case f32 = "F32", f16 = "F16", bf16 = "BF16"
        var byteSize: Int { self == .f32 ? 4 : 2 }
    }

    /// A validated header entry; `byteRange` is absolute within the file and known to be in bounds.
    struct TensorInfo: Sendable, Equatable {
        let dtype: DType
        let shape: [Int]
        let count: Int
        let byteRange: Range<Int>
    }

    struct Header: Sendable {
        let tensors: [String: TensorInfo]
        let metadata: [String: String]
    }

    /// The Hugging Face library's own limit; a larger "header" means a damaged length field.
    static let maxHeaderBytes = 100_000_000

    private static let corrupt = "the file is damaged or not a safetensors file; re-save or re-download it"

    // MARK: Reading

    public static func read(from path: String) throws -> SafetensorsFile {
        let bytes: [UInt8]
        do {
            bytes = try readWholeFile(path)
        } catch let e as FileError {
            throw SafetensorsError(kind: .unreadable, path: path, problem: e.problem)
        }
        return try decode(bytes, source: path)
    }

    /// Decodes a whole file held in memory; `source` names it in errors.
    public static func decode(_ bytes: [UInt8], source: String = "<memory>") throws -> SafetensorsFile {
        try bytes.withUnsafeBytes { raw in
            let header = try parseHeader(raw, source: source)
            var tensors: [String: TensorData] = [:]
            for (name, info) in header.tensors {
                let values = [Float](unsafeUninitializedCapacity: info.count) { buf, n in
                    if let base = buf.baseAddress { convert(info, in: raw, into: base) }
                    n = info.count
                }
                tensors[name] = TensorData(shape: info.shape, values: values)
            }
            return SafetensorsFile(tensors: tensors, metadata: header.metadata)
        }
    }

    /// Widens one tensor into `dst`, which must have room for `info.count` floats.
    /// `info` must come from `parseHeader` over these same bytes.
    static func convert(_ info: TensorInfo, in bytes: UnsafeRawBufferPointer, into dst: UnsafeMutablePointer<Float>) {
        precondition(info.byteRange.upperBound <= bytes.count, "safetensors: tensor range outside the parsed bytes")
        let src = UnsafeRawBufferPointer(rebasing: bytes[info.byteRange])
        guard let base = src.baseAddress, info.count > 0 else { return }
        switch info.dtype {
        case .f32:
            UnsafeMutableRawPointer(dst).copyMemory(from: base, byteCount: info.count * 4)
        case .f16: HalfFloat.widenF16(base, count: info.count, into: dst)
        case .bf16: HalfFloat.widenBF16(base, count: info.count, into: dst)
        }
    }

    static func parseHeader(_ bytes: UnsafeRawBufferPointer, source: String) throws -> Header {
        func fail(_ kind: SafetensorsError.Kind, _ problem: String) -> SafetensorsError {
            SafetensorsError(kind: kind, path: source, problem: problem)
        }
        let headerEnd = 8 + (try headerLength(lengthField: bytes, fileSize: bytes.count, source: source))
        let raw = try decodeHeaderJSON(Data(UnsafeRawBufferPointer(rebasing: bytes[8..<headerEnd])), source: source)

        let dataLength = bytes.count - headerEnd
        var tensors: [String: TensorInfo] = [:]
        for (name, t) in raw.tensors.sorted(by: { $0.0 < $1.0 }) {
            guard let dtype = DType(rawValue: t.dtype) else {
                throw fail(.unknownDType, "tensor \"\(name)\" has dtype \(t.dtype); only F32, F16 and BF16 can be read — convert the file to one of these")
            }
            var count = 1
            for d in t.shape {
                let (product, overflow) = count.multipliedReportingOverflow(by: d)
                guard d >= 0, !overflow else {
                    throw fail(.badShape, "tensor \"\(name)\" has impossible shape \(t.shape); \(corrupt)")
                }
                count = product
            }
            let (needed, overflow) = count.multipliedReportingOverflow(by: dtype.byteSize)
            guard !overflow else { throw fail(.badShape, "tensor \"\(name)\" has impossible shape \(t.shape); \(corrupt)") }
            guard t.data_offsets.count == 2 else {
                throw fail(.badOffsets, "tensor \"\(name)\" has data_offsets \(t.data_offsets), expected [begin, end]; \(corrupt)")
            }
            let begin = t.data_offsets[0], end = t.data_offsets[1]
            guard begin >= 0, begin <= end else {
                throw fail(.badOffsets, "tensor \"\(name)\" has data_offsets [\(begin), \(end)], which is not a valid range; \(corrupt)")
            }
            guard end <= dataLength else {
                throw fail(.badOffsets, "tensor \"\(name)\" ends at data byte \(end) but the data region has only \(dataLength) bytes; \(corrupt)")
            }
            guard end - begin == needed else {
                throw fail(.badOffsets, "tensor \"\(name)\" spans \(end - begin) bytes but shape \(t.shape) of \(dtype.rawValue) needs \(needed); \(corrupt)")
            }
            tensors[name] = TensorInfo(dtype: dtype, shape: t.shape, count: count,
                                       byteRange: (headerEnd + begin)..<(headerEnd + end))
        }

        // Tensors must tile the data region exactly: an overlap means two tensors share bytes,
        // a gap means bytes no tensor explains — both signs of a damaged or hand-edited file.
        var covered = 0
        var previous = ""
        let ordered = tensors.sorted {
            ($0.value.byteRange.lowerBound, $0.value.byteRange.upperBound, $0.key)
                < ($1.value.byteRange.lowerBound, $1.value.byteRange.upperBound, $1.key)
        }
        for (name, info) in ordered {
            let begin = info.byteRange.lowerBound - headerEnd, end = info.byteRange.upperBound - headerEnd
            if begin < covered {
                throw fail(.badOffsets, "tensor \"\(name)\" (data bytes \(begin)..<\(end)) overlaps tensor \"\(previous)\", which ends at \(covered); \(corrupt)")
            }
            if begin > covered {
                throw fail(.uncoveredData, "data bytes \(covered)..<\(begin) belong to no tensor; \(corrupt)")
            }
            covered = end
            previous = name
        }
        if covered != dataLength {
            throw fail(.uncoveredData, "data bytes \(covered)..<\(dataLength) at the end belong to no tensor; \(corrupt)")
        }
        return Header(tensors: tensors, metadata: raw.metadata)
    }

    private static func decodeHeaderJSON(_ json: Data, source: String) throws -> RawHeader {
        // Parsed twice because JSONDecoder's errors do not reliably tell broken JSON from
        // well-formed JSON of the wrong shape; the header is small, so this costs nothing.
        guard (try? JSONSerialization.jsonObject(with: json)) != nil else {
            throw SafetensorsError(kind: .headerNotJSON, path: source, problem: "the \(json.count)-byte header is not valid JSON; \(corrupt)")
        }
        do {
            return try JSONDecoder().decode(RawHeader.self, from: json)
        } catch let e as DecodingError {
            throw SafetensorsError(kind: .badHeader, path: source, problem: "header \(describe(e)); \(corrupt)")
        }
    }

    /// The header length declared by a file's first bytes (`lengthField`, at least its first 8
    /// when the file has them), checked against the `fileSize` bytes the file holds and the limit.
    private static func headerLength(lengthField: UnsafeRawBufferPointer, fileSize: Int, source: String) throws -> Int {
        guard fileSize >= 8, lengthField.count >= 8 else {
            throw SafetensorsError(kind: .tooShort, path: source, problem: "only \(fileSize) bytes, fewer than the 8-byte header length field; \(corrupt)")
        }
        let declared = UInt64(littleEndian: lengthField.loadUnaligned(as: UInt64.self))
        guard declared <= UInt64(fileSize - 8) else {
            throw SafetensorsError(kind: .headerTooLarge, path: source, problem: "header length field says \(declared) bytes but only \(fileSize - 8) bytes follow it; \(corrupt)")
        }
        guard declared <= UInt64(maxHeaderBytes) else {
            throw SafetensorsError(kind: .headerTooLarge, path: source, problem: "header length \(declared) exceeds the \(maxHeaderBytes)-byte limit; \(corrupt)")
        }
        return Int(declared)
    }

    /// The `__metadata__` strings of a file, read from its header alone so a large file is not
    /// loaded to learn its tokenizer or step. Tensor entries are decoded but not checked against
    /// the data; `read` does that.
    public static func readMetadata(from path: String) throws -> [String: String] {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw SafetensorsError(kind: .unreadable, path: path, problem: "cannot be opened")
        }
        defer { try? handle.close() }
        do {
            let fileSize = Int(try handle.seekToEnd())
            try handle.seek(toOffset: 0)
            let lengthField = try handle.read(upToCount: 8) ?? Data()
            let length = try lengthField.withUnsafeBytes { try headerLength(lengthField: $0, fileSize: fileSize, source: path) }
            let json = try handle.read(upToCount: length) ?? Data()
            guard json.count == length else {
                throw SafetensorsError(kind: .unreadable, path: path, problem: "changed while being read (\(json.count) of \(length) header bytes)")
            }
            return try decodeHeaderJSON(json, source: path).metadata
        } catch let e as SafetensorsError {
            throw e
        } catch {
            throw SafetensorsError(kind: .unreadable, path: path, problem: "cannot be read: \(error.localizedDescription)")
        }
    }

    private static func describe(_ e: DecodingError) -> String {
        func where_(_ path: [CodingKey]) -> String {
            if path.isEmpty { return "top level" }
            return path.map { $0.intValue.map { "[\($0)]" } ?? "\"\($0.stringValue)\"" }.joined(separator: ".")
        }
        switch e {
        case .typeMismatch(let type, let ctx): return "at \(where_(ctx.codingPath)): expected \(type)"
        case .valueNotFound(let type, let ctx): return "at \(where_(ctx.codingPath)): missing \(type)"
        case .keyNotFound(let key, let ctx): return "at \(where_(ctx.codingPath)): missing key \"\(key.stringValue)\""
        case .dataCorrupted(let ctx) where ctx.codingPath.isEmpty:
            // JSONDecoder reports e.g. a fractional shape this way, without saying where.
            return "holds a value of the wrong kind (dtype and metadata values must be strings, shape and data_offsets arrays of integers)"
        case .dataCorrupted(let ctx): return "at \(where_(ctx.codingPath)): \(ctx.debugDescription)"
        @unknown default: return "\(e)"
        }
    }

    // MARK: Writing

    /// Writes F32 tensors (sorted by name, as the Hugging Face library does) atomically to `path`.
    public static func write(_ tensors: [String: TensorData], metadata: [String: String] = [:], to path: String) throws {
        let file = try StagedFile(path: path)
        try write(tensors, metadata: metadata, source: path, into: file)
        try file.commit()
    }

    /// The exact bytes `write` would put in a file.
    public static func encode(_ tensors: [String: TensorData], metadata: [String: String] = [:]) throws -> [UInt8] {
        let sink = MemorySink()
        try write(tensors, metadata: metadata, source: "<memory>", into: sink)
        return sink.bytes
    }

    private static func write(_ tensors: [String: TensorData], metadata: [String: String], source: String, into sink: ByteSink) throws {
        for (name, t) in tensors where t.values.count != t.shape.reduce(1, *) || t.shape.contains(where: { $0 < 0 }) {
            throw SafetensorsError(kind: .invalidTensor, path: source,
                                   problem: "tensor \"\(name)\" has \(t.values.count) values but shape \(t.shape); pass a shape whose product is the value count")
        }
        try write(shapes: tensors.mapValues(\.shape), metadata: metadata, source: source, into: sink) { name in
            try tensors[name]!.values.withUnsafeBytes { try sink.write($0) }
        }
    }

    /// Streams a file from any storage: `emit(name)` must write that tensor's
    /// `shape.product × 4` little-endian F32 bytes to `sink`; it is called in header order.
    static func write(shapes: [String: [Int]], metadata: [String: String], source: String, into sink: ByteSink,
                      emit: (String) throws -> Void) throws {
        for name in shapes.keys where name.isEmpty || name == "__metadata__" {
            throw SafetensorsError(kind: .invalidTensor, path: source,
                                   problem: "tensor name \"\(name)\" is reserved or empty; rename the tensor")
        }
        let names = shapes.keys.sorted()
        var entries: [String] = []
        if !metadata.isEmpty {
            let pairs = metadata.sorted { $0.key < $1.key }.map { JSONText.string($0.key) + ":" + JSONText.string($0.value) }
            entries.append("\"__metadata__\":{" + pairs.joined(separator: ",") + "}")
        }
        var offset = 0
        for name in names {
            let shape = shapes[name]!
            let size = shape.reduce(1, *) * DType.f32.byteSize
            entries.append(JSONText.string(name) + ":{\"dtype\":\"F32\",\"shape\":["
                + shape.map(String.init).joined(separator: ",") + "],\"data_offsets\":[\(offset),\(offset + size)]}")
            offset += size
        }
        var json = Array(("{" + entries.joined(separator: ",") + "}").utf8)
        // Padding to 8 bytes keeps the data region aligned for readers that map the file.
        json.append(contentsOf: repeatElement(UInt8(ascii: " "), count: (8 - json.count % 8) % 8))
        try withUnsafeBytes(of: UInt64(json.count).littleEndian) { try sink.write($0) }
        try json.withUnsafeBytes { try sink.write($0) }
        for name in names { try emit(name) }
    }
}

/// The header as it appears on disk, before any check against the file.
private struct RawHeader: Decodable {
    var tensors: [(String, RawTensor)] = []
    var metadata: [String: String] = [:]

    struct RawTensor: Decodable {
        let dtype: String
        let shape: [Int]
        let data_offsets: [Int]
    }

    struct Key: CodingKey {
        let stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: Key.self)
        for key in c.allKeys {
            if key.stringValue == "__metadata__" {
                metadata = try c.decode([String: String].self, forKey: key)
            } else {
                tensors.append((key.stringValue, try c.decode(RawTensor.self, forKey: key)))
            }
        }
    }
}
