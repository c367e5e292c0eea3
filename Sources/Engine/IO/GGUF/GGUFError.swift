/// A GGUF file that cannot be read, or a request it cannot satisfy. `description` names the file,
/// the field or tensor at fault and what to do, so a message from deep inside a model load is
/// enough on its own.
public struct GGUFError: Error, CustomStringConvertible, Equatable {
    /// What went wrong, so callers and tests can tell the cases apart without parsing text.
    public enum Kind: Sendable, Equatable {
        /// The file could not be opened, measured or mapped.
        case unreadable
        /// The file ends inside the header, the metadata or the tensor directory.
        case truncated
        /// The first four bytes are not "GGUF".
        case notGGUF
        /// A GGUF version other than 3, or a big-endian file.
        case unsupportedVersion
        /// A metadata entry is malformed: unknown value type, duplicate key, impossible count,
        /// arrays nested too deep, or a bad `general.alignment`.
        case badMetadata
        /// A tensor directory entry is malformed: bad dimension count or sizes, unknown ggml
        /// type, duplicate name, a row length that is not a whole number of blocks.
        case badTensorInfo
        /// A tensor's data runs past the end of the file.
        case tensorOutOfBounds
        /// A tensor's offset is not a multiple of the file's alignment.
        case misalignedTensor
        /// Two tensors claim the same bytes.
        case overlappingTensors
        /// The tensor's ggml type is known but this reader cannot dequantise it.
        case unsupportedType
        /// No tensor of that name, or a destination of the wrong size.
        case noSuchTensor, badDestination
        /// A metadata key the caller requires is absent or holds the wrong kind of value.
        case missingKey, wrongValueType
    }

    public let kind: Kind
    public let path: String
    public let problem: String
    public var description: String { "GGUF file \(path): \(problem)" }
}
