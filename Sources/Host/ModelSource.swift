import ArgumentParser
import Engine
import Foundation

/// Where a command's model comes from: a checkpoint folder (weights + config.json, with the
/// tokenizer its metadata names) or a llama `.gguf` file (weights, BPE tokenizer and chat
/// template in one file).
struct ModelSource {
    var model: Transformer
    var tokenizer: any Tokenizer
    /// One line for the console: what was opened and with which tokenizer.
    var description: String
    /// The GGUF file's chat template, when the source is (or was trained from) one with ChatML.
    var chatTemplate: ChatTemplate?

    /// The context a GGUF model gets when --context is not given: SmolLM2's 8192 would make the
    /// attention buffers of a training step huge.
    static let defaultGGUFContext = 1024

    static func isGGUF(_ path: String) -> Bool { path.lowercased().hasSuffix(".gguf") }

    /// Opens `path`. `context` caps a GGUF model's context; a checkpoint's config.json sets its own.
    static func open(_ path: String, context: Int? = nil) throws -> ModelSource {
        if isGGUF(path) {
            let absolute = URL(fileURLWithPath: path).standardizedFileURL.path
            let g = try GGUFModel.load(path: absolute, maxSeqLen: context ?? defaultGGUFContext)
            let name = g.file.string("general.name").map { "\($0), " } ?? ""
            return ModelSource(model: g.model, tokenizer: g.tokenizer,
                               description: "\(path) (\(name)GGUF, BPE tokenizer of \(g.tokenizer.vocabSize) tokens)",
                               chatTemplate: g.chatTemplate)
        }
        if LoRACheckpoint.isAdapter(path) { return try openAdapters(path, context: context, opening: []) }
        let shape = try Checkpoint.readConfig(from: path)
        let spec = try Checkpoint.readMetadata(from: path)["tokenizer"] ?? "byte"
        let tokenizer: any Tokenizer
        var template: ChatTemplate? = nil
        var tokenizerText = "byte tokenizer"
        if spec == "byte" {
            tokenizer = ByteTokenizer()
        } else if spec.hasPrefix("gguf:") {
            let gguf = String(spec.dropFirst("gguf:".count))
            guard FileManager.default.fileExists(atPath: gguf) else {
                throw CLIError("checkpoint \(path) was trained from \(gguf) and takes its tokenizer from that file, which is missing; put the GGUF file back at that path (or edit the \"tokenizer\" metadata of \(path)/\(Checkpoint.weightsFileName))")
            }
            let file = try GGUFFile(path: gguf)
            let bpe = try BPETokenizer(gguf: file)
            tokenizer = bpe
            template = ChatTemplate(gguf: file)
            tokenizerText = "BPE tokenizer of \(gguf)"
        } else {
            throw CLIError("checkpoint \(path) names the tokenizer \"\(spec)\"; known: \"byte\" and \"gguf:<path>\"")
        }
        guard shape.vocabSize == tokenizer.vocabSize else {
            throw CLIError("the checkpoint \(path) has a vocabulary of \(shape.vocabSize) but its \(tokenizerText) has \(tokenizer.vocabSize) tokens; this checkpoint was not trained by workbench with that tokenizer")
        }
        let model = try Transformer(config: shape)
        try Checkpoint.loadWeights(from: path, into: model.params)
        return ModelSource(model: model, tokenizer: tokenizer, description: "\(path) (checkpoint, \(tokenizerText))",
                           chatTemplate: template)
    }

    /// A LoRA checkpoint: its base (a checkpoint, a .gguf file or adapters again, opened the same
    /// way) with the adapters merged in, so every command sees one plain model. A run that trains
    /// new adapters on it records this folder as their base.
    /// `opening` holds the adapter folders already on the way down, so a folder that names
    /// itself (or a cycle of them) as its base is an error rather than an endless descent.
    private static func openAdapters(_ path: String, context: Int?, opening: Set<String>) throws -> ModelSource {
        let here = URL(fileURLWithPath: path).standardizedFileURL.path
        guard !opening.contains(here) else {
            throw CLIError("the LoRA adapters in \(path) name themselves as their own base (through base_model_name_or_path); a run with --overwrite into the folder of its --init-from model does that. Train from a model outside the run's folder")
        }
        let info = try LoRACheckpoint.read(from: path)
        guard FileManager.default.fileExists(atPath: info.base) else {
            throw CLIError("the LoRA adapters in \(path) were trained on \(info.base), which is missing; put that checkpoint back (or edit base_model_name_or_path in \(path)/\(LoRACheckpoint.configFileName))")
        }
        // A GGUF base is reopened at the context the adapters were trained with.
        let trainedContext = (try? LoRACheckpoint.readMetadata(from: path))?["context"].flatMap { Int($0) }
        var base = LoRACheckpoint.isAdapter(info.base)
            ? try openAdapters(info.base, context: context ?? trainedContext, opening: opening.union([here]))
            : try open(info.base, context: context ?? trainedContext)
        let adapters = LoRAAdapters(config: info.config, model: base.model.config, seed: 0)
        try LoRACheckpoint.loadWeights(from: path, into: adapters)
        base.model.attach(adapters)
        base.model.mergeAdapters()
        base.description = "\(path) (LoRA \(info.config.summary), merged into \(base.description))"
        return base
    }

    /// The prompt format `--prompt` asks for; chat needs the source's chat template.
    func promptFormat(_ style: PromptStyle) throws -> PromptFormat {
        switch style {
        case .plain: return .plain
        case .chat:
            guard let chatTemplate else {
                throw CLIError("--prompt chat needs a model with a ChatML chat template (a .gguf file, or a checkpoint trained from one); this model has none")
            }
            return .chat(chatTemplate)
        }
    }
}

/// `--prompt`: the ReFT text as is, or wrapped as the user's turn of the model's chat template.
enum PromptStyle: String, ExpressibleByArgument, CaseIterable {
    case plain, chat
}
