import ArgumentParser
import Engine
import Foundation

/// Turns a fine-tuned checkpoint into a folder Hugging Face transformers loads as it is, so
/// the model can be used, evaluated or shared outside this workbench.
struct ExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write a checkpoint as a Hugging Face transformers folder (LlamaForCausalLM, safetensors).",
        discussion: """
        Writes into --out: model.safetensors (float32, Hugging Face Llama tensor names), \
        config.json (every LlamaConfig key that matters, with the model's own bos/eos/pad ids) \
        and generation_config.json. For a model whose tokenizer comes from a GGUF file \
        (a .gguf, or a checkpoint trained from one: its "tokenizer" metadata is gguf:<path>, \
        and that file must still be there) it also writes tokenizer.json and \
        tokenizer_config.json, with the special tokens and the chat template, so that in Python

            AutoModelForCausalLM.from_pretrained(out)
            AutoTokenizer.from_pretrained(out)

        give the engine's logits and token ids. A checkpoint of the built-in byte tokenizer \
        gets no tokenizer files (token ids are UTF-8 bytes, 256 is EOS, 257 padding).

        A LoRA adapter folder (from a --lora-rank run) is written as PEFT writes adapters: \
        adapter_config.json and adapter_model.safetensors, to load in Python with \
        PeftModel.from_pretrained(AutoModelForCausalLM.from_pretrained(<its base, exported>), out). \
        With --merge it is written as a whole model instead, the adapters merged into the weights.

        config.json's max_position_embeddings is the context the checkpoint was trained with \
        (--context for GGUF-started runs), not the base model's. --out must not exist yet or \
        be empty. scripts/reference/check_transformers_export.py checks an export against \
        transformers itself.
        """
    )

    @Argument(help: ArgumentHelp("Checkpoint folder (model.safetensors + config.json, e.g. runs/sft/final) or a llama .gguf file.", valueName: "checkpoint"))
    var checkpoint: String
    @Option(help: ArgumentHelp("Folder to write; must not exist yet or be empty.", valueName: "dir"))
    var out: String
    @Flag(help: "For a LoRA adapter folder: write the whole model, the adapters merged into its weights, instead of a PEFT adapter folder.")
    var merge = false

    func run() throws {
        try Self.checkSource(checkpoint)
        let adapters = LoRACheckpoint.isAdapter(checkpoint)
        if merge && !adapters {
            throw CLIError("--merge merges LoRA adapters into their base; \(checkpoint) is a whole model already (drop --merge)")
        }
        try HFExport.checkTarget(out)
        if adapters && !merge { return try exportAdapters() }
        // A GGUF model keeps its full context in the export: nothing is allocated for it here.
        let source = try ModelSource.open(checkpoint, context: ModelSource.isGGUF(checkpoint) ? Int.max : nil)
        let tokens = SpecialTokenIds(source.tokenizer)
        var metadata = ModelSource.isGGUF(checkpoint) ? [:]
            : adapters ? try LoRACheckpoint.readMetadata(from: checkpoint) : try Checkpoint.readMetadata(from: checkpoint)
        let spec = source.tokenizer.checkpointSpec ?? "byte"
        let ggufPath = spec.hasPrefix("gguf:") ? String(spec.dropFirst("gguf:".count)) : nil
        metadata["tokenizer"] = spec
        metadata["format"] = "pt"
        var files: [String: Data] = [:]
        if let ggufPath {
            // ModelSource has checked the file is there and its tokenizer loads.
            let gguf = try GGUFFile(path: ggufPath)
            files = try HFTokenizerFiles.make(gguf: gguf, modelMaxLength: source.model.config.maxSeqLen)
        }
        try HFExport.write(model: source.model, tokens: tokens, files: files, metadata: metadata, to: out)

        let c = source.model.config
        let size = (try? FileManager.default.attributesOfItem(atPath: out + "/" + Checkpoint.weightsFileName)[.size] as? Int) ?? 0
        print("exported \(source.description)")
        print("  to \(out)/")
        print(String(format: "  %@ (%.1f MB float32: %d layers × %d, %@ embeddings)", Checkpoint.weightsFileName, Double(size) / 1e6,
                     c.layers, c.dim, c.tiedEmbeddings ? "tied" : "untied"))
        print("  \(Checkpoint.configFileName), \(HFExport.generationConfigFileName) (eos \(tokens.eos), pad \(tokens.pad), bos \(tokens.bos.map(String.init) ?? "none"); context \(c.maxSeqLen))")
        if files.isEmpty {
            print("  no tokenizer files: the byte tokenizer's ids are UTF-8 bytes, \(ByteTokenizer.eos) is EOS and \(ByteTokenizer.pad) padding")
        } else {
            let chat = source.chatTemplate != nil ? ", chat template" : ""
            print("  \(HFTokenizerFiles.tokenizerFileName), \(HFTokenizerFiles.configFileName) (BPE of \(source.tokenizer.vocabSize) tokens from \(ggufPath ?? "?")\(chat))")
        }
    }

    /// What is wrong with the source path, said in terms of what export needs.
    static func checkSource(_ path: String) throws {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir) else {
            throw CLIError("\(path) does not exist; give a checkpoint folder a run wrote (for example runs/sft/final) or a .gguf file")
        }
        if isDir.boolValue && LoRACheckpoint.isAdapter(path) { return }
        if !isDir.boolValue {
            guard ModelSource.isGGUF(path) else {
                throw CLIError("\(path) is a file; export takes a checkpoint folder (holding \(Checkpoint.weightsFileName) and \(Checkpoint.configFileName)) or a .gguf file")
            }
            return
        }
        let missing = [Checkpoint.weightsFileName, Checkpoint.configFileName].filter { !FileManager.default.fileExists(atPath: path + "/" + $0) }
        guard missing.isEmpty else {
            // A run's output folder holds its checkpoints one level down.
            let base = path.hasSuffix("/") ? String(path.dropLast()) : path
            let inside = ["final", "checkpoints"].filter { FileManager.default.fileExists(atPath: base + "/" + $0) }
            let hint = inside.contains("final") ? "; this looks like a run folder — did you mean \(base)/final?"
                : inside.contains("checkpoints") ? "; this looks like a run folder — pick one of \(base)/checkpoints/step-*"
                : "; a checkpoint folder holds both (runs write them to <run>/final and <run>/checkpoints/step-*)"
            throw CLIError("\(path) is not a checkpoint folder: it has no \(missing.joined(separator: " or "))\(hint)")
        }
    }

    /// The adapters as a PEFT adapter folder. PEFT puts one adapter on a whole model, so adapters
    /// trained on adapters go out merged only.
    private func exportAdapters() throws {
        let info = try LoRACheckpoint.read(from: checkpoint)
        if LoRACheckpoint.isAdapter(info.base) {
            throw CLIError("the adapters in \(checkpoint) were trained on \(info.base), which holds LoRA adapters too; PEFT loads one adapter onto a whole model, so export this one with --merge (the whole model, every adapter merged in)")
        }
        guard FileManager.default.fileExists(atPath: info.base) else {
            throw CLIError("the LoRA adapters in \(checkpoint) were trained on \(info.base), which is missing; put that checkpoint back (or edit base_model_name_or_path in \(checkpoint)/\(LoRACheckpoint.configFileName))")
        }
        // The base's shape alone: from a GGUF file's header, without dequantising its weights.
        let shape = ModelSource.isGGUF(info.base) ? try GGUFModel.config(GGUFFile(path: info.base)) : try Checkpoint.readConfig(from: info.base)
        let lora = LoRAAdapters(config: info.config, model: shape, seed: 0)
        try LoRACheckpoint.loadWeights(from: checkpoint, into: lora)
        try LoRACheckpoint.save(lora, base: info.base, to: out, metadata: try LoRACheckpoint.readMetadata(from: checkpoint))
        let c = info.config
        print("exported LoRA adapters \(checkpoint)")
        print("  to \(out)/: \(LoRACheckpoint.configFileName), \(LoRACheckpoint.weightsFileName) (PEFT; rank \(c.rank), α \(c.alpha) on \(c.targets.map { $0.module.split(separator: ".").last! }.joined(separator: ", ")); \(ProgressLine.count(Double(lora.params.count))) parameters)")
        print("  their base: \(info.base); export it too (`workbench export \(info.base) --out <base>`), then in Python")
        print("  PeftModel.from_pretrained(AutoModelForCausalLM.from_pretrained(<base>), \"\(out)\")")
    }
}
