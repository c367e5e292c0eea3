/// Writes several distinct, verifiable CoTs for one problem. Every line states its computation
/// as "a op b = c", so a CoT can be checked mechanically; variety comes from wording styles,
/// operand order in commutative steps, and reordering or grouping steps where arithmetic allows.
/// Several valid CoTs per answer are what the contrastive objective compares.
struct ArithmeticCoTWriter {
    typealias Operation = ArithmeticProblem.Operation

    /// One computed line: `left op right = result`. `combine` lines merge two story operands
    /// before applying them ("3 + 4 = 7 more"); `apply` lines update the running total.
    struct Line {
        var combine: Bool
        var operation: Operation
        var left: Int
        var right: Int
        var result: Int
        /// The story's amount in this line (as opposed to the running total).
        var operand: Int
    }

    /// Ways to restructure the steps; each keeps the answer and the number of equations.
    enum Restructure: Equatable {
        case none
        /// Apply steps i and i+1 in the other order (add/sub only, totals stay >= 0).
        case reorder(Int)
        /// Combine the operands of same-operation steps i and i+1 first.
        case group(Int)
    }

    /// Templates per operation, indexed by style; {p} is the pronoun, {n} the operand,
    /// {o} the object and {eq} the equation. Styles differ in wording for every operation, so
    /// CoTs written in different uniform styles are always distinct.
    static let applyTemplates: [Operation: [String]] = [
        .add: ["{p} has {eq}.", "Plus {n} is {eq}.", "So {eq}.", "Now {eq} {o}."],
        .sub: ["{p} has {eq} left.", "Minus {n} is {eq}.", "So {eq} left.", "Now {eq} {o}."],
        .mul: ["{p} has {eq}.", "Times {n} is {eq}.", "So {eq}.", "Now {eq} {o}."],
    ]
    static let combineTemplates: [Operation: [String]] = [
        .add: ["{p} gets {eq} more.", "In all {eq} more."],
        .sub: ["{p} gives up {eq}.", "In all {eq} go."],
        .mul: ["The factor is {eq}.", "So {eq} times as many."],
    ]
    static var styleCount: Int { ArithmeticTaskConfig.maxCoTsPerQuestion }

    let problem: ArithmeticProblem
    let story: ArithmeticStory

    /// `count` distinct CoTs; the first is the plain canonical one (steps in story order,
    /// first style), the rest are drawn at random with uniform-style CoTs as the fallback.
    func cots(count: Int, using rng: inout RNG) -> [String] {
        precondition(count <= Self.styleCount, "at most \(Self.styleCount) CoTs per question")
        let canonical = lines(.none)
        var result = [render(canonical, styles: Array(repeating: 0, count: canonical.count),
                             swapped: Array(repeating: false, count: canonical.count))]
        let options = [Restructure.none] + restructures()
        var attempts = 0
        while result.count < count && attempts < 32 {
            attempts += 1
            let plan = lines(options.randomElement(using: &rng)!)
            let styles = plan.map { _ in rng.int(in: 0...(Self.styleCount - 1)) }
            let swapped = plan.map { $0.operation != .sub && rng.int(in: 0...1) == 1 }
            let text = render(plan, styles: styles, swapped: swapped)
            if !result.contains(text) { result.append(text) }
        }
        var style = 1
        while result.count < count {
            let text = render(canonical, styles: Array(repeating: style, count: canonical.count),
                              swapped: Array(repeating: false, count: canonical.count))
            if !result.contains(text) { result.append(text) }
            style += 1
        }
        return result
    }

    func restructures() -> [Restructure] {
        let steps = problem.steps
        var found: [Restructure] = []
        for i in steps.indices.dropLast() {
            let a = steps[i], b = steps[i + 1]
            if a.operation == b.operation { found.append(.group(i)) }
            if a.operation != .mul, b.operation != .mul, a != b {
                var swappedSteps = steps
                swappedSteps.swapAt(i, i + 1)
                if Self.staysNonNegative(start: problem.start, swappedSteps) { found.append(.reorder(i)) }
            }
        }
        return found
    }

    static func staysNonNegative(start: Int, _ steps: [ArithmeticProblem.Step]) -> Bool {
        var total = start
        for step in steps {
            total = step.operation.apply(total, step.operand)
            if total < 0 { return false }
        }
        return true
    }

    func lines(_ restructure: Restructure) -> [Line] {
        var steps = problem.steps
        var out: [Line] = []
        var groupAt: Int?
        switch restructure {
        case .none: break
        case .reorder(let i): steps.swapAt(i, i + 1)
        case .group(let i): groupAt = i
        }
        var total = problem.start
        var i = 0
        while i < steps.count {
            var step = steps[i]
            if i == groupAt {
                let next = steps[i + 1]
                // Two subtractions combine by adding what was taken; products by multiplying.
                let combineOp: Operation = step.operation == .mul ? .mul : .add
                let merged = combineOp.apply(step.operand, next.operand)
                out.append(Line(combine: true, operation: step.operation, left: step.operand,
                                right: next.operand, result: merged, operand: merged))
                step.operand = merged
                i += 1
            }
            let result = step.operation.apply(total, step.operand)
            out.append(Line(combine: false, operation: step.operation, left: total,
                            right: step.operand, result: result, operand: step.operand))
            total = result
            i += 1
        }
        return out
    }

    func render(_ lines: [Line], styles: [Int], swapped: [Bool]) -> String {
        zip(lines, zip(styles, swapped)).map { line, choice in
            let (style, swap) = choice
            let symbol = line.combine && line.operation == .sub ? "+" : line.operation.symbol
            let (l, r) = swap ? (line.right, line.left) : (line.left, line.right)
            let equation = "\(l) \(symbol) \(r) = \(line.result)"
            let templates = (line.combine ? Self.combineTemplates : Self.applyTemplates)[line.operation]!
            return templates[style % templates.count]
                .replacingOccurrences(of: "{p}", with: story.pronoun)
                .replacingOccurrences(of: "{n}", with: String(line.operand))
                .replacingOccurrences(of: "{o}", with: story.object)
                .replacingOccurrences(of: "{eq}", with: equation)
        }.joined(separator: "\n")
    }
}

import Foundation
