/// What a trainer checkpoints and resumes: the weights that train. With LoRA adapters attached
/// that is the adapters alone (a PEFT adapter folder naming their base); otherwise the model.
public enum TrainedWeights {
    /// Writes the trained weights into `dir`; `metadata` goes into the safetensors header.
    public static func save(_ model: Transformer, tokenizer: any Tokenizer, to dir: String, metadata: [String: String]) throws {
        var metadata = metadata
        metadata["tokenizer"] = tokenizer.checkpointSpec ?? "none"
        if let adapters = model.adapters {
            guard let base = adapters.base else {
                throw TrainingError("LoRA adapters without a base checkpoint cannot be saved; set the adapters' base when attaching them")
            }
            // The context the model was trained at: a GGUF base is reopened at it.
            metadata["context"] = "\(model.config.maxSeqLen)"
            try LoRACheckpoint.save(adapters, base: base, to: dir, metadata: metadata)
        } else {
            try Checkpoint.save(model.params, config: model.config, tokens: SpecialTokenIds(tokenizer), to: dir, metadata: metadata)
        }
    }

    /// Reads back what `save` wrote into the weights that train.
    public static func load(from dir: String, into model: Transformer) throws {
        if let adapters = model.adapters {
            try LoRACheckpoint.loadWeights(from: dir, into: adapters)
        } else {
            try Checkpoint.loadWeights(from: dir, into: model.params)
        }
    }
}
