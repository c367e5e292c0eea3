import Foundation
import Testing
@testable import Engine

/// Every "a op b = c" stated in `text`, in order, read token by token so that the check is
/// independent of the generator's own code.
private func equations(in text: String) -> [(a: Int, op: String, b: Int, c: Int)] {
    let tokens = text.split(whereSeparator: { $0 == " " || $0 == "\n" }).map {
        String($0).trimmingCharacters(in: CharacterSet(charactersIn: ".,:"))
    }
    var found: [(Int, String, Int, Int)] = []
    var i = 0
    while i + 4 < tokens.count {
        if let a = Int(tokens[i]), ["+", "-", "*"].contains(tokens[i + 1]), let b = Int(tokens[i + 2]),
           tokens[i + 3] == "=", let c = Int(tokens[i + 4]) {
            found.append((a, tokens[i + 1], b, c))
            i += 5
        } else {
            i += 1
        }
    }
    return found
}

private func holds(_ e: (a: Int, op: String, b: Int, c: Int)) -> Bool {
    switch e.op {
    case "+": e.a + e.b == e.c
    case "-": e.a - e.b == e.c
    default: e.a * e.b == e.c
    }
}

/// All integers written in a question, e.g. [5, 3, 2] for "Tom has 5 pens. He buys 3 more. ..."
private func numbers(in question: String) -> [Int] {
    question.split(whereSeparator: { !$0.isNumber }).compactMap { Int($0) }
}

@Suite struct ArithmeticTaskTests {
    @Test func sameSeedGivesIdenticalExamples() {
        let a = ArithmeticTask(seed: 7), b = ArithmeticTask(seed: 7)
        #expect(a.train(count: 300) == b.train(count: 300))
        #expect(a.test(count: 100) == b.test(count: 100))
        let other = ArithmeticTask(seed: 8).train(count: 300)
        #expect(other != a.train(count: 300))
    }

    @Test func longerRequestsExtendShorterOnes() {
        let task = ArithmeticTask(seed: 3)
        #expect(Array(task.train(count: 400).prefix(50)) == task.train(count: 50))
        #expect(Array(task.test(count: 120).prefix(30)) == task.test(count: 30))
        #expect(task.train(count: 2).map(\.id) == ["arith-train-1", "arith-train-2"])
        #expect(task.test(count: 1).map(\.id) == ["arith-test-1"])
    }

    @Test func trainAndTestAreDisjointAcrossSeeds() {
        let train = ArithmeticTask(seed: 1).train(count: 2000)
        let test = ArithmeticTask(seed: 1).test(count: 500)
        #expect(train.count == 2000 && test.count == 500)
        let trainQuestions = Set(train.map(\.question))
        #expect(trainQuestions.isDisjoint(with: test.map(\.question)))
        // Questions are unique within each split at this size.
        #expect(trainQuestions.count == 2000)
        #expect(Set(test.map(\.question)).count == 500)
        // The split hashes the arithmetic alone, so another seed's test set is just as unseen.
        let otherTest = ArithmeticTask(seed: 99).test(count: 500)
        #expect(trainQuestions.isDisjoint(with: otherTest.map(\.question)))
    }

    @Test func splitDependsOnArithmeticNotWording() {
        let p = ArithmeticProblem(start: 5, steps: [.init(operation: .add, operand: 3)])
        #expect(p.canonicalKey == "5+3")
        #expect(p.answer == 8)
        let train = ArithmeticTask(seed: 1).train(count: 2000)
        let test = ArithmeticTask(seed: 1).test(count: 500)
        // Same arithmetic would mean the same first CoT up to the pronoun and object words.
        func skeleton(_ e: MathExample) -> String { equations(in: e.cots[0]).map { "\($0.a)\($0.op)\($0.b)" }.joined(separator: ",") }
        #expect(Set(train.map(skeleton)).isDisjoint(with: test.map(skeleton)))
    }

    @Test func everyStatedEquationIsTrueAndEndsAtTheAnswer() {
        let config = ArithmeticTaskConfig.default
        for example in ArithmeticTask(seed: 5).train(count: 1000) + ArithmeticTask(seed: 5).test(count: 300) {
            #expect(example.answer >= 0)
            #expect(example.answer == example.answer.rounded())
            #expect(numbers(in: example.question).allSatisfy { $0 >= 1 && $0 <= config.maxValue })
            for cot in example.cots {
                let eqs = equations(in: cot)
                #expect(eqs.count == config.steps, "\(cot)")
                #expect(eqs.allSatisfy(holds), "\(cot)")
                #expect(eqs.allSatisfy { $0.c >= 0 }, "\(cot)")
                #expect(Double(eqs.last?.c ?? -1) == example.answer, "\(cot)")
                let target = ReFTFormat.target(cot: cot, answer: example.answer)
                #expect(ReFTFormat.extractAnswer(target) == example.answer)
            }
        }
    }

    @Test func cotsPerQuestionAreDistinct() {
        for config in [ArithmeticTaskConfig.default,
                       ArithmeticTaskConfig(steps: 1, operations: ["sub"], cotsPerQuestion: 4),
                       ArithmeticTaskConfig(steps: 3, maxValue: 9, cotsPerQuestion: 4)] {
            for example in ArithmeticTask(config: config, seed: 11).train(count: 300) {
                #expect(example.cots.count == config.cotsPerQuestion)
                #expect(Set(example.cots).count == config.cotsPerQuestion, "\(example.cots)")
            }
        }
    }

    @Test func alternativeCoTsUseOtherStepOrders() {
        // Over many problems, some alternatives must restructure the steps, not just reword them:
        // their first equation differs from the canonical one in more than operand order.
        let examples = ArithmeticTask(seed: 2).train(count: 500)
        let restructured = examples.filter { example in
            let first = equations(in: example.cots[0])[0]
            return example.cots.dropFirst().contains { cot in
                let e = equations(in: cot)[0]
                return Set([e.a, e.b]) != Set([first.a, first.b])
            }
        }
        #expect(restructured.count > 50)
    }

    @Test func knobsChangeTheProblems() {
        func firstCoT(_ config: ArithmeticTaskConfig) -> [MathExample] { ArithmeticTask(config: config, seed: 4).train(count: 200) }
        let one = firstCoT(ArithmeticTaskConfig(steps: 1))
        let three = firstCoT(ArithmeticTaskConfig(steps: 3))
        #expect(one.allSatisfy { e in e.cots.allSatisfy { equations(in: $0).count == 1 } })
        #expect(three.allSatisfy { e in e.cots.allSatisfy { equations(in: $0).count == 3 } })

        let addOnly = firstCoT(ArithmeticTaskConfig(operations: ["add"]))
        #expect(addOnly.allSatisfy { e in e.cots.allSatisfy { equations(in: $0).allSatisfy { $0.op == "+" } } })
        let mulAllowed = firstCoT(ArithmeticTaskConfig(operations: ["mul", "sub"]))
        #expect(mulAllowed.contains { e in equations(in: e.cots[0]).contains { $0.op == "*" } })
        #expect(mulAllowed.allSatisfy { e in !equations(in: e.cots[0]).contains { $0.op == "+" } })

        let small = firstCoT(ArithmeticTaskConfig(maxValue: 5, operations: ["add", "sub"]))
        #expect(small.allSatisfy { numbers(in: $0.question).allSatisfy { $0 <= 5 } })
        #expect(small.contains { numbers(in: $0.question).contains(5) })

        let single = firstCoT(ArithmeticTaskConfig(cotsPerQuestion: 1))
        #expect(single.allSatisfy { $0.cots.count == 1 })
    }

    @Test func textFitsTheTinyModelAtDefaultConfig() {
        let examples = ArithmeticTask(seed: 1).train(count: 2000) + ArithmeticTask(seed: 1).test(count: 500)
        let lengths = examples.flatMap { e in
            e.cots.map { (ReFTFormat.prompt(e.question) + ReFTFormat.target(cot: $0, answer: e.answer)).utf8.count }
        }
        let mean = Double(lengths.reduce(0, +)) / Double(lengths.count)
        #expect(lengths.max()! <= 220)
        #expect(mean < 175, "mean length \(mean)")
    }

    @Test func configDefaultsDecodingAndValidation() throws {
        let d = ArithmeticTaskConfig.default
        #expect(d == ArithmeticTaskConfig(steps: 2, maxValue: 20, operations: ["add", "sub", "mul"], cotsPerQuestion: 3))
        #expect(d.problems.isEmpty)

        let partial = try JSONDecoder().decode(ArithmeticTaskConfig.self, from: Data(#"{"steps": 3}"#.utf8))
        #expect(partial == ArithmeticTaskConfig(steps: 3))
        let roundTrip = try JSONDecoder().decode(ArithmeticTaskConfig.self, from: JSONEncoder().encode(partial))
        #expect(roundTrip == partial)

        #expect(ArithmeticTaskConfig(steps: 0).problems == ["steps is 0; use 1 or more"])
        #expect(ArithmeticTaskConfig(operations: ["div"]).problems == [#"unknown operations ["div"]; choose from ["add", "sub", "mul"]"#])
        #expect(ArithmeticTaskConfig(cotsPerQuestion: 5).problems == ["cotsPerQuestion is 5; use 1 to 4"])
        #expect(ArithmeticTaskConfig(operations: []).problems.count == 1)
        #expect(ArithmeticTaskConfig(steps: 6, maxValue: 5, operations: ["sub"]).problems.count == 1)
        #expect(ArithmeticTaskConfig(steps: 5, maxValue: 5, operations: ["sub"]).problems.isEmpty)
        #expect(ArithmeticTaskConfig(steps: 9, operations: ["mul"]).problems.count == 1)
    }

    @Test func edgeConfigsStillProduceValidProblems() {
        for config in [ArithmeticTaskConfig(steps: 5, maxValue: 5, operations: ["sub"]),
                       ArithmeticTaskConfig(steps: 6, maxValue: 20, operations: ["mul"]),
                       ArithmeticTaskConfig(steps: 12, maxValue: 3, operations: ["add"])] {
            let examples = ArithmeticTask(config: config, seed: 1).train(count: 20)
            #expect(examples.count == 20)
            for e in examples {
                let eqs = equations(in: e.cots[0])
                #expect(eqs.count == config.steps)
                #expect(eqs.allSatisfy(holds) && eqs.allSatisfy { $0.c >= 0 })
                #expect(Double(eqs.last!.c) == e.answer)
            }
        }
    }

    @Test func workedExampleOfWordingAndRestructuring() {
        let problem = ArithmeticProblem(start: 5, steps: [.init(operation: .add, operand: 3),
                                                          .init(operation: .sub, operand: 2)])
        let story = ArithmeticStory(name: "Tom", pronoun: "He", object: "pens",
                                    stepSentences: ["He buys 3 more.", "He loses 2."], closing: "How many now?")
        #expect(story.question(for: problem) == "Tom has 5 pens. He buys 3 more. He loses 2. How many now?")
        let writer = ArithmeticCoTWriter(problem: problem, story: story)
        #expect(writer.restructures() == [.reorder(0)])
        let plain = writer.lines(.none), reordered = writer.lines(.reorder(0))
        #expect(writer.render(plain, styles: [0, 0], swapped: [false, false]) == "He has 5 + 3 = 8.\nHe has 8 - 2 = 6 left.")
        #expect(writer.render(plain, styles: [1, 3], swapped: [true, false]) == "Plus 3 is 3 + 5 = 8.\nNow 8 - 2 = 6 pens.")
        #expect(writer.render(reordered, styles: [2, 2], swapped: [false, false]) == "So 5 - 2 = 3 left.\nSo 3 + 3 = 6.")

        let twoSubs = ArithmeticProblem(start: 9, steps: [.init(operation: .sub, operand: 3),
                                                          .init(operation: .sub, operand: 4)])
        let grouped = ArithmeticCoTWriter(problem: twoSubs, story: story)
        #expect(grouped.restructures() == [.group(0), .reorder(0)])
        #expect(grouped.render(grouped.lines(.group(0)), styles: [0, 0], swapped: [false, false])
                == "He gives up 3 + 4 = 7.\nHe has 9 - 7 = 2 left.")

        var rng = RNG(seed: 1)
        let cots = writer.cots(count: 4, using: &rng)
        #expect(cots.count == 4 && Set(cots).count == 4)
        #expect(cots[0] == "He has 5 + 3 = 8.\nHe has 8 - 2 = 6 left.")
    }

    @Test func subtractionFirstIsNotOfferedWhenItWouldGoNegative() {
        // 2 + 5 - 6 = 1, but 2 - 6 would be negative, so the steps keep their story order.
        let problem = ArithmeticProblem(start: 2, steps: [.init(operation: .add, operand: 5),
                                                          .init(operation: .sub, operand: 6)])
        let story = ArithmeticStory(name: "Ann", pronoun: "She", object: "cups",
                                    stepSentences: ["She gets 5.", "She sells 6."], closing: "How many now?")
        #expect(ArithmeticCoTWriter(problem: problem, story: story).restructures().isEmpty)
    }
}
