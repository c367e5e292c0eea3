import ArgumentParser
import Engine
import Foundation

/// Greedy accuracy of any checkpoint on held-out questions, with the completions written out
/// so a researcher can read what the model gets wrong, not just how often.
struct EvalCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval",
        abstract: "Greedy test accuracy of a checkpoint, optionally writing every completion to a JSONL file.",
        discussion: """
        Scores as training evaluations do: the number after the last "Therefore, the answer is:" \
        within 1e-2 of the gold answer. A model that was never taught that line (an untouched \
        instruct model) scores zero under it; --answer last-number also accepts the last number \
        of the completion, as lm-evaluation-harness's "flexible extract" does. Use the same \
        --task-* flags as the run that made the checkpoint (the built-in task's test split \
        depends on them and on --seed).
        """
    )

    @Option(name: .customLong("checkpoint"), help: ArgumentHelp("Checkpoint folder (model.safetensors + config.json) or a llama .gguf file.", valueName: "dir|file.gguf"))
    var checkpoint: String
    @OptionGroup var modelOptions: OpenModelOptions
    @OptionGroup var frozen: FrozenWeightOptions
    @OptionGroup(title: "Data") var data: DataOptions
    @Option(parsing: .unconditional, help: "Seed of the built-in task (as in the run that made the checkpoint).") var seed: UInt64 = 0
    @Option(parsing: .unconditional, help: "Threads for the Engine's loops and matrix products (1…1,024).") var threads: Int = ProcessInfo.processInfo.activeProcessorCount
    @Option(parsing: .unconditional, help: "Held-out questions to evaluate (0 = all; at most 10,000,000).") var examples: Int = 0
    @Option(name: .customLong("max-new-tokens"), parsing: .unconditional, help: "Longest completion, in tokens (1…1,048,576).") var maxNewTokens: Int = 160
    @Option(help: ArgumentHelp("How the answer is read: 'reft' (only the \"Therefore, the answer is:\" line, as training scores) or 'last-number' (that line, else the completion's last number).", valueName: "rule"))
    var answer: AnswerRule = .reft
    @Option(parsing: .unconditional, help: "Sample at this temperature instead of decoding greedily (0 = greedy; at most 100).") var temperature: Float = 0
    @Option(help: ArgumentHelp("Write one JSON line per question (id, question, completion, answer, gold, correct), the layout of a run's eval-final.jsonl.", valueName: "file.jsonl"))
    var dump: String?

    func validate() throws {
        try modelOptions.check(modelPath: checkpoint)
        typealias L = FlagLimits
        try L.check(threads, "--threads", L.threads)
        try L.check(examples, "--examples", L.examples)
        try L.check(maxNewTokens, "--max-new-tokens", L.tokens)
        try L.check(temperature, "--temperature", 0...100)
    }

    func run() throws {
        Parallel.configure(threads: threads)
        if let dump { try EvalRecords.checkWritable(dump) }
        let all = try data.load(seed: seed)
        let (source, format) = try modelOptions.open(checkpoint)
        let model = source.model, tokenizer = source.tokenizer
        try frozen.apply(to: model, what: "evaluation")
        let loaded = try data.fitting(all, ContextFit(tokenizer: tokenizer, prompt: format, context: model.config.maxSeqLen), use: .evaluation)
        let questions = examples > 0 ? Array(loaded.eval.prefix(examples)) : loaded.eval
        let sampling = temperature > 0 ? SamplingOptions(temperature: temperature, maxNewTokens: maxNewTokens, stopToken: tokenizer.eosId, seed: seed) : nil
        let line = ProgressLine()
        let clock = ContinuousClock(), start = clock.now
        let result = Evaluator(tokenizer: tokenizer, maxNewTokens: maxNewTokens, prompt: format, answerRule: answer).evaluate(model: model, examples: questions, sampling: sampling) { done, total, tokens in
            let secs = (clock.now - start).seconds
            line.update(String(format: "  evaluated %d/%d questions, %.0f tokens/s, %@", done, total, Double(tokens) / max(secs, 1e-9), ProgressLine.duration(secs)))
        }
        line.finishLine()
        // The questions scored are --eval-data's when given, not the training set's description.
        let evaluated = data.evalData ?? loaded.description
        let mode = (temperature > 0 ? "sampled (T=\(temperature))" : "greedy") + (answer == .reft ? "" : ", answer rule \(answer.rawValue),")
        print(String(format: "%@: %@ accuracy %.1f%% (%d/%d) on %@", checkpoint, mode, result.accuracy * 100, result.correct, result.total, evaluated))
        if let dump {
            try EvalRecords.write(result.samples.map(EvalRecord.init), to: dump)
            print("completions: \(dump)")
        }
    }
}

extension AnswerRule: ExpressibleByArgument {}
