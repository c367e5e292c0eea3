import CDNNL
import Foundation

/// Matrix products against frozen weights held in bf16, through oneDNN's matmul (Debian's
/// libdnnl-dev; its OpenBLAS has no bf16 GEMM). On a CPU with AVX-512 BF16 a product runs about
/// twice as fast as OpenBLAS's float32 one, and a one-row product (decoding) four to ten times
/// (`bench/bf16_matmul.sh`). The activations stay float32: each call rounds its input to bf16,
/// multiplies with float32 accumulation and writes float32.
///
/// One instance per model: it caches a primitive per shape (oneDNN's matmul is compiled for
/// its sizes; the weights are an argument, so every layer's q shares one) and the rounded
/// input. Not thread-safe; the Engine calls it from its main thread, oneDNN spreads each
/// product over `Parallel.workers` threads itself (OpenMP).
final class BF16GEMM {
    private var engine: dnnl_engine_t?
    private var stream: dnnl_stream_t?

    /// A compiled product and the memory objects it runs on (their pointers set per call).
    private struct Product {
        var primitive: dnnl_primitive_t?
        var src: dnnl_memory_t?, weights: dnnl_memory_t?, dst: dnnl_memory_t?
    }
    private struct Shape: Hashable {
        var m, n, k, ldy: Int
        /// The weights' strides as [k × n], or nil: packed (`pack`).
        var weightStrides: [Int]?
        var accumulate: Bool
    }
    private var products: [Shape: Product] = [:]
    private var rounded = UnsafeMutablePointer<UInt16>.allocate(capacity: 0)
    private var roundedCapacity = 0

    struct Unavailable: Error, CustomStringConvertible {
        var description: String
    }

    init() throws {
        guard dnnl_engine_create(&engine, dnnl_cpu, 0) == dnnl_success,
              dnnl_stream_create(&stream, engine, dnnl_stream_default_flags.rawValue) == dnnl_success else {
            throw Unavailable(description: "oneDNN could not create its CPU engine")
        }
        Self.applyThreads()
        // Compile one small product now, so a CPU oneDNN has no bf16 kernel for fails here,
        // with a message, instead of at the first layer of a run.
        _ = try product(Shape(m: 1, n: 16, k: 16, ldy: 16, weightStrides: [1, 16], accumulate: false))
    }

    deinit {
        for p in products.values {
            dnnl_primitive_destroy(p.primitive)
            dnnl_memory_destroy(p.src); dnnl_memory_destroy(p.weights); dnnl_memory_destroy(p.dst)
        }
        dnnl_stream_destroy(stream)
        dnnl_engine_destroy(engine)
        rounded.deallocate()
    }

    /// Whether this CPU multiplies bf16 natively (AVX-512 BF16 or AMX); without it oneDNN
    /// emulates bf16 on AVX-512 (slower than float32) or has no kernel at all.
    static var native: Bool {
        dnnl_get_effective_cpu_isa().rawValue & dnnl_cpu_isa_avx512_core_bf16.rawValue == dnnl_cpu_isa_avx512_core_bf16.rawValue
    }

    /// The layout oneDNN's bf16 kernels read weights in on this CPU (AVX-512 BF16): for the
    /// product x · Wᵀ, blocks of 64 outputs (outermost) × 32 inputs, pairs of inputs adjacent.
    /// Read in place, they save the kernel a copy of W into that layout on every call: 2-3.4×
    /// for one row (decoding), 1.5× for 16 rows, 1.1-1.25× for 64 (`bench/bf16_matmul.sh 2`). As the 64-output
    /// blocks are outermost, matrices with the same k packed one after another are one packed
    /// matrix of their summed n (fused products such as q/k/v read them as one).
    static let packedTag = dnnl_BA16a64b2a

    /// Whether a W [n × k] can be packed with no padding, so its packed copy has its plain
    /// copy's size and position (see `packedTag`).
    static func packable(n: Int, k: Int) -> Bool { n > 0 && k > 0 && n % 64 == 0 && k % 32 == 0 }

    /// Whether oneDNN multiplies packed weights here: it has native bf16 kernels (an emulated
    /// bf16 may take only plain weights) and compiles a packed product of one row and of many.
    /// A product that fails to compile later stops the run, so this is asked before packing.
    var multipliesPacked: Bool {
        guard Self.native else { return false }
        return [1, 64].allSatisfy { m in
            (try? product(Shape(m: m, n: 64, k: 32, ldy: 64, weightStrides: nil, accumulate: false))) != nil
        }
    }

    /// Copies W [n × k] (row-major bf16) into `packed` in `packedTag`'s layout, n·k values.
    func pack(_ packed: UnsafeMutablePointer<UInt16>, _ w: UnsafePointer<UInt16>, n: Int, k: Int) throws {
        func check(_ status: dnnl_status_t, _ what: String) throws {
            guard status == dnnl_success else { throw Unavailable(description: "oneDNN could not pack a bf16 weight (\(what): status \(status.rawValue))") }
        }
        var plain = dnnl_memory_desc_t(), blocked = dnnl_memory_desc_t()
        var dims: [Int64] = [Int64(k), Int64(n)], strides: [Int64] = [1, Int64(k)]
        try withDims(&dims, &strides) { d, st in
            try check(dnnl_memory_desc_init_by_strides(&plain, 2, d, dnnl_bf16, st), "plain")
            try check(dnnl_memory_desc_init_by_tag(&blocked, 2, d, dnnl_bf16, Self.packedTag), "blocked")
        }
        guard dnnl_memory_desc_get_size(&blocked) == n * k * 2 else { throw Unavailable(description: "oneDNN pads a packed \(n)×\(k) weight") }
        var pd: dnnl_primitive_desc_t?
        try check(dnnl_reorder_primitive_desc_create(&pd, &plain, engine, &blocked, engine, nil), "reorder")
        defer { dnnl_primitive_desc_destroy(pd) }
        var reorder: dnnl_primitive_t?, src: dnnl_memory_t?, dst: dnnl_memory_t?
        try check(dnnl_primitive_create(&reorder, pd), "reorder primitive")
        defer { dnnl_primitive_destroy(reorder) }
        try check(dnnl_memory_create(&src, &plain, engine, UnsafeMutableRawPointer(mutating: w)), "source")
        defer { dnnl_memory_destroy(src) }
        try check(dnnl_memory_create(&dst, &blocked, engine, packed), "destination")
        defer { dnnl_memory_destroy(dst) }
        var args = [dnnl_exec_arg_t(arg: DNNL_ARG_FROM, memory: src), dnnl_exec_arg_t(arg: DNNL_ARG_TO, memory: dst)]
        try check(dnnl_primitive_execute(reorder, stream, 2, &args), "reorder")
        try check(dnnl_stream_wait(stream), "reorder")
    }

    /// y[m × n] (+)= x[m × k] · Wᵀ with W packed by `pack` (as one or several adjacent packed
    /// matrices of this k); rows of y `ldy` apart.
    func multiply(_ y: UnsafeMutablePointer<Float>, ldy: Int? = nil, _ x: UnsafePointer<Float>, packed w: UnsafePointer<UInt16>,
                  rows m: Int, k: Int, n: Int, accumulate: Bool = false) {
        run(Shape(m: m, n: n, k: k, ldy: ldy ?? n, weightStrides: nil, accumulate: accumulate), y, x, w)
    }

    /// y[m × n] (+)= x[m × k] · op(W), W bf16. `transposed` false: W is [n × k] and the product
    /// is x · Wᵀ (a linear map's forward); true: W is [k × n] and it is x · W (the gradient of
    /// a linear map's input, dy · W). y's rows are `ldy` apart (n by default), x's are k apart.
    func multiply(_ y: UnsafeMutablePointer<Float>, ldy: Int? = nil, _ x: UnsafePointer<Float>, _ w: UnsafePointer<UInt16>,
                  rows m: Int, k: Int, n: Int, transposed: Bool, accumulate: Bool = false) {
        run(Shape(m: m, n: n, k: k, ldy: ldy ?? n, weightStrides: transposed ? [n, 1] : [1, k], accumulate: accumulate), y, x, w)
    }

    private func run(_ shape: Shape, _ y: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, _ w: UnsafePointer<UInt16>) {
        let m = shape.m, n = shape.n, k = shape.k
        if m == 0 || n == 0 { return }
        // Every shape the Engine asks for compiled when the instance did (init): a failure here
        // is a bug, not input.
        guard let p = try? product(shape) else { preconditionFailure("oneDNN could not compile a \(m)×\(k)·\(k)×\(n) bf16 product") }
        if roundedCapacity < m * k {
            rounded.deallocate()
            roundedCapacity = m * k
            rounded = .allocate(capacity: roundedCapacity)
        }
        BF16.round(rounded, x, count: m * k)
        dnnl_memory_set_data_handle(p.src, rounded)
        dnnl_memory_set_data_handle(p.weights, UnsafeMutableRawPointer(mutating: w))
        dnnl_memory_set_data_handle(p.dst, y)
        var args = [dnnl_exec_arg_t(arg: DNNL_ARG_SRC, memory: p.src),
                    dnnl_exec_arg_t(arg: DNNL_ARG_WEIGHTS, memory: p.weights),
                    dnnl_exec_arg_t(arg: DNNL_ARG_DST, memory: p.dst)]
        let status = dnnl_primitive_execute(p.primitive, stream, 3, &args)
        precondition(status == dnnl_success && dnnl_stream_wait(stream) == dnnl_success, "oneDNN bf16 product failed: \(status)")
    }

    private func product(_ s: Shape) throws -> Product {
        if let p = products[s] { return p }
        func check(_ status: dnnl_status_t, _ what: String) throws {
            guard status == dnnl_success else {
                throw Unavailable(description: "oneDNN has no bf16 matrix product on this CPU (\(what): status \(status.rawValue))")
            }
        }
        var srcDesc = dnnl_memory_desc_t(), weightsDesc = dnnl_memory_desc_t(), dstDesc = dnnl_memory_desc_t()
        var srcDims: [Int64] = [Int64(s.m), Int64(s.k)], srcStrides: [Int64] = [Int64(s.k), 1]
        var wDims: [Int64] = [Int64(s.k), Int64(s.n)], wStrides = (s.weightStrides ?? [1, s.k]).map(Int64.init)
        var dstDims: [Int64] = [Int64(s.m), Int64(s.n)], dstStrides: [Int64] = [Int64(s.ldy), 1]
        try withDims(&srcDims, &srcStrides) { try check(dnnl_memory_desc_init_by_strides(&srcDesc, 2, $0, dnnl_bf16, $1), "source") }
        if s.weightStrides == nil {
            try withDims(&wDims, &wStrides) { d, _ in try check(dnnl_memory_desc_init_by_tag(&weightsDesc, 2, d, dnnl_bf16, Self.packedTag), "packed weights") }
        } else {
            try withDims(&wDims, &wStrides) { try check(dnnl_memory_desc_init_by_strides(&weightsDesc, 2, $0, dnnl_bf16, $1), "weights") }
        }
        try withDims(&dstDims, &dstStrides) { try check(dnnl_memory_desc_init_by_strides(&dstDesc, 2, $0, dnnl_f32, $1), "destination") }
        var desc = dnnl_matmul_desc_t()
        try check(dnnl_matmul_desc_init(&desc, &srcDesc, &weightsDesc, nil, &dstDesc), "matmul")
        var attr: dnnl_primitive_attr_t?
        try check(dnnl_primitive_attr_create(&attr), "attributes")
        defer { dnnl_primitive_attr_destroy(attr) }
        if s.accumulate {
            var ops: dnnl_post_ops_t?
            try check(dnnl_post_ops_create(&ops), "post-ops")
            defer { dnnl_post_ops_destroy(ops) }
            try check(dnnl_post_ops_append_sum(ops, 1), "sum post-op")
            try check(dnnl_primitive_attr_set_post_ops(attr, ops), "post-ops")
        }
        var pd: dnnl_primitive_desc_t?
        try check(dnnl_primitive_desc_create(&pd, &desc, attr, engine, nil), "primitive descriptor")
        defer { dnnl_primitive_desc_destroy(pd) }
        var p = Product()
        try check(dnnl_primitive_create(&p.primitive, pd), "primitive")
        try check(dnnl_memory_create(&p.src, &srcDesc, engine, nil), "source memory")
        try check(dnnl_memory_create(&p.weights, &weightsDesc, engine, nil), "weights memory")
        try check(dnnl_memory_create(&p.dst, &dstDesc, engine, nil), "destination memory")
        products[s] = p
        return p
    }

    private func withDims(_ dims: inout [Int64], _ strides: inout [Int64],
                          _ body: (UnsafePointer<Int64>, UnsafePointer<Int64>) throws -> Void) throws {
        // dnnl_dims_t is a fixed array of DNNL_MAX_NDIMS (12) entries.
        var d = [Int64](repeating: 0, count: 12), st = [Int64](repeating: 0, count: 12)
        for i in dims.indices { d[i] = dims[i]; st[i] = strides[i] }
        try d.withUnsafeBufferPointer { dp in try st.withUnsafeBufferPointer { sp in try body(dp.baseAddress!, sp.baseAddress!) } }
    }

    /// oneDNN (OpenMP in Debian's build) uses `Parallel.workers` threads. The OpenMP call is
    /// looked up at run time: libgomp comes with libdnnl, but its link-time name lives in a
    /// compiler folder the Swift linker does not search.
    static func applyThreads() {
        typealias SetThreads = @convention(c) (Int32) -> Void
        guard let sym = dlsym(nil, "omp_set_num_threads") else { return }  // nil: RTLD_DEFAULT, every loaded library
        unsafeBitCast(sym, to: SetThreads.self)(Int32(Parallel.workers))
    }
}

/// bfloat16 as a UInt16: a float32's upper half.
enum BF16 {
    /// Rounds to nearest, ties to even (as the hardware's conversion does), in parallel blocks.
    static func round(_ dst: UnsafeMutablePointer<UInt16>, _ src: UnsafePointer<Float>, count: Int) {
        src.withMemoryRebound(to: UInt32.self, capacity: count) { bits in
            let blocks = max(1, min(Parallel.workers, count / 65_536))
            Parallel.forEach(blocks) { b in
                let lo = count * b / blocks, hi = count * (b + 1) / blocks
                for i in lo..<hi {
                    let x = bits[i]
                    dst[i] = UInt16(truncatingIfNeeded: (x &+ 0x7FFF &+ ((x >> 16) & 1)) >> 16)
                }
            }
        }
    }

    static func float(_ b: UInt16) -> Float { Float(bitPattern: UInt32(b) << 16) }
}
