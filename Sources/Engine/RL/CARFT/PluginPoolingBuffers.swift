import PluginHost

/// The pooling plugin's calls over the Engine's FloatBuffers, with sizes checked, as CARFT's
/// term and the plugin checker make them.
extension PluginPooling {
    /// forward over FloatBuffers: returns the pooled [batch×dim] embeddings.
    public func forward(tokenEmbeddings: FloatBuffer, values: FloatBuffer?, mask: [UInt8],
                        batch: Int, tokens: Int, dim: Int) throws -> FloatBuffer {
        try checkSizes(tokenEmbeddings, values, mask, batch, tokens, dim)
        let out = FloatBuffer(batch * dim)
        try mask.withUnsafeBufferPointer { m in
            try forward(PoolingInput(batch: batch, tokens: tokens, dim: dim, tokenEmbeddings: tokenEmbeddings.ptr,
                                     values: values.map { UnsafePointer($0.ptr) }, mask: m.baseAddress!), out: out.ptr)
        }
        return out
    }

    /// backward over FloatBuffers: returns (grad_tokens, grad_values), the latter nil without values.
    public func backward(tokenEmbeddings: FloatBuffer, values: FloatBuffer?, mask: [UInt8], gradOut: FloatBuffer,
                         batch: Int, tokens: Int, dim: Int) throws -> (tokens: FloatBuffer, values: FloatBuffer?) {
        try checkSizes(tokenEmbeddings, values, mask, batch, tokens, dim)
        precondition(gradOut.count == batch * dim, "PluginPooling.backward: gradOut has \(gradOut.count) floats, expected \(batch * dim)")
        let gt = FloatBuffer(batch * tokens * dim), gv = values.map { _ in FloatBuffer(batch * tokens) }
        try mask.withUnsafeBufferPointer { m in
            try backward(PoolingInput(batch: batch, tokens: tokens, dim: dim, tokenEmbeddings: tokenEmbeddings.ptr,
                                      values: values.map { UnsafePointer($0.ptr) }, mask: m.baseAddress!),
                         gradOut: gradOut.ptr, gradTokens: gt.ptr, gradValues: gv?.ptr)
        }
        return (gt, gv)
    }

    private func checkSizes(_ t: FloatBuffer, _ v: FloatBuffer?, _ m: [UInt8], _ batch: Int, _ tokens: Int, _ dim: Int) throws {
        precondition(t.count == batch * tokens * dim && m.count == batch * tokens && (v == nil || v!.count == batch * tokens),
                     "PluginPooling: buffer sizes do not match batch \(batch) × tokens \(tokens) × dim \(dim)")
    }
}
