import Foundation

/// The inference forward pass over a KV cache. One call appends tokens to any rows of the
/// cache (a whole prompt per row for prefill, one token per row for decoding) and returns the
/// logits after each row's last new token. Nothing is saved for a backward pass.
public final class IncrementalForward {
    public let model: Transformer
    var c: ModelConfig { model.config }

    public init(model: Transformer) { self.model = model }

    public struct Token {
        public var row: Int
        public var token: Int32
        public init(row: Int, token: Int32) { self.row = row; self.token = token }
    }

    /// Appends `tokens` (in order; a row's tokens must be in sequence order) to `cache` and
    /// returns logits [rowsWithNewTokens, vocab] for the last new token of each row, in the
    /// order of `rows` of the result.
    public func append(_ tokens: [Token], to cache: KVCache) -> (rows: [Int], logits: FloatBuffer) {
        let m = tokens.count
        let c = self.c, D = c.dim, qw = c.heads * c.headDim, kw = c.kvDim
        let group = c.heads / c.kvHeads, hd = c.headDim
        let params = model.params
        // Position of each token within its row.
        var pos = [Int](repeating: 0, count: m)
        var next = cache.lengths
        var lastIndex = [Int: Int]()
        for (i, t) in tokens.enumerated() {
            precondition(t.row >= 0 && t.row < cache.batch, "row \(t.row) outside the cache's batch \(cache.batch)")
            precondition(next[t.row] < cache.capacity, "row \(t.row) is full: the cache holds \(cache.capacity) positions")
            precondition(t.token >= 0 && Int(t.token) < c.vocabSize, "token id \(t.token) outside vocabulary \(c.vocabSize)")
            pos[i] = next[t.row]
            next[t.row] += 1
            lastIndex[t.row] = i
        }
        let x = FloatBuffer(m * D), xn = FloatBuffer(m * D), rstd = FloatBuffer(m)
        let q = FloatBuffer(m * qw), k = FloatBuffer(m * kw), v = FloatBuffer(m * kw)
        let attn = FloatBuffer(m * qw)
        let gate = FloatBuffer(m * c.ffnDim), up = FloatBuffer(m * c.ffnDim), h = FloatBuffer(m * c.ffnDim)
        let emb = params.value("model.embed_tokens.weight")
        for i in 0..<m { (x.ptr + i * D).update(from: emb + Int(tokens[i].token) * D, count: D) }
        let scale = 1 / Float(hd).squareRoot()

        for l in 0..<c.layers {
            let p = "model.layers.\(l)."
            RMSNorm.forward(xn.ptr, rstd: rstd.ptr, x.ptr, gain: params.value(p + "input_layernorm.weight"),
                            rows: m, dim: D, eps: c.normEps)
            Linear.forward(q.ptr, xn.ptr, params.value(p + "self_attn.q_proj.weight"), rows: m, inDim: D, outDim: qw)
            Linear.forward(k.ptr, xn.ptr, params.value(p + "self_attn.k_proj.weight"), rows: m, inDim: D, outDim: kw)
            Linear.forward(v.ptr, xn.ptr, params.value(p + "self_attn.v_proj.weight"), rows: m, inDim: D, outDim: kw)
            for i in 0..<m {
                model.rope.rotate(q.ptr + i * qw, heads: c.heads, pos: pos[i])
                model.rope.rotate(k.ptr + i * kw, heads: c.kvHeads, pos: pos[i])
                cache.keyRow(layer: l, row: tokens[i].row, pos: pos[i]).update(from: k.ptr + i * kw, count: kw)
                cache.valueRow(layer: l, row: tokens[i].row, pos: pos[i]).update(from: v.ptr + i * kw, count: kw)
            }
            // Every new token's keys are in the cache before any token attends, so a prompt's
            // tokens see each other causally within one call.
            Parallel.forEach(m) { i in
                let row = tokens[i].row, span = pos[i] + 1
                let scores = FloatBuffer(group * span)
                for g in 0..<c.kvHeads {
                    let qg = q.ptr + i * qw + g * group * hd
                    BLAS.gemm(transA: false, transB: true, m: group, n: span, k: hd, alpha: scale,
                              a: qg, lda: hd, b: cache.keyRow(layer: l, row: row, pos: 0) + g * hd, ldb: kw,
                              c: scores.ptr, ldc: span)
                    for r in 0..<group {
                        let s = scores.ptr + r * span
                        let mx = VectorMath.max(s, span)
                        let sum = VectorMath.expShiftSum(s, span, shift: mx)
                        VectorMath.scale(s, span, by: 1 / sum)
                    }
                    BLAS.gemm(transA: false, transB: false, m: group, n: hd, k: span,
                              a: scores.ptr, lda: span, b: cache.valueRow(layer: l, row: row, pos: 0) + g * hd, ldb: kw,
                              c: attn.ptr + i * qw + g * group * hd, ldc: hd)
                }
            }
            BLAS.gemm(transA: false, transB: true, m: m, n: D, k: qw, a: attn.ptr, lda: qw,
                      b: params.value(p + "self_attn.o_proj.weight"), ldb: qw, beta: 1, c: x.ptr, ldc: D)
            RMSNorm.forward(xn.ptr, rstd: rstd.ptr, x.ptr, gain: params.value(p + "post_attention_layernorm.weight"),
                            rows: m, dim: D, eps: c.normEps)
            Linear.forward(gate.ptr, xn.ptr, params.value(p + "mlp.gate_proj.weight"), rows: m, inDim: D, outDim: c.ffnDim)
            Linear.forward(up.ptr, xn.ptr, params.value(p + "mlp.up_proj.weight"), rows: m, inDim: D, outDim: c.ffnDim)
            SwiGLU.forward(h.ptr, gate: gate.ptr, up: up.ptr, count: m * c.ffnDim)
            BLAS.gemm(transA: false, transB: true, m: m, n: D, k: c.ffnDim, a: h.ptr, lda: c.ffnDim,
                      b: params.value(p + "mlp.down_proj.weight"), ldb: c.ffnDim, beta: 1, c: x.ptr, ldc: D)
        }
        cache.lengths = next
        // Logits only where a row's next token will be chosen.
        let rows = lastIndex.keys.sorted()
        let last = FloatBuffer(rows.count * D)
        for (r, row) in rows.enumerated() {
            (last.ptr + r * D).update(from: x.ptr + lastIndex[row]! * D, count: D)
        }
        let lastNorm = FloatBuffer(rows.count * D), lastRstd = FloatBuffer(rows.count)
        RMSNorm.forward(lastNorm.ptr, rstd: lastRstd.ptr, last.ptr, gain: params.value("model.norm.weight"),
                        rows: rows.count, dim: D, eps: c.normEps)
        let logits = FloatBuffer(rows.count * c.vocabSize)
        Linear.forward(logits.ptr, lastNorm.ptr, params.value(model.headWeightName), rows: rows.count, inDim: D, outDim: c.vocabSize)
        return (rows, logits)
    }
}
