// Tensor data and header fields are read as raw little-endian memory.
#if _endian(big)
#error("GGUF files are read as little-endian memory; a big-endian host needs byte swapping")
#endif

/// A GGUF file (version 3, the format of llama.cpp and the `gguf` Python package): a header, a
/// list of typed metadata entries, a directory of tensors and their aligned data.
///
/// Everything but the tensor data is parsed and checked when the file is opened — every length,
/// count and offset against the file's size, with overflow-safe arithmetic — so a truncated or
/// damaged file is a `GGUFError` that names the file, the field or tensor and what to do, never a
/// crash or a read outside the file. Tensor data is converted to Float only on request, by
/// `dequantize`, one tensor at a time.
public final class GGUFFile: @unchecked Sendable {
    /// The path given when opening, or the `source` name of a file held in memory.
    public let path: String
    public let version: Int
    /// Every metadata entry by key; `metadataKeys` keeps the order of the file.
    public let metadata: [String: GGUFValue]
    public let metadataKeys: [String]
    /// The tensor directory in file order.
    public let tensors: [GGUFTensorInfo]
    /// `general.alignment`, or GGUF's default of 32 when the file does not set it.
    public let alignment: Int
    /// Where the data section starts: the end of the tensor directory rounded up to `alignment`.
    public let dataOffset: Int
    public var fileSize: Int { bytes.raw.count }

    /// Immutable after init, which is what makes the class safe to share between threads.
    let bytes: GGUFBytes
    /// Where the tensor directory begins, for tests that damage it on purpose.
    let directoryOffset: Int
    private let tensorIndex: [String: Int]

    public static let supportedVersion = 3
    public static let defaultAlignment = 32
    static let damaged = "the file is incomplete or damaged; download or convert it again"

    /// Opens and checks a file on disk; its bytes are memory-mapped, not copied.
    public convenience init(path: String) throws {
        try self.init(storage: GGUFBytes(mapping: path), path: path)
    }

    /// Reads a file held in memory; `source` names it in errors.
    public convenience init(bytes: [UInt8], source: String = "<memory>") throws {
        try self.init(storage: GGUFBytes(copying: bytes), path: source)
    }

    private init(storage: GGUFBytes, path: String) throws {
        let parsed = try GGUFParser.parse(storage.raw, path: path)
        self.bytes = storage
        self.path = path
        version = parsed.version
        metadata = parsed.metadata
        metadataKeys = parsed.metadataKeys
        tensors = parsed.tensors
        alignment = parsed.alignment
        dataOffset = parsed.dataOffset
        directoryOffset = parsed.directoryOffset
        var index: [String: Int] = [:]
        for (i, t) in tensors.enumerated() { index[t.name] = i }
        tensorIndex = index
    }

    public func tensor(named name: String) -> GGUFTensorInfo? {
        tensorIndex[name].map { tensors[$0] }
    }

    /// The tensor or an error that lists a few names that do exist.
    func requireTensor(_ name: String) throws -> GGUFTensorInfo {
        if let t = tensor(named: name) { return t }
        let some = tensors.prefix(5).map { "\"\($0.name)\"" }.joined(separator: ", ")
        throw GGUFError(kind: .noSuchTensor, path: path,
                        problem: "no tensor named \"\(name)\" among its \(tensors.count) tensors (the first are \(some)); check the name")
    }
}
