import ArgumentParser
import Engine

/// `--context` and `--prompt` of the commands that open an existing model (`eval`, `rl`), with
/// their checks, so both commands read them alike. (`sft` keeps `--context` among its model-shape
/// flags, where it also sizes a fresh model.)
struct OpenModelOptions: ParsableArguments {
    @Option(parsing: .unconditional, help: "Context length for a .gguf model (a checkpoint's config.json sets its own).")
    var context: Int?
    @Option(help: "Prompt: 'plain' (the ReFT text) or 'chat' (that text as the user turn of the model's chat template; needs a .gguf model or a checkpoint trained from one).")
    var prompt: PromptStyle = .plain

    /// Checks that depend on the model path, which belongs to the parent command; call from its
    /// `validate()`.
    func check(modelPath: String) throws {
        if let context, context < 2 { throw ValidationError("--context must be at least 2") }
        if context != nil && !ModelSource.isGGUF(modelPath) {
            throw ValidationError("--context applies to .gguf models; a checkpoint's config.json sets its context")
        }
    }

    /// Opens the model at `path` and the prompt format asked for.
    func open(_ path: String) throws -> (source: ModelSource, format: PromptFormat) {
        let source = try ModelSource.open(path, context: context)
        return (source, try source.promptFormat(prompt))
    }
}
