/// Sizes of a Llama-family decoder. Field names on disk follow Hugging Face's `config.json`
/// for LlamaForCausalLM, so a checkpoint's config can be read by other tools unchanged.
public struct ModelConfig: Codable, Equatable, Sendable {
    public var vocabSize: Int
    public var dim: Int
    public var layers: Int
    public var heads: Int
    public var kvHeads: Int
    public var ffnDim: Int
    public var maxSeqLen: Int
    public var ropeTheta: Float
    public var normEps: Float
    public var tiedEmbeddings: Bool

    public var headDim: Int { dim / heads }
    public var kvDim: Int { kvHeads * headDim }

    public init(vocabSize: Int, dim: Int, layers: Int, heads: Int, kvHeads: Int, ffnDim: Int,
                maxSeqLen: Int, ropeTheta: Float = 10000, normEps: Float = 1e-5,
                tiedEmbeddings: Bool = true) {
        self.vocabSize = vocabSize
        self.dim = dim
        self.layers = layers
        self.heads = heads
        self.kvHeads = kvHeads
        self.ffnDim = ffnDim
        self.maxSeqLen = maxSeqLen
        self.ropeTheta = ropeTheta
        self.normEps = normEps
        self.tiedEmbeddings = tiedEmbeddings
    }

    enum CodingKeys: String, CodingKey {
        case vocabSize = "vocab_size"
        case dim = "hidden_size"
        case layers = "num_hidden_layers"
        case heads = "num_attention_heads"
        case kvHeads = "num_key_value_heads"
        case ffnDim = "intermediate_size"
        case maxSeqLen = "max_position_embeddings"
        case ropeTheta = "rope_theta"
        case normEps = "rms_norm_eps"
        case tiedEmbeddings = "tie_word_embeddings"
        case ropeParameters = "rope_parameters"
    }

    private struct RopeParameters: Decodable {
        var rope_theta: Float?
    }

    /// Reads configs written by this engine and by transformers of either major version: 4.x
    /// writes `rope_theta` at the top, 5.x only inside `rope_parameters`, and transformers uses
    /// 10000 when neither is given, so the engine does too.
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        vocabSize = try c.decode(Int.self, forKey: .vocabSize)
        dim = try c.decode(Int.self, forKey: .dim)
        layers = try c.decode(Int.self, forKey: .layers)
        heads = try c.decode(Int.self, forKey: .heads)
        kvHeads = try c.decode(Int.self, forKey: .kvHeads)
        ffnDim = try c.decode(Int.self, forKey: .ffnDim)
        maxSeqLen = try c.decode(Int.self, forKey: .maxSeqLen)
        normEps = try c.decode(Float.self, forKey: .normEps)
        tiedEmbeddings = try c.decode(Bool.self, forKey: .tiedEmbeddings)
        ropeTheta = try c.decodeIfPresent(Float.self, forKey: .ropeTheta)
            ?? c.decodeIfPresent(RopeParameters.self, forKey: .ropeParameters)?.rope_theta
            ?? 10000
    }

    /// The engine's own keys; `rope_parameters` and the rest of a Hugging Face config are added
    /// by `HFConfig`, which knows what transformers expects beside them.
    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(vocabSize, forKey: .vocabSize)
        try c.encode(dim, forKey: .dim)
        try c.encode(layers, forKey: .layers)
        try c.encode(heads, forKey: .heads)
        try c.encode(kvHeads, forKey: .kvHeads)
        try c.encode(ffnDim, forKey: .ffnDim)
        try c.encode(maxSeqLen, forKey: .maxSeqLen)
        try c.encode(ropeTheta, forKey: .ropeTheta)
        try c.encode(normEps, forKey: .normEps)
        try c.encode(tiedEmbeddings, forKey: .tiedEmbeddings)
    }

    /// Throws a message naming the offending field when the sizes cannot form a model.
    public func validate() throws {
        func bad(_ s: String) -> ModelConfigError { ModelConfigError(message: s) }
        if vocabSize < 2 { throw bad("vocab_size must be at least 2 (got \(vocabSize))") }
        if dim < 1 || layers < 1 || heads < 1 || kvHeads < 1 || ffnDim < 1 || maxSeqLen < 1 {
            throw bad("hidden_size, num_hidden_layers, num_attention_heads, num_key_value_heads, intermediate_size and max_position_embeddings must all be positive")
        }
        // Far above any model this CPU engine can hold, and low enough that no size or
        // parameter count computed from them can overflow: a typo or a damaged file is an
        // error here, not a trap or an allocation of terabytes.
        let limits: [(String, Int, Int)] = [("vocab_size", vocabSize, 1 << 24), ("hidden_size", dim, 1 << 18),
                                            ("num_hidden_layers", layers, 4_096), ("num_attention_heads", heads, 4_096),
                                            ("num_key_value_heads", kvHeads, 4_096), ("intermediate_size", ffnDim, 1 << 20),
                                            ("max_position_embeddings", maxSeqLen, 1 << 20)]
        for (name, value, limit) in limits where value > limit {
            throw bad("\(name) is \(value), above the largest this engine accepts (\(limit))")
        }
        if !(ropeTheta > 0 && ropeTheta.isFinite) { throw bad("rope_theta must be positive and finite (got \(ropeTheta))") }
        if !(normEps > 0 && normEps.isFinite) { throw bad("rms_norm_eps must be positive and finite (got \(normEps))") }
        if dim % heads != 0 { throw bad("hidden_size \(dim) is not divisible by num_attention_heads \(heads)") }
        if headDim % 2 != 0 { throw bad("head size \(headDim) must be even for rotary embeddings") }
        if heads % kvHeads != 0 { throw bad("num_attention_heads \(heads) is not a multiple of num_key_value_heads \(kvHeads)") }
    }

    /// SmolLM2-135M's shape, kept here so tests can check nothing rules it out.
    public static let smolLM2_135M = ModelConfig(
        vocabSize: 49152, dim: 576, layers: 30, heads: 9, kvHeads: 3, ffnDim: 1536,
        maxSeqLen: 8192, ropeTheta: 100000, normEps: 1e-5, tiedEmbeddings: true)
}

public struct ModelConfigError: Error, CustomStringConvertible {
    public var message: String
    public var description: String { "invalid model config: \(message)" }
}
