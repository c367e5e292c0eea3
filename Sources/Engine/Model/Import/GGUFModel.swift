import Foundation

/// A Llama-family model read from a GGUF file (llama.cpp's format): its `ModelConfig`, weights
/// in the engine's Hugging Face layout, tokenizer and chat template.
///
/// The file's tensors are renamed to the engine's Hugging Face names (`blk.N.attn_q` →
/// `model.layers.N.self_attn.q_proj`, …) and dequantised straight into the parameter store.
/// llama.cpp's converter reorders the rows of `attn_q` and `attn_k` within each head, from
/// Hugging Face's rotate-half layout (element i pairs with i + headDim/2) to ggml's interleaved
/// pairs (2i with 2i+1); the engine's `RoPE` is rotate-half, so those rows are put back.
public struct GGUFModel {
    public let model: Transformer
    public let tokenizer: BPETokenizer
    /// The chat template the file declares, when it is one this engine can apply (ChatML).
    public let chatTemplate: ChatTemplate?
    /// The opened file, for the rest of its metadata (`general.name`, …).
    public let file: GGUFFile

    /// The context the engine's attention is sized for when the caller does not say: its
    /// training forward allocates batch × heads × seq² probabilities, so a model's full
    /// context (8192 for SmolLM2) is rarely what one wants.
    public static let defaultMaxSeqLen = 2048

    /// Opens a GGUF file and loads model, tokenizer and chat template. `maxSeqLen` caps the
    /// model's context (`llama.context_length`).
    public static func load(path: String, maxSeqLen: Int = defaultMaxSeqLen) throws -> GGUFModel {
        let file = try GGUFFile(path: path)
        let model = try loadTransformer(file, maxSeqLen: maxSeqLen)
        // No vocabulary check here: `config` takes the vocabulary size from the same token list
        // the tokenizer is built from, and the embeddings' shape is checked against it.
        let tokenizer = try BPETokenizer(gguf: file)
        return GGUFModel(model: model, tokenizer: tokenizer, chatTemplate: ChatTemplate(gguf: file), file: file)
    }

    /// The engine's config for a llama GGUF file; the context is `min(llama.context_length, maxSeqLen)`.
    public static func config(_ file: GGUFFile, maxSeqLen: Int = defaultMaxSeqLen) throws -> ModelConfig {
        let arch = file.architecture
        guard arch == "llama" else {
            throw GGUFModelError(.unsupportedArchitecture, file.path,
                                 "general.architecture is \(arch.map { "\"\($0)\"" } ?? "missing"), but only \"llama\" models can be loaded")
        }
        let heads = try file.requireInt("llama.attention.head_count")
        let dim = try file.requireInt("llama.embedding_length")
        let vocab = file.stringArray("tokenizer.ggml.tokens")?.count ?? file.int("llama.vocab_size")
        guard let vocab else {
            throw GGUFModelError(.badConfig, file.path, "neither tokenizer.ggml.tokens nor llama.vocab_size gives the vocabulary size")
        }
        let tied = file.tensor(named: "output.weight") == nil
        let config = ModelConfig(
            vocabSize: vocab, dim: dim, layers: try file.requireInt("llama.block_count"),
            heads: heads, kvHeads: file.int("llama.attention.head_count_kv") ?? heads,
            ffnDim: try file.requireInt("llama.feed_forward_length"),
            maxSeqLen: min(try file.requireInt("llama.context_length"), maxSeqLen),
            ropeTheta: Float(file.float("llama.rope.freq_base") ?? 10000),
            normEps: Float(try file.requireFloat("llama.attention.layer_norm_rms_epsilon")),
            tiedEmbeddings: tied)
        do { try config.validate() } catch {
            throw GGUFModelError(.badConfig, file.path, "\(error)")
        }
        // What the engine's Llama does not have: partial rotary, scaled RoPE, other head sizes.
        if let n = file.int("llama.rope.dimension_count"), n != config.headDim {
            throw GGUFModelError(.badConfig, file.path, "llama.rope.dimension_count is \(n) but the head size is \(config.headDim); partial rotary embeddings are not supported")
        }
        for key in ["llama.attention.key_length", "llama.attention.value_length"] {
            if let n = file.int(key), n != config.headDim {
                throw GGUFModelError(.badConfig, file.path, "\(key) is \(n) but embedding_length / head_count is \(config.headDim); such heads are not supported")
            }
        }
        if let s = file.string("llama.rope.scaling.type"), s != "none" {
            throw GGUFModelError(.badConfig, file.path, "llama.rope.scaling.type is \"\(s)\"; scaled rotary embeddings are not supported")
        }
        return config
    }

    /// The GGUF name of each of the engine's parameters (`Transformer.layout` names).
    public static func ggufName(of name: String) -> String? {
        switch name {
        case "model.embed_tokens.weight": return "token_embd.weight"
        case "model.norm.weight": return "output_norm.weight"
        case "lm_head.weight": return "output.weight"
        default: break
        }
        let parts = name.split(separator: ".", maxSplits: 3)
        guard parts.count == 4, parts[0] == "model", parts[1] == "layers", Int(parts[2]) != nil else { return nil }
        let suffix: [Substring: String] = [
            "input_layernorm.weight": "attn_norm.weight",
            "self_attn.q_proj.weight": "attn_q.weight", "self_attn.k_proj.weight": "attn_k.weight",
            "self_attn.v_proj.weight": "attn_v.weight", "self_attn.o_proj.weight": "attn_output.weight",
            "post_attention_layernorm.weight": "ffn_norm.weight",
            "mlp.gate_proj.weight": "ffn_gate.weight", "mlp.up_proj.weight": "ffn_up.weight",
            "mlp.down_proj.weight": "ffn_down.weight",
        ]
        return suffix[parts[3]].map { "blk.\(parts[2]).\($0)" }
    }

    /// Builds the engine's model from a llama GGUF file. Every tensor the model needs must be
    /// present with the expected shape, and every tensor in the file must have a place in it
    /// (an unknown one, such as Llama 3's `rope_freqs`, would change the computation); otherwise
    /// the error names the tensor.
    public static func loadTransformer(_ file: GGUFFile, maxSeqLen: Int = defaultMaxSeqLen) throws -> Transformer {
        let config = try config(file, maxSeqLen: maxSeqLen)
        let model = try Transformer(config: config)
        var used = Set<String>()
        for e in model.params.entries {
            guard let g = ggufName(of: e.name) else { preconditionFailure("no GGUF name for \(e.name)") }
            guard let info = file.tensor(named: g) else {
                throw GGUFModelError(.missingTensor, file.path, "tensor \"\(g)\" (the engine's \(e.name), shape \(e.shape)) is missing")
            }
            guard info.rowMajorShape == e.shape else {
                throw GGUFModelError(.wrongShape, file.path,
                                     "tensor \"\(g)\" has shape \(info.rowMajorShape) (ggml ne \(info.shape)) but \(e.name) needs \(e.shape)")
            }
            let dst = UnsafeMutableBufferPointer(start: model.params.values.ptr + e.offset, count: e.count)
            try file.dequantize(g, into: dst)
            if e.name.hasSuffix("self_attn.q_proj.weight") {
                unpermuteRotaryRows(dst, heads: config.heads, headDim: config.headDim)
            } else if e.name.hasSuffix("self_attn.k_proj.weight") {
                unpermuteRotaryRows(dst, heads: config.kvHeads, headDim: config.headDim)
            }
            used.insert(g)
        }
        if let extra = file.tensors.first(where: { !used.contains($0.name) }) {
            throw GGUFModelError(.unexpectedTensor, file.path,
                                 "tensor \"\(extra.name)\" has no place in the engine's Llama (of \(file.tensors.count) tensors, \(file.tensors.count - used.count) are unused); this variant is not supported")
        }
        if let problem = model.params.nonFiniteProblem() { throw GGUFModelError(.nonFinite, file.path, problem) }
        return model
    }

    /// Undoes llama.cpp's `permute` of q/k rows (convert_hf_to_gguf.py, `LlamaModel.permute`):
    /// it reshapes each head's rows to [2, headDim/2] and transposes, so GGUF row 2j + s of a
    /// head holds Hugging Face row s·headDim/2 + j. `w` is [heads·headDim, in], row-major.
    static func unpermuteRotaryRows(_ w: UnsafeMutableBufferPointer<Float>, heads: Int, headDim: Int) {
        let cols = w.count / (heads * headDim), half = headDim / 2
        var tmp = [Float](repeating: 0, count: headDim * cols)
        for h in 0..<heads {
            let base = w.baseAddress! + h * headDim * cols
            tmp.withUnsafeMutableBufferPointer { t in
                for s in 0..<2 {
                    for j in 0..<half {
                        (t.baseAddress! + (s * half + j) * cols).update(from: base + (2 * j + s) * cols, count: cols)
                    }
                }
                base.update(from: t.baseAddress!, count: headDim * cols)
            }
        }
    }
}

/// A GGUF file that is readable but is not a model this engine can load.
public struct GGUFModelError: Error, CustomStringConvertible, Equatable {
    public enum Kind: Sendable, Equatable {
        case unsupportedArchitecture, badConfig, missingTensor, wrongShape, unexpectedTensor, nonFinite
    }
    public let kind: Kind
    public let path: String
    public let problem: String
    init(_ kind: Kind, _ path: String, _ problem: String) {
        self.kind = kind
        self.path = path
        self.problem = problem
    }
    public var description: String { "GGUF model \(path): \(problem)" }
}
