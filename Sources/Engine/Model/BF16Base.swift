/// A frozen model's weights rounded to bf16, in its parameter store's layout (so the twin of
/// any float32 tensor pointer is the same offset here, and tensors adjacent there stay adjacent),
/// with the products that multiply by them. Half the float32 store's bytes.
final class BF16Base {
    let values: UnsafeMutablePointer<UInt16>
    private let origin: UnsafePointer<Float>
    private let count: Int
    let gemm: BF16GEMM

    init(_ store: ParameterStore) throws {
        gemm = try BF16GEMM()
        count = store.values.count
        origin = UnsafePointer(store.values.ptr)
        values = .allocate(capacity: count)
        BF16.round(values, origin, count: count)
    }

    deinit { values.deallocate() }

    /// The bf16 twin of a pointer into the store's values.
    func callAsFunction(_ w: UnsafePointer<Float>) -> UnsafePointer<UInt16> {
        let offset = w - origin
        precondition(offset >= 0 && offset < count, "BF16Base: a pointer outside the model's weights")
        return UnsafePointer(values + offset)
    }
}
