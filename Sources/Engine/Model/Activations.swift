/// Everything the training forward pass saves for the backward pass, for one (batch, seq)
/// shape, plus the gradient scratch the backward pass reuses layer after layer.
final class Activations {
    /// The shape in use; buffers are sized for `capacityRows` and `capacityProbs`, so a
    /// smaller batch or a shorter sequence reuses them instead of reallocating every step.
    var batch: Int, seq: Int
    var rows: Int { batch * seq }
    let capacityRows: Int, capacityProbs: Int
    /// Whether every layer shares one attention-probability buffer, which the backward then
    /// refills layer by layer (`CausalAttention.probabilities`) instead of keeping them all.
    let recomputesProbs: Bool
    /// Above this many bytes of attention probabilities over all layers, they are recomputed in
    /// the backward: for long sequences (a real model's RL batch) they outweigh everything else
    /// the forward keeps, and recomputing one layer's costs one q·kᵀ product.
    nonisolated(unsafe) static var recomputeProbsAboveBytes = 256_000_000

    func fits(batch: Int, seq: Int, heads: Int) -> Bool {
        batch * seq <= capacityRows && batch * heads * seq * seq <= capacityProbs
    }

    struct Layer {
        let xn1, rstd1, q, k, v, probs, attn, xMid, xn2, rstd2, gate, up, h: FloatBuffer
    }
    /// resid[l] is the input of layer l; resid[layers] is the input of the final norm.
    let resid: [FloatBuffer]
    let layers: [Layer]
    let xf, rstdf: FloatBuffer
    let tokens: UnsafeMutablePointer<Int32>

    // Backward scratch, shared by all layers.
    let dx, dxn, dxf, dq, dk, dv, dattn, dgate, dup, dh: FloatBuffer

    /// With LoRA: each adapter's u = x·Aᵀ [rows×r] per layer, and the backward's du scratch.
    let lora: [[LoRAConfig.Target: FloatBuffer]]
    let loraDu: FloatBuffer?

    init(config c: ModelConfig, batch: Int, seq: Int, lora: LoRAConfig? = nil) {
        self.batch = batch
        self.seq = seq
        let n = batch * seq
        capacityRows = n
        let probsCount = batch * c.heads * seq * seq
        capacityProbs = probsCount
        let recompute = 4 * c.layers * probsCount > Self.recomputeProbsAboveBytes
        recomputesProbs = recompute
        let sharedProbs = recompute ? FloatBuffer(probsCount) : nil
        let qw = c.heads * c.headDim, kw = c.kvDim
        resid = (0...c.layers).map { _ in FloatBuffer(n * c.dim) }
        layers = (0..<c.layers).map { _ in
            Layer(xn1: FloatBuffer(n * c.dim), rstd1: FloatBuffer(n), q: FloatBuffer(n * qw),
                  k: FloatBuffer(n * kw), v: FloatBuffer(n * kw),
                  probs: sharedProbs ?? FloatBuffer(probsCount), attn: FloatBuffer(n * qw),
                  xMid: FloatBuffer(n * c.dim), xn2: FloatBuffer(n * c.dim), rstd2: FloatBuffer(n),
                  gate: FloatBuffer(n * c.ffnDim), up: FloatBuffer(n * c.ffnDim), h: FloatBuffer(n * c.ffnDim))
        }
        xf = FloatBuffer(n * c.dim)
        rstdf = FloatBuffer(n)
        tokens = .allocate(capacity: n)
        dx = FloatBuffer(n * c.dim); dxn = FloatBuffer(n * c.dim); dxf = FloatBuffer(n * c.dim)
        dq = FloatBuffer(n * qw); dk = FloatBuffer(n * kw); dv = FloatBuffer(n * kw)
        dattn = FloatBuffer(n * qw)
        dgate = FloatBuffer(n * c.ffnDim); dup = FloatBuffer(n * c.ffnDim); dh = FloatBuffer(n * c.ffnDim)
        self.lora = (0..<c.layers).map { _ in
            Dictionary(uniqueKeysWithValues: (lora?.targets ?? []).map { ($0, FloatBuffer(n * lora!.rank)) })
        }
        loraDu = lora.map { FloatBuffer(n * $0.rank) }
    }

    deinit { tokens.deallocate() }
}
