/// The numeric content of one generated problem: a starting amount and a chain of operations.
/// Stories and CoTs are wordings of this; the train/test split is decided by it alone.
struct ArithmeticProblem: Equatable, Sendable {
    enum Operation: String, Sendable {
        case add, sub, mul

        var symbol: String {
            switch self {
            case .add: "+"
            case .sub: "-"
            case .mul: "*"
            }
        }

        func apply(_ a: Int, _ b: Int) -> Int {
            switch self {
            case .add: a + b
            case .sub: a - b
            case .mul: a * b
            }
        }
    }

    struct Step: Equatable, Sendable {
        var operation: Operation
        var operand: Int
    }

    var start: Int
    var steps: [Step]

    var answer: Int { steps.reduce(start) { $1.operation.apply($0, $1.operand) } }

    /// E.g. "5+3*2"; two problems with the same key are the same arithmetic.
    var canonicalKey: String {
        steps.reduce(String(start)) { $0 + $1.operation.symbol + String($1.operand) }
    }

    /// One in five problems belongs to the test split, chosen by hashing the arithmetic only.
    /// Neither the seed nor the story enters, so a model trained with any seed never sees a
    /// test problem's arithmetic, even reworded; and the split does not depend on counts.
    var isTest: Bool {
        var h: UInt64 = 0xCBF2_9CE4_8422_2325  // FNV-1a: stable across runs, unlike Hasher
        for b in canonicalKey.utf8 { h = (h ^ UInt64(b)) &* 0x0000_0100_0000_01B3 }
        h = (h ^ (h >> 33)) &* 0xFF51_AFD7_ED55_8CCD  // spread the low bits before the modulo
        h ^= h >> 33
        return h % 5 == 0
    }

    /// Draws a problem whose running totals stay within 0...cap. Each step picks among the
    /// operations still possible from the current total, so subtraction never goes negative
    /// and products stay small; a dead end (rare, e.g. a total of 0 with only sub and mul)
    /// restarts the draw.
    static func draw(config: ArithmeticTaskConfig, using rng: inout RNG) -> ArithmeticProblem {
        let cap = config.valueCap
        let allowed = config.operations.compactMap(Operation.init(rawValue:))
        // A single-operation chain cannot recover: products only grow and differences only
        // shrink. Each choice therefore leaves room for the steps still to come, instead of
        // relying on redraws that would almost never succeed for long chains.
        func leavesRoom(_ total: Int, remaining: Int) -> Bool {
            if allowed == [.mul] { return remaining < 62 && total <= cap >> remaining }
            if allowed == [.sub] { return total >= remaining }
            return true
        }
        // Starting at 2 when possible avoids "has 1 apples" in every story template.
        let starts = (min(2, config.maxValue)...config.maxValue).filter { leavesRoom($0, remaining: config.steps) }
        for _ in 0..<10_000 {
            guard let start = starts.randomElement(using: &rng) else { break }
            var total = start
            var steps: [Step] = []
            for index in 0..<config.steps {
                let remaining = config.steps - index - 1
                let choices: [(Operation, [Int])] = allowed.map { op in
                    let operands = switch op {
                    case .add: Array(1...config.maxValue)
                    case .sub: Array(1...config.maxValue)
                    case .mul: total >= 1 ? [2, 3, 4] : []  // doubling 0 is not a story
                    }
                    return (op, operands.filter { operand in
                        let next = op.apply(total, operand)
                        return next >= 0 && next <= cap && leavesRoom(next, remaining: remaining)
                    })
                }.filter { !$0.1.isEmpty }
                guard let (op, operands) = choices.randomElement(using: &rng) else { break }
                let operand = operands.randomElement(using: &rng)!
                steps.append(Step(operation: op, operand: operand))
                total = op.apply(total, operand)
            }
            if steps.count == config.steps { return ArithmeticProblem(start: start, steps: steps) }
        }
        preconditionFailure("arithmetic task: no valid problem for \(config); check config.problems")
    }
}
