import ArgumentParser
import Engine
import Foundation

/// Where questions come from: the built-in arithmetic task (default) or a data file.
struct DataOptions: ParsableArguments {
    @Option(help: ArgumentHelp("""
        Training data: 'builtin' (generated arithmetic word problems), 'gsm8k:<file.jsonl>', \
        'reft:<file.json>' or 'svamp:<file.json>' (the ReFT JSON layout), or a bare path \
        (.jsonl read as GSM8K, .json as ReFT).
        """, valueName: "spec"))
    var data: String = "builtin"

    @Option(name: .customLong("eval-data"), help: ArgumentHelp("Held-out evaluation data, same forms as --data. Default: the built-in task's test split, or the last --holdout questions of a file.", valueName: "spec"))
    var evalData: String?

    @Option(parsing: .unconditional, help: "With file data and no --eval-data: questions kept out of training for evaluation.")
    var holdout: Int = 300

    @Option(name: .customLong("train-size"), parsing: .unconditional, help: "Built-in task: training questions to generate (1…10,000,000).")
    var trainSize: Int = 20000

    @Option(name: .customLong("test-size"), parsing: .unconditional, help: "Built-in task: test questions to generate (disjoint from training).")
    var testSize: Int = 500

    @Option(name: .customLong("task-steps"), parsing: .unconditional, help: "Built-in task difficulty: reasoning steps per question (1…64).")
    var taskSteps: Int = ArithmeticTaskConfig.default.steps

    @Option(name: .customLong("task-max-value"), parsing: .unconditional, help: "Built-in task difficulty: numbers are drawn from 1...N (N in 2…100,000).")
    var taskMaxValue: Int = ArithmeticTaskConfig.default.maxValue

    @Option(name: .customLong("task-ops"), help: "Built-in task difficulty: operations, comma-separated from add,sub,mul.")
    var taskOps: String = ArithmeticTaskConfig.default.operations.joined(separator: ",")

    @Option(name: .customLong("task-cots"), parsing: .unconditional, help: "Built-in task: distinct valid CoTs written for each question (1…4).")
    var taskCots: Int = ArithmeticTaskConfig.default.cotsPerQuestion

    @Option(name: .customLong("task-seed"), parsing: .unconditional, help: "Built-in task: the seed its questions are generated from (default: --seed). A comparison fixes it, so every seed trains on and is scored on the same questions.")
    var taskSeed: UInt64?

    @Flag(name: .customLong("skip-long"), help: "Leave out questions too long for the model's context (the count is printed) instead of stopping with an error that names the first.")
    var skipLong = false

    var taskConfig: ArithmeticTaskConfig {
        var c = ArithmeticTaskConfig.default
        c.steps = taskSteps
        c.maxValue = taskMaxValue
        c.operations = taskOps.split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) }
        c.cotsPerQuestion = taskCots
        return c
    }

    func validate() throws {
        typealias L = FlagLimits
        try L.check(taskSteps, "--task-steps", L.taskSteps)
        try L.check(taskMaxValue, "--task-max-value", L.taskMaxValue)
        try L.check(taskCots, "--task-cots", 1...ArithmeticTaskConfig.maxCoTsPerQuestion)
        let known = ArithmeticTaskConfig.allOperations
        let ops = taskConfig.operations
        if ops.isEmpty || !ops.allSatisfy(known.contains) || Set(ops).count != ops.count {
            throw ValidationError("--task-ops takes a comma-separated subset of add,sub,mul, each once (got '\(taskOps)')")
        }
        if let problem = taskConfig.problems.first {
            throw ValidationError("the built-in task's settings (--task-*) do not work together: \(problem)")
        }
        try L.check(trainSize, "--train-size", L.dataSize)
        try L.check(testSize, "--test-size", 0...L.dataSize.upperBound)
        try L.check(holdout, "--holdout", 0...L.dataSize.upperBound)
    }

    /// Loads (train, eval) examples, turning every data problem into an error that names the file.
    func load(seed: UInt64) throws -> (train: [MathExample], eval: [MathExample], description: String) {
        if data == "builtin" {
            let task = ArithmeticTask(config: taskConfig, seed: taskSeed ?? seed)
            if let split = task.emptySplit() {
                throw CLIError("the built-in task with --task-steps \(taskSteps) --task-max-value \(taskMaxValue) --task-ops \(taskOps) has no \(split) problems (its few distinct problems all fall in the other split); raise --task-max-value or --task-steps, or add operations")
            }
            let eval = try evalData.map { try DatasetLoader.load(spec: $0) } ?? task.test(count: testSize)
            return (task.train(count: trainSize), eval, "built-in arithmetic task (\(taskSteps) steps, numbers 1...\(taskMaxValue), ops \(taskOps))")
        }
        var train = try DatasetLoader.load(spec: data)
        let eval: [MathExample]
        if let evalData {
            eval = try DatasetLoader.load(spec: evalData)
        } else {
            let k = min(holdout, train.count - 1)
            eval = Array(train.suffix(k))
            train.removeLast(k)
        }
        return (train, eval, data)
    }

    typealias Loaded = (train: [MathExample], eval: [MathExample], description: String)

    /// What the loaded questions are used for, which decides what has to fit the context.
    enum Use { case evaluation, sft, rl, carft }

    /// The data with what does not fit the model's context refused, naming the first example and
    /// the count, or (--skip-long) left out with the count printed.
    func fitting(_ loaded: Loaded, _ fit: ContextFit, use: Use) throws -> Loaded {
        var train = loaded.train, eval = loaded.eval
        func apply(_ long: [ContextFit.TooLong], _ examples: inout [MathExample], _ what: String, _ needs: String) throws {
            guard let first = long.first else { return }
            let total = examples.count
            guard skipLong else {
                throw CLIError("\(what) \(first.id) needs \(first.tokens) tokens \(needs), but the model's context is \(fit.context) (\(long.count) of \(total) \(what)s are too long); raise --context where the model allows it, or give --skip-long to leave them out")
            }
            let drop = Set(long.map(\.index))
            examples = examples.enumerated().filter { !drop.contains($0.offset) }.map(\.element)
            print("--skip-long: left out \(long.count) of \(total) \(what)s longer than the model's context of \(fit.context) tokens")
            if examples.isEmpty { throw CLIError("every \(what) is longer than the model's context of \(fit.context) tokens; nothing is left to use") }
        }
        let promptNeeds = "of prompt (and at least one more to answer in)"
        switch use {
        case .evaluation:
            break
        case .sft:
            try apply(fit.sequencesTooLong(train), &train, "training question", "with a CoT, its prompt and the answer line")
        case .rl:
            try apply(fit.promptsTooLong(train), &train, "training question", promptNeeds)
        case .carft:
            try apply(fit.promptsTooLong(train), &train, "training question", promptNeeds)
            try apply(fit.sequencesTooLong(train, firstCoTOnly: true), &train, "training question", "with its annotated CoT (CARFT teacher-forces it whole)")
        }
        try apply(fit.promptsTooLong(eval), &eval, "held-out question", promptNeeds)
        return (train, eval, loaded.description)
    }
}
