import PluginABI

/// The inputs of one pooling call: `batch` sequences of `tokens` (padded) token embeddings of
/// width `dim`, the value head's outputs per token, and the mask of tokens to pool. The pointers
/// must stay valid for the call.
public struct PoolingInput {
    public var batch: Int
    public var tokens: Int
    public var dim: Int
    /// [batch×tokens×dim]
    public var tokenEmbeddings: UnsafePointer<Float>
    /// [batch×tokens], or nil when the host has no value head.
    public var values: UnsafePointer<Float>?
    /// [batch×tokens], 1 = pool this token.
    public var mask: UnsafePointer<UInt8>

    public init(batch: Int, tokens: Int, dim: Int, tokenEmbeddings: UnsafePointer<Float>,
                values: UnsafePointer<Float>?, mask: UnsafePointer<UInt8>) {
        self.batch = batch
        self.tokens = tokens
        self.dim = dim
        self.tokenEmbeddings = tokenEmbeddings
        self.values = values
        self.mask = mask
    }

    var abi: wb_pooling_batch {
        wb_pooling_batch(struct_size: ABIStruct.size(wb_pooling_batch.self), batch: UInt32(batch), tokens: UInt32(tokens),
                         dim: UInt32(dim), token_embeddings: tokenEmbeddings, values: values, mask: mask)
    }
}

/// A pooling plugin: token embeddings → one embedding per sequence, with its vector-Jacobian
/// product so the Engine's backward pass continues through it into the model.
public final class PluginPooling {
    public let instance: PluginInstance
    private let functions: wb_pooling_functions

    public var name: String { instance.descriptor.id }
    /// The plugin reads the value head's outputs (WB_POOLING_USES_VALUES), so the host must have one.
    public var usesValues: Bool { Int(functions.flags) & WB_POOLING_USES_VALUES != 0 }

    public init(_ instance: PluginInstance) throws {
        guard let f = instance.descriptor.poolingFunctions else {
            throw instance.descriptor.error("is a \(instance.descriptor.kind) plugin, not a pooling", remedy: "pass a pooling plugin here")
        }
        self.instance = instance
        functions = f
    }

    public convenience init(_ descriptor: PluginDescriptor, config: [String: String] = [:]) throws {
        try self.init(PluginInstance(descriptor, config: config))
    }

    /// Writes out[batch×dim].
    public func forward(_ input: PoolingInput, out: UnsafeMutablePointer<Float>) throws {
        var b = input.abi
        try instance.call("forward") { functions.forward!(instance.handle, &b, out) }
        try instance.checkFinite(out, count: input.batch * input.dim, call: "forward", output: "out")
    }

    /// Overwrites gradTokens[batch×tokens×dim] and gradValues[batch×tokens] (either may be nil)
    /// with the gradient of the loss whose gradient with respect to the output is gradOut[batch×dim].
    public func backward(_ input: PoolingInput, gradOut: UnsafePointer<Float>,
                         gradTokens: UnsafeMutablePointer<Float>?, gradValues: UnsafeMutablePointer<Float>?) throws {
        var b = input.abi
        try instance.call("backward") { functions.backward!(instance.handle, &b, gradOut, gradTokens, gradValues) }
        if let gradTokens {
            try instance.checkFinite(gradTokens, count: input.batch * input.tokens * input.dim, call: "backward", output: "grad_tokens")
        }
        if let gradValues {
            try instance.checkFinite(gradValues, count: input.batch * input.tokens, call: "backward", output: "grad_values")
        }
    }
}
