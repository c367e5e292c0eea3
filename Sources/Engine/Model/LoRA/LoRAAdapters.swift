/// The trained half of a LoRA model: an A [r, in] and a B [out, r] for every targeted linear map
/// of every layer, in one ParameterStore (so AdamW, clipping and checkpoints are the model's own
/// loops) under PEFT's tensor names, so the store saves as a PEFT adapter_model.safetensors.
///
/// Initialised as PEFT does: A uniform in ±1/√in (kaiming-uniform with a = √5), B zero, so a
/// fresh adapter leaves the model's outputs unchanged.
public final class LoRAAdapters {
    public let config: LoRAConfig
    public let params: ParameterStore
    /// The checkpoint (or .gguf file) the adapters sit on, which their checkpoints name.
    public var base: String?

    /// One adapter's tensors and sizes.
    struct Pair {
        var a, b, gradA, gradB: UnsafeMutablePointer<Float>
        var inDim, outDim: Int
    }
    /// layers[l][target] for the targeted maps; nil elsewhere.
    let layers: [[LoRAConfig.Target: Pair]]

    /// PEFT's name for one adapter tensor of layer l ("lora_A" or "lora_B").
    public static func name(layer l: Int, _ target: LoRAConfig.Target, _ half: String) -> String {
        "base_model.model.model.layers.\(l).\(target.module).\(half).weight"
    }

    /// The (in, out) widths of a target's linear map.
    static func dims(_ t: LoRAConfig.Target, _ c: ModelConfig) -> (in: Int, out: Int) {
        switch t {
        case .q: (c.dim, c.heads * c.headDim)
        case .k, .v: (c.dim, c.kvDim)
        case .o: (c.heads * c.headDim, c.dim)
        case .gate, .up: (c.dim, c.ffnDim)
        case .down: (c.ffnDim, c.dim)
        }
    }

    public init(config: LoRAConfig, model c: ModelConfig, seed: UInt64) {
        self.config = config
        var layout: [(String, [Int])] = []
        for l in 0..<c.layers {
            for t in config.targets {
                let d = Self.dims(t, c)
                layout.append((Self.name(layer: l, t, "lora_A"), [config.rank, d.in]))
                layout.append((Self.name(layer: l, t, "lora_B"), [d.out, config.rank]))
            }
        }
        let store = ParameterStore(layout: layout)
        params = store
        layers = (0..<c.layers).map { l in
            var m: [LoRAConfig.Target: Pair] = [:]
            for t in config.targets {
                let d = Self.dims(t, c), a = Self.name(layer: l, t, "lora_A"), b = Self.name(layer: l, t, "lora_B")
                m[t] = Pair(a: store.value(a), b: store.value(b), gradA: store.grad(a), gradB: store.grad(b), inDim: d.in, outDim: d.out)
            }
            return m
        }
        var rng = RNG(seed: seed, stream: "lora-init")
        for l in layers {
            for t in config.targets {
                let p = l[t]!, bound = 1 / Float(p.inDim).squareRoot()
                for i in 0..<(config.rank * p.inDim) { p.a[i] = (rng.uniform() * 2 - 1) * bound }
            }
        }
    }

    /// y += s·(x·Aᵀ)·Bᵀ over n rows (y's rows `ldy` apart, its width by default), keeping
    /// u = x·Aᵀ [n×r] for the backward.
    static func forward(_ y: UnsafeMutablePointer<Float>, ldy: Int? = nil, x: UnsafePointer<Float>, u: UnsafeMutablePointer<Float>,
                        _ p: Pair, rows n: Int, rank r: Int, scale s: Float) {
        project(u, x: x, p, rows: n, rank: r)
        BLAS.gemm(transA: false, transB: true, m: n, n: p.outDim, k: r, alpha: s, a: u, lda: r, b: p.b, ldb: r,
                  beta: 1, c: y, ldc: ldy ?? p.outDim)
    }

    /// u = x·Aᵀ [n×r] alone: what the backward reads, when y is not wanted again.
    static func project(_ u: UnsafeMutablePointer<Float>, x: UnsafePointer<Float>, _ p: Pair, rows n: Int, rank r: Int) {
        BLAS.gemm(transA: false, transB: true, m: n, n: r, k: p.inDim, a: x, lda: p.inDim, b: p.a, ldb: p.inDim, c: u, ldc: r)
    }

    /// With du = s·dy·B [n×r]: dB += s·dyᵀ·u, dA += duᵀ·x, and dx += du·A when dx is given
    /// (dx = du·A with `accumulateDx` false).
    static func backward(dx: UnsafeMutablePointer<Float>?, accumulateDx: Bool = true, dy: UnsafePointer<Float>, x: UnsafePointer<Float>,
                         u: UnsafePointer<Float>, du: UnsafeMutablePointer<Float>, _ p: Pair, rows n: Int, rank r: Int, scale s: Float) {
        BLAS.gemm(transA: false, transB: false, m: n, n: r, k: p.outDim, alpha: s, a: dy, lda: p.outDim, b: p.b, ldb: r, c: du, ldc: r)
        BLAS.gemm(transA: true, transB: false, m: p.outDim, n: r, k: n, alpha: s, a: dy, lda: p.outDim, b: u, ldb: r,
                  beta: 1, c: p.gradB, ldc: r)
        BLAS.gemm(transA: true, transB: false, m: r, n: p.inDim, k: n, a: du, lda: r, b: x, ldb: p.inDim,
                  beta: 1, c: p.gradA, ldc: p.inDim)
        if let dx {
            BLAS.gemm(transA: false, transB: false, m: n, n: p.inDim, k: r, a: du, lda: r, b: p.a, ldb: p.inDim,
                      beta: accumulateDx ? 1 : 0, c: dx, ldc: p.inDim)
        }
    }
}
