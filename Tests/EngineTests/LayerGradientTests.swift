import Testing
@testable import Engine
import TestSupport

/// Finite-difference checks of every layer's backward pass, each against a loss Σ y·r.
@Suite struct LayerGradientTests {
    @Test func linear() {
        var rng = RNG(seed: 3)
        let n = 5, i = 7, o = 4
        let x = GradCheck.randomBuffer(n * i, &rng), w = GradCheck.randomBuffer(o * i, &rng)
        let r = GradCheck.randomBuffer(n * o, &rng), y = FloatBuffer(n * o)
        let dx = FloatBuffer(n * i), dw = FloatBuffer(o * i)
        func loss() -> Double { Linear.forward(y.ptr, x.ptr, w.ptr, rows: n, inDim: i, outDim: o); return GradCheck.weightedSum(y.ptr, r) }
        Linear.backward(dx: dx.ptr, dw: dw.ptr, dy: r.ptr, x: x.ptr, w: w.ptr, rows: n, inDim: i, outDim: o)
        GradCheck.check("linear.x", x: x.ptr, count: x.count, analytic: dx.ptr, loss: loss)
        GradCheck.check("linear.w", x: w.ptr, count: w.count, analytic: dw.ptr, loss: loss)
    }

    @Test(arguments: [1, 2]) func rmsNorm(workers: Int) {
        let held = ThreadCount.hold(workers)
        defer { held.release() }
        var rng = RNG(seed: 4)
        let rows = 130, dim = 24  // > 64 rows per worker so the parallel path runs
        let x = GradCheck.randomBuffer(rows * dim, &rng), g = GradCheck.randomBuffer(dim, &rng)
        let r = GradCheck.randomBuffer(rows * dim, &rng), y = FloatBuffer(rows * dim), rstd = FloatBuffer(rows)
        func loss() -> Double {
            RMSNorm.forward(y.ptr, rstd: rstd.ptr, x.ptr, gain: g.ptr, rows: rows, dim: dim, eps: 1e-5)
            return GradCheck.weightedSum(y.ptr, r)
        }
        _ = loss()
        let dx = FloatBuffer(rows * dim), dg = FloatBuffer(dim)
        RMSNorm.backward(dx: dx.ptr, dgain: dg.ptr, dy: r.ptr, x: x.ptr, rstd: rstd.ptr, gain: g.ptr,
                         rows: rows, dim: dim, accumulate: false)
        GradCheck.check("rmsnorm.x", x: x.ptr, count: x.count, analytic: dx.ptr, loss: loss)
        GradCheck.check("rmsnorm.gain", x: g.ptr, count: g.count, analytic: dg.ptr, loss: loss)
        // Forward value: each row has unit RMS before the gain.
        let ones = FloatBuffer([Float](repeating: 1, count: dim))
        RMSNorm.forward(y.ptr, rstd: rstd.ptr, x.ptr, gain: ones.ptr, rows: rows, dim: dim, eps: 0)
        let ms = VectorMath.dot(y.ptr, y.ptr, dim) / Float(dim)
        #expect(abs(ms - 1) < 1e-5)
    }

    @Test func ropeBackwardIsTransposeAndKeepsNorms() {
        var rng = RNG(seed: 5)
        let hd = 8, heads = 3, batch = 2, seq = 5
        let rope = RoPE(headDim: hd, maxSeqLen: 16, theta: 10000)
        let x = GradCheck.randomBuffer(batch * seq * heads * hd, &rng)
        let r = GradCheck.randomBuffer(x.count, &rng)
        let y = FloatBuffer(x.count)
        func loss() -> Double {
            y.copy(from: x); rope.apply(y.ptr, batch: batch, seq: seq, heads: heads)
            return GradCheck.weightedSum(y.ptr, r)
        }
        let dx = FloatBuffer(x.count); dx.copy(from: r)
        rope.apply(dx.ptr, batch: batch, seq: seq, heads: heads, inverse: true)
        GradCheck.check("rope.x", x: x.ptr, count: x.count, analytic: dx.ptr, loss: loss)
        // A rotation keeps each head's norm; position 0 is the identity.
        _ = loss()
        #expect(abs(VectorMath.dot(y.ptr, y.ptr, y.count) - VectorMath.dot(x.ptr, x.ptr, x.count)) < 1e-3)
        for i in 0..<(heads * hd) { #expect(y[i] == x[i]) }
        // Hugging Face rotate_half at position 1: pair (i, i + hd/2) turns by θ^(-2i/hd).
        let v = FloatBuffer(hd); v[0] = 1
        rope.rotate(v.ptr, heads: 1, pos: 1)
        #expect(abs(v[0] - Float(cos(1.0))) < 1e-6 && abs(v[hd / 2] - Float(sin(1.0))) < 1e-6)
    }

    @Test func swiglu() {
        var rng = RNG(seed: 6)
        let n = 37  // not a multiple of 16: exercises the scalar tail
        let g = GradCheck.randomBuffer(n, &rng, scale: 2), u = GradCheck.randomBuffer(n, &rng)
        let r = GradCheck.randomBuffer(n, &rng), h = FloatBuffer(n)
        func loss() -> Double { SwiGLU.forward(h.ptr, gate: g.ptr, up: u.ptr, count: n); return GradCheck.weightedSum(h.ptr, r) }
        let dg = FloatBuffer(n), du = FloatBuffer(n)
        SwiGLU.backward(dgate: dg.ptr, dup: du.ptr, dh: r.ptr, gate: g.ptr, up: u.ptr, count: n)
        GradCheck.check("swiglu.gate", x: g.ptr, count: n, analytic: dg.ptr, loss: loss)
        GradCheck.check("swiglu.up", x: u.ptr, count: n, analytic: du.ptr, loss: loss)
        _ = loss()
        let g0 = Double(g[0])
        #expect(abs(Double(h[0]) - g0 / (1 + Foundation.exp(-g0)) * Double(u[0])) < 1e-5)
    }

    /// The last case is 150 tokens, three blocks of query rows (`CausalAttention.block`).
    @Test(arguments: [(4, 4, 1, 6), (4, 2, 1, 6), (6, 2, 2, 6), (4, 2, 2, 150)])
    func causalAttention(heads: Int, kvHeads: Int, workers: Int, seq: Int) {
        let held = ThreadCount.hold(workers)
        defer { held.release() }
        var rng = RNG(seed: 7)
        let batch = 2, hd = 4
        let qw = heads * hd, kw = kvHeads * hd, n = batch * seq
        let q = GradCheck.randomBuffer(n * qw, &rng), k = GradCheck.randomBuffer(n * kw, &rng)
        let v = GradCheck.randomBuffer(n * kw, &rng), r = GradCheck.randomBuffer(n * qw, &rng)
        let out = FloatBuffer(n * qw), probs = FloatBuffer(batch * heads * seq * seq)
        func loss() -> Double {
            CausalAttention.forward(out: out.ptr, probs: probs.ptr, q: q.ptr, k: k.ptr, v: v.ptr,
                                    batch: batch, seq: seq, heads: heads, kvHeads: kvHeads, headDim: hd)
            return GradCheck.weightedSum(out.ptr, r)
        }
        _ = loss()
        // Causality: probabilities above the diagonal are 0 and each row sums to 1.
        for row in 0..<(batch * heads * seq) {
            let i = row % seq
            var s: Float = 0
            for j in 0..<seq { s += probs[row * seq + j]; if j > i { #expect(probs[row * seq + j] == 0) } }
            #expect(abs(s - 1) < 1e-5)
        }
        let dq = FloatBuffer(q.count), dk = FloatBuffer(k.count), dv = FloatBuffer(v.count)
        CausalAttention.backward(dq: dq.ptr, dk: dk.ptr, dv: dv.ptr, dout: r.ptr, probs: probs.ptr,
                                 q: q.ptr, k: k.ptr, v: v.ptr, batch: batch, seq: seq, heads: heads, kvHeads: kvHeads, headDim: hd)
        GradCheck.check("attn.q", x: q.ptr, count: q.count, analytic: dq.ptr, loss: loss)
        GradCheck.check("attn.k", x: k.ptr, count: k.count, analytic: dk.ptr, loss: loss)
        GradCheck.check("attn.v", x: v.ptr, count: v.count, analytic: dv.ptr, loss: loss)
    }

    /// Attention over packed rows where rows 1 and 3 continue rows 0's first 5 and 3 tokens
    /// (`SharedStart`); the last case spans several query blocks. The shared keys and values get
    /// the gradients of every row that reads them.
    @Test(arguments: [(4, 2, 1, 9), (6, 3, 2, 9), (4, 2, 2, 140)])
    func causalAttentionWithSharedStarts(heads: Int, kvHeads: Int, workers: Int, seq: Int) {
        let held = ThreadCount.hold(workers)
        defer { held.release() }
        var rng = RNG(seed: 8)
        let lengths = [seq, seq - 2, seq - 1, seq - 3]
        let rows = PackedRows(batch: 4, seq: seq, lengths: lengths,
                              shared: [nil, SharedStart(row: 0, length: 5), nil, SharedStart(row: 0, length: seq == 9 ? 3 : 100)])
        let hd = 4, qw = heads * hd, kw = kvHeads * hd, n = rows.count
        let q = GradCheck.randomBuffer(n * qw, &rng), k = GradCheck.randomBuffer(n * kw, &rng)
        let v = GradCheck.randomBuffer(n * kw, &rng), r = GradCheck.randomBuffer(n * qw, &rng)
        let out = FloatBuffer(n * qw), probs = FloatBuffer(4 * heads * seq * seq)
        func loss() -> Double {
            CausalAttention.forward(out: out.ptr, probs: probs.ptr, q: q.ptr, k: k.ptr, v: v.ptr,
                                    rows: rows, heads: heads, kvHeads: kvHeads, headDim: hd)
            return GradCheck.weightedSum(out.ptr, r)
        }
        _ = loss()
        // Each own query's probabilities sum to 1 over the shared start and its own keys up to itself.
        for b in 0..<4 {
            let width = rows.lengths[b]
            for h in 0..<heads {
                for i in 0..<rows.ownLength(b) {
                    let row = probs.ptr + (b * heads + h) * seq * seq + i * width, reach = rows.start(b) + i + 1
                    #expect(abs((0..<reach).reduce(Float(0)) { $0 + row[$1] } - 1) < 1e-5)
                    #expect((reach..<width).allSatisfy { row[$0] == 0 })
                }
            }
        }
        let dq = FloatBuffer(q.count), dk = FloatBuffer(k.count), dv = FloatBuffer(v.count)
        CausalAttention.backward(dq: dq.ptr, dk: dk.ptr, dv: dv.ptr, dout: r.ptr, probs: probs.ptr,
                                 q: q.ptr, k: k.ptr, v: v.ptr, rows: rows, heads: heads, kvHeads: kvHeads, headDim: hd)
        GradCheck.check("attn.q", x: q.ptr, count: q.count, analytic: dq.ptr, loss: loss)
        GradCheck.check("attn.k", x: k.ptr, count: k.count, analytic: dk.ptr, loss: loss)
        GradCheck.check("attn.v", x: v.ptr, count: v.count, analytic: dv.ptr, loss: loss)
        // The shared keys (row 0's first 5) are checked entry by entry too: the random entries
        // above may miss them.
        GradCheck.check("attn.k shared", x: k.ptr, count: 5 * kw, analytic: dk.ptr, entries: 12, loss: loss)
    }

    @Test func vectorExpMatchesLibm() {
        var worst: Float = 0
        var x: Float = -80
        while x < 80 {
            let e = VectorMath.exp(x), ref = Float(Foundation.exp(Double(x)))
            worst = max(worst, abs(e - ref) / ref)
            x += 0.37
        }
        #expect(worst < 5e-7)
    }
}

import Foundation
