import ArgumentParser
import Engine

/// How weights that never change in a run are held and multiplied: float32, or rounded to
/// bf16 and multiplied by oneDNN (about twice as fast on a CPU with AVX-512 BF16, half the
/// memory, products' inputs rounded to 3 significant digits).
enum FrozenWeights: String, ExpressibleByArgument, CaseIterable {
    case float32, bf16
}

struct FrozenWeightOptions: ParsableArguments {
    @Option(name: .customLong("frozen-weights"),
            help: "How frozen weights are held and multiplied: 'float32', or 'bf16' (rounded to bfloat16 and multiplied by oneDNN: about 2x faster on a CPU with AVX-512 BF16, inputs rounded to ~3 significant digits). Frozen: a LoRA run's base model, RL's reference model, every model `eval` and `logits` run.")
    var frozenWeights: FrozenWeights = .float32

    /// What run.json records: "bf16", or nothing for float32, as in runs from before the flag.
    var recorded: String? { frozenWeights == .bf16 ? "bf16" : nil }

    /// For commands whose only frozen weights are a LoRA base: bf16 needs --lora-rank.
    func requireLoRA(rank: Int?, command: String) throws {
        if frozenWeights == .bf16 && rank == nil {
            throw ValidationError("--frozen-weights bf16 holds a LoRA run's frozen base in bf16; without --lora-rank \(command) trains every weight, which stays float32")
        }
    }

    /// Holds `model`'s weights in bf16 when asked; say so (and warn when this CPU emulates bf16).
    func apply(to model: Transformer, what: String) throws {
        guard frozenWeights == .bf16 else { return }
        do {
            try model.holdWeightsInBF16()
        } catch {
            throw CLIError("--frozen-weights bf16: \(error); use --frozen-weights float32 on this machine")
        }
        if !Transformer.bf16IsNative {
            printErr("warning: --frozen-weights bf16: this CPU has no AVX-512 BF16, so oneDNN emulates bf16 and \(what) may run slower than in float32")
        }
    }
}
