import PluginABI

/// What a built-in reward computes: one score per rollout from its completion, gold answer and
/// (when the host has them) its pooled CoT embeddings.
protocol RewardRule {
    func score(completion: String, gold: Double, rollout: UnsafePointer<Float>?, annotated: UnsafePointer<Float>?, dim: Int) -> Float
}

/// A built-in reward's instance: its rule behind the ABI's score call, which checks the batch.
final class RewardInstance: BuiltinInstance {
    let rule: any RewardRule

    init(_ rule: any RewardRule, host: UnsafePointer<wb_host>?) {
        self.rule = rule
        super.init(host: host)
    }

    /// The function table every built-in reward shares; the instance decides the rule.
    static let functions: UnsafeRawPointer = UnsafeRawPointer(CMemory.keep(wb_reward_functions(
        struct_size: UInt32(MemoryLayout<wb_reward_functions>.size),
        score: { instance, batch, out in
            BuiltinCall.run(instance, as: RewardInstance.self) { r in try r.score(batch, out) }
        })))

    func score(_ batch: UnsafePointer<wb_reward_batch>?, _ out: UnsafeMutablePointer<Float>?) throws {
        guard let batch else { throw PluginFailure.invalid("score got a NULL batch") }
        try BuiltinCall.require(batch, covers: \wb_reward_batch.annotated_embeddings, "wb_reward_batch")
        let b = batch.pointee
        let n = Int(b.count)
        guard n > 0 else { return }
        guard let out else { throw PluginFailure.invalid("score got a NULL out_rewards for \(n) rollouts") }
        guard let completions = b.completions, let golds = b.gold_values else {
            throw PluginFailure.invalid("score needs completions and gold_values, got NULL")
        }
        // Embeddings only when the host has both (embedding_dim > 0); otherwise the rule's fallback.
        let dim = Int(b.embedding_dim)
        let haveEmbeddings = dim > 0 && b.rollout_embeddings != nil && b.annotated_embeddings != nil
        for i in 0..<n {
            guard let c = completions[i] else { throw PluginFailure.invalid("score got a NULL completions[\(i)]") }
            out[i] = rule.score(completion: String(cString: c), gold: golds[i],
                           rollout: haveEmbeddings ? b.rollout_embeddings! + i * dim : nil,
                           annotated: haveEmbeddings ? b.annotated_embeddings! + i * dim : nil, dim: haveEmbeddings ? dim : 0)
        }
    }

    /// Descriptor of a reward built-in.
    static func makeDescriptor(id: String, summary: String, keys: [ConfigKeySpec], create: CreateFunction) -> UnsafePointer<wb_plugin_descriptor> {
        DescriptorBuilder.descriptor(kind: WB_KIND_REWARD, id: id, summary: summary, keys: keys, create: create, functions: functions)
    }

    /// Rewards at or above 1 mark a correct rollout for the contrastive losses (reward ≥ 1), so
    /// a value given for a wrong answer must stay below 1.
    static func belowCorrect(_ value: Float, _ name: String) throws -> Float {
        guard value < 1 else {
            throw PluginFailure.config("\(name) is \(value), but rewards for wrong answers must stay below 1 (reward ≥ 1 marks a correct rollout for the contrastive losses)")
        }
        return value
    }
}
