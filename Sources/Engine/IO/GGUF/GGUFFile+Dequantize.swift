/// Tensor data as Float. Values come out in the file's memory order (ne[0] fastest), which is
/// the row-major order of `rowMajorShape`: row r of a PyTorch `[out, in]` weight is
/// `values[r * in ..< (r + 1) * in]`.
extension GGUFFile {
    /// The tensor's values widened to Float32.
    public func dequantize(_ name: String) throws -> [Float] {
        let info = try requireTensor(name)
        try checkSupported(info)
        return [Float](unsafeUninitializedCapacity: info.elementCount) { buffer, initialized in
            if let base = buffer.baseAddress { convert(info, into: base) }
            initialized = info.elementCount
        }
    }

    /// Writes the tensor's values into `destination`, which must hold exactly its element count
    /// (for loading straight into a parameter buffer without an intermediate array).
    public func dequantize(_ name: String, into destination: UnsafeMutableBufferPointer<Float>) throws {
        let info = try requireTensor(name)
        try checkSupported(info)
        guard destination.count == info.elementCount else {
            throw GGUFError(kind: .badDestination, path: path,
                            problem: "tensor \"\(name)\" has \(info.elementCount) elements (shape \(info.shape)) but the destination holds \(destination.count); pass a buffer of the tensor's size")
        }
        if let base = destination.baseAddress { convert(info, into: base) }
    }

    /// The stored bytes of a tensor, exactly as in the file (for tests and for formats we copy
    /// without converting). Valid as long as this `GGUFFile` is alive.
    func rawBytes(_ info: GGUFTensorInfo) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(rebasing: bytes.raw[info.fileRange])
    }

    private func checkSupported(_ info: GGUFTensorInfo) throws {
        guard info.type.canDequantize else {
            throw GGUFError(kind: .unsupportedType, path: path,
                            problem: "tensor \"\(info.name)\" is stored as \(info.type.name) (ggml type \(info.type.rawValue)), which this reader cannot dequantise; it supports \(GGUFParser.supportedList) — convert the model to one of these (e.g. llama-quantize … Q4_K_M)")
        }
    }

    private func convert(_ info: GGUFTensorInfo, into dst: UnsafeMutablePointer<Float>) {
        // The range was checked against the file when it was opened; this guards the invariant.
        precondition(info.fileRange.upperBound <= bytes.raw.count, "GGUF: tensor range outside the file")
        guard info.elementCount > 0, let base = bytes.raw.baseAddress else { return }
        GGMLDequantize.run(info.type, base + info.fileOffset, count: info.elementCount, into: dst)
    }
}
