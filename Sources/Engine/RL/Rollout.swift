/// One sampled answer to one question, with everything the update needs about it.
public struct Rollout: Sendable {
    public var example: MathExample
    public var prompt: [Int32]
    public var response: [Int32]
    /// log π(token) at sampling time, one per response token.
    public var sampleLogProbs: [Float]
    public var finished: Bool
    public var completion: String
    public var reward: Float = 0

    public var sequence: PromptedSequence { PromptedSequence(ids: prompt + response, promptLength: prompt.count) }
}
