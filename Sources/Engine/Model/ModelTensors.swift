/// Where a decoder's tensors live in a parameter store. The Hugging Face names are spelled here
/// only; `Transformer.layout` orders them and every pass (the training forward, its backward,
/// the incremental forward) reads the pointers, looked up once, instead of names per call.
struct ModelTensors {
    /// One decoder layer.
    struct Layer {
        var norm1, q, k, v, o, norm2, gate, up, down: UnsafeMutablePointer<Float>
    }
    var embed, finalNorm, head: UnsafeMutablePointer<Float>
    var layers: [Layer]

    /// Pointers into the store's values, or with `grads` into its gradients. The store's
    /// buffers are allocated once and only copied into, so the pointers stay valid.
    init(_ store: ParameterStore, config: ModelConfig, grads: Bool = false) {
        func tensor(_ name: String) -> UnsafeMutablePointer<Float> { grads ? store.grad(name) : store.value(name) }
        layers = (0..<config.layers).map { l in
            let n = Names.layer(l)
            return Layer(norm1: tensor(n.norm1), q: tensor(n.q), k: tensor(n.k), v: tensor(n.v), o: tensor(n.o),
                         norm2: tensor(n.norm2), gate: tensor(n.gate), up: tensor(n.up), down: tensor(n.down))
        }
        embed = tensor(Names.embed)
        finalNorm = tensor(Names.finalNorm)
        head = tensor(Names.head(config))
    }

    /// The tensors' names in a checkpoint (LlamaForCausalLM's).
    enum Names {
        static let embed = "model.embed_tokens.weight"
        static let finalNorm = "model.norm.weight"
        static let lmHead = "lm_head.weight"
        /// The output head: its own matrix, or the embedding when they are tied.
        static func head(_ c: ModelConfig) -> String { c.tiedEmbeddings ? embed : lmHead }

        struct Layer { var norm1, q, k, v, o, norm2, gate, up, down: String }
        static func layer(_ l: Int) -> Layer {
            let p = "model.layers.\(l)."
            return Layer(norm1: p + "input_layernorm.weight", q: p + "self_attn.q_proj.weight",
                         k: p + "self_attn.k_proj.weight", v: p + "self_attn.v_proj.weight",
                         o: p + "self_attn.o_proj.weight", norm2: p + "post_attention_layernorm.weight",
                         gate: p + "mlp.gate_proj.weight", up: p + "mlp.up_proj.weight", down: p + "mlp.down_proj.weight")
        }
    }
}
