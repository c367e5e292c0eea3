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

    @Option(help: "With file data and no --eval-data: questions kept out of training for evaluation.")
    var holdout: Int = 300

    @Option(name: .customLong("train-size"), help: "Built-in task: training questions to generate.")
    var trainSize: Int = 20000

    @Option(name: .customLong("test-size"), help: "Built-in task: test questions to generate (disjoint from training).")
    var testSize: Int = 500

    @Option(name: .customLong("task-steps"), help: "Built-in task difficulty: reasoning steps per question.")
    var taskSteps: Int = ArithmeticTaskConfig.default.steps

    @Option(name: .customLong("task-max-value"), help: "Built-in task difficulty: numbers are drawn from 1...N.")
    var taskMaxValue: Int = ArithmeticTaskConfig.default.maxValue

    @Option(name: .customLong("task-ops"), help: "Built-in task difficulty: operations, comma-separated from add,sub,mul.")
    var taskOps: String = ArithmeticTaskConfig.default.operations.joined(separator: ",")

    @Option(name: .customLong("task-cots"), help: "Built-in task: distinct valid CoTs written for each question.")
    var taskCots: Int = ArithmeticTaskConfig.default.cotsPerQuestion

    @Option(name: .customLong("task-seed"), help: "Built-in task: the seed its questions are generated from (default: --seed). A comparison fixes it, so every seed trains on and is scored on the same questions.")
    var taskSeed: UInt64?

    var taskConfig: ArithmeticTaskConfig {
        var c = ArithmeticTaskConfig.default
        c.steps = taskSteps
        c.maxValue = taskMaxValue
        c.operations = taskOps.split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) }
        c.cotsPerQuestion = taskCots
        return c
    }

    func validate() throws {
        if taskSteps < 1 { throw ValidationError("--task-steps must be at least 1") }
        if taskMaxValue < 2 { throw ValidationError("--task-max-value must be at least 2") }
        if taskCots < 1 { throw ValidationError("--task-cots must be at least 1") }
        let known = ["add", "sub", "mul"]
        let ops = taskConfig.operations
        if ops.isEmpty || !ops.allSatisfy(known.contains) {
            throw ValidationError("--task-ops takes a comma-separated subset of add,sub,mul (got '\(taskOps)')")
        }
        if trainSize < 1 || testSize < 0 || holdout < 0 { throw ValidationError("--train-size must be positive; --test-size and --holdout non-negative") }
    }

    /// Loads (train, eval) examples, turning every data problem into an error that names the file.
    func load(seed: UInt64) throws -> (train: [MathExample], eval: [MathExample], description: String) {
        if data == "builtin" {
            let task = ArithmeticTask(config: taskConfig, seed: taskSeed ?? seed)
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
}

