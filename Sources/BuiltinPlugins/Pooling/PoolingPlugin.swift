import PluginABI

/// A built-in pooling: the C calls of one `PoolingMath` rule. The instance holds the rule's
/// type; the function table is shared by all three poolings (flags differ, so each gets its own
/// copy of the table).
final class PoolingInstance: BuiltinInstance {
    let math: any PoolingMath.Type

    init(_ math: any PoolingMath.Type, host: UnsafePointer<wb_host>?) {
        self.math = math
        super.init(host: host)
    }

    /// The Math view of the ABI batch, after checking what the rule will read; nil when the
    /// batch has no token to read (batch or T is 0).
    func batch(_ batch: UnsafePointer<wb_pooling_batch>?) throws -> PoolingBatch? {
        guard let batch else { throw PluginFailure.invalid("got a NULL batch") }
        try BuiltinCall.require(batch, covers: \wb_pooling_batch.mask, "wb_pooling_batch")
        let b = batch.pointee
        let (n, t, d) = (Int(b.batch), Int(b.tokens), Int(b.dim))
        guard n > 0 && t > 0 else { return nil }
        if math.needsValues && b.values == nil {
            throw PluginFailure.invalid("this pooling weights tokens by the value head's outputs, but batch->values is NULL (the host has no value head)")
        }
        guard let tokens = b.token_embeddings, let mask = b.mask else {
            throw PluginFailure.invalid("token_embeddings and mask must not be NULL for a \(n)×\(t)×\(d) batch")
        }
        return PoolingBatch(batch: n, T: t, dim: d, tokens: tokens, values: math.needsValues ? b.values : nil, mask: mask)
    }

    func forward(_ batch: UnsafePointer<wb_pooling_batch>?, _ out: UnsafeMutablePointer<Float>?) throws {
        guard let pb = try self.batch(batch) else {
            // Rows without tokens pool to zero embeddings.
            if let b = batch?.pointee, let out { out.update(repeating: 0, count: Int(b.batch) * Int(b.dim)) }
            return
        }
        guard let out else { throw PluginFailure.invalid("forward got a NULL out") }
        math.forward(pb, out: out)
    }

    func backward(_ batch: UnsafePointer<wb_pooling_batch>?, _ gradOut: UnsafePointer<Float>?,
                  _ gradTokens: UnsafeMutablePointer<Float>?, _ gradValues: UnsafeMutablePointer<Float>?) throws {
        guard let pb = try self.batch(batch), gradTokens != nil || gradValues != nil else { return }
        guard let gradOut else { throw PluginFailure.invalid("backward got a NULL grad_out") }
        math.backward(pb, gradOut: gradOut, gradTokens: gradTokens, gradValues: gradValues)
    }

    /// A pooling built-in's descriptor: the shared calls with this rule's flags.
    static func makeDescriptor(id: String, summary: String, math: any PoolingMath.Type, create: CreateFunction) -> UnsafePointer<wb_plugin_descriptor> {
        let functions = CMemory.keep(wb_pooling_functions(
            struct_size: UInt32(MemoryLayout<wb_pooling_functions>.size),
            flags: math.needsValues ? UInt32(WB_POOLING_USES_VALUES) : 0,
            forward: { instance, batch, out in
                BuiltinCall.run(instance, as: PoolingInstance.self) { try $0.forward(batch, out) }
            },
            backward: { instance, batch, gradOut, gradTokens, gradValues in
                BuiltinCall.run(instance, as: PoolingInstance.self) { try $0.backward(batch, gradOut, gradTokens, gradValues) }
            }))
        return DescriptorBuilder.descriptor(kind: WB_KIND_POOLING, id: id, summary: summary, keys: [], create: create,
                                            functions: UnsafeRawPointer(functions))
    }
}
