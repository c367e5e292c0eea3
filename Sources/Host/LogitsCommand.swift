import ArgumentParser
import Engine
import Foundation

/// The engine's token ids, greedy continuations and next-token logits for prompts given as
/// JSON, so scripts can hold the engine against another implementation of the same model
/// (scripts/reference/check_transformers_export.py compares an export with transformers).
/// Hidden from `workbench --help`: it is a protocol for such scripts, not a research tool.
struct LogitsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "logits",
        abstract: "Token ids, greedy continuations and next-token logits of a model, for prompts given as JSON on stdin.",
        discussion: """
        Request on stdin:
          {"prompts": ["text", ...], "chat": false, "new_tokens": 16, "logits_dir": "DIR" or null}
        With "chat": true each prompt is the user turn of the model's chat template, followed \
        by the assistant header (its markers as special tokens); otherwise the text is encoded \
        as the trainers encode text. Greedy decoding stops at the tokenizer's EOS (kept in the \
        output) or after new_tokens.

        Reply on stdout:
          {"prompt_ids": [[id, ...], ...], "tokens": [[id, ...], ...], "texts": ["...", ...]}
        and with logits_dir, DIR/<i>.f32: the logits after prompt i (the first new token's), \
        little-endian float32, one per vocabulary entry.
        """,
        shouldDisplay: false
    )

    @Argument(help: ArgumentHelp("Checkpoint folder or .gguf file.", valueName: "model"))
    var model: String
    @Option(parsing: .unconditional, help: "Context length for a .gguf model (a checkpoint's config.json sets its own).") var context: Int?
    @Option(parsing: .unconditional, help: "Threads for the Engine's loops and matrix products.") var threads: Int = ProcessInfo.processInfo.activeProcessorCount
    @OptionGroup var frozen: FrozenWeightOptions

    struct Request: Decodable {
        var prompts: [String]
        var chat: Bool?
        var new_tokens: Int
        var logits_dir: String?
    }

    struct Reply: Encodable {
        var prompt_ids: [[Int]]
        var tokens: [[Int]]
        var texts: [String]
    }

    func validate() throws {
        try FlagLimits.check(threads, "--threads", FlagLimits.threads)
        if let context { try FlagLimits.check(context, "--context", 2...FlagLimits.tokens.upperBound) }
    }

    func run() throws {
        Parallel.configure(threads: threads)
        let input = FileHandle.standardInput.readDataToEndOfFile()
        let request: Request
        do {
            request = try JSONDecoder().decode(Request.self, from: input)
        } catch {
            throw CLIError("the request on stdin is not {\"prompts\": [...], \"new_tokens\": N, ...} (\(error)); see `workbench logits --help`")
        }
        guard FlagLimits.tokens.contains(request.new_tokens) else {
            throw CLIError("new_tokens must be in \(FlagLimits.text(FlagLimits.tokens)) (got \(request.new_tokens))")
        }
        let source = try ModelSource.open(model, context: context)
        try frozen.apply(to: source.model, what: "decoding")
        let tokenizer = source.tokenizer
        let ids: [[Int]] = try request.prompts.map { text in
            guard request.chat == true else { return tokenizer.encode(text) }
            guard let template = source.chatTemplate, let bpe = tokenizer as? BPETokenizer else {
                throw CLIError("\"chat\": true needs a model with a ChatML chat template (a .gguf file, or a checkpoint trained from one); \(model) has none")
            }
            return template.encode([.user(text)], with: bpe)
        }
        let c = source.model.config
        if let empty = ids.firstIndex(where: \.isEmpty) {
            throw CLIError("prompt \(empty) is empty (no tokens); give each prompt some text")
        }
        if let tooLong = ids.firstIndex(where: { $0.count + request.new_tokens > c.maxSeqLen }) {
            throw CLIError("prompt \(tooLong) has \(ids[tooLong].count) tokens; with new_tokens \(request.new_tokens) that exceeds the model's context of \(c.maxSeqLen) (set --context for a .gguf)")
        }

        let tokens = Generator(model: source.model).greedy(prompts: ids.map { $0.map(Int32.init) },
                                                           options: .init(maxNewTokens: request.new_tokens, stopToken: tokenizer.eosId))
        if let dir = request.logits_dir {
            let forward = IncrementalForward(model: source.model)
            for (i, prompt) in ids.enumerated() {
                let cache = KVCache(config: c, batch: 1, capacity: prompt.count)
                let (_, logits) = forward.append(prompt.map { .init(row: 0, token: Int32($0)) }, to: cache)
                var bytes = Data(capacity: 4 * c.vocabSize)
                for j in 0..<c.vocabSize { withUnsafeBytes(of: logits[j].bitPattern.littleEndian) { bytes.append(contentsOf: $0) } }
                try bytes.write(to: URL(fileURLWithPath: dir + "/\(i).f32"))
            }
        }
        let reply = Reply(prompt_ids: ids, tokens: tokens.map { $0.map(Int.init) },
                          texts: tokens.map { tokenizer.decode($0.map(Int.init)) })
        FileHandle.standardOutput.write(try JSONEncoder().encode(reply))
    }
}
