/// Sequence-level advantages for group-relative policy optimisation.
public enum GroupAdvantage {
    /// Dr.GRPO: each sample's reward minus its group's mean, with no division by the group's
    /// standard deviation. Dividing by the std weights questions that are nearly always solved
    /// (or never) as heavily as contested ones, which is the difficulty bias Dr.GRPO removes.
    ///
    /// `rewards` are laid out group by group: `groupSize` consecutive samples of one question.
    public static func drGRPO(rewards: [Float], groupSize: Int) -> [Float] {
        precondition(groupSize > 0, "GroupAdvantage.drGRPO: groupSize must be positive, got \(groupSize)")
        precondition(rewards.count % groupSize == 0,
                     "GroupAdvantage.drGRPO: \(rewards.count) rewards do not split into groups of \(groupSize); each question needs exactly groupSize samples")
        var advantages = [Float](repeating: 0, count: rewards.count)
        var start = 0
        while start < rewards.count {
            var sum = 0.0
            for i in start..<(start + groupSize) { sum += Double(rewards[i]) }
            let mean = sum / Double(groupSize)
            for i in start..<(start + groupSize) { advantages[i] = Float(Double(rewards[i]) - mean) }
            start += groupSize
        }
        return advantages
    }
}
