import Foundation
import Int8Kernels
import Testing
@testable import Engine
import TestSupport

/// Frozen weights held in 8 bits for the passes that sample (`Int8Base`, the C kernels): the
/// packed products against a float64 reference on the same rounded numbers, what the rounding
/// keeps, non-finite values, and a model holding int8 weights decoding near its bf16 self, the
/// same whatever rows share a call, with scoring passes left on bf16.
@Suite(.enabled(if: Int8Base.supported, "needs AVX-512 VNNI")) struct Int8Tests {
    /// A packed W [n × k] and its values as the products read them (d·u + m).
    struct Packed {
        var bytes: [UInt8], scales: [UInt16], values: [Double]
        init(_ w: [Float], n: Int, k: Int) {
            bytes = [UInt8](repeating: 0, count: n * k)
            scales = [UInt16](repeating: 0, count: n * k / 16)
            #expect(wb_int8_pack(&bytes, &scales, w, Int32(n), Int32(k)) == 0)
            values = []
            for o in 0..<n {
                for i in 0..<k {
                    let u = bytes[(o / 16) * 16 * k + (i / 4) * 64 + (o % 16) * 4 + i % 4]
                    let s = (o / 16) * (k / 32) * 32 + (i / 32) * 32 + o % 16
                    values.append(Double(Self.half(scales[s])) * Double(u) + Double(Self.half(scales[s + 16])))
                }
            }
        }
        static func half(_ h: UInt16) -> Float { Float(Float16(bitPattern: h)) }
    }

    /// x rounded to two int8 parts per 32 values, as the products read it.
    static func quantized(_ x: [Float], rows: Int, k: Int) -> (xq: [Int8], xs: [Float], xsum: [Float], values: [Double]) {
        var xq = [Int8](repeating: 0, count: 2 * rows * k), xs = [Float](repeating: 0, count: rows * k / 32), xsum = xs
        wb_int8_quantize(&xq, &xs, &xsum, x, Int32(k), Int32(rows), Int32(k))
        let values = (0..<(rows * k)).map { i in
            let r = i / k, c = i % k
            return (254 * Double(xq[r * 2 * k + c]) + Double(xq[r * 2 * k + k + c])) * Double(xs[r * (k / 32) + c / 32])
        }
        return (xq, xs, xsum, values)
    }

    /// y (+)= x · Wᵀ against the float64 product of the rounded x and W, for one row (decoding),
    /// fewer than the kernel's 8, exactly 8 and more; overwriting and accumulating into a wider
    /// y; the blocks split in two calls as the workers split them. The rounding itself stays
    /// within half a level: of the weights' 255 per 32, of the inputs' 127 × 254 per 32; and
    /// xsum is the sum of the rounded inputs.
    @Test(arguments: [1, 3, 8, 13]) func productsMatchTheRoundedReference(rows m: Int) {
        let k = 96, n = 48, ldy = n + 5
        var rng = RNG(seed: UInt64(m) + 60)
        let x = (0..<(m * k)).map { _ in rng.normal() * 3 }
        let w = (0..<(n * k)).map { _ in rng.normal() }
        let p = Packed(w, n: n, k: k), q = Self.quantized(x, rows: m, k: k)
        for i in 0..<(n * k) {
            let block = w[(i / 32) * 32..<(i / 32 + 1) * 32]
            #expect(abs(p.values[i] - Double(w[i])) <= 0.51 * Double(block.max()! - block.min()!) / 255 + 1e-3, "weight \(i)")
        }
        for i in 0..<(m * k) {
            let amax = x[(i / 32) * 32..<(i / 32 + 1) * 32].map(abs).max()!
            #expect(abs(q.values[i] - Double(x[i])) <= 0.51 * Double(amax) / (127 * 254) + 1e-6 * Double(amax), "input \(i)")
        }
        for b in 0..<(m * k / 32) {
            let sum = q.values[(b * 32)..<(b * 32 + 32)].reduce(0, +)
            #expect(abs(Double(q.xsum[b]) - sum) <= 1e-5 * max(1, abs(sum)), "block \(b)")
        }
        for accumulate in [false, true] {
            let start = (0..<(m * ldy)).map { _ in rng.normal() }
            var y = start
            for (lo, hi) in [(0, 1), (1, n / 16)] {
                wb_int8_gemm(&y, Int32(ldy), q.xq, q.xs, q.xsum, Int32(m), p.bytes, p.scales, Int32(k), Int32(lo), Int32(hi), accumulate ? 1 : 0)
            }
            for r in 0..<m {
                for o in 0..<n {
                    var sum = accumulate ? Double(start[r * ldy + o]) : 0, scale = 0.0
                    for i in 0..<k {
                        let term = q.values[r * k + i] * p.values[o * k + i]
                        sum += term
                        scale += abs(term)
                    }
                    #expect(abs(Double(y[r * ldy + o]) - sum) <= 1e-5 * max(1, scale), "row \(r) output \(o)")
                }
                for o in n..<ldy { #expect(y[r * ldy + o] == start[r * ldy + o], "outside the product's outputs") }
            }
        }
    }

    /// Weights from GGUF blocks of 32 keep their values. Q4_1 (d·q + m, q in 0...15, d and m
    /// fp16): exactly, as 16 levels of their own grid. Q8_0 (d·q, q in -127...127, d fp16):
    /// to fp16's rounding of the block's least value (≤ 0.07·d); 256 levels from least to
    /// greatest would be off by up to half of their step, ~0.5·d.
    @Test func ggufBlocksKeepTheirValues() {
        let n = 16, k = 64
        var rng = RNG(seed: 61)
        for q8 in [false, true] {
            var w: [Float] = [], step: [Float] = []
            for _ in 0..<(n * k / 32) {
                let d = Float(Float16(0.01 + abs(rng.normal()) * 0.05))
                if q8 {
                    var q = (0..<32).map { _ in Float(max(-127, min(127, Int(rng.normal() * 60)))) }
                    q[5] = 127
                    w += q.map { d * $0 }
                } else {
                    let m = Float(Float16(-8 * d + rng.normal() * 0.01))
                    var q = (0..<32).map { _ in Float(Int(abs(rng.normal()) * 5) % 16) }
                    q[3] = 0
                    q[17] = 15
                    w += q.map { d * $0 + m }
                }
                step.append(d)
            }
            let p = Packed(w, n: n, k: k)
            for i in 0..<(n * k) {
                let bound = q8 ? 0.07 * Double(step[i / 32]) : 1e-6 * Double(abs(w[i]))
                #expect(abs(p.values[i] - Double(w[i])) <= bound, "\(q8 ? "Q8_0" : "Q4_1") weight \(i): \(p.values[i]) for \(w[i])")
            }
        }
    }

    /// A product split over the kernels' helper threads gives the one-thread product bit for bit,
    /// whatever the parts (also when they change between calls), and two threads calling at
    /// once both get it (the second runs on its own thread).
    @Test func splitProductsAreTheWholeProduct() {
        let k = 128, n = 256, m = 3
        var rng = RNG(seed: 66)
        let x = (0..<(m * k)).map { _ in rng.normal() }, w = (0..<(n * k)).map { _ in rng.normal() }
        let p = Packed(w, n: n, k: k), q = Self.quantized(x, rows: m, k: k)
        var whole = [Float](repeating: 0, count: m * n)
        wb_int8_gemm(&whole, Int32(n), q.xq, q.xs, q.xsum, Int32(m), p.bytes, p.scales, Int32(k), 0, Int32(n / 16), 0)
        for parts in [2, 4, 3, 2, 16, 1] {
            var y = [Float](repeating: .nan, count: m * n)
            wb_int8_gemm_parts(&y, Int32(n), q.xq, q.xs, q.xsum, Int32(m), p.bytes, p.scales, Int32(k), Int32(n / 16), 0, Int32(parts))
            #expect(y == whole, "\(parts) parts")
        }
        let results = UnsafeMutableBufferPointer<Float>.allocate(capacity: 2 * m * n)
        defer { results.deallocate() }
        DispatchQueue.concurrentPerform(iterations: 2) { t in
            for _ in 0..<50 {
                wb_int8_gemm_parts(results.baseAddress! + t * m * n, Int32(n), q.xq, q.xs, q.xsum, Int32(m), p.bytes, p.scales,
                                   Int32(k), Int32(n / 16), 0, 2)
            }
        }
        #expect(Array(results[0..<(m * n)]) == whole && Array(results[(m * n)...]) == whole)
    }

    /// A generation decides once: with more rows than `Int8Base.maxRows` it is the bf16 model's
    /// bit for bit to the end (a large batch does not switch as its rows finish); with fewer,
    /// its decoding steps read int8.
    @Test func aGenerationDecidesOnInt8Once() throws {
        let int8 = try Self.model(), bf16 = try Self.model()
        try int8.holdWeightsInInt8()
        try bf16.holdWeightsInBF16()
        let options = SamplingOptions(maxNewTokens: 6, stopToken: 7, seed: 3)
        func run(_ m: Transformer, rows: Int) -> [SampledSequence] {
            Generator(model: m).sample(prompts: (0..<rows).map { [Int32($0 % 64), 5, 9] }, options: options)
        }
        let many = Int8Base.maxRows + 3
        #expect(run(int8, rows: many).map(\.logProbs) == run(bf16, rows: many).map(\.logProbs))
        #expect(run(int8, rows: 2).map(\.logProbs) != run(bf16, rows: 2).map(\.logProbs))
    }

    /// A NaN or infinite input makes its row's outputs NaN, as a float product would, and leaves
    /// the other rows alone; a weight fp16 cannot scale (or not finite) is refused at packing.
    @Test func nonFiniteValuesAreNotHidden() {
        let k = 64, n = 16
        var rng = RNG(seed: 62)
        var x = (0..<(3 * k)).map { _ in rng.normal() }
        x[k + 40] = .nan
        x[2 * k + 5] = .infinity
        let w = (0..<(n * k)).map { _ in rng.normal() }
        let p = Packed(w, n: n, k: k), q = Self.quantized(x, rows: 3, k: k)
        var y = [Float](repeating: 0, count: 3 * n)
        wb_int8_gemm(&y, Int32(n), q.xq, q.xs, q.xsum, 3, p.bytes, p.scales, Int32(k), 0, 1, 0)
        let finite = y[0..<n].allSatisfy { $0.isFinite }, nan = y[n...].allSatisfy { $0.isNaN }
        #expect(finite && nan)
        var bytes = [UInt8](repeating: 0, count: n * k), scales = [UInt16](repeating: 0, count: n * k / 16)
        // The last: a block of two values 80,000 apart, whose grid step fp16 cannot hold.
        for bad: Float in [.nan, .infinity, 70_000, -40_000] {
            var v = w
            v[100] = bad
            if bad == -40_000 { for i in 96..<128 { v[i] = i % 2 == 0 ? -40_000 : 40_000 } }
            #expect(wb_int8_pack(&bytes, &scales, v, Int32(n), Int32(k)) == 1, "weight \(bad)")
        }
    }

    /// Every matrix of a model sized as SmolLM2 is (multiples of 16 outputs and 32 inputs) is
    /// held in int8, and decoding through them (fused q/k/v and gate/up) stays near the float32
    /// model: further from it than bf16 (so int8 is what was read) but within 8× bf16's
    /// distance and 10% of the logits' range. Measured: int8 up to 0.74, bf16 up to 0.29, of
    /// ranges 14-20, over 10 positions of this random model, whose weights lie on no grid of
    /// their own (a GGUF model's do, and there int8 moves them less than bf16).
    @Test func anInt8ModelSamplesNearTheFloat32One() throws {
        let f32 = try Self.model(), int8 = try Self.model(), bf16 = try Self.model()
        try int8.holdWeightsInInt8()
        try bf16.holdWeightsInBF16()
        #expect(int8.int8?.packedCount == Self.config.layers * 7 + 1)
        #expect(int8.weightPrecision == "int8" && bf16.weightPrecision == "bf16")
        let f = Self.logits(f32, sampling: true), a = Self.logits(int8, sampling: true), b = Self.logits(bf16, sampling: true)
        func largest(_ x: [[Float]]) -> Float { zip(f, x).map { p, q in zip(p, q).map { abs($0 - $1) }.max()! }.max()! }
        let range = f.map { $0.max()! - $0.min()! }.min()!
        #expect(largest(a) > largest(b), "int8 \(largest(a)), bf16 \(largest(b))")
        #expect(largest(a) <= 8 * largest(b) && largest(a) <= 0.1 * range, "int8 \(largest(a)), bf16 \(largest(b)), range \(range)")
    }

    /// Scoring passes keep bf16: an int8 model's non-sampling pass (CARFT's continuation) gives
    /// its bf16 self's logits bit for bit, and a kept prefix continues as the training forward.
    @Test func scoringPassesKeepBF16() throws {
        let int8 = try Self.model(), bf16 = try Self.model()
        try int8.holdWeightsInInt8()
        try bf16.holdWeightsInBF16()
        #expect(Self.logits(int8, sampling: false) == Self.logits(bf16, sampling: false))
        LoRATests.expectKeptPrefixContinues(int8, tolerance: 1e-3)
    }

    /// A row's int8 logits are the same, bit for bit, whether it decodes alone or beside others
    /// (the products are exact in integers and round each row on its own), up to `maxRows` rows
    /// a call; a call of more rows (a prompt) reads bf16, as the bf16 model does.
    @Test func fewRowsReadInt8AndTheirRowsAreIndependent() throws {
        let model = try Self.model(), bf16 = try Self.model()
        try model.holdWeightsInInt8()
        try bf16.holdWeightsInBF16()
        let rows: [[Int32]] = [[3, 1, 4, 1, 5, 9, 2, 6, 5, 3], [9, 2, 6, 5, 3, 5, 8, 9, 7, 9], [2, 7, 1, 8, 2, 8, 1, 8, 2, 8]]
        #expect(rows.count <= Int8Base.maxRows)
        let V = Self.config.vocabSize
        let together = IncrementalForward(model: model), cache = KVCache(config: Self.config, batch: rows.count, capacity: 10)
        var joint: [[[Float]]] = Array(repeating: [], count: rows.count)
        for t in 0..<10 {
            let out = together.append(rows.indices.map { .init(row: $0, token: rows[$0][t]) }, to: cache)
            for r in rows.indices { joint[r].append(Array(UnsafeBufferPointer(start: out.logits.ptr + r * V, count: V))) }
        }
        for r in rows.indices { #expect(joint[r] == Self.logits(model, sampling: true, sequence: rows[r]), "row \(r)") }
        // A prompt of more than maxRows tokens in one call: bf16's products, bit for bit (its
        // states; its logits come from a one-row product, which reads int8).
        func prompt(_ m: Transformer) -> [Float] {
            let states = FloatBuffer(rows[0].count * Self.config.dim)
            IncrementalForward(model: m).appendStates(rows[0].map { .init(row: 0, token: $0) }, to: KVCache(config: Self.config, batch: 1, capacity: 10), into: states.ptr)
            return states.array
        }
        #expect(rows[0].count > Int8Base.maxRows && prompt(model) == prompt(bf16))
    }

    /// Matrices that do not pack (here 40 inputs: not a multiple of 32) are left to the bf16
    /// products, so such a model samples exactly as its bf16 self.
    @Test func matricesThatDoNotPackStayBF16() throws {
        let c = ModelConfig(vocabSize: 48, dim: 40, layers: 1, heads: 2, kvHeads: 1, ffnDim: 64, maxSeqLen: 16, tiedEmbeddings: true)
        let int8 = try Transformer(config: c, seed: 63), bf16 = try Transformer(config: c, seed: 63)
        try int8.holdWeightsInInt8()
        try bf16.holdWeightsInBF16()
        #expect(int8.int8?.packedCount == 0)
        #expect(Self.logits(int8, sampling: true) == Self.logits(bf16, sampling: true))
    }

    /// A matrix holding a weight fp16 cannot scale is left to bf16 whole, in whichever piece of
    /// its rows the weight sits; the other matrices are still held.
    @Test func aMatrixFP16CannotHoldStaysBF16() throws {
        let model = try Self.model()
        model.weights.layers[1].gate[5 * Self.config.dim + 7] = 70_000
        try model.holdWeightsInInt8()
        #expect(model.int8?.packedCount == Self.config.layers * 7)
    }

    @Test func mergingAdaptersDropsTheInt8Copy() throws {
        let model = try LoRATests.model()
        try model.holdWeightsInInt8()
        model.mergeAdapters()
        #expect(model.weightPrecision == "float32" && model.int8 == nil)
    }

    static let config = ModelConfig(vocabSize: 64, dim: 128, layers: 2, heads: 4, kvHeads: 2, ffnDim: 256, maxSeqLen: 16, tiedEmbeddings: true)

    static func model() throws -> Transformer {
        let m = try Transformer(config: config, seed: 64)
        m.randomizeMatrices(seed: 65, scale: 0.3)
        return m
    }

    /// The next-token logits after each token of one sequence, decoded one at a time.
    static func logits(_ model: Transformer, sampling: Bool, sequence seq: [Int32] = [3, 1, 4, 1, 5, 9, 2, 6, 5, 3]) -> [[Float]] {
        let forward = IncrementalForward(model: model, sampling: sampling)
        let cache = KVCache(config: model.config, batch: 1, capacity: seq.count)
        return seq.map { t in
            let out = forward.append([.init(row: 0, token: t)], to: cache)
            return Array(UnsafeBufferPointer(start: out.logits.ptr, count: model.config.vocabSize))
        }
    }
}
