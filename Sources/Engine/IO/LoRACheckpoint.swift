import Foundation

/// A LoRA run's checkpoint: the adapters alone, as PEFT writes them (`adapter_config.json` and
/// `adapter_model.safetensors`), naming the checkpoint they sit on in
/// `base_model_name_or_path` (an absolute path). That base may itself be an adapter checkpoint:
/// it is then loaded merged, as the frozen model the newer adapters were trained on.
public enum LoRACheckpoint {
    public static let configFileName = "adapter_config.json"
    public static let weightsFileName = "adapter_model.safetensors"

    /// Whether `dir` holds adapters rather than a whole model.
    public static func isAdapter(_ dir: String) -> Bool {
        FileManager.default.fileExists(atPath: dir + "/" + configFileName)
    }

    /// What adapter_config.json says: the adapters' shape, and where their base is.
    public struct Info: Equatable, Sendable {
        public var config: LoRAConfig
        public var base: String
    }

    /// Saves the adapters of a model trained on `base` (a checkpoint folder or a .gguf file).
    /// Weights and config are fully written before either replaces an older one.
    public static func save(_ adapters: LoRAAdapters, base: String, to dir: String, metadata: [String: String] = [:]) throws {
        do {
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        } catch {
            throw CheckpointError(path: dir, problem: "cannot create the folder (\(error.localizedDescription)); check the path and permissions")
        }
        let c = adapters.config
        let json: [String: Any] = [
            "peft_type": "LORA", "task_type": "CAUSAL_LM", "r": c.rank, "lora_alpha": Double(c.alpha),
            // Float's shortest decimal, so 0.05 is written 0.05 rather than 0.0500000007.
            "lora_dropout": Double(c.dropout.description) ?? Double(c.dropout),
            "target_modules": c.targets.map { String($0.module.split(separator: ".").last!) },
            "bias": "none", "fan_in_fan_out": false, "inference_mode": true, "use_rslora": false,
            "base_model_name_or_path": URL(fileURLWithPath: base).standardizedFileURL.path,
        ]
        let text = try JSONSerialization.data(withJSONObject: json, options: [.prettyPrinted, .sortedKeys])
        let weights = try Checkpoint.stageWeights(adapters.params, metadata: metadata, path: dir + "/" + weightsFileName)
        let configFile = try StagedFile(path: dir + "/" + configFileName)
        try text.withUnsafeBytes { try configFile.write($0) }
        try weights.finish()
        try configFile.finish()
        try configFile.commit()
        try weights.commit()
    }

    /// Reads adapter_config.json, refusing what this engine cannot apply (bias terms, DoRA,
    /// targets other than a Llama layer's seven maps).
    public static func read(from dir: String) throws -> Info {
        let path = dir + "/" + configFileName
        let object: Any
        do {
            object = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path)))
        } catch {
            throw CheckpointError(path: path, problem: "not a readable JSON adapter config (\(error.localizedDescription))")
        }
        guard let json = object as? [String: Any] else { throw CheckpointError(path: path, problem: "the adapter config is not a JSON object") }
        func fail(_ problem: String) -> CheckpointError { CheckpointError(path: path, problem: problem) }
        guard (json["peft_type"] as? String) == "LORA" else { throw fail("peft_type is not \"LORA\"; only LoRA adapters are supported") }
        guard let rank = json["r"] as? Int else { throw fail("missing integer \"r\" (the LoRA rank)") }
        // PEFT's own default when the key is absent.
        let alpha = (json["lora_alpha"] as? Double).map { Float($0) } ?? 8
        // Settings that change what the adapters compute and that this engine does not apply.
        if json["use_rslora"] as? Bool == true { throw fail("use_rslora (scaling by α/√r): rank-stabilised adapters are not supported") }
        for key in ["alpha_pattern", "rank_pattern"] {
            if let pattern = json[key] as? [String: Any], !pattern.isEmpty {
                throw fail("\"\(key)\" gives some modules their own \(key == "alpha_pattern" ? "α" : "rank"); adapters with one rank and α throughout are supported only")
            }
        }
        guard let modules = json["target_modules"] as? [String] else { throw fail("missing \"target_modules\" (a list such as [\"q_proj\", \"v_proj\"])") }
        var targets: [LoRAConfig.Target] = []
        for m in modules {
            guard let t = LoRAConfig.Target.allCases.first(where: { $0.module.hasSuffix("." + m) }) else {
                throw fail("target module \"\(m)\" is not one of a Llama layer's q_proj, k_proj, v_proj, o_proj, gate_proj, up_proj, down_proj")
            }
            targets.append(t)
        }
        if let bias = json["bias"] as? String, bias != "none" { throw fail("bias \"\(bias)\": adapters with bias terms are not supported") }
        if json["use_dora"] as? Bool == true { throw fail("DoRA adapters are not supported") }
        guard let base = json["base_model_name_or_path"] as? String, !base.isEmpty else {
            throw fail("missing \"base_model_name_or_path\": the checkpoint or .gguf file the adapters were trained on")
        }
        // Dropout acts only while training; it is kept so that a run's settings read back whole.
        let dropout = (json["lora_dropout"] as? Double).map { Float($0) } ?? 0
        let config = LoRAConfig(rank: rank, alpha: alpha, targets: targets, dropout: dropout)
        if let problem = config.problem { throw fail(problem) }
        return Info(config: config, base: base)
    }

    /// Fills the adapters' values from the folder's adapter_model.safetensors (names and shapes checked first).
    public static func loadWeights(from dir: String, into adapters: LoRAAdapters) throws {
        try Checkpoint.loadWeights(file: weightsFileName, in: dir, into: adapters.params)
    }

    /// The string metadata of the adapters' weights file.
    public static func readMetadata(from dir: String) throws -> [String: String] {
        try Safetensors.readMetadata(from: dir + "/" + weightsFileName)
    }
}
