import Foundation

public struct CheckpointError: Error, CustomStringConvertible {
    public let path: String
    public let problem: String
    public var description: String { "checkpoint \(path): \(problem)" }
}

/// A model on disk in the Hugging Face layout — `model.safetensors` plus `config.json` in one
/// folder — so checkpoints open in `transformers` and weights from the Hub load here unchanged.
public enum Checkpoint {
    public static let weightsFileName = "model.safetensors"
    public static let configFileName = "config.json"

    /// Writes every store entry under its name, and the config transformers' LlamaForCausalLM
    /// loads (`HFConfig`), with `tokens` as its bos/eos/pad ids. Both files are fully written
    /// and synced before either replaces an older one, so an interrupted save leaves the
    /// previous checkpoint readable.
    /// (The two renames are not one atomic step; a crash between them pairs the new config with
    /// the old weights, which `loadWeights` still rejects if their shapes disagree.)
    public static func save(_ store: ParameterStore, config: ModelConfig, tokens: SpecialTokenIds, to dir: String,
                            metadata: [String: String] = [:]) throws {
        do {
            try config.validate()
        } catch {
            throw CheckpointError(path: dir, problem: "refusing to save: \(error); fix the config first")
        }
        for (name, id) in [("bos", tokens.bos), ("eos", tokens.eos), ("pad", tokens.pad)] {
            if let id, !(0..<config.vocabSize).contains(id) {
                throw CheckpointError(path: dir, problem: "refusing to save: the \(name) token id \(id) is outside the vocabulary of \(config.vocabSize); the tokenizer does not belong to this model")
            }
        }
        do {
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        } catch {
            throw CheckpointError(path: dir, problem: "cannot create the folder (\(error.localizedDescription)); check the path and permissions")
        }
        let weightsPath = dir + "/" + weightsFileName, configPath = dir + "/" + configFileName
        let weights = try stageWeights(store, metadata: metadata, path: weightsPath)
        let configFile = try StagedFile(path: configPath)
        try HFConfig.modelJSON(config, tokens: tokens).withUnsafeBytes { try configFile.write($0) }

        try weights.finish()
        try configFile.finish()
        try configFile.commit()
        try weights.commit()
    }

    /// Every store entry under its name into a staged safetensors file at `path`, not yet
    /// finished or committed (the caller pairs it with its config file).
    static func stageWeights(_ store: ParameterStore, metadata: [String: String], path: String) throws -> StagedFile {
        // transformers refuses safetensors files whose metadata lacks a known "format".
        let fileMetadata = ["format": "pt"].merging(metadata) { _, given in given }
        var shapes: [String: [Int]] = [:]
        for e in store.entries { shapes[e.name] = e.shape }
        let weights = try StagedFile(path: path)
        try Safetensors.write(shapes: shapes, metadata: fileMetadata, source: path, into: weights) { name in
            let e = store.entry(name)!
            try weights.write(UnsafeRawBufferPointer(start: store.values.ptr + e.offset, count: e.count * 4))
        }
        return weights
    }

    /// The config of a checkpoint (ours or a Hub model's); keys this Engine does not use are ignored.
    public static func readConfig(from dir: String) throws -> ModelConfig {
        let path = dir + "/" + configFileName
        let bytes: [UInt8]
        do {
            bytes = try readWholeFile(path)
        } catch let e as FileError {
            throw CheckpointError(path: path, problem: "\(e.problem) — is \(dir) a checkpoint folder?")
        }
        let config: ModelConfig
        do {
            config = try JSONDecoder().decode(ModelConfig.self, from: Data(bytes))
        } catch let DecodingError.keyNotFound(key, _) {
            throw CheckpointError(path: path, problem: "missing key \"\(key.stringValue)\"; add it to the config")
        } catch let DecodingError.typeMismatch(type, ctx) {
            let key = ctx.codingPath.map(\.stringValue).joined(separator: ".")
            throw CheckpointError(path: path, problem: "key \"\(key)\" should hold a \(type); fix its value")
        } catch let DecodingError.valueNotFound(type, ctx) {
            let key = ctx.codingPath.map(\.stringValue).joined(separator: ".")
            throw CheckpointError(path: path, problem: "key \"\(key)\" is null but should hold a \(type); fix its value")
        } catch {
            throw CheckpointError(path: path, problem: "not a readable JSON config (\(error)); re-save the checkpoint")
        }
        do {
            try config.validate()
            if let json = try JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any] {
                try HFConfig.checkSupported(json, headDim: config.headDim)
            }
        } catch {
            throw CheckpointError(path: path, problem: "\(error)")
        }
        return config
    }

    /// Fills `store.values` from the checkpoint. The file must hold exactly the store's tensors
    /// with the same shapes (F32, F16 or BF16); names and shapes are checked before any value is
    /// overwritten, so such a rejected checkpoint leaves the store as it was. Values that are not
    /// finite are found after the copy: the error then names the tensor, and the store is not to
    /// be used.
    public static func loadWeights(from dir: String, into store: ParameterStore) throws {
        try loadWeights(file: weightsFileName, in: dir, into: store)
    }

    /// `loadWeights` from the safetensors file `file` of the folder `dir`.
    static func loadWeights(file: String, in dir: String, into store: ParameterStore) throws {
        let path = dir + "/" + file
        let bytes: [UInt8]
        do {
            bytes = try readWholeFile(path)
        } catch let e as FileError {
            throw CheckpointError(path: path, problem: "\(e.problem) — is \(dir) a checkpoint folder?")
        }
        try bytes.withUnsafeBytes { raw in
            let header = try Safetensors.parseHeader(raw, source: path)
            var problems: [String] = []
            for e in store.entries {
                guard let info = header.tensors[e.name] else {
                    problems.append("tensor \"\(e.name)\" \(e.shape) is missing")
                    continue
                }
                if info.shape != e.shape {
                    problems.append("tensor \"\(e.name)\" has shape \(info.shape) but the model expects \(e.shape)")
                }
            }
            for name in header.tensors.keys.sorted() where store.entry(name) == nil {
                problems.append("tensor \"\(name)\" is not part of the model")
            }
            if !problems.isEmpty {
                throw CheckpointError(path: path, problem: problems.joined(separator: "; ")
                    + " — the checkpoint was saved from a different model; check the config matches it")
            }
            for e in store.entries {
                Safetensors.convert(header.tensors[e.name]!, in: raw, into: store.values.ptr + e.offset)
            }
        }
        if let problem = store.nonFiniteProblem() { throw CheckpointError(path: path, problem: problem) }
    }

    /// The string metadata of a checkpoint's weights file (`"step"`, `"tokenizer"`, …), read from
    /// the safetensors header alone so a large checkpoint is not loaded twice.
    public static func readMetadata(from dir: String) throws -> [String: String] {
        let path = dir + "/" + weightsFileName
        guard FileManager.default.isReadableFile(atPath: path) else {
            throw CheckpointError(path: path, problem: "cannot be opened — is \(dir) a checkpoint folder?")
        }
        return try Safetensors.readMetadata(from: path)
    }
}
