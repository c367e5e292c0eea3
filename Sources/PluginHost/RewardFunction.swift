/// What a reward sees of one rollout. CARFT's embedding-enhanced reward also needs the pooled
/// CoT embeddings of the rollout and of the annotated CoT; they are nil where the host has
/// none (plain PPO, Dr.GRPO).
public struct RewardInput: Sendable {
    public var question: String
    public var completion: String
    public var gold: Double
    public var rolloutEmbedding: [Float]?
    public var annotatedEmbedding: [Float]?

    public init(question: String, completion: String, gold: Double,
                rolloutEmbedding: [Float]? = nil, annotatedEmbedding: [Float]? = nil) {
        self.question = question
        self.completion = completion
        self.gold = gold
        self.rolloutEmbedding = rolloutEmbedding
        self.annotatedEmbedding = annotatedEmbedding
    }
}

/// Scores a batch of rollouts. The engine calls rewards only through this protocol. Every reward
/// `workbench` runs is a `PluginReward` (built-in, loaded from a library, or a plain C function
/// the host wraps as a plugin); the
/// protocol lets tests score with a few lines of Swift.
public protocol RewardFunction: AnyObject {
    /// A short name for metrics and error messages.
    var name: String { get }
    func scores(_ batch: [RewardInput]) throws -> [Float]
}
