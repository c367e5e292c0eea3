/// What a run will hold in memory at its peak, from its shapes alone, so that a run that cannot
/// fit is refused with the figure before anything large is allocated, instead of growing until
/// the kernel kills it. The sizes follow the buffers the Engine allocates (Transformer.layout,
/// Activations, KVCache); in Double, since the shapes asked for may overflow an Int's bytes.
public struct MemoryEstimate: Sendable {
    public struct Part: Sendable, Equatable {
        public var name: String
        public var bytes: Double
    }
    public var parts: [Part]
    public var total: Double { parts.reduce(0) { $0 + $1.bytes } }

    /// Parameters of a model of this shape.
    public static func parameters(_ c: ModelConfig) -> Double {
        Transformer.layout(c).reduce(0.0) { $0 + $1.1.reduce(1.0) { $0 * Double($1) } }
    }

    /// Bytes of the training forward's saved activations and the backward's scratch for a batch
    /// of `rows` sequences of `seq` tokens (Activations), with `lora`'s buffers when given.
    public static func activations(_ c: ModelConfig, rows: Int, seq: Int, lora: LoRAConfig? = nil) -> Double {
        let n = Double(rows) * Double(seq), L = Double(c.layers), D = Double(c.dim), F = Double(c.ffnDim)
        let qw = Double(c.heads * c.headDim), kw = Double(c.kvDim)
        let probs = Double(rows) * Double(c.heads) * Double(seq) * Double(seq)
        // Past a size every layer shares one probability buffer, and past a larger one every
        // layer shares one set of buffers (Activations.recomputes).
        let (sharedProbs, sharedLayers) = Activations.recomputes(c, batch: rows, seq: seq)
        let keptLayers = sharedLayers ? 1 : L
        let perLayer = Activations.layerFloats(c, rows: n) + (sharedProbs ? 0 : probs)
        let forward = (L + 1) * n * D + keptLayers * perLayer + Activations.scratchFloats(c, rows: n) + n * (D + 2)
            + (sharedProbs ? probs : 0)
        let backward = n * (3 * D + 2 * qw + 2 * kw + 3 * F)
        return 4 * (forward + backward + loraFloats(c, lora, rows: n, keptLayers: keptLayers, training: true))
    }

    /// Floats of the adapters' buffers in a pass over n token rows: each adapter's x·Aᵀ in each
    /// of `keptLayers` layers (one set when the layers share theirs), and in a training pass the
    /// backward's du and, with dropout, the dropped-out input and its gradient.
    static func loraFloats(_ c: ModelConfig, _ lora: LoRAConfig?, rows n: Double, keptLayers: Double, training: Bool) -> Double {
        guard let lora else { return 0 }
        let r = Double(lora.rank), widest = Double(max(c.dim, c.heads * c.headDim, c.ffnDim))
        let kept = keptLayers * Double(lora.targets.count) * n * r
        return training ? kept + n * r + (lora.dropout > 0 ? 2 * n * widest : 0) : kept
    }

    /// Bytes of a scoring pass's buffers (`Transformer.forward(forBackward: false)`: log-probs
    /// and hidden states, nothing kept for a backward) for `rows` sequences of `seq` tokens: two
    /// residual buffers, one layer's set, the final norm's, and the hidden states in the padded
    /// layout (Activations with `inference`).
    public static func scoring(_ c: ModelConfig, rows: Int, seq: Int, lora: LoRAConfig? = nil) -> Double {
        let n = Double(rows) * Double(seq), D = Double(c.dim), F = Double(c.ffnDim)
        let qw = Double(c.heads * c.headDim), kw = Double(c.kvDim)
        let probs = Double(rows) * Double(c.heads) * Double(seq) * Double(seq)
        // xn1, rstd1, q, k, v, attn, xMid, xn2, rstd2, gate, up, h
        let layer = n * (3 * D + 2 * qw + 2 * kw + 3 * F + 2) + probs
        return 4 * (2 * n * D + layer + n * (D + 1) + n * D + n + loraFloats(c, lora, rows: n, keptLayers: 1, training: false))
    }

    /// The key/value cache for generating `batch` sequences of up to `length` tokens.
    public static func kvCache(_ c: ModelConfig, batch: Int, length: Int) -> Double {
        4 * 2 * Double(c.layers) * Double(batch) * Double(length) * Double(c.kvDim)
    }

    /// A training run: one trained model (values, gradients, AdamW's two moments), or with
    /// `adapters` (their parameter count and settings) a frozen model whose LoRA adapters train, with its
    /// activations for `rows` × `seq` (one optimiser step's batch); with `scoring`, the
    /// scoring passes' buffers for that batch (RL's whole rollout batch) in the trained model
    /// and in each of `frozen` more models of the same shape (RL's reference: values only, a
    /// frozen model never allocates gradients or training activations); and optionally a
    /// generation cache; with `bf16Copy`, one model's weights held in bf16 as well, twice
    /// (`Transformer.holdWeightsInBF16`), and with `int8Copy` in int8 as well (`holdWeightsInInt8`).
    ///
    /// Every part is counted as held at once, though a large RL update frees its training
    /// activations and its scoring buffers in turn: the estimate refuses runs, so it errs high.
    public static func training(_ c: ModelConfig, rows: Int, seq: Int, scoring: (rows: Int, seq: Int)? = nil, frozen: Int = 0,
                                adapters: (count: Int, config: LoRAConfig)? = nil, generation: (batch: Int, length: Int)? = nil, bf16Copy: Bool = false,
                                int8Copy: Bool = false) -> MemoryEstimate {
        let p = parameters(c)
        var parts: [Part]
        if let adapters {
            parts = [Part(name: "frozen weights", bytes: 4 * p),
                     Part(name: "LoRA adapters, their gradients and AdamW moments", bytes: 16 * Double(adapters.count))]
        } else {
            parts = [Part(name: "weights, gradients and AdamW moments", bytes: 16 * p)]
        }
        if frozen > 0 { parts.append(Part(name: "the frozen reference", bytes: Double(frozen) * 4 * p)) }
        // Plain for the gradient products, packed for the forward ones (BF16Base).
        if bf16Copy { parts.append(Part(name: "the frozen weights in bf16, plain and packed", bytes: 4 * p)) }
        if int8Copy { parts.append(Part(name: "the frozen weights in 8 bits, with their scales", bytes: 1.125 * p)) }
        if rows > 0 && seq > 0 {
            parts.append(Part(name: "activations for \(rows) × \(seq) tokens", bytes: activations(c, rows: rows, seq: seq, lora: adapters?.config)))
        }
        if let s = scoring, s.rows > 0 && s.seq > 0 {
            parts.append(Part(name: "scoring buffers for \(s.rows) × \(s.seq) tokens\(frozen > 0 ? ", in each model" : "")",
                              bytes: Double(1 + frozen) * Self.scoring(c, rows: s.rows, seq: s.seq, lora: adapters?.config)))
        }
        if let g = generation {
            parts.append(Part(name: "generation cache for \(g.batch) × \(g.length) tokens", bytes: kvCache(c, batch: g.batch, length: g.length)))
        }
        return MemoryEstimate(parts: parts)
    }

    /// "41.2 GiB", "730 MiB".
    public static func text(_ bytes: Double) -> String {
        let gib = bytes / 1_073_741_824
        if gib >= 1e6 { return String(format: "%.3g TiB", gib / 1024) }
        return gib >= 1 ? String(format: "%.1f GiB", gib) : String(format: "%.0f MiB", bytes / 1_048_576)
    }
}
