import Foundation
import Testing
import Engine
import TestSupport
@testable import BuiltinPlugins

/// A small pooling batch: row 0 fully masked, row 1 partly, row 2 all-zero (pools to zero).
struct PoolingFixture {
    let B = 3, T = 5, D = 4
    let tokens: FloatBuffer
    let values: FloatBuffer
    let mask: [UInt8]

    init(seed: UInt64 = 7) {
        var rng = RNG(seed: seed, stream: "pooling")
        tokens = GradCheck.randomBuffer(B * T * D, &rng)
        values = GradCheck.randomBuffer(B * T, &rng, scale: 2)
        mask = [1, 1, 1, 1, 1,
                0, 1, 0, 1, 1,
                0, 0, 0, 0, 0]
    }

    func with<R>(_ body: (PoolingBatch) -> R) -> R {
        mask.withUnsafeBufferPointer { m in
            body(PoolingBatch(batch: B, T: T, dim: D, tokens: tokens.ptr, values: values.ptr, mask: m.baseAddress!))
        }
    }

    /// Float64 reference: the weight of each token under each pooling rule, written as plain loops.
    func referenceWeights(_ kind: String) -> [[Double]] {
        (0..<B).map { b in
            let idx = (0..<T).filter { mask[b * T + $0] != 0 }
            var w = [Double](repeating: 0, count: T)
            guard !idx.isEmpty else { return w }
            switch kind {
            case "softmax":
                let vmax = idx.map { Double(values[b * T + $0]) }.max()!
                var s = 0.0
                for t in idx { w[t] = exp(Double(values[b * T + t]) - vmax); s += w[t] }
                for t in idx { w[t] /= s }
            case "mean":
                for t in idx { w[t] = 1 / Double(idx.count) }
            default:
                w[idx.last!] = 1
            }
            return w
        }
    }

    func reference(_ kind: String) -> [Double] {
        let w = referenceWeights(kind)
        var out = [Double](repeating: 0, count: B * D)
        for b in 0..<B { for t in 0..<T { for d in 0..<D {
            out[b * D + d] += w[b][t] * Double(tokens[(b * T + t) * D + d])
        } } }
        return out
    }
}

@Suite struct PoolingTests {
    static let kinds: [(String, any PoolingMath.Type)] = [
        ("softmax", SoftmaxValuesPooling.self), ("mean", MeanPooling.self), ("last", LastTokenPooling.self),
    ]

    @Test(arguments: ["softmax", "mean", "last"])
    func forwardMatchesFloat64Reference(kind: String) {
        let f = PoolingFixture()
        let P = Self.kinds.first { $0.0 == kind }!.1
        let out = FloatBuffer(f.B * f.D)
        f.with { P.forward($0, out: out.ptr) }
        let ref = f.reference(kind)
        for i in 0..<ref.count {
            #expect(abs(Double(out[i]) - ref[i]) < 1e-5, "\(kind)[\(i)]: \(out[i]) vs \(ref[i])")
        }
        // The all-zero mask row pools to exactly zero.
        for d in 0..<f.D { #expect(out[2 * f.D + d] == 0) }
    }

    @Test(arguments: ["softmax", "mean", "last"])
    func backwardMatchesFiniteDifferences(kind: String) {
        let f = PoolingFixture(seed: 11)
        let P = Self.kinds.first { $0.0 == kind }!.1
        var rng = RNG(seed: 3, stream: "r")
        let r = GradCheck.randomBuffer(f.B * f.D, &rng)
        let out = FloatBuffer(f.B * f.D)
        let gTok = FloatBuffer(f.B * f.T * f.D), gVal = FloatBuffer(f.B * f.T)
        // Garbage first: backward must overwrite every entry.
        for i in 0..<gTok.count { gTok[i] = .nan }
        for i in 0..<gVal.count { gVal[i] = .nan }
        f.with { P.backward($0, gradOut: r.ptr, gradTokens: gTok.ptr, gradValues: gVal.ptr) }
        #expect(gTok.array.allSatisfy { $0.isFinite })
        #expect(gVal.array.allSatisfy { $0.isFinite })
        let loss = { () -> Double in
            f.with { P.forward($0, out: out.ptr) }
            return GradCheck.weightedSum(out.ptr, r)
        }
        GradCheck.check("\(kind).tokens", x: f.tokens.ptr, count: f.tokens.count, analytic: gTok.ptr, loss: loss)
        if kind == "softmax" {
            GradCheck.check("\(kind).values", x: f.values.ptr, count: f.values.count, analytic: gVal.ptr, loss: loss)
        } else {
            #expect(gVal.array.allSatisfy { $0 == 0 }, "\(kind) does not depend on values")
        }
        // Masked-out tokens and the all-zero row get exactly zero gradient.
        for b in 0..<f.B { for t in 0..<f.T where f.mask[b * f.T + t] == 0 {
            #expect(gVal[b * f.T + t] == 0)
            for d in 0..<f.D { #expect(gTok[(b * f.T + t) * f.D + d] == 0) }
        } }
    }

    @Test func softmaxBackwardIsAnalyticVJP() {
        // ∂/∂V_t of Σ r·z = w_t (r·p_t − r·z), checked directly against float64 weights.
        let f = PoolingFixture(seed: 5)
        var rng = RNG(seed: 9, stream: "r")
        let r = GradCheck.randomBuffer(f.B * f.D, &rng)
        let gVal = FloatBuffer(f.B * f.T)
        f.with { SoftmaxValuesPooling.backward($0, gradOut: r.ptr, gradTokens: nil, gradValues: gVal.ptr) }
        let w = f.referenceWeights("softmax"), z = f.reference("softmax")
        for b in 0..<f.B {
            var rz = 0.0
            for d in 0..<f.D { rz += Double(r[b * f.D + d]) * z[b * f.D + d] }
            for t in 0..<f.T {
                var rp = 0.0
                for d in 0..<f.D { rp += Double(r[b * f.D + d]) * Double(f.tokens[(b * f.T + t) * f.D + d]) }
                let expect = w[b][t] * (rp - rz)
                #expect(abs(Double(gVal[b * f.T + t]) - expect) < 1e-5)
            }
        }
    }

    @Test(arguments: ["softmax", "mean", "last"])
    func nilGradientsAreSkipped(kind: String) {
        let f = PoolingFixture()
        let P = Self.kinds.first { $0.0 == kind }!.1
        let r = FloatBuffer([Float](repeating: 1, count: f.B * f.D))
        let both = FloatBuffer(f.B * f.T * f.D), only = FloatBuffer(f.B * f.T * f.D)
        let gVal = FloatBuffer(f.B * f.T)
        f.with { P.backward($0, gradOut: r.ptr, gradTokens: both.ptr, gradValues: gVal.ptr) }
        f.with { P.backward($0, gradOut: r.ptr, gradTokens: only.ptr, gradValues: nil) }
        #expect(both.array == only.array)
    }
}
