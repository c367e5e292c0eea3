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

    /// `forward` over packed rows: sequence b is rows offsets[b] ..< offsets[b] + lengths[b] of
    /// q, k, v and out. Its head h's probabilities fill the first lengths[b]² floats of slot
    /// (b·heads + h) of `probs` (slots seq² apart), as a [lengths[b], lengths[b]] square.
    static func forward(out: UnsafeMutablePointer<Float>, probs: UnsafeMutablePointer<Float>,
                        q: UnsafePointer<Float>, k: UnsafePointer<Float>, v: UnsafePointer<Float>,
                        rows: PackedRows, heads: Int, kvHeads: Int, headDim: Int) {
        let qw = heads * headDim, kw = kvHeads * headDim, group = heads / kvHeads, slot = rows.seq * rows.seq
        Parallel.forEach(rows.batch * heads) { bh in
            let b = bh / heads, h = bh % heads, g = h / group
            let len = rows.lengths[b], o = rows.offsets[b]
            let p = probs + bh * slot
            scores(p, q: q + o * qw + h * headDim, k: k + o * kw + g * headDim, seq: len, qw: qw, kw: kw, headDim: headDim)
            weigh(out + o * qw + h * headDim, p: p, v: v + o * kw + g * headDim, seq: len, qw: qw, kw: kw, headDim: headDim)
        }
    }

    /// out = P · V from the probabilities `forward` (or `probabilities`) left: the attention's
    /// output again, exactly as `forward` computed it, for a backward that did not keep it.
    static func output(_ out: UnsafeMutablePointer<Float>, probs: UnsafePointer<Float>, v: UnsafePointer<Float>,
                       rows: PackedRows, heads: Int, kvHeads: Int, headDim: Int) {
        let qw = heads * headDim, kw = kvHeads * headDim, group = heads / kvHeads, slot = rows.seq * rows.seq
        Parallel.forEach(rows.batch * heads) { bh in
            let b = bh / heads, h = bh % heads, g = h / group, o = rows.offsets[b]
            weigh(out + o * qw + h * headDim, p: probs + bh * slot, v: v + o * kw + g * headDim,
                  seq: rows.lengths[b], qw: qw, kw: kw, headDim: headDim)
        }
    }

    /// One head's P · V, P [seq, seq] causal: block rows i0..<i1 reach keys 0..<i1 only.
    @inline(__always)
    private static func weigh(_ out: UnsafeMutablePointer<Float>, p: UnsafePointer<Float>, v: UnsafePointer<Float>,
                              seq: Int, qw: Int, kw: Int, headDim: Int) {
        for (i0, i1) in blocks(seq) {
            BLAS.gemm(transA: false, transB: false, m: i1 - i0, n: headDim, k: i1,
                      a: p + i0 * seq, lda: seq, b: v, ldb: kw, c: out + i0 * qw, ldc: qw)
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
            let b = bh / heads, h = bh % heads, g = h / group, o = rows.offsets[b]
            scores(probs + bh * slot, q: q + o * qw + h * headDim, k: k + o * kw + g * headDim,
                   seq: rows.lengths[b], qw: qw, kw: kw, headDim: headDim)
        }
    }

    /// One head's causal softmax(q·kᵀ/√d) into p [seq, seq], the masked entries zero.
    @inline(__always)
    private static func scores(_ p: UnsafeMutablePointer<Float>, q: UnsafePointer<Float>, k: UnsafePointer<Float>,
                               seq: Int, qw: Int, kw: Int, headDim: Int) {
        let scale = 1 / Float(headDim).squareRoot()
        for (i0, i1) in blocks(seq) {
            BLAS.gemm(transA: false, transB: true, m: i1 - i0, n: i1, k: headDim, alpha: scale,
                      a: q + i0 * qw, lda: qw, b: k, ldb: kw, c: p + i0 * seq, ldc: seq)
        }
        for i in 0..<seq {
            let row = p + i * seq
            VectorMath.softmax(row, i + 1)
            (row + i + 1).update(repeating: 0, count: seq - i - 1)
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
        // One task per (batch row, kv head): the query heads sharing a kv head add into the
        // same dk/dv slice, so they must run on one worker.
        Parallel.forEach(rows.batch * kvHeads) { bg in
            let b = bg / kvHeads, g = bg % kvHeads
            let seq = rows.lengths[b], o = rows.offsets[b]
            let kb = k + o * kw + g * headDim, vb = v + o * kw + g * headDim
            let dkb = dk + o * kw + g * headDim, dvb = dv + o * kw + g * headDim
            for t in 0..<seq {
                (dkb + t * kw).update(repeating: 0, count: headDim)
                (dvb + t * kw).update(repeating: 0, count: headDim)
            }
            let dp = FloatBuffer(seq * seq)
            for h in (g * group)..<((g + 1) * group) {
                let p = probs + (b * heads + h) * slot
                let qb = q + o * qw + h * headDim
                let dob = dout + o * qw + h * headDim
                // dP = dO · Vᵀ ; dV += Pᵀ · dO (block rows i0..<i1 reach keys 0..<i1 only)
                for (i0, i1) in blocks(seq) {
                    BLAS.gemm(transA: false, transB: true, m: i1 - i0, n: i1, k: headDim,
                              a: dob + i0 * qw, lda: qw, b: vb, ldb: kw, c: dp.ptr + i0 * seq, ldc: seq)
                    BLAS.gemm(transA: true, transB: false, m: i1, n: headDim, k: i1 - i0,
                              a: p + i0 * seq, lda: seq, b: dob + i0 * qw, ldb: qw, beta: 1, c: dvb, ldc: kw)
                }
                // dS = P ⊙ (dP − rowsum(P ⊙ dP)) · scale, written over P.
                for i in 0..<seq {
                    let pr = p + i * seq, dr = dp.ptr + i * seq
                    let d = VectorMath.dot(pr, dr, i + 1)
                    for j in 0...i { pr[j] = pr[j] * (dr[j] - d) * scale }
                }
                // dQ = dS · K ; dK += dSᵀ · Q
                let dqb = dq + o * qw + h * headDim
                for (i0, i1) in blocks(seq) {
                    BLAS.gemm(transA: false, transB: false, m: i1 - i0, n: headDim, k: i1,
                              a: p + i0 * seq, lda: seq, b: kb, ldb: kw, c: dqb + i0 * qw, ldc: qw)
                    BLAS.gemm(transA: true, transB: false, m: i1, n: headDim, k: i1 - i0,
                              a: p + i0 * seq, lda: seq, b: qb + i0 * qw, ldb: qw, beta: 1, c: dkb, ldc: kw)
                }
            }
        }
    }
}
