/// The embedded default task: short arithmetic word problems with several verifiable CoTs each,
/// generated deterministically from a seed so that runs are reproducible without any files.
public struct ArithmeticTask: Sendable {
    public let config: ArithmeticTaskConfig
    public let seed: UInt64

    /// Traps on an unusable config; call `config.problems` first to report problems politely.
    public init(config: ArithmeticTaskConfig = .default, seed: UInt64) {
        let problems = config.problems
        precondition(problems.isEmpty, "invalid arithmetic task config: \(problems.joined(separator: "; "))")
        self.config = config
        self.seed = seed
    }

    /// The first `count` training examples. Asking for more extends the list without changing
    /// the ones before, so a longer run sees a superset of a shorter run's data.
    public func train(count: Int) -> [MathExample] { examples(test: false, count: count) }

    /// The first `count` test examples; their arithmetic never occurs in any training set.
    public func test(count: Int) -> [MathExample] { examples(test: true, count: count) }

    /// "train" or "test" when that split has no problem at all under this config (a tiny one
    /// whose few distinct problems all hash into the other split), so a caller can refuse it
    /// before `train`/`test` would trap; nil when both have some.
    public func emptySplit() -> String? {
        var rng = RNG(seed: seed, stream: "arithmetic-probe")
        var seen = (train: false, test: false)
        for _ in 0..<Self.probeDraws {
            let problem = ArithmeticProblem.draw(config: config, using: &rng)
            if problem.isTest { seen.test = true } else { seen.train = true }
            if seen.train && seen.test { return nil }
        }
        return seen.train ? "test" : "train"
    }

    /// Draws `emptySplit` makes at most (ordinary configs stop after a few); `examples` allows
    /// ten times as many before giving up on a split the probe found problems in.
    static let probeDraws = 1_000_000

    /// Draws problems from a stream of its own per split and keeps those that hash into the
    /// split. Questions are kept unique within the split while the config has room for that;
    /// a config too small for `count` distinct questions repeats some rather than looping.
    func examples(test: Bool, count: Int) -> [MathExample] {
        let split = test ? "test" : "train"
        var rng = RNG(seed: seed, stream: "arithmetic-\(split)")
        var out: [MathExample] = []
        out.reserveCapacity(count)
        var seen = Set<String>()
        var draws = 0
        let uniqueBudget = 200 * count + 10_000
        while out.count < count {
            draws += 1
            precondition(draws < max(uniqueBudget, 10 * Self.probeDraws) || !out.isEmpty,
                         "arithmetic task: no \(split) problems exist for \(config); raise maxValue or steps")
            let problem = ArithmeticProblem.draw(config: config, using: &rng)
            guard problem.isTest == test else { continue }
            let story = ArithmeticStory.draw(for: problem, using: &rng)
            let question = story.question(for: problem)
            guard seen.insert(question).inserted || draws >= uniqueBudget else { continue }
            let cots = ArithmeticCoTWriter(problem: problem, story: story)
                .cots(count: config.cotsPerQuestion, using: &rng)
            out.append(MathExample(id: "arith-\(split)-\(out.count + 1)", question: question,
                                   cots: cots, answer: Double(problem.answer)))
        }
        return out
    }
}
