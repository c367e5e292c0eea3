import Foundation

/// Everything the training forward pass saves for the backward pass, for one (batch, seq)
/// shape, plus the gradient scratch the backward pass reuses layer after layer.
final class Activations {
    /// The shape in use; buffers are sized for `capacityRows` and `capacityProbs`, so a
    /// smaller batch or a shorter sequence reuses them instead of reallocating every step.
    var batch: Int, seq: Int
    var rows: Int { batch * seq }
    /// The rows the passes run on: the batch without its padding (`Transformer.forward`'s
    /// lengths); every per-token buffer below holds `layout.count` rows of it.
    var layout: PackedRows
    let capacityRows: Int, capacityProbs: Int
    /// Whether every layer shares one attention-probability buffer, which the backward then
    /// refills layer by layer (`CausalAttention.probabilities`) instead of keeping them all.
    let recomputesProbs: Bool
    /// Above this many bytes of attention probabilities over all layers, they are recomputed in
    /// the backward: for long sequences (a real model's RL batch) they outweigh everything else
    /// the forward keeps, and recomputing one layer's costs one q·kᵀ product.
    nonisolated(unsafe) static var recomputeProbsAboveBytes = 256_000_000
    /// Whether every layer shares one set of buffers, the forward keeping only each layer's
    /// input (`resid`), and the backward running each layer's forward again just before its
    /// backward (activation checkpointing, one layer deep).
    let recomputesLayers: Bool
    /// Above this many bytes of per-layer activations over all layers, layers are recomputed:
    /// a real model's RL mini-batch (thousands of tokens × 30 layers × ~8k floats) needs
    /// gigabytes for them, against one more trunk forward (a third of a full step's work, half
    /// of a LoRA step's, whose backward computes no weight gradients). So only where memory is
    /// short: past an eighth of the machine's memory (3 GiB of 24), which the float32 model,
    /// its optimiser state and a reference copy must share.
    nonisolated(unsafe) static var recomputeLayersAboveBytes = Int(ProcessInfo.processInfo.physicalMemory / 8)

    /// Floats one layer keeps for the backward over `rows` tokens, attention probabilities aside
    /// (in Double: the memory estimate asks about shapes whose bytes overflow an Int).
    static func layerFloats(_ c: ModelConfig, rows n: Double) -> Double {
        n * Double(3 * c.dim + 2 * c.heads * c.headDim + 2 * c.kvDim + 3 * c.ffnDim + 2)
    }
    /// Whether a batch of this shape recomputes its attention probabilities, and its layers.
    static func recomputes(_ c: ModelConfig, batch: Int, seq: Int) -> (probs: Bool, layers: Bool) {
        let probs = Double(batch) * Double(c.heads) * Double(seq) * Double(seq), L = Double(c.layers)
        let layers = 4 * L * (layerFloats(c, rows: Double(batch) * Double(seq)) + probs) > Double(recomputeLayersAboveBytes)
        return (layers || 4 * L * probs > Double(recomputeProbsAboveBytes), layers)
    }

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
    /// The final hidden states in the padded [batch·seq, dim] layout callers index, when the
    /// packed rows are fewer (padding positions hold zeros).
    private(set) lazy var xfPadded = FloatBuffer(xf.count)
    let tokens: UnsafeMutablePointer<Int32>

    // Backward scratch, shared by all layers.
    let dx, dxn, dxf, dq, dk, dv, dattn, dgate, dup, dh: FloatBuffer

    /// With LoRA: each adapter's u = x·Aᵀ [rows×r] per layer, and the backward's du scratch.
    let lora: [[LoRAConfig.Target: FloatBuffer]]
    let loraDu: FloatBuffer?

    init(config c: ModelConfig, batch: Int, seq: Int, lora: LoRAConfig? = nil) {
        self.batch = batch
        self.seq = seq
        layout = PackedRows(batch: batch, seq: seq)
        let n = batch * seq
        capacityRows = n
        let probsCount = batch * c.heads * seq * seq
        capacityProbs = probsCount
        (recomputesProbs, recomputesLayers) = Self.recomputes(c, batch: batch, seq: seq)
        let sharedProbs = recomputesProbs ? FloatBuffer(probsCount) : nil
        let qw = c.heads * c.headDim, kw = c.kvDim
        resid = (0...c.layers).map { _ in FloatBuffer(n * c.dim) }
        func layer() -> Layer {
            Layer(xn1: FloatBuffer(n * c.dim), rstd1: FloatBuffer(n), q: FloatBuffer(n * qw),
                  k: FloatBuffer(n * kw), v: FloatBuffer(n * kw),
                  probs: sharedProbs ?? FloatBuffer(probsCount), attn: FloatBuffer(n * qw),
                  xMid: FloatBuffer(n * c.dim), xn2: FloatBuffer(n * c.dim), rstd2: FloatBuffer(n),
                  gate: FloatBuffer(n * c.ffnDim), up: FloatBuffer(n * c.ffnDim), h: FloatBuffer(n * c.ffnDim))
        }
        let shared = recomputesLayers ? layer() : nil
        layers = (0..<c.layers).map { _ in shared ?? layer() }
        xf = FloatBuffer(n * c.dim)
        rstdf = FloatBuffer(n)
        tokens = .allocate(capacity: n)
        dx = FloatBuffer(n * c.dim); dxn = FloatBuffer(n * c.dim); dxf = FloatBuffer(n * c.dim)
        dq = FloatBuffer(n * qw); dk = FloatBuffer(n * kw); dv = FloatBuffer(n * kw)
        dattn = FloatBuffer(n * qw)
        dgate = FloatBuffer(n * c.ffnDim); dup = FloatBuffer(n * c.ffnDim); dh = FloatBuffer(n * c.ffnDim)
        func loraBuffers() -> [LoRAConfig.Target: FloatBuffer] {
            Dictionary(uniqueKeysWithValues: (lora?.targets ?? []).map { ($0, FloatBuffer(n * lora!.rank)) })
        }
        let sharedLoRA = recomputesLayers ? loraBuffers() : nil
        self.lora = (0..<c.layers).map { _ in sharedLoRA ?? loraBuffers() }
        loraDu = lora.map { FloatBuffer(n * $0.rank) }
    }

    deinit { tokens.deallocate() }
}
