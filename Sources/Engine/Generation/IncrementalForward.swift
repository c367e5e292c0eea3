import VectorKernels
import Foundation

/// The inference forward pass over a KV cache. One call appends tokens to any rows of the
/// cache (a whole prompt per row for prefill, one token per row for decoding) and returns the
/// logits after each row's last new token. Nothing is saved for a backward pass.
///
/// Decoding is a long run of small calls (one token for each active row), so the pass is built
/// for that: weight pointers are looked up once, scratch buffers live in the instance and only
/// grow, the projections that read the same input run as one product (q/k/v and gate/up are
/// adjacent in the parameter store), and attention works per run of consecutive tokens of a row
/// and kv head over that head's contiguous keys and values (see `attention`), with no
/// allocation per token.
public final class IncrementalForward {
    public let model: Transformer
    var c: ModelConfig { model.config }

    /// The model's weights, and per layer whether its products can run fused: q, k and v
    /// adjacent in memory (one [qw + 2·kw, dim] matrix), and gate and up (one [2·ffn, dim]).
    let weights: ModelTensors
    let qkvFused: [Bool], gateUpFused: [Bool]
    var layers: [ModelTensors.Layer] { weights.layers }
    var embed: UnsafeMutablePointer<Float> { weights.embed }
    var finalNorm: UnsafeMutablePointer<Float> { weights.finalNorm }
    var head: UnsafeMutablePointer<Float> { weights.head }

    /// Scratch for `tokenCapacity` tokens; grown (never shrunk) by `reserve`.
    private var tokenCapacity = 0
    private var x = FloatBuffer(0), xn = FloatBuffer(0), rstd = FloatBuffer(0)
    private var qkv = FloatBuffer(0), attn = FloatBuffer(0), gateUp = FloatBuffer(0), h = FloatBuffer(0)
    /// What `append` returns; grown, never shrunk.
    private var logits = FloatBuffer(0)
    /// x·Aᵀ of one adapter, for the model's LoRA adapters when it has them.
    private var loraU = FloatBuffer(0)
    /// Attention scores, one [maxRun, positions] slab per parallel chunk.
    private var scores = FloatBuffer(0)
    private var scoreSlab = 0
    /// Transposed products of up to `transposedRows` rows, [widest output, transposedRows].
    private let transposed: FloatBuffer
    private var pos: [Int] = []
    /// (first token, length) of each run of consecutive positions of one row in the current call.
    private var runs: [(start: Int, count: Int)] = []
    static let maxRun = 64
    private var lastIndex: [Int] = []

    /// Whether decoding steps read the model's int8 copy when it holds one (`Transformer.holdWeightsInInt8`).
    let sampling: Bool
    /// Whether this call's products read it: a decoding step (one token per row) of a sampling
    /// pass. A call with a prompt in it runs in bf16 whatever its size, so a row's prompt is
    /// computed alike whatever other rows share the call.
    private var readsInt8 = false

    /// `sampling` false: the products are the training forward's (bf16 rather than int8), for a
    /// continuation whose states must be the training forward's (CARFT's annotated CoTs).
    public init(model: Transformer, sampling: Bool = true) {
        self.model = model
        self.sampling = sampling
        let c = model.config
        let qw = c.heads * c.headDim, kw = c.kvDim, D = c.dim
        weights = model.weights
        qkvFused = weights.layers.map { $0.k == $0.q + qw * D && $0.v == $0.k + kw * D }
        gateUpFused = weights.layers.map { $0.up == $0.gate + c.ffnDim * D }
        transposed = FloatBuffer(max(qw + 2 * kw, 2 * c.ffnDim, c.dim, c.vocabSize) * Self.transposedRows)
    }

    public struct Token {
        public var row: Int
        public var token: Int32
        public init(row: Int, token: Int32) { self.row = row; self.token = token }
    }

    private func reserve(tokens m: Int, positions: Int) {
        let c = self.c, qw = c.heads * c.headDim
        if m > tokenCapacity {
            // Decoding calls have at most `batch` tokens; a prefill call sizes the buffers once.
            let n = m
            x = FloatBuffer(n * c.dim); xn = FloatBuffer(n * c.dim); rstd = FloatBuffer(n)
            qkv = FloatBuffer(n * (qw + 2 * c.kvDim)); attn = FloatBuffer(n * qw)
            gateUp = FloatBuffer(n * 2 * c.ffnDim); h = FloatBuffer(n * c.ffnDim)
            tokenCapacity = n
        }
        if let r = model.adapters?.config.rank, loraU.count < m * r { loraU = FloatBuffer(m * r) }
        let slab = Self.maxRun * positions
        if slab > scoreSlab || scores.count < Parallel.workers * slab {
            scoreSlab = max(slab, scoreSlab)
            scores = FloatBuffer(Parallel.workers * scoreSlab)
        }
    }

    /// Appends `tokens` (in order; a row's tokens must be in sequence order) to `cache` and
    /// returns logits [rowsWithNewTokens, vocab] for the last new token of each row, in the
    /// order of `rows` of the result (ascending). The logits are this instance's scratch, valid
    /// until its next call: a 64-row decoding step's are 12 MB on SmolLM2, and a fresh buffer
    /// per step was paged in and zeroed every time (~5% of a batched rollout).
    public func append(_ tokens: [Token], to cache: KVCache) -> (rows: [Int], logits: FloatBuffer) {
        trunk(tokens, cache)
        let c = self.c, D = c.dim, x = x.ptr, xn = xn.ptr, rstd = rstd.ptr
        // Logits only where a row's next token will be chosen: gather those rows' hidden states
        // (in ascending row order) into the front of xn, normalise and project.
        var rows: [Int] = []
        rows.reserveCapacity(min(tokens.count, cache.batch))
        for row in 0..<cache.batch where lastIndex[row] >= 0 {
            (xn + rows.count * D).update(from: x + lastIndex[row] * D, count: D)
            rows.append(row)
            lastIndex[row] = -1
        }
        // In place is safe: each row reads its own values before writing them.
        RMSNorm.forward(xn, rstd: rstd, xn, gain: finalNorm, rows: rows.count, dim: D, eps: c.normEps)
        if logits.count < rows.count * c.vocabSize { logits = FloatBuffer(rows.count * c.vocabSize) }
        project(logits.ptr, xn, head, rows: rows.count, inDim: D, outDim: c.vocabSize)
        return (rows, logits)
    }

    /// Appends `tokens` (as `append`) and writes every new token's final hidden state (after the
    /// last norm, what a value head reads) to `states`, [tokens.count, dim] in the order given.
    /// No logits: a teacher-forced continuation needs the states alone.
    public func appendStates(_ tokens: [Token], to cache: KVCache, into states: UnsafeMutablePointer<Float>) {
        trunk(tokens, cache)
        for i in 0..<tokens.count { lastIndex[tokens[i].row] = -1 }
        RMSNorm.forward(states, rstd: rstd.ptr, x.ptr, gain: finalNorm, rows: tokens.count, dim: c.dim, eps: c.normEps)
    }

    /// The layers over `tokens`: their keys and values go into `cache`, each token's last
    /// residual stream is left in `x`, and `lastIndex[row]` is the row's last token in `tokens`.
    private func trunk(_ tokens: [Token], _ cache: KVCache) {
        let m = tokens.count
        let c = self.c, D = c.dim, hd = c.headDim, qw = c.heads * hd, kw = c.kvDim, F = c.ffnDim
        let qkvW = qw + 2 * kw
        // Position of each token within its row.
        if pos.count < m { pos = [Int](repeating: 0, count: m) }
        if lastIndex.count != cache.batch { lastIndex = [Int](repeating: -1, count: cache.batch) }
        var next = cache.lengths
        for (i, t) in tokens.enumerated() {
            precondition(t.row >= 0 && t.row < cache.batch, "row \(t.row) outside the cache's batch \(cache.batch)")
            precondition(next[t.row] < cache.capacity, "row \(t.row) is full: the cache holds \(cache.capacity) positions")
            precondition(t.token >= 0 && Int(t.token) < c.vocabSize, "token id \(t.token) outside vocabulary \(c.vocabSize)")
            pos[i] = next[t.row]
            next[t.row] += 1
            lastIndex[t.row] = i
        }
        // Runs of consecutive positions of one row (a prompt in prefill, one token in decoding),
        // at most `maxRun` long so the score scratch stays small.
        runs.removeAll(keepingCapacity: true)
        var i = 0
        while i < m {
            var j = i + 1
            while j < m && j - i < Self.maxRun && tokens[j].row == tokens[i].row && pos[j] == pos[j - 1] + 1 { j += 1 }
            runs.append((i, j - i))
            i = j
        }
        readsInt8 = sampling && runs.count == m
        reserve(tokens: m, positions: cache.capacity)
        let x = x.ptr, xn = xn.ptr, rstd = rstd.ptr, qkv = qkv.ptr, attn = attn.ptr
        let gateUp = gateUp.ptr, h = h.ptr
        for i in 0..<m { (x + i * D).update(from: embed + Int(tokens[i].token) * D, count: D) }

        let lora = model.activeAdapters, u = loraU.ptr
        for l in 0..<c.layers {
            let w = layers[l]
            // y += s·(x·Aᵀ)·Bᵀ where layer l has an adapter on `t` (rows of y `ldy` apart).
            func adapt(_ t: LoRAConfig.Target, _ y: UnsafeMutablePointer<Float>, ldy: Int, _ input: UnsafePointer<Float>) {
                guard let lora, let p = lora.layers[l][t] else { return }
                LoRAAdapters.forward(y, ldy: ldy, x: input, u: u, p, rows: m, rank: lora.config.rank, scale: lora.config.scale)
            }
            RMSNorm.forward(xn, rstd: rstd, x, gain: w.norm1, rows: m, dim: D, eps: c.normEps)
            if qkvFused[l] {
                project(qkv, xn, w.q, rows: m, inDim: D, outDim: qkvW)
            } else {
                linear(qkv, ldy: qkvW, xn, w.q, rows: m, inDim: D, outDim: qw)
                linear(qkv + qw, ldy: qkvW, xn, w.k, rows: m, inDim: D, outDim: kw)
                linear(qkv + qw + kw, ldy: qkvW, xn, w.v, rows: m, inDim: D, outDim: kw)
            }
            adapt(.q, qkv, ldy: qkvW, xn)
            adapt(.k, qkv + qw, ldy: qkvW, xn)
            adapt(.v, qkv + qw + kw, ldy: qkvW, xn)
            for i in 0..<m {
                let t = qkv + i * qkvW, row = tokens[i].row, p = pos[i]
                model.rope.rotate(t, heads: c.heads + c.kvHeads, pos: p)  // q and k heads are adjacent
                for g in 0..<c.kvHeads {
                    (cache.keys(layer: l, row: row, head: g) + p * hd).update(from: t + qw + g * hd, count: hd)
                    (cache.values(layer: l, row: row, head: g) + p * hd).update(from: t + qw + kw + g * hd, count: hd)
                }
            }
            // Every new token's keys are in the cache before any token attends, so a prompt's
            // tokens see each other causally within one call.
            attention(layer: l, tokens: tokens, m: m, cache: cache)
            project(x, attn, w.o, rows: m, inDim: qw, outDim: D, accumulate: true)
            adapt(.o, x, ldy: D, attn)
            RMSNorm.forward(xn, rstd: rstd, x, gain: w.norm2, rows: m, dim: D, eps: c.normEps)
            if gateUpFused[l] {
                project(gateUp, xn, w.gate, rows: m, inDim: D, outDim: 2 * F)
            } else {
                linear(gateUp, ldy: 2 * F, xn, w.gate, rows: m, inDim: D, outDim: F)
                linear(gateUp + F, ldy: 2 * F, xn, w.up, rows: m, inDim: D, outDim: F)
            }
            adapt(.gate, gateUp, ldy: 2 * F, xn)
            adapt(.up, gateUp + F, ldy: 2 * F, xn)
            Self.swiGLU(h, gateUp, rows: m, ffn: F)
            project(x, h, w.down, rows: m, inDim: F, outDim: D, accumulate: true)
            adapt(.down, x, ldy: D, h)
        }
        cache.lengths = next
    }

    /// y (+)= x · Wᵀ for `rows` rows. With the weights in bf16, oneDNN's product (fast at any
    /// row count), or the int8 one for few rows when the model holds int8 and this pass samples.
    /// In float32, one row is a matrix-vector product: sgemm would pack the whole weight matrix
    /// for it, as much memory traffic as the product itself. Up to
    /// `transposedRows` rows, OpenBLAS is faster (~25% at 16 rows, measured here) computing
    /// yᵀ = W · xᵀ, so that product goes to scratch and is transposed into y.
    @inline(__always)
    func project(_ y: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, _ w: UnsafePointer<Float>,
                 rows: Int, inDim: Int, outDim: Int, accumulate: Bool = false) {
        if model.bf16 != nil {
            linear(y, x, w, rows: rows, inDim: inDim, outDim: outDim, accumulate: accumulate)
        } else if rows == 1 {
            BLAS.gemv(transA: false, m: outDim, n: inDim, a: w, lda: inDim, x: x, beta: accumulate ? 1 : 0, y: y)
        } else if rows <= Self.transposedRows {
            let t = transposed.ptr
            BLAS.gemm(transA: false, transB: true, m: outDim, n: rows, k: inDim, a: w, lda: inDim,
                      b: x, ldb: inDim, c: t, ldc: rows)
            for r in 0..<rows {
                let yr = y + r * outDim, tr = t + r
                if accumulate {
                    for o in 0..<outDim { yr[o] += tr[o * rows] }
                } else {
                    for o in 0..<outDim { yr[o] = tr[o * rows] }
                }
            }
        } else {
            BLAS.gemm(transA: false, transB: true, m: rows, n: outDim, k: inDim, a: x, lda: inDim,
                      b: w, ldb: inDim, beta: accumulate ? 1 : 0, c: y, ldc: outDim)
        }
    }
    static let transposedRows = 48

    /// The model's product, from its int8 copy in a sampling pass's decoding step.
    @inline(__always)
    private func linear(_ y: UnsafeMutablePointer<Float>, ldy: Int? = nil, _ x: UnsafePointer<Float>, _ w: UnsafePointer<Float>,
                        rows: Int, inDim: Int, outDim: Int, accumulate: Bool = false) {
        if readsInt8 {
            model.sampleLinear(y, ldy: ldy, x, w, rows: rows, inDim: inDim, outDim: outDim, accumulate: accumulate)
        } else {
            model.linear(y, ldy: ldy, x, w, rows: rows, inDim: inDim, outDim: outDim, accumulate: accumulate)
        }
    }

    /// h = silu(gate) · up, row by row from the fused [rows, 2·ffn] gate/up product.
    @inline(__always)
    static func swiGLU(_ h: UnsafeMutablePointer<Float>, _ gu: UnsafePointer<Float>, rows: Int, ffn: Int) {
        Parallel.forEach(rows, minPerWorker: 16) { r in
            let g = gu + r * 2 * ffn
            wb_swiglu_forward(h + r * ffn, g, g + ffn, ffn)
        }
    }

    /// attn[i] = softmax(q_i · Kᵀ / √d) · V over positions 0...pos[i] of token i's row, for every
    /// query head. The work items are (run, kv head) pairs, split into one contiguous chunk per
    /// worker with its own score slab; an item's arithmetic does not depend on the split.
    ///
    /// A one-token run (decoding) is two small products per kv head, its query heads together (two
    /// matrix-vector products when it has one), over that head's contiguous keys and values; a
    /// longer run (a prompt) is a causal block, two small GEMMs per query head as in training. Both
    /// go to OpenBLAS, whose AVX-512 kernels this baseline-x86 build cannot match in Swift.
    private func attention(layer l: Int, tokens: [Token], m: Int, cache: KVCache) {
        let c = self.c, hd = c.headDim, qw = c.heads * hd, kw = c.kvDim, kvHeads = c.kvHeads
        let group = c.heads / kvHeads, qkvW = qw + 2 * kw
        let scale = 1 / Float(hd).squareRoot()
        let qkv = qkv.ptr, attn = attn.ptr, scores = scores.ptr, slab = scoreSlab
        let pos = self.pos, runs = self.runs
        let items = runs.count * kvHeads
        // Multiply-adds of the scores alone; below ~64k a dispatch costs more than it saves.
        var work = 0
        for r in runs { work += r.count * (pos[r.start] + r.count) }
        work *= c.heads * hd
        let chunks = work < 1 << 16 ? 1 : min(Parallel.workers, items)
        let body = { (chunk: Int) in
            let lo = items * chunk / chunks, hi = items * (chunk + 1) / chunks
            let s = scores + chunk * slab
            for item in lo..<hi {
                let (start, n) = runs[item / kvHeads], g = item % kvHeads
                let row = tokens[start].row, p0 = pos[start], span = p0 + n
                let k = cache.keys(layer: l, row: row, head: g), v = cache.values(layer: l, row: row, head: g)
                if n == 1 {
                    // One token (a decoding step): the group's query heads are adjacent rows of
                    // one [group × hd] block. A fused kernel: scores, softmax and the weighted
                    // sum of values for each, where a library call per product cost more than
                    // its arithmetic (two gemv per head and layer, 131k calls in a tiny model's
                    // 64 × 64 rollout).
                    let q = qkv + start * qkvW + g * group * hd, out = attn + start * qw + g * group * hd
                    wb_attend(out, s, q, k, v, group, span, hd, scale)
                    continue
                }
                for h in (g * group)..<((g + 1) * group) {
                    let q = qkv + start * qkvW + h * hd, out = attn + start * qw + h * hd
                    BLAS.gemm(transA: false, transB: true, m: n, n: span, k: hd, alpha: scale,
                              a: q, lda: qkvW, b: k, ldb: hd, c: s, ldc: span)
                    for t in 0..<n {
                        let sr = s + t * span, len = p0 + t + 1
                        VectorMath.softmax(sr, len)
                        (sr + len).update(repeating: 0, count: span - len)
                    }
                    BLAS.gemm(transA: false, transB: false, m: n, n: hd, k: span,
                              a: s, lda: span, b: v, ldb: hd, c: out, ldc: qw)
                }
            }
        }
        if chunks == 1 { body(0) } else { Parallel.forEach(chunks, body) }
    }
}
