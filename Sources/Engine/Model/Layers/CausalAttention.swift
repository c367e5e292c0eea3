/// Causal multi-head attention over a training batch, with grouped key/value heads: query head
/// h reads key/value head h / (heads / kvHeads). Q, K and V stay in the projections' row layout
/// ([batch·seq, heads·headDim]); each head is a strided view handed to BLAS, so nothing is
/// transposed or copied.
///
/// Every product runs over blocks of `block` query rows: rows i0..<i1 attend to keys 0..<i1
/// only, so the masked upper triangle of each [seq, seq] square is mostly skipped (about a
/// third of the arithmetic at 200 tokens; nearly half for long sequences).
public enum CausalAttention {
    static let block = 64

    /// (first row, end row) of each query block of a `seq`-token head.
    @inline(__always)
    static func blocks(_ seq: Int) -> [(Int, Int)] {
        stride(from: 0, to: seq, by: block).map { ($0, min(seq, $0 + block)) }
    }

    /// out[b, t, h] = softmax(q·kᵀ/√d, causal) · v. Saves the probabilities, [batch, heads, seq, seq].
    public static func forward(out: UnsafeMutablePointer<Float>, probs: UnsafeMutablePointer<Float>,
                               q: UnsafePointer<Float>, k: UnsafePointer<Float>, v: UnsafePointer<Float>,
                               batch: Int, seq: Int, heads: Int, kvHeads: Int, headDim: Int) {
        forward(out: out, probs: probs, q: q, k: k, v: v, rows: PackedRows(batch: batch, seq: seq),
                heads: heads, kvHeads: kvHeads, headDim: headDim)
    }

    /// `forward` over packed rows: sequence b's own tokens are rows offsets[b] ..< offsets[b] +
    /// ownLength(b) of q, k, v and out, and with a shared start (`SharedStart`) its queries also
    /// read the first start(b) keys and values of the row it shares them with. Its head h's
    /// probabilities fill the first ownLength(b) · lengths[b] floats of slot (b·heads + h) of
    /// `probs` (slots seq² apart): one row per own query, over the shared keys then its own.
    static func forward(out: UnsafeMutablePointer<Float>, probs: UnsafeMutablePointer<Float>,
                        q: UnsafePointer<Float>, k: UnsafePointer<Float>, v: UnsafePointer<Float>,
                        rows: PackedRows, heads: Int, kvHeads: Int, headDim: Int) {
        let qw = heads * headDim, kw = kvHeads * headDim, group = heads / kvHeads, slot = rows.seq * rows.seq
        Parallel.forEach(rows.batch * heads) { bh in
            let b = bh / heads, h = bh % heads, g = h / group, s = Span(rows, b)
            let p = probs + bh * slot
            scores(p, q: q + s.own * qw + h * headDim, k: k + g * headDim, s, qw: qw, kw: kw, headDim: headDim)
            weigh(out + s.own * qw + h * headDim, p: p, v: v + g * headDim, s, qw: qw, kw: kw, headDim: headDim)
        }
    }

    /// Where one sequence's rows sit: its own `n` from packed row `own`, after `start` shared
    /// ones from packed row `shared`. Its probabilities are rows of `width` = start + n.
    private struct Span {
        let own: Int, n: Int, shared: Int, start: Int
        var width: Int { start + n }
        init(_ rows: PackedRows, _ b: Int) {
            own = rows.offsets[b]
            n = rows.ownLength(b)
            start = rows.start(b)
            shared = rows.shared[b].map { rows.offsets[$0.row] } ?? 0
        }
    }

    /// out = P · V from the probabilities `forward` (or `probabilities`) left: the attention's
    /// output again, exactly as `forward` computed it, for a backward that did not keep it.
    static func output(_ out: UnsafeMutablePointer<Float>, probs: UnsafePointer<Float>, v: UnsafePointer<Float>,
                       rows: PackedRows, heads: Int, kvHeads: Int, headDim: Int) {
        let qw = heads * headDim, kw = kvHeads * headDim, group = heads / kvHeads, slot = rows.seq * rows.seq
        Parallel.forEach(rows.batch * heads) { bh in
            let b = bh / heads, h = bh % heads, g = h / group, s = Span(rows, b)
            weigh(out + s.own * qw + h * headDim, p: probs + bh * slot, v: v + g * headDim, s, qw: qw, kw: kw, headDim: headDim)
        }
    }

    /// One head's P · V. Own query i reaches the shared start and own keys 0...i, so block rows
    /// i0..<i1 reach own keys 0..<i1 only. `v` is the head's column of the whole packed batch.
    @inline(__always)
    private static func weigh(_ out: UnsafeMutablePointer<Float>, p: UnsafePointer<Float>, v: UnsafePointer<Float>,
                              _ s: Span, qw: Int, kw: Int, headDim: Int) {
        let ld = s.width
        for (i0, i1) in blocks(s.n) {
            if s.start > 0 {
                BLAS.gemm(transA: false, transB: false, m: i1 - i0, n: headDim, k: s.start,
                          a: p + i0 * ld, lda: ld, b: v + s.shared * kw, ldb: kw, c: out + i0 * qw, ldc: qw)
            }
            BLAS.gemm(transA: false, transB: false, m: i1 - i0, n: headDim, k: i1,
                      a: p + i0 * ld + s.start, lda: ld, b: v + s.own * kw, ldb: kw, beta: s.start > 0 ? 1 : 0,
                      c: out + i0 * qw, ldc: qw)
        }
    }

    /// The probabilities alone, exactly as `forward` computes them: for a backward that did not
    /// keep them (recomputing one layer's costs less than holding every layer's).
    public static func probabilities(_ probs: UnsafeMutablePointer<Float>, q: UnsafePointer<Float>, k: UnsafePointer<Float>,
                                     batch: Int, seq: Int, heads: Int, kvHeads: Int, headDim: Int) {
        probabilities(probs, q: q, k: k, rows: PackedRows(batch: batch, seq: seq), heads: heads, kvHeads: kvHeads, headDim: headDim)
    }

    static func probabilities(_ probs: UnsafeMutablePointer<Float>, q: UnsafePointer<Float>, k: UnsafePointer<Float>,
                              rows: PackedRows, heads: Int, kvHeads: Int, headDim: Int) {
        let qw = heads * headDim, kw = kvHeads * headDim, group = heads / kvHeads, slot = rows.seq * rows.seq
        Parallel.forEach(rows.batch * heads) { bh in
            let b = bh / heads, h = bh % heads, g = h / group, s = Span(rows, b)
            scores(probs + bh * slot, q: q + s.own * qw + h * headDim, k: k + g * headDim, s, qw: qw, kw: kw, headDim: headDim)
        }
    }

    /// One head's causal softmax(q·kᵀ/√d) into p [n, width], the masked entries zero. `k` is
    /// the head's column of the whole packed batch.
    @inline(__always)
    private static func scores(_ p: UnsafeMutablePointer<Float>, q: UnsafePointer<Float>, k: UnsafePointer<Float>,
                               _ s: Span, qw: Int, kw: Int, headDim: Int) {
        let scale = 1 / Float(headDim).squareRoot(), ld = s.width
        for (i0, i1) in blocks(s.n) {
            if s.start > 0 {
                BLAS.gemm(transA: false, transB: true, m: i1 - i0, n: s.start, k: headDim, alpha: scale,
                          a: q + i0 * qw, lda: qw, b: k + s.shared * kw, ldb: kw, c: p + i0 * ld, ldc: ld)
            }
            BLAS.gemm(transA: false, transB: true, m: i1 - i0, n: i1, k: headDim, alpha: scale,
                      a: q + i0 * qw, lda: qw, b: k + s.own * kw, ldb: kw, c: p + i0 * ld + s.start, ldc: ld)
        }
        for i in 0..<s.n {
            let row = p + i * ld, reach = s.start + i + 1
            VectorMath.softmax(row, reach)
            (row + reach).update(repeating: 0, count: ld - reach)
        }
    }

    /// Writes dq and dk, dv (overwriting). Consumes `probs`: they are replaced by the score
    /// gradients, since nothing needs them after this layer's backward.
    public static func backward(dq: UnsafeMutablePointer<Float>, dk: UnsafeMutablePointer<Float>,
                                dv: UnsafeMutablePointer<Float>, dout: UnsafePointer<Float>,
                                probs: UnsafeMutablePointer<Float>,
                                q: UnsafePointer<Float>, k: UnsafePointer<Float>, v: UnsafePointer<Float>,
                                batch: Int, seq: Int, heads: Int, kvHeads: Int, headDim: Int) {
        backward(dq: dq, dk: dk, dv: dv, dout: dout, probs: probs, q: q, k: k, v: v,
                 rows: PackedRows(batch: batch, seq: seq), heads: heads, kvHeads: kvHeads, headDim: headDim)
    }

    /// `backward` over packed rows, the layout of the packed `forward`.
    static func backward(dq: UnsafeMutablePointer<Float>, dk: UnsafeMutablePointer<Float>,
                         dv: UnsafeMutablePointer<Float>, dout: UnsafePointer<Float>,
                         probs: UnsafeMutablePointer<Float>,
                         q: UnsafePointer<Float>, k: UnsafePointer<Float>, v: UnsafePointer<Float>,
                         rows: PackedRows, heads: Int, kvHeads: Int, headDim: Int) {
        let qw = heads * headDim, kw = kvHeads * headDim, group = heads / kvHeads, slot = rows.seq * rows.seq
        let scale = 1 / Float(headDim).squareRoot()
        // A shared start's key and value gradients from the rows that share it: each row's into
        // scratch of its own ([start, kvHeads·headDim] each, keys then values), added into the
        // start's rows once every task is done, row by row, so the sum's order is fixed.
        var scratchAt = [Int](repeating: 0, count: rows.batch), scratchFloats = 0
        for b in 0..<rows.batch {
            scratchAt[b] = scratchFloats
            scratchFloats += 2 * rows.start(b) * kw
        }
        let scratch = scratchFloats > 0 ? FloatBuffer(scratchFloats) : nil
        // One task per (row, kv head): the query heads sharing a kv head add into the same dk/dv
        // rows, so they must run on one worker.
        Parallel.forEach(rows.batch * kvHeads) { bg in
            let b = bg / kvHeads, g = bg % kvHeads, s = Span(rows, b), ld = s.width
            let kg = k + g * headDim, vg = v + g * headDim
            let dkOwn = dk + s.own * kw + g * headDim, dvOwn = dv + s.own * kw + g * headDim
            for t in 0..<s.n {
                (dkOwn + t * kw).update(repeating: 0, count: headDim)
                (dvOwn + t * kw).update(repeating: 0, count: headDim)
            }
            var dkStart = dkOwn, dvStart = dvOwn  // unused without a shared start
            if let scratch, s.start > 0 {
                dkStart = scratch.ptr + scratchAt[b] + g * headDim
                dvStart = dkStart + s.start * kw
                for t in 0..<s.start {
                    (dkStart + t * kw).update(repeating: 0, count: headDim)
                    (dvStart + t * kw).update(repeating: 0, count: headDim)
                }
            }
            let dp = FloatBuffer(s.n * ld)
            for h in (g * group)..<((g + 1) * group) {
                let p = probs + (b * heads + h) * slot
                let qb = q + s.own * qw + h * headDim
                let dob = dout + s.own * qw + h * headDim
                // dP = dO · Vᵀ ; dV += Pᵀ · dO (block rows i0..<i1 reach own keys 0..<i1 only)
                for (i0, i1) in blocks(s.n) {
                    if s.start > 0 {
                        BLAS.gemm(transA: false, transB: true, m: i1 - i0, n: s.start, k: headDim,
                                  a: dob + i0 * qw, lda: qw, b: vg + s.shared * kw, ldb: kw, c: dp.ptr + i0 * ld, ldc: ld)
                        BLAS.gemm(transA: true, transB: false, m: s.start, n: headDim, k: i1 - i0,
                                  a: p + i0 * ld, lda: ld, b: dob + i0 * qw, ldb: qw, beta: 1, c: dvStart, ldc: kw)
                    }
                    BLAS.gemm(transA: false, transB: true, m: i1 - i0, n: i1, k: headDim,
                              a: dob + i0 * qw, lda: qw, b: vg + s.own * kw, ldb: kw, c: dp.ptr + i0 * ld + s.start, ldc: ld)
                    BLAS.gemm(transA: true, transB: false, m: i1, n: headDim, k: i1 - i0,
                              a: p + i0 * ld + s.start, lda: ld, b: dob + i0 * qw, ldb: qw, beta: 1, c: dvOwn, ldc: kw)
                }
                // dS = P ⊙ (dP − rowsum(P ⊙ dP)) · scale, written over P.
                for i in 0..<s.n {
                    let pr = p + i * ld, dr = dp.ptr + i * ld, reach = s.start + i + 1
                    let d = VectorMath.dot(pr, dr, reach)
                    for j in 0..<reach { pr[j] = pr[j] * (dr[j] - d) * scale }
                }
                // dQ = dS · K ; dK += dSᵀ · Q
                let dqb = dq + s.own * qw + h * headDim
                for (i0, i1) in blocks(s.n) {
                    if s.start > 0 {
                        BLAS.gemm(transA: false, transB: false, m: i1 - i0, n: headDim, k: s.start,
                                  a: p + i0 * ld, lda: ld, b: kg + s.shared * kw, ldb: kw, c: dqb + i0 * qw, ldc: qw)
                        BLAS.gemm(transA: true, transB: false, m: s.start, n: headDim, k: i1 - i0,
                                  a: p + i0 * ld, lda: ld, b: qb + i0 * qw, ldb: qw, beta: 1, c: dkStart, ldc: kw)
                    }
                    BLAS.gemm(transA: false, transB: false, m: i1 - i0, n: headDim, k: i1,
                              a: p + i0 * ld + s.start, lda: ld, b: kg + s.own * kw, ldb: kw, beta: s.start > 0 ? 1 : 0,
                              c: dqb + i0 * qw, ldc: qw)
                    BLAS.gemm(transA: true, transB: false, m: i1, n: headDim, k: i1 - i0,
                              a: p + i0 * ld + s.start, lda: ld, b: qb + i0 * qw, ldb: qw, beta: 1, c: dkOwn, ldc: kw)
                }
            }
        }
        // Each shared start's gradients from its rows, in row order.
        if let scratch {
            for b in 0..<rows.batch {
                guard let shared = rows.shared[b] else { continue }
                let n = rows.start(b) * kw, src = rows.offsets[shared.row] * kw, at = scratch.ptr + scratchAt[b]
                VectorMath.axpy(dk + src, at, n, 1)
                VectorMath.axpy(dv + src, at + n, n, 1)
            }
        }
    }
}
