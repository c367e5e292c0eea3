#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import AnswerFormat
import PluginABI

/// A reward plugin behind the RewardFunction protocol, so the RL trainer scores
/// rollouts the same way whether the reward is built in or loaded from a library.
public final class PluginReward: RewardFunction {
    public let instance: PluginInstance
    private let functions: wb_reward_functions

    public var name: String { instance.descriptor.id }

    public init(_ instance: PluginInstance) throws {
        guard let f = instance.descriptor.rewardFunctions else {
            throw instance.descriptor.error("is a \(instance.descriptor.kind) plugin, not a reward", remedy: "pass a reward plugin here")
        }
        self.instance = instance
        functions = f
    }

    public convenience init(_ descriptor: PluginDescriptor, config: [String: String] = [:]) throws {
        try self.init(PluginInstance(descriptor, config: config))
    }

    public func scores(_ batch: [RewardInput]) throws -> [Float] {
        let n = batch.count
        guard n > 0 else { return [] }
        // Embeddings go to the plugin only when every rollout has both, all of one width: the
        // header has one embedding_dim per batch and NULL for "the host has none".
        var dim = 0
        if let first = batch[0].rolloutEmbedding?.count, first > 0,
           batch.allSatisfy({ $0.rolloutEmbedding?.count == first && $0.annotatedEmbedding?.count == first }) {
            dim = first
        } else if batch.contains(where: { $0.rolloutEmbedding != nil || $0.annotatedEmbedding != nil }) {
            throw instance.descriptor.error("score got a batch where only some rollouts have CoT embeddings, or of different widths",
                                            remedy: "give every rollout both embeddings of one width, or none (this is a host bug)")
        }
        let prompts = batch.map { strdup($0.question) }, completions = batch.map { strdup($0.completion) }
        let golds = batch.map { strdup(ReFTFormat.formatAnswer($0.gold)) }
        defer { (prompts + completions + golds).forEach { free($0) } }
        let goldValues = batch.map(\.gold)
        let rollout = dim > 0 ? batch.flatMap { $0.rolloutEmbedding! } : []
        let annotated = dim > 0 ? batch.flatMap { $0.annotatedEmbedding! } : []
        var out = [Float](repeating: 0, count: n)
        let p = prompts.map { UnsafePointer($0) }, c = completions.map { UnsafePointer($0) }, g = golds.map { UnsafePointer($0) }
        try p.withUnsafeBufferPointer { p in
            try c.withUnsafeBufferPointer { c in
                try g.withUnsafeBufferPointer { g in
                    try goldValues.withUnsafeBufferPointer { gv in
                        try rollout.withUnsafeBufferPointer { re in
                            try annotated.withUnsafeBufferPointer { ae in
                                var b = wb_reward_batch(struct_size: ABIStruct.size(wb_reward_batch.self), count: UInt32(n),
                                                        prompts: p.baseAddress, completions: c.baseAddress, gold_answers: g.baseAddress,
                                                        gold_values: gv.baseAddress, embedding_dim: UInt32(dim), reserved: 0,
                                                        rollout_embeddings: dim > 0 ? re.baseAddress : nil,
                                                        annotated_embeddings: dim > 0 ? ae.baseAddress : nil)
                                try out.withUnsafeMutableBufferPointer { o in
                                    try instance.call("score") { functions.score!(instance.handle, &b, o.baseAddress) }
                                    try instance.checkFinite(o.baseAddress!, count: n, call: "score", output: "out_rewards")
                                }
                            }
                        }
                    }
                }
            }
        }
        return out
    }
}
