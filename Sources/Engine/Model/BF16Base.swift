/// A frozen model's weights rounded to bf16, in its parameter store's layout (so the twin of
/// any float32 tensor pointer is the same offset here, and tensors adjacent there stay adjacent),
/// with the products that multiply by them. Half the float32 store's bytes.
///
/// Each matrix oneDNN can pack without padding (`BF16GEMM.packable`: SmolLM2's all are) also
/// has a packed copy at the same offset of a second twin, which the forward products (x · Wᵀ)
/// read; the gradient products (dy · W) read the plain copy.
final class BF16Base {
    let values: UnsafeMutablePointer<UInt16>
    private let packedValues: UnsafeMutablePointer<UInt16>
    private let origin: UnsafePointer<Float>
    private let count: Int
    let gemm: BF16GEMM
    /// Packed matrices by their first value's offset: (outputs n, inputs k).
    private var packed: [Int: (n: Int, k: Int)] = [:]

    init(_ store: ParameterStore, matrices: [(w: UnsafePointer<Float>, n: Int, k: Int)] = []) throws {
        gemm = try BF16GEMM()
        count = store.values.count
        origin = UnsafePointer(store.values.ptr)
        values = .allocate(capacity: count)
        BF16.round(values, origin, count: count)
        // Only the packed matrices' pages of this twin are ever written, so only they take memory.
        packedValues = .allocate(capacity: count)
        let canPack = gemm.multipliesPacked
        for m in matrices where canPack && BF16GEMM.packable(n: m.n, k: m.k) {
            let offset = m.w - origin
            guard offset >= 0, offset + m.n * m.k <= count, packed[offset] == nil else { continue }
            do {
                try gemm.pack(packedValues + offset, values + offset, n: m.n, k: m.k)
            } catch {
                packed.removeAll()  // this oneDNN does not pack as expected: every product reads the plain copy
                break
            }
            packed[offset] = (m.n, m.k)
        }
    }

    deinit { values.deallocate(); packedValues.deallocate() }

    /// Packed matrices, for tests and the benchmark's notes.
    var packedCount: Int { packed.count }

    /// The bf16 twin of a pointer into the store's values.
    func callAsFunction(_ w: UnsafePointer<Float>) -> UnsafePointer<UInt16> {
        UnsafePointer(values + offset(w))
    }

    private func offset(_ w: UnsafePointer<Float>) -> Int {
        let offset = w - origin
        precondition(offset >= 0 && offset < count, "BF16Base: a pointer outside the model's weights")
        return offset
    }

    /// The packed twin of W [n × k] at `w` when packed matrices of this k cover exactly its n
    /// rows from its start (one matrix, or adjacent ones read as one such as q, k and v).
    private func packedTwin(_ w: UnsafePointer<Float>, n: Int, k: Int) -> UnsafePointer<UInt16>? {
        let start = offset(w)
        var at = start, rows = 0
        while rows < n, let p = packed[at], p.k == k {
            rows += p.n
            at += p.n * k
        }
        return rows == n ? UnsafePointer(packedValues + start) : nil
    }

    /// y (+)= x · Wᵀ for the model's W [n × k] at `w`: from its packed copy when it has one.
    func forward(_ y: UnsafeMutablePointer<Float>, ldy: Int?, _ x: UnsafePointer<Float>, _ w: UnsafePointer<Float>,
                 rows: Int, k: Int, n: Int, accumulate: Bool) {
        if let p = packedTwin(w, n: n, k: k) {
            gemm.multiply(y, ldy: ldy, x, packed: p, rows: rows, k: k, n: n, accumulate: accumulate)
        } else {
            gemm.multiply(y, ldy: ldy, x, self(w), rows: rows, k: k, n: n, transposed: false, accumulate: accumulate)
        }
    }
}
