/// One entry of a GGUF tensor directory, checked against the file it came from.
public struct GGUFTensorInfo: Equatable, Sendable {
    public let name: String
    /// The dimensions in ggml order, ne[0] first. ne[0] is the fastest-varying one, the length
    /// of a row in memory, so this is the reverse of the PyTorch/numpy shape: a PyTorch
    /// `[out, in]` Linear weight appears as `[in, out]`, and `token_embd.weight` of a model with
    /// vocabulary V and width D as `[D, V]`. Dequantised values come out in memory order, so
    /// they are the row-major tensor of shape `rowMajorShape`.
    public let shape: [Int]
    public let type: GGMLType
    /// Byte offset of the data from the start of the file's data section, as stored.
    public let offset: Int
    public let elementCount: Int
    public let byteCount: Int
    /// Absolute position of the data in the file; known to lie inside it.
    let fileOffset: Int

    /// The shape the way PyTorch and numpy write it, slowest-varying dimension first.
    public var rowMajorShape: [Int] { shape.reversed() }

    var fileRange: Range<Int> { fileOffset..<(fileOffset + byteCount) }
}
