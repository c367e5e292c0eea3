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
    }

    /// Throws a message naming the offending field when the sizes cannot form a model.
    public func validate() throws {
        func bad(_ s: String) -> ModelConfigError { ModelConfigError(message: s) }
        if vocabSize < 2 { throw bad("vocab_size must be at least 2 (got \(vocabSize))") }
        if dim < 1 || layers < 1 || heads < 1 || kvHeads < 1 || ffnDim < 1 || maxSeqLen < 1 {
            throw bad("hidden_size, num_hidden_layers, num_attention_heads, num_key_value_heads, intermediate_size and max_position_embeddings must all be positive")
        }
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
