import ArgumentParser
import Engine

/// `--lora-rank` and its companions: train low-rank adapters on a frozen model instead of all of
/// its weights.
struct LoRAOptions: ParsableArguments {
    @Option(name: .customLong("lora-rank"), parsing: .unconditional,
            help: "Train LoRA adapters of this rank (1…4,096) on the frozen starting model instead of all its weights; checkpoints then hold the adapters alone (PEFT's adapter_config.json + adapter_model.safetensors), naming the model they sit on.")
    var rank: Int?
    @Option(name: .customLong("lora-alpha"), parsing: .unconditional,
            help: "LoRA α: the adapters' output is scaled by α/rank (default: the rank, i.e. scale 1).")
    var alpha: Float?
    @Option(name: .customLong("lora-targets"),
            help: "The linear maps of each layer that get an adapter, comma-separated from q, k, v, o, gate, up, down (default: all seven).")
    var targets: String?
    @Option(name: .customLong("lora-dropout"), parsing: .unconditional,
            help: "PEFT's lora_dropout: in training passes each adapter reads its input with this fraction of entries zeroed (the rest scaled by 1/(1−p)); 0 ≤ p < 1 (default 0). Rollouts, scoring, the reference and evaluation never drop; in rl, PPO's ratio then compares a dropped-out pass with the plain old policy.")
    var dropout: Float?

    /// Puts fresh adapters, as asked for, on `model` (loaded from `base`) and freezes it; nil
    /// without --lora-rank.
    func attach(to model: Transformer, base: String, seed: UInt64) throws -> LoRAAdapters? {
        guard let lora = try config() else { return nil }
        let adapters = LoRAAdapters(config: lora, model: model.config, seed: seed)
        adapters.base = base
        model.attach(adapters)
        return adapters
    }

    /// The adapters asked for; nil without --lora-rank.
    func config() throws -> LoRAConfig? {
        guard let rank else {
            if alpha != nil || targets != nil || dropout != nil {
                throw ValidationError("--lora-alpha, --lora-targets and --lora-dropout configure LoRA adapters; add --lora-rank")
            }
            return nil
        }
        var chosen = LoRAConfig.Target.allCases
        if let targets {
            chosen = []
            for name in targets.split(separator: ",", omittingEmptySubsequences: false).map({ $0.trimmingCharacters(in: .whitespaces) }) {
                guard let t = LoRAConfig.Target(rawValue: name) else {
                    throw ValidationError("--lora-targets: '\(name)' is not a layer map; choose from q, k, v, o, gate, up, down")
                }
                chosen.append(t)
            }
        }
        guard (1...LoRAConfig.maxRank).contains(rank) else { throw ValidationError("--lora-rank must be between 1 and 4,096 (got \(rank))") }
        if let dropout, !(dropout >= 0 && dropout < 1) {
            throw ValidationError("--lora-dropout must be at least 0 and below 1 (got \(dropout)); 0.05 or 0.1 are usual")
        }
        let c = LoRAConfig(rank: rank, alpha: alpha, targets: chosen, dropout: dropout ?? 0)
        if let problem = c.problem { throw ValidationError("--lora-*: \(problem)") }
        return c
    }
}
