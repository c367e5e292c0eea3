import ArgumentParser
import Engine
import Foundation

extension BenchCommand {
    /// Greedy generation speed on real prompts, the workbench half of bench/generate.sh (whose
    /// other half, bench/llama_cpp_generate.py, prints the same JSON lines for llama.cpp).
    struct Generate: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "generate",
            abstract: "Time greedy generation on the bench prompts, one at a time and batched; prints JSON lines.",
            discussion: """
            Each question of --prompts is laid out as ReFT's prompt and, with --prompt chat (the \
            default), sent as the user's turn of the model's chat template. Rows never stop early: \
            the stop token is one past the vocabulary, so EOS is just another token and every row \
            makes exactly --new-tokens tokens.

            Prints three JSON lines, one per measurement, each the fastest of --repeats runs (the \
            machine is shared, so the fastest run is the least disturbed one), after an untimed \
            short run:

            single_prompt: the first --single questions one at a time, from the start until the \
            first new token's logits; prompt tokens / seconds.

            single_decode: the same runs from there on, one token per forward pass; \
            (new tokens − 1) / seconds.

            batched: --batch rows at once (the questions repeat when --batch exceeds them, each \
            row running its own prompt, as llama.cpp's batched run does); all \
            new tokens / seconds, prompt processing included, as an RL rollout sees it.
            """
        )
        @Option(help: ArgumentHelp("The model: a .gguf file or a checkpoint folder.", valueName: "path")) var model: String
        @Option(help: ArgumentHelp("JSON file {\"questions\": [...]} (relative to the current folder).", valueName: "file")) var prompts = BenchPrompts.defaultPath
        @Option(help: "Prompt layout: chat (the question as a chat turn; needs the model's chat template) or plain (ReFT text only).") var prompt: PromptStyle = .chat
        @Option(parsing: .unconditional, help: "Rows generated together in the batched measurement.") var batch = 16
        @Option(parsing: .unconditional, help: "Questions generated one at a time in the single-sequence measurements.") var single = 4
        @Option(name: .customLong("new-tokens"), parsing: .unconditional, help: "Tokens generated per row, exactly (at least 2: the first comes with the prompt).") var newTokens = 128
        @Option(parsing: .unconditional, help: "Threads.") var threads = 2
        @Option(parsing: .unconditional, help: "Timed runs per measurement; the fastest is reported.") var repeats = 3
        @OptionGroup var frozen: FrozenWeightOptions

        func validate() throws {
            if batch < 1 { throw ValidationError("--batch must be at least 1") }
            if single < 1 { throw ValidationError("--single must be at least 1") }
            if newTokens < 2 { throw ValidationError("--new-tokens must be at least 2: the first new token comes with the prompt, decoding speed needs the ones after it") }
            if threads < 1 { throw ValidationError("--threads must be at least 1") }
            if repeats < 1 { throw ValidationError("--repeats must be at least 1") }
        }

        func run() throws {
            Parallel.configure(threads: threads)
            let questions = try BenchPrompts.load(prompts).questions
            // RoPE tables are all a longer context costs, so a GGUF model gets the file's own.
            let source = try ModelSource.open(model, context: ModelSource.isGGUF(model) ? Int.max : nil)
            try frozen.apply(to: source.model, what: "generation")
            let format = try source.promptFormat(prompt)
            let encoded = questions.map { format.encode(question: $0, tokenizer: source.tokenizer).map(Int32.init) }
            let context = source.model.config.maxSeqLen
            if let longest = encoded.map(\.count).max(), longest + newTokens > context {
                throw CLIError("the longest prompt of \(prompts) is \(longest) tokens; with --new-tokens \(newTokens) it exceeds the context of \(model) (\(context)); lower --new-tokens")
            }
            func rows(_ n: Int) -> [[Int32]] { (0..<n).map { encoded[$0 % encoded.count] } }
            // Token ids stop below vocabSize, so no row ever stops before --new-tokens.
            let options = Generator.Options(maxNewTokens: newTokens, stopToken: source.model.config.vocabSize)
            var generator = Generator(model: source.model)
            // The batched rows repeat the questions; llama.cpp's batched run prefills every row,
            // so this one does too (the same work), though rollouts copy a repeated prompt.
            generator.copiesRepeatedPrompts = false
            let clock = ContinuousClock()
            let common: [String: Any] = [
                "engine": "workbench", "threads": threads, "repeats": repeats, "new_tokens_per_row": newTokens,
                "prompt_format": prompt.rawValue, "prompts_fingerprint": BenchPrompts.fingerprint(encoded),
                "weights": source.model.weightPrecision,
            ]

            // Untimed: first-touch page faults and buffer growth belong to no measurement.
            let warmUp = Generator.Options(maxNewTokens: 2, stopToken: options.stopToken)
            _ = generator.greedy(prompts: rows(1), options: warmUp)
            _ = generator.greedy(prompts: rows(batch), options: warmUp)

            // Single sequence: `decode` of one row is what `greedy` runs for a single prompt;
            // the chooser's first call marks the end of prompt processing.
            let singles = rows(single)
            var prefill = Double.infinity, decode = Double.infinity
            for _ in 0..<repeats {
                var p = 0.0, d = 0.0
                for row in singles {
                    let start = clock.now
                    var firstChoice: ContinuousClock.Instant?
                    let out = generator.decode(prompts: [row], options: options) { _, logits, v in
                        if firstChoice == nil { firstChoice = clock.now }
                        return Sampler.greedy(logits, vocab: v)
                    }
                    let end = clock.now
                    try expectTokens(out.map(\.tokens), rows: 1)
                    p += (firstChoice! - start).seconds
                    d += (end - firstChoice!).seconds
                }
                prefill = min(prefill, p)
                decode = min(decode, d)
            }
            let promptTokens = singles.reduce(0) { $0 + $1.count }
            emit(common, mode: "single_prompt", rows: single, promptTokens: promptTokens, tokens: promptTokens, seconds: prefill)
            emit(common, mode: "single_decode", rows: single, promptTokens: promptTokens, tokens: single * (newTokens - 1), seconds: decode)

            let batchRows = rows(batch)
            var best = Double.infinity, made = 0
            for _ in 0..<repeats {
                let start = clock.now
                let out = generator.greedy(prompts: batchRows, options: options)
                best = min(best, (clock.now - start).seconds)
                try expectTokens(out, rows: batch)
                made = out.reduce(0) { $0 + $1.count }
            }
            emit(common, mode: "batched", rows: batch, promptTokens: batchRows.reduce(0) { $0 + $1.count }, tokens: made, seconds: best)
        }

        /// A row that stopped short would make the figures describe less work than they claim.
        func expectTokens(_ out: [[Int32]], rows: Int) throws {
            guard out.count == rows, out.allSatisfy({ $0.count == newTokens }) else {
                throw CLIError("generation made \(out.map(\.count)) tokens per row for \(rows) rows, not \(newTokens) each; this is a bug in the benchmark or the Generator")
            }
        }

        func emit(_ common: [String: Any], mode: String, rows: Int, promptTokens: Int, tokens: Int, seconds: Double) {
            var line = common
            line["mode"] = mode
            line["rows"] = rows
            line["prompt_tokens"] = promptTokens
            line["tokens"] = tokens
            line["seconds"] = (seconds * 1e4).rounded() / 1e4
            line["tokens_per_sec"] = (Double(tokens) / seconds * 10).rounded() / 10
            let data = try! JSONSerialization.data(withJSONObject: line, options: [.sortedKeys, .withoutEscapingSlashes])
            print(String(decoding: data, as: UTF8.self))
        }
    }
}
