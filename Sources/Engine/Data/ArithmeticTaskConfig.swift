/// Difficulty knobs of the built-in arithmetic task. The defaults give two-step problems that a
/// tiny character-level model can learn within minutes, so the whole pipeline can be exercised
/// without downloading anything.
public struct ArithmeticTaskConfig: Codable, Equatable, Sendable {
    /// Reasoning steps per problem; each step is one operation and one stated equation.
    public var steps: Int
    /// Story numbers are drawn from 1...maxValue (multiplication factors stay within 2...4).
    public var maxValue: Int
    /// Allowed operations, a subset of `ArithmeticTaskConfig.allOperations`.
    public var operations: [String]
    /// Distinct valid CoTs written for every question (at most `maxCoTsPerQuestion`).
    public var cotsPerQuestion: Int

    public static let allOperations = ["add", "sub", "mul"]
    /// One per wording style, which is what guarantees that many distinct CoTs for any problem.
    public static let maxCoTsPerQuestion = 4
    public static let `default` = ArithmeticTaskConfig()

    public init(steps: Int = 2, maxValue: Int = 20, operations: [String] = ArithmeticTaskConfig.allOperations,
                cotsPerQuestion: Int = 3) {
        self.steps = steps
        self.maxValue = maxValue
        self.operations = operations
        self.cotsPerQuestion = cotsPerQuestion
    }

    /// Missing keys take their defaults, so a config file only needs the knobs it changes.
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = ArithmeticTaskConfig.default
        steps = try c.decodeIfPresent(Int.self, forKey: .steps) ?? d.steps
        maxValue = try c.decodeIfPresent(Int.self, forKey: .maxValue) ?? d.maxValue
        operations = try c.decodeIfPresent([String].self, forKey: .operations) ?? d.operations
        cotsPerQuestion = try c.decodeIfPresent(Int.self, forKey: .cotsPerQuestion) ?? d.cotsPerQuestion
    }

    /// Running totals stay at or below this, so numbers stay short for a character-level model;
    /// it grows with `steps` so that additions alone can always reach the last step.
    var valueCap: Int { maxValue * max(5, steps + 1) }

    /// Every problem with this config, each stating what to change. Empty means usable.
    public var problems: [String] {
        var found: [String] = []
        if steps < 1 { found.append("steps is \(steps); use 1 or more") }
        if maxValue < 1 { found.append("maxValue is \(maxValue); use 1 or more") }
        if !(1...Self.maxCoTsPerQuestion).contains(cotsPerQuestion) {
            found.append("cotsPerQuestion is \(cotsPerQuestion); use 1 to \(Self.maxCoTsPerQuestion)")
        }
        let unknown = operations.filter { !Self.allOperations.contains($0) }
        if !unknown.isEmpty {
            found.append("unknown operations \(unknown); choose from \(Self.allOperations)")
        }
        if operations.isEmpty { found.append("operations is empty; list at least one of \(Self.allOperations)") }
        if Set(operations).count != operations.count { found.append("operations \(operations) repeat an entry; list each once") }
        guard found.isEmpty else { return found }
        // Single-operation chains can run out of room: subtraction cannot go below 0 and
        // products cannot pass the cap, even from the smallest start (2 when maxValue allows).
        if operations == ["sub"] && steps > maxValue {
            found.append("\(steps) subtractions cannot stay at or above 0 starting from at most \(maxValue); raise maxValue or add operations")
        }
        if operations == ["mul"] && (steps >= 62 || min(2, maxValue) > valueCap >> steps) {
            found.append("\(steps) doublings of \(min(2, maxValue)) exceed the value cap \(valueCap); lower steps or add operations")
        }
        return found
    }
}
