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

/// Scores a batch of rollouts. The engine calls rewards only through this protocol, so a
/// plugin loaded from a shared library can stand in for a built-in.
public protocol RewardFunction: AnyObject {
    /// A short name for metrics and error messages.
    var name: String { get }
    func scores(_ batch: [RewardInput]) throws -> [Float]
}

/// The ReFT reward: 1 when the extracted answer is within 1e-2 of gold, `partial` (0.1) when a
/// number was extracted but is wrong, 0 when no answer line could be read.
public final class ReFTPartialReward: RewardFunction {
    public let partial: Float
    public var name: String { partial == 0 ? "exact-match" : "reft-partial" }

    public init(partial: Float = 0.1) { self.partial = partial }

    public func scores(_ batch: [RewardInput]) throws -> [Float] {
        batch.map { item in
            guard let pred = ReFTFormat.extractAnswer(item.completion) else { return 0 }
            return ReFTFormat.isCorrect(predicted: pred, gold: item.gold) ? 1 : partial
        }
    }
}
