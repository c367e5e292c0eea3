import Foundation

/// Everything the training forward pass saves for the backward pass, for one (batch, seq)
/// shape, plus the gradient scratch the backward pass reuses layer after layer.
final class Activations {
    /// The rows the last pass ran on: the batch without its padding (`Transformer.forward`'s
    /// lengths); every per-token buffer below holds `layout.count` rows of it. Buffers are sized
    /// for `capacityRows` and `capacityProbs`, so a smaller batch or a shorter sequence reuses
    /// them instead of reallocating every step.
    var layout: PackedRows
    /// The padded shape in use.
    var batch: Int { layout.batch }
    var seq: Int { layout.seq }
    var rows: Int { batch * seq }
    let capacityRows: Int, capacityProbs: Int
    /// The largest batch and sequence the buffers were sized for.
    let capacityBatch: Int, capacitySeq: Int
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
    /// (in Double: the memory estimate asks about shapes whose bytes overflow an Int). The
    /// normalised inputs of the attention and the MLP, the attention's output and the MLP's
    /// hidden activation are not among them: the backward recomputes them from what is kept
    /// (two norms, P·V and a SwiGLU) into buffers every layer shares, `scratchFloats`.
    static func layerFloats(_ c: ModelConfig, rows n: Double) -> Double {
        n * Double(c.dim + c.heads * c.headDim + 2 * c.kvDim + 2 * c.ffnDim + 2)
    }

    /// The shared xn1, xn2, attn and h over `rows` tokens.
    static func scratchFloats(_ c: ModelConfig, rows n: Double) -> Double { n * Double(2 * c.dim + c.heads * c.headDim + c.ffnDim) }
    /// Whether a batch of this shape recomputes its attention probabilities, and its layers;
    /// `rows` token rows (the batch without its padding; all of it by default).
    static func recomputes(_ c: ModelConfig, batch: Int, seq: Int, rows: Int? = nil) -> (probs: Bool, layers: Bool) {
        let probs = Double(batch) * Double(c.heads) * Double(seq) * Double(seq), L = Double(c.layers)
        let n = rows.map(Double.init) ?? Double(batch) * Double(seq)
        let layers = 4 * L * (layerFloats(c, rows: n) + probs) > Double(recomputeLayersAboveBytes)
        return (layers || 4 * L * probs > Double(recomputeProbsAboveBytes), layers)
    }

    func fits(batch: Int, seq: Int, rows: Int, heads: Int) -> Bool {
        rows <= capacityRows && batch * heads * seq * seq <= capacityProbs
    }

    /// One layer's buffers. xn1, xn2, attn and h are the same four buffers in every layer: the
    /// forward uses them within the layer, the backward refills them (`Transformer.backward`).
    struct Layer {
        let xn1, rstd1, q, k, v, probs, attn, xMid, xn2, rstd2, gate, up, h: FloatBuffer
    }
    /// resid[l] is the input of layer l; resid[layers] is the input of the final norm.
    let resid: [FloatBuffer]
    let layers: [Layer]
    let xf, rstdf: FloatBuffer
    /// The final hidden states in the padded [batch·seq, dim] layout callers index, when the
    /// packed rows are fewer (padding positions hold zeros); grown on demand.
    private var padded: FloatBuffer?
    func xfPadded(count: Int) -> FloatBuffer {
        if let p = padded, p.count >= count { return p }
        padded = FloatBuffer(count)
        return padded!
    }
    /// Filled by the last forward when its rows were packed.
    var paddedStates: FloatBuffer? { layout.isDense ? nil : padded }
    let tokens: UnsafeMutablePointer<Int32>

    /// A scoring pass's buffers (`Transformer.forward(forBackward: false)`): nothing is kept
    /// for a backward. Every layer shares one set, the residual stream alternates between two
    /// buffers, and there is no backward scratch.
    let inference: Bool

    // Backward scratch, shared by all layers (empty for inference).
    let dx, dxn, dxf, dq, dk, dv, dattn, dgate, dup, dh: FloatBuffer

    /// With LoRA: each adapter's u = x·Aᵀ [rows×r] per layer, and the backward's du scratch.
    let lora: [[LoRAConfig.Target: FloatBuffer]]
    let loraDu: FloatBuffer?
    /// With LoRA dropout in a training pass: an adapter's dropped-out input, and the gradient
    /// of that input before dropout's backward ([rows × widest input] each).
    let loraDropped, loraDroppedGrad: FloatBuffer?
    /// The dropout the last training forward applied (its draw), which its backward repeats.
    var dropout: LoRADropout?

    /// Buffers for `rows` token rows (default: batch·seq) of batches up to `batch` × `seq`.
    init(config c: ModelConfig, batch: Int, seq: Int, rows: Int? = nil, lora: LoRAConfig? = nil, inference: Bool = false) {
        capacityBatch = batch
        capacitySeq = seq
        self.inference = inference
        layout = PackedRows(batch: batch, seq: seq)
        let n = rows ?? batch * seq
        capacityRows = n
        let probsCount = batch * c.heads * seq * seq
        capacityProbs = probsCount
        (recomputesProbs, recomputesLayers) = inference ? (true, true) : Self.recomputes(c, batch: batch, seq: seq, rows: n)
        let sharedProbs = recomputesProbs ? FloatBuffer(probsCount) : nil
        let qw = c.heads * c.headDim, kw = c.kvDim
        if inference {
            let even = FloatBuffer(n * c.dim), odd = FloatBuffer(n * c.dim)
            resid = (0...c.layers).map { $0 % 2 == 0 ? even : odd }
        } else {
            resid = (0...c.layers).map { _ in FloatBuffer(n * c.dim) }
        }
        let xn1 = FloatBuffer(n * c.dim), xn2 = FloatBuffer(n * c.dim), h = FloatBuffer(n * c.ffnDim), attn = FloatBuffer(n * qw)
        func layer() -> Layer {
            Layer(xn1: xn1, rstd1: FloatBuffer(n), q: FloatBuffer(n * qw),
                  k: FloatBuffer(n * kw), v: FloatBuffer(n * kw),
                  probs: sharedProbs ?? FloatBuffer(probsCount), attn: attn,
                  xMid: FloatBuffer(n * c.dim), xn2: xn2, rstd2: FloatBuffer(n),
                  gate: FloatBuffer(n * c.ffnDim), up: FloatBuffer(n * c.ffnDim), h: h)
        }
        let shared = recomputesLayers ? layer() : nil
        layers = (0..<c.layers).map { _ in shared ?? layer() }
        xf = FloatBuffer(n * c.dim)
        rstdf = FloatBuffer(n)
        tokens = .allocate(capacity: n)
        let b = inference ? 0 : n
        dx = FloatBuffer(b * c.dim); dxn = FloatBuffer(b * c.dim); dxf = FloatBuffer(b * c.dim)
        dq = FloatBuffer(b * qw); dk = FloatBuffer(b * kw); dv = FloatBuffer(b * kw)
        dattn = FloatBuffer(b * qw)
        dgate = FloatBuffer(b * c.ffnDim); dup = FloatBuffer(b * c.ffnDim); dh = FloatBuffer(b * c.ffnDim)
        func loraBuffers() -> [LoRAConfig.Target: FloatBuffer] {
            Dictionary(uniqueKeysWithValues: (lora?.targets ?? []).map { ($0, FloatBuffer(n * lora!.rank)) })
        }
        let sharedLoRA = recomputesLayers ? loraBuffers() : nil
        self.lora = (0..<c.layers).map { _ in sharedLoRA ?? loraBuffers() }
        loraDu = inference ? nil : lora.map { FloatBuffer(n * $0.rank) }
        let widest = max(c.dim, qw, c.ffnDim)
        let drops = !inference && (lora?.dropout ?? 0) > 0
        loraDropped = drops ? FloatBuffer(n * widest) : nil
        loraDroppedGrad = drops ? FloatBuffer(n * widest) : nil
    }

    /// Bytes of every buffer here, each counted once.
    private(set) lazy var bytes: Int = {
        let all = resid + layers.flatMap { [$0.xn1, $0.rstd1, $0.q, $0.k, $0.v, $0.probs, $0.attn, $0.xMid, $0.xn2, $0.rstd2, $0.gate, $0.up, $0.h] }
            + [xf, rstdf, dx, dxn, dxf, dq, dk, dv, dattn, dgate, dup, dh] + lora.flatMap(\.values) + [loraDu, loraDropped, loraDroppedGrad].compactMap { $0 }
        var seen = Set<ObjectIdentifier>()
        return all.filter { seen.insert(ObjectIdentifier($0)).inserted }.reduce(0) { $0 + 4 * $1.count } + 4 * capacityRows
    }()

    deinit { tokens.deallocate() }
}
