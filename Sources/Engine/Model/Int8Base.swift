import Foundation
import Int8Kernels

/// A frozen model's weights in 8 bits, for the products of few rows in the passes that sample
/// (decoding one or a few sequences; `IncrementalForward`). Such a product is bound by the
/// weights' bytes, and these are about half of bf16's: on SmolLM2 a token's products take ~4-5
/// ms on two cores against ~10 ms in bf16. A product of more than `maxRows` rows (a prompt, a
/// large batch's decoding step) is bound by arithmetic instead, where oneDNN's bf16 kernels are
/// faster than these (two VNNI instructions per weight and row): `forward` leaves it to bf16.
///
/// Each 32 consecutive weights of a row are w ≈ d·u + m, u in 0...255, with d and m in fp16
/// (`wb_int8_pack`): a GGUF model's 4- and 8-bit blocks of 32 keep their values. Each product
/// rounds its input per 32 values to two int8 parts, the value and its remainder, ~15
/// significant bits (`wb_int8_quantize`), and multiplies exactly in integers (AVX-512 VNNI),
/// so a row's result is the same whatever other rows (up to `maxRows`) share the call.
///
/// Each matrix whose outputs are a multiple of 16 and inputs of 32 (all of SmolLM2's) is packed
/// at its own offset in a byte twin of the parameter store, so adjacent matrices (q/k/v,
/// gate/up) read as one; their scales are numbered in store order, so adjacent matrices'
/// scales are adjacent too. Other matrices are not held here (`forward` returns false).
///
/// Not thread-safe: the rounded input is scratch of the instance. A product is split over
/// `Parallel.workers` by output blocks, on the C kernels' own helper threads.
final class Int8Base {
    /// Whether this CPU has AVX-512 VNNI (with F, BW and F16C), which the products need.
    static var supported: Bool { wb_int8_supported() != 0 }

    private let packed: UnsafeMutablePointer<UInt8>
    /// d and m of every 32 weights, n·k/16 fp16 values per matrix.
    private let scales: UnsafeMutablePointer<UInt16>
    private let origin: UnsafePointer<Float>
    private let count: Int
    /// Packed matrices by their first value's offset: (outputs n, inputs k, where its scales start).
    private var matrices: [Int: (n: Int, k: Int, scales: Int)] = [:]
    private var xq = UnsafeMutablePointer<Int8>.allocate(capacity: 0), xqCapacity = 0
    private var xs = FloatBuffer(0), xsum = FloatBuffer(0)

    struct Unsupported: Error, CustomStringConvertible {
        var description: String
    }

    /// The most rows a product reads int8 for. Measured on SmolLM2 (2 threads): the C kernel
    /// does all of a token's products in 4.2 ms at 1 and at 4 rows, 8.2 ms at 8 and 53 ms at 64;
    /// generating 64 tokens per row with int8 up to 8 rows against bf16 (prompts in bf16 both):
    /// 178 against 152 tokens/s at 2 rows, 280 against 260 at 4, 337 against 374 at 8.
    static let maxRows = 4

    /// Parts a product is split in: the workers, but never more than the cores, where spinning
    /// helpers would take the cores the ones with work need.
    static var parts: Int { min(Parallel.workers, cores) }
    /// Read once: asking costs a system call (or reading files), too much once per product.
    private static let cores = ProcessInfo.processInfo.activeProcessorCount

    static func packable(n: Int, k: Int) -> Bool { n > 0 && k > 0 && n % 16 == 0 && k % 32 == 0 }

    init(_ store: ParameterStore, matrices list: [(w: UnsafePointer<Float>, n: Int, k: Int)]) throws {
        guard Self.supported else {
            throw Unsupported(description: "int8 products need AVX-512 VNNI, which this CPU does not have")
        }
        let base = UnsafePointer(store.values.ptr)
        count = store.values.count
        origin = base
        packed = .allocate(capacity: count)  // only the packed matrices' pages are ever written
        var entries: [(offset: Int, n: Int, k: Int, scales: Int)] = []
        var slots = 0, end = 0
        for m in list.map({ (offset: $0.w - base, n: $0.n, k: $0.k) }).sorted(by: { $0.offset < $1.offset })
        where Self.packable(n: m.n, k: m.k) && m.offset >= end && m.offset + m.n * m.k <= count {
            entries.append((m.offset, m.n, m.k, slots))
            slots += m.n * m.k / 16
            end = m.offset + m.n * m.k
        }
        scales = .allocate(capacity: max(1, slots))
        // Packed in pieces of up to 1,024 rows, so the workers get equal shares (SmolLM2's head
        // alone is a fifth of its weights).
        var pieces: [(entry: Int, row: Int, rows: Int)] = []
        for (i, e) in entries.enumerated() {
            for row in stride(from: 0, to: e.n, by: 1024) { pieces.append((i, row, min(1024, e.n - row))) }
        }
        var packs = [Bool](repeating: false, count: pieces.count)
        let packed = packed, scales = scales
        packs.withUnsafeMutableBufferPointer { ok in
            let ok = ok
            Parallel.forEach(pieces.count) { i in
                let p = pieces[i], e = entries[p.entry], at = e.offset + p.row * e.k
                ok[i] = wb_int8_pack(packed + at, scales + e.scales + p.row * e.k / 16, base + at, Int32(p.rows), Int32(e.k)) == 0
            }
        }
        // A matrix with a weight fp16 cannot hold (or not finite) stays with the bf16 products.
        let refused = Set(zip(pieces, packs).filter { !$0.1 }.map { $0.0.entry })
        for (i, e) in entries.enumerated() where !refused.contains(i) { matrices[e.offset] = (e.n, e.k, e.scales) }
    }

    deinit { packed.deallocate(); scales.deallocate(); xq.deallocate() }

    /// Packed matrices, for tests.
    var packedCount: Int { matrices.count }

    /// The offset and first scale row of W [n × k] at `w` when packed matrices of this k cover
    /// exactly its n rows from its start (one matrix, or adjacent ones read as one).
    private func covered(_ w: UnsafePointer<Float>, n: Int, k: Int) -> (offset: Int, scales: Int)? {
        let start = w - origin
        guard start >= 0, start < count, let first = matrices[start], first.k == k else { return nil }
        var at = start, rows = 0
        while rows < n, let p = matrices[at], p.k == k {
            rows += p.n
            at += p.n * k
        }
        return rows == n ? (start, first.scales) : nil
    }

    /// y (+)= x · Wᵀ for the model's W [n × k] at `w` and `rows` rows of x (k apart; y's `ldy`
    /// apart). Returns false, writing nothing, when W is not held here or `rows` is more than
    /// `maxRows`.
    func forward(_ y: UnsafeMutablePointer<Float>, ldy: Int?, _ x: UnsafePointer<Float>, _ w: UnsafePointer<Float>,
                 rows: Int, k: Int, n: Int, accumulate: Bool) -> Bool {
        guard rows <= Self.maxRows, let at = covered(w, n: n, k: k) else { return false }
        if rows == 0 { return true }
        if xqCapacity < 2 * rows * k {
            xq.deallocate()
            xqCapacity = 2 * rows * k
            xq = .allocate(capacity: xqCapacity)
        }
        if xs.count < rows * k / 32 { xs = FloatBuffer(rows * k / 32) }
        if xsum.count < rows * k / 32 { xsum = FloatBuffer(rows * k / 32) }
        let xq = xq, xs = xs.ptr, xsum = xsum.ptr
        wb_int8_quantize(xq, xs, xsum, x, Int32(k), Int32(rows), Int32(k))
        let blocks = n / 16, ldy = Int32(ldy ?? n), acc: Int32 = accumulate ? 1 : 0
        let w = packed + at.offset, s = scales + at.scales
        // Below ~64k multiply-adds a split costs more than it saves; inside a parallel loop the
        // workers are taken. The split runs on the kernels' own spinning helpers (see
        // `wb_int8_gemm_parts`): woken from sleep, as `Parallel`'s are, they cost a fifth of decoding.
        let parts = rows * n * k < 1 << 16 || Parallel.inRegion ? 1 : Self.parts
        wb_int8_gemm_parts(y, ldy, xq, xs, xsum, Int32(rows), w, s, Int32(k), Int32(blocks), acc, Int32(parts))
        return true
    }
}
