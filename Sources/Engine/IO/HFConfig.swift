import Foundation

/// The `config.json` and `generation_config.json` of a Hugging Face LlamaForCausalLM, as far as
/// they describe what the engine computes.
///
/// transformers fills every key a config leaves out with LlamaConfig's defaults, and several of
/// those are wrong for models trained here (bos/eos 1 and 2, untied embeddings, eps 1e-6), so
/// every key that changes the computation or generation is written out. Both spellings of what
/// the two major versions read differently are written: `rope_theta` and `torch_dtype` for 4.x,
/// `rope_parameters` and `dtype` for 5.x; each version ignores the other's.
///
/// Reading goes the other way: a config that asks for something the engine's Llama does not
/// compute (another activation, biases, scaled rotary embeddings, other head sizes) is refused
/// rather than loaded into a model that would compute something else.
public enum HFConfig {
    /// `config.json` for `config` with `tokens`; keys sorted and indented so checkpoints diff
    /// cleanly.
    public static func modelJSON(_ config: ModelConfig, tokens: SpecialTokenIds) throws -> Data {
        try encoder().encode(ModelKeys(config: config, tokens: tokens))
    }

    /// `generation_config.json`: which tokens `generate` treats as start, end and padding.
    /// Without it transformers derives one from config.json, with a warning on every load.
    public static func generationJSON(tokens: SpecialTokenIds) throws -> Data {
        try encoder().encode(GenerationKeys(tokens: tokens))
    }

    private static func encoder() -> JSONEncoder {
        let e = JSONEncoder()
        e.outputFormatting = [.prettyPrinted, .sortedKeys]
        return e
    }

    private enum Key: String, CodingKey {
        case architectures, model_type, hidden_act, head_dim, attention_bias, mlp_bias
        case rope_parameters, rope_scaling, rope_type, rope_theta
        case bos_token_id, eos_token_id, pad_token_id, dtype, torch_dtype
    }

    private struct ModelKeys: Encodable {
        let config: ModelConfig
        let tokens: SpecialTokenIds
        func encode(to encoder: Encoder) throws {
            try config.encode(to: encoder)
            var c = encoder.container(keyedBy: Key.self)
            try c.encode(["LlamaForCausalLM"], forKey: .architectures)
            try c.encode("llama", forKey: .model_type)
            // What the engine's layers are: SwiGLU with SiLU, no biases, dim / heads per head.
            try c.encode("silu", forKey: .hidden_act)
            try c.encode(config.headDim, forKey: .head_dim)
            try c.encode(false, forKey: .attention_bias)
            try c.encode(false, forKey: .mlp_bias)
            // Plain rotate-half RoPE; null rope_scaling is 4.x's spelling of the same.
            var rope = c.nestedContainer(keyedBy: Key.self, forKey: .rope_parameters)
            try rope.encode("default", forKey: .rope_type)
            try rope.encode(config.ropeTheta, forKey: .rope_theta)
            try c.encodeNil(forKey: .rope_scaling)
            try encodeTokens(tokens, into: &c)
            // model.safetensors holds float32, and the weights are loaded in that type.
            try c.encode("float32", forKey: .dtype)
            try c.encode("float32", forKey: .torch_dtype)
        }
    }

    private struct GenerationKeys: Encodable {
        let tokens: SpecialTokenIds
        func encode(to encoder: Encoder) throws {
            var c = encoder.container(keyedBy: Key.self)
            try encodeTokens(tokens, into: &c)
        }
    }

    /// A missing BOS is written as null: left out, transformers would assume id 1.
    private static func encodeTokens(_ t: SpecialTokenIds, into c: inout KeyedEncodingContainer<Key>) throws {
        if let bos = t.bos { try c.encode(bos, forKey: .bos_token_id) } else { try c.encodeNil(forKey: .bos_token_id) }
        try c.encode(t.eos, forKey: .eos_token_id)
        try c.encode(t.pad, forKey: .pad_token_id)
    }

    /// Throws a message naming the key when a config's model differs from the engine's Llama
    /// in a way `ModelConfig` cannot express. Absent keys mean transformers' defaults, which
    /// are the engine's.
    public static func checkSupported(_ json: [String: Any], headDim: Int) throws {
        func refuse(_ s: String) -> ModelConfigError { ModelConfigError(message: s + "; the engine's Llama cannot compute this model") }
        if let act = json["hidden_act"], !(act is NSNull), act as? String != "silu" {
            throw refuse("hidden_act is \"\(act)\", not \"silu\"")
        }
        for key in ["attention_bias", "mlp_bias"] {
            if let b = json[key] as? Bool, b { throw refuse("\(key) is true (the engine's projections have no bias)") }
        }
        if let h = json["head_dim"] as? Int, h != headDim {
            throw refuse("head_dim is \(h) but hidden_size / num_attention_heads is \(headDim)")
        }
        for key in ["rope_scaling", "rope_parameters"] {
            guard let value = json[key], !(value is NSNull) else { continue }
            guard let rope = value as? [String: Any] else { throw refuse("\(key) is not an object") }
            if rope.values.contains(where: { $0 is [String: Any] }) {
                throw refuse("\(key) gives rotary parameters per layer type")
            }
            let type = (rope["rope_type"] ?? rope["type"]) as? String ?? "default"
            if type != "default" { throw refuse("\(key) asks for rope_type \"\(type)\" (only unscaled \"default\" rotary embeddings are supported)") }
            if let f = rope["partial_rotary_factor"] as? Double, f != 1 { throw refuse("\(key).partial_rotary_factor is \(f)") }
        }
        if let f = json["partial_rotary_factor"] as? Double, f != 1 { throw refuse("partial_rotary_factor is \(f)") }
        if let top = json["rope_theta"] as? Double, let inner = (json["rope_parameters"] as? [String: Any])?["rope_theta"] as? Double,
           Float(top) != Float(inner) {
            throw ModelConfigError(message: "rope_theta is \(top) but rope_parameters.rope_theta is \(inner); transformers 4 reads the first, 5 the second — make them agree")
        }
    }
}
