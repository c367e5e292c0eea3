import Foundation
import Testing
@testable import Engine
import TestSupport

/// Frozen weights held in bf16: the rounding, oneDNN's products against a float64 reference on
/// the same rounded numbers, and a LoRA model on a bf16 base against the same model in float32
/// (its weights rounded alike): the adapters' gradients, the training and decoding passes.
@Suite struct BF16Tests {
    @Test func roundingIsToNearestTiesToEven() {
        let r = Self.bits
        #expect(r(1) == 0x3F80)
        #expect(r(-2) == 0xC000)
        #expect(r(1 + 1 / 256) == 0x3F80)  // a tie: to the even mantissa (down)
        #expect(r(1 + 3 / 256) == 0x3F82)  // a tie: to the even mantissa (up)
        #expect(r(1 + 1 / 256 + 1 / 4096) == 0x3F81)  // above the tie: up
        #expect(BF16.float(r(.pi)) == 3.140625)
        #expect(r(.infinity) == 0x7F80)
        #expect(BF16.float(r(.nan)).isNaN)
        // Every rounding is within half a unit in the last place: 8 significant bits, so 2⁻⁸ relative.
        var rng = RNG(seed: 5)
        for _ in 0..<1000 {
            let x = rng.normal() * 100
            #expect(abs(BF16.float(r(x)) - x) <= abs(x) / 256)
        }
    }

    static func rounded(_ xs: [Float]) -> [Double] { xs.map { Double(BF16.float(Self.bits($0))) } }
    static func bits(_ x: Float) -> UInt16 {
        var out: UInt16 = 0
        var v = x
        BF16.round(&out, &v, count: 1)
        return out
    }

    /// y (+)= x · op(W) against the float64 product of the rounded x and W, for one row (the
    /// decoding case), a few, and many; forward and transposed; overwriting and accumulating
    /// into a wider y.
    @Test(arguments: [1, 5, 130]) func productsMatchTheRoundedReference(rows m: Int) throws {
        let gemm = try BF16GEMM()
        let k = 37, n = 29, ldy = 33
        var rng = RNG(seed: UInt64(m))
        let x = (0..<(m * k)).map { _ in rng.normal() }
        let w = (0..<(n * k)).map { _ in rng.normal() }
        var wb = [UInt16](repeating: 0, count: w.count)
        BF16.round(&wb, w, count: w.count)
        let xr = Self.rounded(x), wr = Self.rounded(w)
        for transposed in [false, true] {
            for accumulate in [false, true] {
                let start = (0..<(m * ldy)).map { _ in rng.normal() }
                var y = start
                gemm.multiply(&y, ldy: ldy, x, wb, rows: m, k: k, n: n, transposed: transposed, accumulate: accumulate)
                for i in 0..<m {
                    for j in 0..<n {
                        var sum = accumulate ? Double(start[i * ldy + j]) : 0, scale = 0.0
                        for p in 0..<k {
                            // forward: W is [n × k]; transposed: W is [k × n].
                            let term = xr[i * k + p] * (transposed ? wr[p * n + j] : wr[j * k + p])
                            sum += term
                            scale += abs(term)
                        }
                        #expect(abs(Double(y[i * ldy + j]) - sum) <= 1e-5 * max(1, scale), "row \(i) col \(j) transposed \(transposed)")
                    }
                    for j in n..<ldy { #expect(y[i * ldy + j] == start[i * ldy + j], "outside the product's columns") }
                }
            }
        }
    }

    /// The same LoRA model twice: base in float32 with every weight already rounded to bf16, and
    /// base held in bf16. They differ only by the rounding of each product's input (0.4% at most
    /// each, in every product of two layers and the head), so their log-probs and adapter gradients agree to a
    /// few percent (measured: 2.7% of the gradient's norm), where a product wired wrongly would
    /// be off by its whole size; and the bf16 base gets no gradient.
    @Test func aBF16BaseTrainsItsAdaptersAsTheFloat32OneDoes() throws {
        let reference = try LoRATests.model(), held = try LoRATests.model()
        for store in [reference.params, held.params] {
            BF16.round16(store.values.ptr, count: store.count)
        }
        try held.holdWeightsInBF16()
        #expect(held.weightPrecision == "bf16" && reference.weightPrecision == "float32")
        func run(_ model: Transformer) -> (logProbs: [Float], grads: [Float]) {
            model.trainable.zeroGrad()
            model.forward(tokens: LoRATests.tokens, batch: 2, seq: 6)
            let lp = model.head(positions: LoRATests.positions, targets: LoRATests.targets) { i, _ in LoRATests.weights[i] }.logProbs
            model.backward()
            return (lp, model.trainable.grads.array)
        }
        let a = run(reference), b = run(held)
        for (p, q) in zip(a.logProbs, b.logProbs) { #expect(abs(p - q) < 0.02 * max(1, abs(p))) }
        let norm = a.grads.reduce(0) { $0 + Double($1 * $1) }.squareRoot()
        let diff = zip(a.grads, b.grads).reduce(0) { $0 + Double(($1.0 - $1.1) * ($1.0 - $1.1)) }.squareRoot()
        #expect(norm > 0)
        #expect(diff < 0.05 * norm, "adapter gradients differ by \(diff) (norm \(norm))")
        #expect(!held.params.hasGradients, "a frozen bf16 base allocates no gradients")
    }

    /// Decoding multiplies by the same bf16 weights as training: next-token log-probs of the
    /// incremental pass match the training forward's (both on the bf16 base), so PPO's ratios
    /// start at 1 up to rounding.
    @Test func decodingAndTrainingAgreeOnABF16Base() throws {
        let model = try LoRATests.model()
        try model.holdWeightsInBF16()
        LoRATests.expectDecodingMatchesTraining(model, tolerance: 1e-2)
    }

    /// The packed layout (`BF16GEMM.pack`) gives the plain product's numbers: one row, a few and
    /// many; overwriting and accumulating into a wider y; and two matrices packed one after the
    /// other read as one product of their summed outputs, as q/k/v and gate/up are.
    @Test(arguments: [1, 5, 130]) func packedProductsMatchPlainOnes(rows m: Int) throws {
        let gemm = try BF16GEMM()
        let k = 96, n1 = 128, n2 = 64, n = n1 + n2, ldy = n + 7
        #expect(BF16GEMM.packable(n: n1, k: k) && BF16GEMM.packable(n: n2, k: k))
        #expect(!BF16GEMM.packable(n: 352, k: 128) && !BF16GEMM.packable(n: 128, k: 48))
        var rng = RNG(seed: UInt64(m) + 40)
        let x = (0..<(m * k)).map { _ in rng.normal() }
        var w = [UInt16](repeating: 0, count: n * k)
        BF16.round(&w, (0..<(n * k)).map { _ in rng.normal() }, count: n * k)
        var packed = [UInt16](repeating: 0, count: n * k)
        try packed.withUnsafeMutableBufferPointer { p in
            try gemm.pack(p.baseAddress!, w, n: n1, k: k)
            try w.withUnsafeBufferPointer { try gemm.pack(p.baseAddress! + n1 * k, $0.baseAddress! + n1 * k, n: n2, k: k) }
        }
        #expect(packed != w, "packing reorders the values")
        for accumulate in [false, true] {
            let start = (0..<(m * ldy)).map { _ in rng.normal() }
            var plain = start, fused = start
            gemm.multiply(&plain, ldy: ldy, x, w, rows: m, k: k, n: n, transposed: false, accumulate: accumulate)
            gemm.multiply(&fused, ldy: ldy, x, packed: packed, rows: m, k: k, n: n, accumulate: accumulate)
            for i in 0..<(m * ldy) { #expect(abs(plain[i] - fused[i]) <= 1e-5 * max(1, abs(plain[i])), "value \(i)") }
            // The second matrix alone, from its own packed copy.
            var second = start, secondPlain = start
            packed.withUnsafeBufferPointer { p in
                gemm.multiply(&second, ldy: ldy, x, packed: p.baseAddress! + n1 * k, rows: m, k: k, n: n2, accumulate: accumulate)
            }
            w.withUnsafeBufferPointer { p in
                gemm.multiply(&secondPlain, ldy: ldy, x, p.baseAddress! + n1 * k, rows: m, k: k, n: n2, transposed: false, accumulate: accumulate)
            }
            for i in 0..<(m * ldy) { #expect(abs(second[i] - secondPlain[i]) <= 1e-5 * max(1, abs(secondPlain[i]))) }
        }
    }

    /// A model whose every matrix packs (sizes multiples of 64 outputs and 32 inputs, as
    /// SmolLM2's): all 7 maps per layer and the head are packed, decoding (fused q/k/v and
    /// gate/up) agrees with training, and both agree with the same base read unpacked.
    @Test func aPackedBaseDecodesAndTrainsAsThePlainOne() throws {
        let c = ModelConfig(vocabSize: 64, dim: 128, layers: 2, heads: 4, kvHeads: 2, ffnDim: 256, maxSeqLen: 16, tiedEmbeddings: true)
        func make() throws -> Transformer {
            let m = try Transformer(config: c, seed: 31)
            m.randomizeMatrices(seed: 32, scale: 0.3)
            return m
        }
        let packed = try make(), plain = try make()
        try packed.holdWeightsInBF16()
        try plain.holdWeightsInBF16(pack: false)
        #expect(packed.bf16?.packedCount == c.layers * 7 + 1 && plain.bf16?.packedCount == 0)
        LoRATests.expectDecodingMatchesTraining(packed, tolerance: 1e-3)
        LoRATests.expectKeptPrefixContinues(packed, tolerance: 1e-3)
        let seq = Array(LoRATests.tokens.prefix(6))
        var lp: [[Float]] = []
        for m in [packed, plain] {
            m.forward(tokens: seq, batch: 1, seq: 6)
            lp.append(m.head(positions: Array(0..<5), targets: Array(seq.dropFirst())).logProbs)
        }
        for (a, b) in zip(lp[0], lp[1]) { #expect(abs(a - b) < 1e-4 * max(1, abs(a))) }
    }

    /// Groups of rows decode on several workers at once; a bf16 model's products share one
    /// oneDNN instance, so its rows stay one group, whatever the group size would be.
    @Test func aBF16ModelDecodesItsRowsAsOneGroup() throws {
        let c = ModelConfig(vocabSize: 64, dim: 128, layers: 2, heads: 4, kvHeads: 2, ffnDim: 256, maxSeqLen: 16, tiedEmbeddings: true)
        let m = try Transformer(config: c, seed: 33)
        m.randomizeMatrices(seed: 34, scale: 0.3)
        try m.holdWeightsInBF16()
        let prompts: [[Int32]] = (0..<40).map { r in [Int32(r % 64), Int32((r * 7) % 64), 5] }
        var small = Generator(model: m)
        small.groupCacheBytes = 1  // 8 rows per group for a float32 model
        #expect(small.groupRows(capacity: 16) == 8)
        let held = ThreadCount.hold(2)
        defer { held.release() }
        let options = Generator.Options(maxNewTokens: 6, stopToken: -1)
        let a = small.greedy(prompts: prompts, options: options), b = Generator(model: m).greedy(prompts: prompts, options: options)
        #expect(a == b)
    }

    @Test func mergingAdaptersDropsTheBF16Copy() throws {
        let model = try LoRATests.model()
        try model.holdWeightsInBF16()
        model.mergeAdapters()
        #expect(model.weightPrecision == "float32")
    }
}

extension BF16 {
    /// Rounds float32 values to bf16 in place (as float32 with the low half zero).
    static func round16(_ p: UnsafeMutablePointer<Float>, count: Int) {
        var b = [UInt16](repeating: 0, count: count)
        round(&b, p, count: count)
        for i in 0..<count { p[i] = float(b[i]) }
    }
}
