/// A decoder-only transformer of the Llama family, trained with an explicit forward and
/// backward over flat buffers (in the manner of llm.c).
///
/// A training step is three calls: `forward` runs the trunk over a batch and keeps the
/// activations; `head` turns chosen positions into log-probabilities of chosen tokens and,
/// given ∂L/∂log p, writes the gradient of the final hidden states; `backward` carries that
/// gradient through the trunk into `params.grads`. Splitting the head out lets SFT (cross-
/// entropy), PPO and GRPO (ratio losses) share one model with no loss code inside it.
public final class Transformer {
    public let config: ModelConfig
    public let params: ParameterStore
    /// The weights and their gradients, by layer; the gradients' memory is allocated only when a
    /// pass first needs it (never for a frozen model).
    let weights: ModelTensors
    private(set) lazy var gradients = ModelTensors(params, config: config, grads: true)
    let rope: RoPE
    /// The training passes' activations, the scoring passes' buffers (`forward(forBackward:)`),
    /// and which of the two the last forward filled (what `head`, `hiddenStates` and `backward`
    /// read). Both are kept from one pass to the next until a caller frees them
    /// (`releaseActivations`): allocating them again means the kernel zero-filling their pages.
    private var acts: Activations?
    private var scoringActs: Activations?
    private var current: Activations?
    /// The bytes of each set when it was last allocated, still known after it is freed: whether
    /// to free one depends on what the two weigh together (`releaseActivations(training:above:)`).
    private var allocatedBytes = (training: 0, scoring: 0)

    /// Low-rank adapters on the frozen weights, once `attach` has put them there: then only the
    /// adapters train (the backward computes no gradient for the base's matrices, norms or
    /// embedding) and `params` stays as loaded.
    public private(set) var adapters: LoRAAdapters?
    /// With adapters attached: whether they take part in the forward passes. Off, the model is
    /// its frozen base: RL's reference policy without a second copy of the weights.
    public var adaptersEnabled = true
    /// Which LoRA dropout masks the next training forward draws (with `LoRAConfig.dropout` > 0);
    /// each training forward moves it on by one. A trainer sets it from its step so that a
    /// resumed run draws the masks an uninterrupted one would.
    public var dropoutDraw: UInt64 = 0
    /// The weights that train: the adapters when attached, else every weight.
    public var trainable: ParameterStore { adapters?.params ?? params }
    /// Whether `backward` and `head` compute the base weights' gradients.
    public var trainsBase: Bool { adapters == nil }

    /// The frozen weights rounded to bf16 (`holdWeightsInBF16`), which every product with them
    /// then uses; nil: float32.
    private(set) var bf16: BF16Base?
    /// The frozen weights in 8 bits as well (`holdWeightsInInt8`), which the sampling passes'
    /// products of few rows use (`sampleLinear`); nil: they use `linear`'s.
    private(set) var int8: Int8Base?
    /// What the frozen weights are multiplied in: "float32", "bf16", or "int8" (int8 for
    /// sampling's products of few rows, bf16 for the rest).
    public var weightPrecision: String { int8 != nil ? "int8" : bf16 == nil ? "float32" : "bf16" }

    /// Holds the weights in bf16 as well and multiplies by them there: about twice the speed of
    /// float32 on a CPU with AVX-512 BF16, with the inputs of every product rounded to bf16
    /// (about 3 significant digits). Only for weights that no longer change: a LoRA base (then
    /// the adapters still train in float32), a reference policy, a model that only generates.
    /// The bf16 copy is held twice: plain, and packed in the layout oneDNN's kernels read for
    /// the forward products (decoding ~1.6× faster on SmolLM2; `BF16Base`).
    /// Throws when oneDNN has no bf16 product on this CPU.
    public func holdWeightsInBF16() throws { try holdWeightsInBF16(pack: true) }

    /// `pack` false: every product reads the plain bf16 copy (tests compare the two).
    func holdWeightsInBF16(pack: Bool) throws {
        bf16 = try BF16Base(params, matrices: pack ? matrices : [])
    }

    /// Holds the weights in bf16 (`holdWeightsInBF16`) and in 8 bits (per 32 weights of a row,
    /// 256 levels), which the passes that sample (decoding, rollouts, evaluation) then read for
    /// products of up to `Int8Base.maxRows` rows, their inputs rounded to ~15 bits: a token
    /// decoded alone reads about half of bf16's bytes (`Int8Base`).
    /// Scoring and training passes keep bf16, so the log-probabilities PPO optimises are those of
    /// the bf16 model and only which tokens are sampled sees int8. Only for weights that no
    /// longer change, as bf16. Throws when this CPU has no AVX-512 VNNI or oneDNN no bf16 product.
    public func holdWeightsInInt8() throws {
        let int8 = try Int8Base(params, matrices: matrices)
        try holdWeightsInBF16()
        self.int8 = int8
    }

    /// The model's matrices as (W [n × k], n, k), the head first.
    private var matrices: [(w: UnsafePointer<Float>, n: Int, k: Int)] {
        let c = config, qw = c.heads * c.headDim
        var matrices: [(w: UnsafePointer<Float>, n: Int, k: Int)] = [(UnsafePointer(weights.head), c.vocabSize, c.dim)]
        for w in weights.layers {
            matrices += [(w.q, qw, c.dim), (w.k, c.kvDim, c.dim), (w.v, c.kvDim, c.dim), (w.o, c.dim, qw),
                         (w.gate, c.ffnDim, c.dim), (w.up, c.ffnDim, c.dim), (w.down, c.dim, c.ffnDim)].map { (UnsafePointer($0.0), $0.1, $0.2) }
        }
        return matrices
    }

    /// Whether this CPU has the int8 products `holdWeightsInInt8` needs (AVX-512 VNNI).
    public static var int8IsSupported: Bool { Int8Base.supported }

    /// Whether this CPU multiplies bf16 natively (AVX-512 BF16); elsewhere oneDNN's emulation
    /// is slower than float32.
    public static var bf16IsNative: Bool { BF16GEMM.native }

    /// y (+)= x · Wᵀ for one of the model's own matrices W [outDim × inDim].
    @inline(__always)
    func linear(_ y: UnsafeMutablePointer<Float>, ldy: Int? = nil, _ x: UnsafePointer<Float>, _ w: UnsafePointer<Float>,
                rows: Int, inDim: Int, outDim: Int, accumulate: Bool = false) {
        if let bf16 {
            bf16.forward(y, ldy: ldy, x, w, rows: rows, k: inDim, n: outDim, accumulate: accumulate)
        } else {
            BLAS.gemm(transA: false, transB: true, m: rows, n: outDim, k: inDim, a: x, lda: inDim,
                      b: w, ldb: inDim, beta: accumulate ? 1 : 0, c: y, ldc: ldy ?? outDim)
        }
    }

    /// `linear` for the passes that sample: from the int8 copy when the model holds one, it
    /// covers W and the product has few rows (`Int8Base.forward`).
    @inline(__always)
    func sampleLinear(_ y: UnsafeMutablePointer<Float>, ldy: Int? = nil, _ x: UnsafePointer<Float>, _ w: UnsafePointer<Float>,
                      rows: Int, inDim: Int, outDim: Int, accumulate: Bool = false) {
        if let int8, int8.forward(y, ldy: ldy, x, w, rows: rows, k: inDim, n: outDim, accumulate: accumulate) { return }
        linear(y, ldy: ldy, x, w, rows: rows, inDim: inDim, outDim: outDim, accumulate: accumulate)
    }

    /// The backward of `linear`: dx (+)= dy · W, and dW += dyᵀ · x when the weight trains.
    @inline(__always)
    func linearBackward(dx: UnsafeMutablePointer<Float>, dw: UnsafeMutablePointer<Float>?, dy: UnsafePointer<Float>,
                        x: UnsafePointer<Float>, w: UnsafePointer<Float>, rows: Int, inDim: Int, outDim: Int,
                        accumulateDx: Bool = false) {
        if let bf16 {
            precondition(dw == nil, "a weight held in bf16 does not train")
            bf16.gemm.multiply(dx, dy, bf16(w), rows: rows, k: outDim, n: inDim, transposed: true, accumulate: accumulateDx)
        } else {
            Linear.backward(dx: dx, dw: dw, dy: dy, x: x, w: w, rows: rows, inDim: inDim, outDim: outDim, accumulateDx: accumulateDx)
        }
    }

    /// Puts LoRA adapters on this model and freezes its own weights.
    public func attach(_ adapters: LoRAAdapters) {
        self.adapters = adapters
        releaseActivations()  // the saved activations gain the adapters' buffers
    }

    /// Folds the adapters into the weights (W += (α/r)·B·A for each one) and removes them: the
    /// model then computes what it computed with them, as a plain model whose weights all train.
    public func mergeAdapters() {
        guard let lora = adapters else { return }
        for (l, layer) in lora.layers.enumerated() {
            let W = weights.layers[l]
            for (t, p) in layer {
                let w: UnsafeMutablePointer<Float>
                switch t {
                case .q: w = W.q
                case .k: w = W.k
                case .v: w = W.v
                case .o: w = W.o
                case .gate: w = W.gate
                case .up: w = W.up
                case .down: w = W.down
                }
                BLAS.gemm(transA: false, transB: false, m: p.outDim, n: p.inDim, k: lora.config.rank, alpha: lora.config.scale,
                          a: p.b, lda: lora.config.rank, b: p.a, ldb: p.inDim, beta: 1, c: w, ldc: p.inDim)
            }
        }
        adapters = nil
        releaseActivations()
        bf16 = nil  // the weights changed; a bf16 or int8 copy of the old ones would be wrong
        int8 = nil
    }

    /// The adapters the forward passes apply now, with their rank and scale.
    var activeAdapters: LoRAAdapters? { adaptersEnabled ? adapters : nil }

    /// Parameters with Hugging Face LlamaForCausalLM names, W stored [out, in].
    public static func layout(_ c: ModelConfig) -> [(String, [Int])] {
        typealias N = ModelTensors.Names
        var l: [(String, [Int])] = [(N.embed, [c.vocabSize, c.dim])]
        for i in 0..<c.layers {
            let n = N.layer(i)
            l += [
                (n.norm1, [c.dim]),
                (n.q, [c.heads * c.headDim, c.dim]),
                (n.k, [c.kvDim, c.dim]),
                (n.v, [c.kvDim, c.dim]),
                (n.o, [c.dim, c.heads * c.headDim]),
                (n.norm2, [c.dim]),
                (n.gate, [c.ffnDim, c.dim]),
                (n.up, [c.ffnDim, c.dim]),
                (n.down, [c.dim, c.ffnDim]),
            ]
        }
        l.append((N.finalNorm, [c.dim]))
        if !c.tiedEmbeddings { l.append((N.lmHead, [c.vocabSize, c.dim])) }
        return l
    }

    /// A model with all weights zero, to be filled from a checkpoint.
    public init(config: ModelConfig) throws {
        try config.validate()
        self.config = config
        params = ParameterStore(layout: Self.layout(config))
        weights = ModelTensors(params, config: config)
        rope = RoPE(headDim: config.headDim, maxSeqLen: config.maxSeqLen, theta: config.ropeTheta)
    }

    /// A freshly initialised model: N(0, 0.02) matrices, residual output projections scaled by
    /// 1/√(2·layers) as in GPT-2 so the residual stream's variance does not grow with depth.
    public convenience init(config: ModelConfig, seed: UInt64) throws {
        try self.init(config: config)
        var rng = RNG(seed: seed, stream: "init")
        let residScale = 1 / Float(2 * config.layers).squareRoot()
        for e in params.entries {
            let p = params.values.ptr + e.offset
            if e.shape.count == 1 {
                p.update(repeating: 1, count: e.count)
            } else {
                let std: Float = 0.02 * (e.name.hasSuffix("o_proj.weight") || e.name.hasSuffix("down_proj.weight") ? residScale : 1)
                for i in 0..<e.count { p[i] = rng.normal() * std }
            }
        }
    }

    var headWeightName: String { ModelTensors.Names.head(config) }

    /// Buffers for `rows` token rows of a `batch` × `seq` batch, reused while they fit: sized for
    /// the rows without their padding, they grow to the largest batch seen. What a training
    /// pass recomputes follows the size allocated (Activations.recomputes).
    private func activations(batch: Int, seq: Int, rows: Int, forBackward: Bool) -> Activations {
        if let a = forBackward ? acts : scoringActs, a.fits(batch: batch, seq: seq, rows: rows, heads: config.heads) {
            return a
        }
        // Kept buffers that are outgrown grow by at least a quarter: RL batches' lengths vary
        // from update to update, and growing to each new longest one exactly reallocated (and
        // page-faulted in) most updates' buffers.
        func grown(_ need: Int, _ had: Int?) -> Int { had.map { max(need, $0 + $0 / 4) } ?? need }
        // The old buffers' capacity, then the buffers freed (no reference left) before the new
        // ones are allocated.
        let old = (forBackward ? acts : scoringActs).map { (batch: $0.capacityBatch, seq: $0.capacitySeq, rows: $0.capacityRows) }
        if forBackward { acts = nil } else { scoringActs = nil }
        current = nil
        let a = Activations(config: config, batch: max(batch, old?.batch ?? 0), seq: grown(seq, old?.seq),
                            rows: grown(rows, old?.rows), lora: adapters?.config, inference: !forBackward)
        if forBackward { acts = a; allocatedBytes.training = a.bytes } else { scoringActs = a; allocatedBytes.scoring = a.bytes }
        return a
    }

    /// Sizes the training passes' activations for batches of up to `batch` rows of up to `seq`
    /// tokens, `rows` of them real: a caller that knows its largest batch allocates once
    /// instead of each time a larger one comes.
    public func reserveActivations(batch: Int, seq: Int, rows: Int) {
        _ = activations(batch: batch, seq: seq, rows: rows, forBackward: true)
    }

    /// Frees the training passes' activations (`training`) or the scoring passes' buffers when
    /// the two sets, as last allocated, weigh more than `bytes` together: a real model's RL
    /// update needs them one after the other, and holding both (with the rollouts' cache) is
    /// what sets its peak memory; a small model's are kept, since allocating them again (the
    /// kernel zero-filling every page) costs more than they weigh.
    public func releaseActivations(training: Bool, above bytes: Int) {
        guard let a = training ? acts : scoringActs, allocatedBytes.training + allocatedBytes.scoring > bytes else { return }
        if current === a { current = nil }
        if training { acts = nil } else { scoringActs = nil }
        FloatBuffer.returnFreedMemory()
    }

    /// Frees the saved activations and scoring buffers (they are the bulk of training memory).
    public func releaseActivations() {
        acts = nil
        scoringActs = nil
        current = nil
    }

    // MARK: forward

    /// Runs the trunk over `batch` rows of `seq` tokens (row-major), token t of each row at
    /// position t. Keeps activations for `head` and `backward`.
    ///
    /// With `lengths`, row b's tokens are its first `lengths[b]` (1...seq) and the rest is
    /// padding: the passes skip it (`PackedRows`), and `head` and `hiddenStates` serve its real
    /// positions only. Without, every row is `seq` tokens long.
    ///
    /// With `shared`, row b's first `shared[b].length` tokens (the same as row
    /// `shared[b].row`'s) run once, in that row (`SharedStart`); everything the caller reads
    /// (log-probs, hidden states, gradients) is as if each row ran whole.
    ///
    /// With `prefix` (a cache of `batch` rows), each layer's keys and values of row b's first
    /// `prefix.lengths[b]` positions are copied into it as well, so an `IncrementalForward` can
    /// continue those rows with other tokens without running their shared start again.
    ///
    /// `forBackward` false (a scoring pass: log-probs, hidden states, no gradient) keeps nothing
    /// for `backward`, in buffers of its own: a whole RL batch is scored at once, and what its
    /// training would keep for it does not fit.
    public func forward(tokens: [Int32], batch: Int, seq: Int, lengths: [Int]? = nil, shared: [SharedStart?]? = nil,
                        keeping prefix: KVCache? = nil, forBackward: Bool = true) {
        precondition(tokens.count == batch * seq, "forward: \(tokens.count) tokens for batch \(batch) × seq \(seq)")
        let rows = PackedRows(batch: batch, seq: seq, lengths: lengths ?? Array(repeating: seq, count: batch), shared: shared)
        for b in 0..<batch {
            guard let s = rows.shared[b] else { continue }
            precondition(tokens[(b * seq)..<(b * seq + s.length)] == tokens[(s.row * seq)..<(s.row * seq + s.length)],
                         "forward: row \(b) shares a start its tokens do not have")
        }
        if let prefix {
            precondition(prefix.batch == batch && zip(prefix.lengths, rows.lengths).allSatisfy { $0 <= $1 },
                         "forward: a prefix cache must have the batch's rows, none longer than its row")
        }
        precondition(seq <= config.maxSeqLen, "sequence of \(seq) tokens exceeds max_position_embeddings \(config.maxSeqLen)")
        let c = config, a = activations(batch: batch, seq: seq, rows: rows.count, forBackward: forBackward), n = rows.count
        a.layout = rows
        current = a
        a.dropout = nil
        if forBackward, let lora = activeAdapters, lora.config.dropout > 0 {
            a.dropout = LoRADropout(p: lora.config.dropout, draw: dropoutDraw)
            dropoutDraw &+= 1
        }
        let emb = weights.embed
        for b in 0..<batch {
            for t in rows.start(b)..<rows.lengths[b] {
                let i = rows.packed(row: b, t), id = tokens[b * seq + t]
                precondition(id >= 0 && Int(id) < c.vocabSize, "token id \(id) outside vocabulary of \(c.vocabSize)")
                a.tokens[i] = id
                (a.resid[0].ptr + i * c.dim).update(from: emb + Int(id) * c.dim, count: c.dim)
            }
        }
        for l in 0..<c.layers {
            forwardLayer(l, a, residualOut: true)
            if let prefix { keep(layer: l, a, in: prefix) }
        }
        RMSNorm.forward(a.xf.ptr, rstd: a.rstdf.ptr, a.resid[c.layers].ptr, gain: weights.finalNorm,
                        rows: n, dim: c.dim, eps: c.normEps)
        if forBackward { a.dxf.ptr.update(repeating: 0, count: n * c.dim) }
        if !rows.isDense {
            // Callers index the hidden states by padded position.
            let out = a.xfPadded(count: batch * seq * c.dim).ptr, D = c.dim
            for b in 0..<batch {
                let row = out + b * seq * D
                for r in rows.runs(b) { (row + r.at * D).update(from: a.xf.ptr + r.packed * D, count: r.count * D) }
                (row + rows.lengths[b] * D).update(repeating: 0, count: (seq - rows.lengths[b]) * D)
            }
        }
    }

    /// Copies layer l's keys (after RoPE, as attention read them) and values of each row's
    /// first `prefix.lengths[row]` positions into `prefix`'s per-head layout.
    private func keep(layer l: Int, _ a: Activations, in prefix: KVCache) {
        let c = config, hd = c.headDim, kw = c.kvDim, L = a.layers[l]
        for row in 0..<a.batch {
            for p in 0..<prefix.lengths[row] {
                let t = a.layout.packed(row: row, p)
                for g in 0..<c.kvHeads {
                    (prefix.keys(layer: l, row: row, head: g) + p * hd).update(from: L.k.ptr + t * kw + g * hd, count: hd)
                    (prefix.values(layer: l, row: row, head: g) + p * hd).update(from: L.v.ptr + t * kw + g * hd, count: hd)
                }
            }
        }
    }

    /// Layer l's forward from its input `resid[l]`, saving what its backward reads. With
    /// `residualOut` false (the backward's recomputation) it stops before the down projection,
    /// whose output `resid[l + 1]` is kept already and whose backward needs only `h`.
    private func forwardLayer(_ l: Int, _ a: Activations, residualOut: Bool) {
        let c = config, rows = a.layout, n = rows.count
        let qw = c.heads * c.headDim, kw = c.kvDim
        let lora = activeAdapters, r = lora?.config.rank ?? 0, s = lora?.config.scale ?? 0
        let L = a.layers[l], W = weights.layers[l]
        let x = a.resid[l].ptr, out = a.resid[l + 1].ptr
        // The adapter on `t`'s input: x, or dropout(x) in a training pass with LoRA dropout.
        func adapterInput(_ t: LoRAConfig.Target, _ x: UnsafePointer<Float>, width: Int) -> UnsafePointer<Float> {
            guard let d = a.dropout, let dropped = a.loraDropped else { return x }
            d.apply(dropped.ptr, x, rows: n, dim: width, layer: l, target: t)
            return UnsafePointer(dropped.ptr)
        }
        // y += s·(x·Aᵀ)·Bᵀ where layer l has an adapter on `t`.
        func adapt(_ t: LoRAConfig.Target, _ y: UnsafeMutablePointer<Float>, _ input: UnsafePointer<Float>) {
            guard let p = lora?.layers[l][t] else { return }
            LoRAAdapters.forward(y, x: adapterInput(t, input, width: p.inDim), u: a.lora[l][t]!.ptr, p, rows: n, rank: r, scale: s)
        }
        RMSNorm.forward(L.xn1.ptr, rstd: L.rstd1.ptr, x, gain: W.norm1,
                        rows: n, dim: c.dim, eps: c.normEps)
        linear(L.q.ptr, L.xn1.ptr, W.q, rows: n, inDim: c.dim, outDim: qw)
        linear(L.k.ptr, L.xn1.ptr, W.k, rows: n, inDim: c.dim, outDim: kw)
        linear(L.v.ptr, L.xn1.ptr, W.v, rows: n, inDim: c.dim, outDim: kw)
        adapt(.q, L.q.ptr, L.xn1.ptr)
        adapt(.k, L.k.ptr, L.xn1.ptr)
        adapt(.v, L.v.ptr, L.xn1.ptr)
        rope.apply(L.q.ptr, rows: rows, heads: c.heads)
        rope.apply(L.k.ptr, rows: rows, heads: c.kvHeads)
        CausalAttention.forward(out: L.attn.ptr, probs: L.probs.ptr, q: L.q.ptr, k: L.k.ptr, v: L.v.ptr,
                                rows: rows, heads: c.heads, kvHeads: c.kvHeads, headDim: c.headDim)
        // xMid = x + attn · Woᵀ
        L.xMid.ptr.update(from: x, count: n * c.dim)
        linear(L.xMid.ptr, L.attn.ptr, W.o, rows: n, inDim: qw, outDim: c.dim, accumulate: true)
        adapt(.o, L.xMid.ptr, L.attn.ptr)
        RMSNorm.forward(L.xn2.ptr, rstd: L.rstd2.ptr, L.xMid.ptr, gain: W.norm2,
                        rows: n, dim: c.dim, eps: c.normEps)
        linear(L.gate.ptr, L.xn2.ptr, W.gate, rows: n, inDim: c.dim, outDim: c.ffnDim)
        linear(L.up.ptr, L.xn2.ptr, W.up, rows: n, inDim: c.dim, outDim: c.ffnDim)
        adapt(.gate, L.gate.ptr, L.xn2.ptr)
        adapt(.up, L.up.ptr, L.xn2.ptr)
        SwiGLU.forward(L.h.ptr, gate: L.gate.ptr, up: L.up.ptr, count: n * c.ffnDim)
        guard residualOut else {
            if let p = lora?.layers[l][.down] {
                LoRAAdapters.project(a.lora[l][.down]!.ptr, x: adapterInput(.down, L.h.ptr, width: p.inDim), p, rows: n, rank: r)
            }
            return
        }
        // out = xMid + h · Wdownᵀ
        out.update(from: L.xMid.ptr, count: n * c.dim)
        linear(out, L.h.ptr, W.down, rows: n, inDim: c.ffnDim, outDim: c.dim, accumulate: true)
        adapt(.down, out, L.h.ptr)
    }

    /// Final hidden states (after the last norm) of the last `forward`, [batch·seq, dim]
    /// (zeros at padding positions). Value heads read these; gradients they produce are added
    /// with `addHiddenGradient`.
    public var hiddenStates: UnsafePointer<Float> {
        guard let a = current else { preconditionFailure("hiddenStates read before forward") }
        return UnsafePointer(a.paddedStates?.ptr ?? a.xf.ptr)
    }

    /// The L2 norm of the hidden-state gradient gathered so far (from `head` and
    /// `addHiddenGradient`), in Double: a diagnostic of how much each loss term pushes the trunk.
    /// A start rows share (`SharedStart`) counts once, with the sum of their gradients there.
    public var hiddenGradientNorm: Double {
        guard let a = current, !a.inference else { return 0 }
        return l2Norm(a.dxf.ptr, a.layout.count * config.dim)
    }

    /// Adds ∂L/∂hidden (same shape as `hiddenStates`) to the gradient `backward` will propagate.
    public func addHiddenGradient(_ g: UnsafePointer<Float>) {
        guard let a = current, !a.inference else { preconditionFailure("addHiddenGradient after no training forward") }
        let rows = a.layout, D = config.dim
        if rows.isDense { VectorMath.axpy(a.dxf.ptr, g, rows.count * D, 1); return }
        for b in 0..<rows.batch {
            // A shared start's gradient adds into the rows that ran it.
            for r in rows.runs(b) { VectorMath.axpy(a.dxf.ptr + r.packed * D, g + (b * rows.seq + r.at) * D, r.count * D, 1) }
        }
    }

    // MARK: head

    public struct HeadOutput {
        /// log p(target) at each requested position.
        public var logProbs: [Float]
        /// Entropy of the next-token distribution at each position, when asked for.
        public var entropies: [Float]
    }

    /// For each requested position (flat index into batch·seq) computes log p(target) under
    /// the model. When `gradient` is given it is called as gradient(i, logp_i) and must return
    /// ∂L/∂log p_i; the head's weight gradient is accumulated and ∂L/∂hidden is stored for
    /// `backward`. Logits are formed in chunks of rows so a 49k vocabulary never needs a
    /// [batch·seq, vocab] buffer.
    ///
    /// `temperature` scores under softmax(logits / T), the distribution tempered sampling draws
    /// from: RL that samples at T must compute its ratios (and the reference's log-probs) at T
    /// too, or its rollouts are off-policy by construction.
    @discardableResult
    public func head(positions: [Int], targets: [Int32], entropy: Bool = false, temperature: Float = 1,
                     gradient: ((Int, Float) -> Float)? = nil) -> HeadOutput {
        precondition(temperature > 0 && temperature.isFinite, "head: temperature \(temperature) must be finite and > 0")
        let invT: Float = 1 / temperature
        precondition(positions.count == targets.count, "head: positions and targets differ in length")
        guard let a = current else { preconditionFailure("head called before forward") }
        precondition(gradient == nil || !a.inference, "head: a gradient after a forward that kept nothing for the backward")
        let c = config, V = c.vocabSize, D = c.dim
        let w = weights.head, dw = trainsBase ? gradients.head : nil
        var out = HeadOutput(logProbs: [Float](repeating: 0, count: positions.count),
                             entropies: entropy ? [Float](repeating: 0, count: positions.count) : [])
        let chunk = 128
        var packedRow = [Int](repeating: 0, count: positions.count)
        let x = FloatBuffer(chunk * D), logits = FloatBuffer(chunk * V), dxChunk = FloatBuffer(chunk * D)
        var start = 0
        while start < positions.count {
            let m = min(chunk, positions.count - start)
            for r in 0..<m {
                let pos = positions[start + r]
                guard pos >= 0, pos < a.rows, let row = a.layout.packed(pos) else {
                    preconditionFailure("head: position \(pos) outside the batch's tokens")
                }
                packedRow[start + r] = row
                (x.ptr + r * D).update(from: a.xf.ptr + row * D, count: D)
            }
            linear(logits.ptr, x.ptr, w, rows: m, inDim: D, outDim: V)
            out.logProbs.withUnsafeMutableBufferPointer { lp in
                out.entropies.withUnsafeMutableBufferPointer { ent in
                    Parallel.forEach(m, minPerWorker: 8) { r in
                        let row = logits.ptr + r * V
                        if invT != 1 { VectorMath.scale(row, V, by: invT) }
                        let tgt = Int(targets[start + r])
                        precondition(tgt >= 0 && tgt < V, "head: target id \(tgt) outside vocabulary \(V)")
                        let mx = VectorMath.max(row, V)
                        let raw = row[tgt]
                        // Entropy H = lse − Σ p·logit needs the logits after exp overwrites them.
                        let rawCopy = entropy ? Array(UnsafeBufferPointer(start: row, count: V)) : []
                        let s = VectorMath.expShiftSum(row, V, shift: mx)  // row now holds exp(l − mx)
                        let lse = mx + Float(Foundation.log(Double(s)))
                        lp[start + r] = raw - lse
                        let invS = 1 / s
                        if entropy {
                            var acc: Float = 0
                            rawCopy.withUnsafeBufferPointer { rc in acc = VectorMath.dot(row, rc.baseAddress!, V) }
                            ent[start + r] = lse - acc * invS
                        }
                        if let gradient {
                            // ∂L/∂logit_j = g · (1[j = target] − p_j) / T
                            let g = gradient(start + r, raw - lse)
                            VectorMath.scale(row, V, by: -g * invS * invT)
                            row[tgt] += g * invT
                        }
                    }
                }
            }
            if gradient != nil {
                linearBackward(dx: dxChunk.ptr, dw: dw, dy: logits.ptr, x: x.ptr, w: w, rows: m, inDim: D, outDim: V)
                for r in 0..<m {
                    VectorMath.axpy(a.dxf.ptr + packedRow[start + r] * D, dxChunk.ptr + r * D, D, 1)
                }
            }
            start += m
        }
        return out
    }

    // MARK: backward

    /// Carries the hidden-state gradient (from `head` and `addHiddenGradient`) through the
    /// trunk, accumulating into `params.grads`. Consumes the saved attention probabilities.
    public func backward() {
        guard let a = current, !a.inference else { preconditionFailure("backward called after no training forward") }
        let c = config, rows = a.layout, n = rows.count
        let qw = c.heads * c.headDim, kw = c.kvDim
        let dx = a.dx.ptr, dxn = a.dxn.ptr
        // A frozen base: no weight gradients; the norms' gains write into scratch.
        let G0 = trainsBase ? gradients : nil
        let lora = activeAdapters, r = lora?.config.rank ?? 0, s = lora?.config.scale ?? 0
        let gainScratch = trainsBase ? nil : FloatBuffer(c.dim)
        RMSNorm.backward(dx: dx, dgain: gainScratch?.ptr ?? gradients.finalNorm, dy: a.dxf.ptr, x: a.resid[c.layers].ptr,
                         rstd: a.rstdf.ptr, gain: weights.finalNorm, rows: n, dim: c.dim, accumulate: false)
        for l in stride(from: c.layers - 1, through: 0, by: -1) {
            let L = a.layers[l], W = weights.layers[l], G = G0?.layers[l]
            if a.recomputesLayers {
                forwardLayer(l, a, residualOut: false)
            } else {
                // The buffers every layer shares (Activations.Layer), refilled with this layer's
                // values exactly as its forward computed them.
                RMSNorm.forward(L.xn1.ptr, rstd: L.rstd1.ptr, a.resid[l].ptr, gain: W.norm1, rows: n, dim: c.dim, eps: c.normEps)
                RMSNorm.forward(L.xn2.ptr, rstd: L.rstd2.ptr, L.xMid.ptr, gain: W.norm2, rows: n, dim: c.dim, eps: c.normEps)
                SwiGLU.forward(L.h.ptr, gate: L.gate.ptr, up: L.up.ptr, count: n * c.ffnDim)
            }
            // The adapter on `t` (if any): its A and B gradients, and its share of dx. With
            // dropout, A's gradient reads the dropped-out input the forward used (the same mask
            // again), and dx gets the input gradient through dropout's mask and scale.
            func adapt(_ t: LoRAConfig.Target, dx: UnsafeMutablePointer<Float>, dy: UnsafePointer<Float>, x: UnsafePointer<Float>) {
                guard let p = lora?.layers[l][t] else { return }
                guard let d = a.dropout, let dropped = a.loraDropped, let grad = a.loraDroppedGrad else {
                    LoRAAdapters.backward(dx: dx, dy: dy, x: x, u: a.lora[l][t]!.ptr, du: a.loraDu!.ptr, p, rows: n, rank: r, scale: s)
                    return
                }
                d.apply(dropped.ptr, x, rows: n, dim: p.inDim, layer: l, target: t)
                LoRAAdapters.backward(dx: grad.ptr, accumulateDx: false, dy: dy, x: dropped.ptr, u: a.lora[l][t]!.ptr, du: a.loraDu!.ptr,
                                      p, rows: n, rank: r, scale: s)
                d.accumulate(dx, grad.ptr, rows: n, dim: p.inDim, layer: l, target: t)
            }
            // MLP: out = xMid + down(silu(gate(xn2)) · up(xn2)); dx holds ∂L/∂out.
            linearBackward(dx: a.dh.ptr, dw: G?.down, dy: dx, x: L.h.ptr,
                            w: W.down, rows: n, inDim: c.ffnDim, outDim: c.dim)
            adapt(.down, dx: a.dh.ptr, dy: dx, x: L.h.ptr)
            SwiGLU.backward(dgate: a.dgate.ptr, dup: a.dup.ptr, dh: a.dh.ptr, gate: L.gate.ptr, up: L.up.ptr, count: n * c.ffnDim)
            linearBackward(dx: dxn, dw: G?.gate, dy: a.dgate.ptr, x: L.xn2.ptr,
                            w: W.gate, rows: n, inDim: c.dim, outDim: c.ffnDim)
            linearBackward(dx: dxn, dw: G?.up, dy: a.dup.ptr, x: L.xn2.ptr,
                            w: W.up, rows: n, inDim: c.dim, outDim: c.ffnDim, accumulateDx: true)
            adapt(.gate, dx: dxn, dy: a.dgate.ptr, x: L.xn2.ptr)
            adapt(.up, dx: dxn, dy: a.dup.ptr, x: L.xn2.ptr)
            RMSNorm.backward(dx: dx, dgain: G?.norm2 ?? gainScratch!.ptr, dy: dxn, x: L.xMid.ptr,
                             rstd: L.rstd2.ptr, gain: W.norm2,
                             rows: n, dim: c.dim, accumulate: true)
            // Attention: xMid = x + o(attn(rope(q(xn1)), rope(k(xn1)), v(xn1))); dx holds ∂L/∂xMid.
            if !a.recomputesLayers {
                if a.recomputesProbs {
                    CausalAttention.probabilities(L.probs.ptr, q: L.q.ptr, k: L.k.ptr, rows: rows,
                                                  heads: c.heads, kvHeads: c.kvHeads, headDim: c.headDim)
                }
                // The shared attn buffer (Activations.Layer) gets this layer's output again.
                CausalAttention.output(L.attn.ptr, probs: L.probs.ptr, v: L.v.ptr, rows: rows,
                                       heads: c.heads, kvHeads: c.kvHeads, headDim: c.headDim)
            }
            linearBackward(dx: a.dattn.ptr, dw: G?.o, dy: dx, x: L.attn.ptr,
                            w: W.o, rows: n, inDim: qw, outDim: c.dim)
            adapt(.o, dx: a.dattn.ptr, dy: dx, x: L.attn.ptr)
            CausalAttention.backward(dq: a.dq.ptr, dk: a.dk.ptr, dv: a.dv.ptr, dout: a.dattn.ptr, probs: L.probs.ptr,
                                     q: L.q.ptr, k: L.k.ptr, v: L.v.ptr,
                                     rows: rows, heads: c.heads, kvHeads: c.kvHeads, headDim: c.headDim)
            rope.apply(a.dq.ptr, rows: rows, heads: c.heads, inverse: true)
            rope.apply(a.dk.ptr, rows: rows, heads: c.kvHeads, inverse: true)
            linearBackward(dx: dxn, dw: G?.q, dy: a.dq.ptr, x: L.xn1.ptr,
                            w: W.q, rows: n, inDim: c.dim, outDim: qw)
            linearBackward(dx: dxn, dw: G?.k, dy: a.dk.ptr, x: L.xn1.ptr,
                            w: W.k, rows: n, inDim: c.dim, outDim: kw, accumulateDx: true)
            linearBackward(dx: dxn, dw: G?.v, dy: a.dv.ptr, x: L.xn1.ptr,
                            w: W.v, rows: n, inDim: c.dim, outDim: kw, accumulateDx: true)
            adapt(.q, dx: dxn, dy: a.dq.ptr, x: L.xn1.ptr)
            adapt(.k, dx: dxn, dy: a.dk.ptr, x: L.xn1.ptr)
            adapt(.v, dx: dxn, dy: a.dv.ptr, x: L.xn1.ptr)
            RMSNorm.backward(dx: dx, dgain: G?.norm1 ?? gainScratch!.ptr, dy: dxn, x: a.resid[l].ptr,
                             rstd: L.rstd1.ptr, gain: W.norm1,
                             rows: n, dim: c.dim, accumulate: true)
        }
        guard let demb = G0?.embed else { return }
        for i in 0..<n {
            VectorMath.axpy(demb + Int(a.tokens[i]) * c.dim, dx + i * c.dim, c.dim, 1)
        }
    }
}

import Foundation
