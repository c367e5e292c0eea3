import Foundation
import Testing
@testable import Engine
import VectorKernels

/// The C elementwise kernels (SwiGLU, e^x-shift-sum, max) against float64 formulas, at lengths
/// around the 16-float vector width; an element's result must not depend on where it sits.
struct VectorKernelsTests {
    static let lengths = [1, 7, 15, 16, 17, 33, 100]

    static func inputs(_ n: Int, seed: UInt64) -> [Float] {
        var rng = RNG(seed: seed)
        return (0..<n).map { i in i % 11 == 3 ? (i % 2 == 0 ? 95 : -95) : rng.uniform() * 24 - 12 }
    }

    static func sigmoid(_ g: Double) -> Double { 1 / (1 + Foundation.exp(-g)) }

    /// Within a few float roundings, or both below 1e-30 (e^x's input is clamped at -87).
    static func near(_ a: Float, _ b: Double, rel: Double = 3e-6) -> Bool {
        abs(Double(a) - b) <= rel * abs(b) + 1e-30
    }

    @Test(arguments: lengths) func swigluForwardAndBackward(n: Int) {
        let g = Self.inputs(n, seed: 1), u = Self.inputs(n, seed: 2), dh = Self.inputs(n, seed: 3)
        var h = [Float](repeating: .nan, count: n), dg = h, du = h
        wb_swiglu_forward(&h, g, u, n)
        wb_swiglu_backward(&dg, &du, dh, g, u, n)
        for i in 0..<n {
            let gi = Double(g[i]), s = Self.sigmoid(gi)
            #expect(Self.near(h[i], gi * s * Double(u[i])), "h[\(i)] = \(h[i]) for g \(gi)")
            #expect(Self.near(dg[i], Double(dh[i]) * Double(u[i]) * s * (1 + gi * (1 - s))), "dgate[\(i)]")
            #expect(Self.near(du[i], Double(dh[i]) * gi * s), "dup[\(i)]")
        }
    }

    /// The backward is the forward's derivative: a central difference of h in g and in up.
    @Test func swigluBackwardIsTheForwardsGradient() {
        let g = Self.inputs(40, seed: 4).map { $0 / 3 }, u = Self.inputs(40, seed: 5), ones = [Float](repeating: 1, count: 40)
        var dg = [Float](repeating: 0, count: 40), du = dg
        wb_swiglu_backward(&dg, &du, ones, g, u, 40)
        func h(_ g: [Float], _ u: [Float]) -> [Double] {
            var out = [Float](repeating: 0, count: g.count)
            wb_swiglu_forward(&out, g, u, g.count)
            return out.map(Double.init)
        }
        let eps: Float = 1e-2
        for i in 0..<40 {
            var gp = g, gm = g, up = u, um = u
            gp[i] += eps; gm[i] -= eps; up[i] += eps; um[i] -= eps
            let fdG = (h(gp, u)[i] - h(gm, u)[i]) / Double(2 * eps), fdU = (h(g, up)[i] - h(g, um)[i]) / Double(2 * eps)
            #expect(abs(fdG - Double(dg[i])) <= 2e-3 * max(1, abs(fdG)), "d/dgate at \(i)")
            #expect(abs(fdU - Double(du[i])) <= 2e-3 * max(1, abs(fdU)), "d/dup at \(i)")
        }
    }

    @Test(arguments: lengths) func expShiftSumAndMax(n: Int) {
        let x = Self.inputs(n, seed: 6)
        var a = x
        let mx = wb_max(a, n)
        #expect(mx == x.max()!)
        let s = wb_exp_shift_sum(&a, n, mx)
        var sum = 0.0
        for i in 0..<n {
            let e = Foundation.exp(Double(x[i]) - Double(mx))
            sum += Double(a[i])
            #expect(Self.near(a[i], max(e, Foundation.exp(-87.0))), "e^(x - max) at \(i): \(a[i]) vs \(e)")
        }
        #expect(abs(Double(s) - sum) <= 1e-6 * sum)
    }

    /// Each element gets the same instructions wherever it sits: a slice starting mid-vector
    /// gives the whole array's bits.
    @Test func resultsDoNotDependOnPosition() {
        let g = Self.inputs(50, seed: 7), u = Self.inputs(50, seed: 8)
        var whole = [Float](repeating: 0, count: 50), part = [Float](repeating: 0, count: 45)
        wb_swiglu_forward(&whole, g, u, 50)
        wb_swiglu_forward(&part, Array(g[5...]), Array(u[5...]), 45)
        #expect(Array(whole[5...]) == part)
        var e1 = g, e2 = Array(g[3...])
        _ = wb_exp_shift_sum(&e1, 50, 2)
        _ = wb_exp_shift_sum(&e2, 47, 2)
        #expect(Array(e1[3...]) == e2)
    }

    /// NaN stays NaN through e^x and SwiGLU (a diverging run must show it); max skips NaNs, as
    /// the comparison loop it replaced did, and is -infinity over nothing.
    @Test func nanPropagatesAndMaxSkipsIt() {
        var x: [Float] = [1, .nan, -3, 2, .infinity, -.infinity] + [Float](repeating: 0.5, count: 20)
        let n = x.count
        var h = [Float](repeating: 0, count: n)
        wb_swiglu_forward(&h, x, [Float](repeating: 1, count: n), n)
        #expect(h[1].isNaN && !h[0].isNaN && h[2].isFinite && h[3].isFinite)
        #expect(wb_max(x, n) == .infinity)
        #expect(wb_max([Float.nan, 2, .nan, -1], 4) == 2)
        #expect(wb_max(x, 0) == -.infinity)
        let s = wb_exp_shift_sum(&x, n, 2)
        #expect(x[1].isNaN && s.isNaN)
        #expect(x[0] == Float(Foundation.exp(-1.0)) || abs(x[0] - Float(Foundation.exp(-1.0))) < 1e-7)
    }

    /// One decoding step's attention (`wb_attend`) against float64, for head widths on, below
    /// and above the 16-float vector and past the kernel's 64-column blocks, spans of one key
    /// and many, and a group of query heads sharing the keys: each head's output is the
    /// softmax-weighted mean of the values.
    @Test(arguments: [(32, 1, 1), (32, 37, 4), (64, 100, 3), (40, 17, 2), (7, 5, 1), (96, 33, 2), (128, 20, 1)])
    func attentionOfOneStep(hd: Int, span: Int, group: Int) {
        var rng = RNG(seed: UInt64(hd * 1000 + span))
        let q = (0..<group * hd).map { _ in rng.uniform() * 2 - 1 }
        let k = (0..<span * hd).map { _ in rng.uniform() * 2 - 1 }, v = (0..<span * hd).map { _ in rng.uniform() * 2 - 1 }
        let scale = 1 / Float(hd).squareRoot()
        var out = [Float](repeating: .nan, count: group * hd), scores = [Float](repeating: .nan, count: span)
        wb_attend(&out, &scores, q, k, v, group, span, hd, scale)
        for r in 0..<group {
            let s = (0..<span).map { p in Double(scale) * (0..<hd).reduce(0.0) { $0 + Double(q[r * hd + $1]) * Double(k[p * hd + $1]) } }
            let mx = s.max()!, e = s.map { Foundation.exp($0 - mx) }, sum = e.reduce(0, +)
            for d in 0..<hd {
                let want = (0..<span).reduce(0.0) { $0 + e[$1] * Double(v[$1 * hd + d]) } / sum
                #expect(abs(Double(out[r * hd + d]) - want) <= 1e-5, "head \(r) column \(d): \(out[r * hd + d]) against \(want)")
            }
        }
        // A NaN key poisons the outputs that read it instead of vanishing in the softmax.
        var bad = k
        bad[0] = .nan
        wb_attend(&out, &scores, q, bad, v, group, span, hd, scale)
        #expect(out.allSatisfy { $0.isNaN })
    }
}
