import ArgumentParser
import Engine

/// How weights that never change in a run are held and multiplied: float32; rounded to bf16
/// and multiplied by oneDNN (about twice as fast on a CPU with AVX-512 BF16, half the memory,
/// products' inputs rounded to 3 significant digits); or as bf16 and also in 8 bits, which
/// generation's products of a few rows read (about half of bf16's bytes, what they wait on).
enum FrozenWeights: String, ExpressibleByArgument, CaseIterable {
    case float32, bf16, int8
}

struct FrozenWeightOptions: ParsableArguments {
    @Option(name: .customLong("frozen-weights"),
            help: "How frozen weights are held and multiplied: 'float32'; 'bf16' (rounded to bfloat16 and multiplied by oneDNN: about 2x faster on a CPU with AVX-512 BF16, inputs rounded to ~3 significant digits); or 'int8' (as bf16, but decoding 1-4 sequences at once reads the weights in 8 bits, 256 levels per 32 weights of a row, inputs rounded to ~15 bits: about 2x bf16's speed for one sequence; a GGUF model's 32-weight blocks (Q4_0/1, Q5_0/1, Q8_0) keep their values, so its logits stay closer to float32's than bf16's, while weights on no grid of their own round more coarsely than bf16; prompts, larger batches, scoring and training stay bf16; needs AVX-512 VNNI and --lora-rank in sft and rl). Frozen: a LoRA run's base model, RL's reference model, every model `eval` and `logits` run.")
    var frozenWeights: FrozenWeights = .float32

    /// What run.json records: "bf16" or "int8", or nothing for float32, as in runs from before the flag.
    var recorded: String? { frozenWeights == .float32 ? nil : frozenWeights.rawValue }

    /// Whether the frozen weights are held in bf16 too (int8 keeps bf16 for scoring and training).
    var bf16Copy: Bool { frozenWeights != .float32 }
    /// Whether they are held in int8 too.
    var int8Copy: Bool { frozenWeights == .int8 }

    /// How a banner names `model`'s frozen-weight precision.
    static func describe(_ model: Transformer) -> String {
        model.weightPrecision == "int8" ? "int8 when generating, bf16 when scoring and training" : model.weightPrecision
    }

    /// For commands whose only frozen weights are a LoRA base: bf16 and int8 need --lora-rank.
    func requireLoRA(rank: Int?, command: String) throws {
        if frozenWeights != .float32 && rank == nil {
            throw ValidationError("--frozen-weights \(frozenWeights.rawValue) holds a LoRA run's frozen base in \(frozenWeights.rawValue); without --lora-rank \(command) trains every weight, which stays float32")
        }
    }

    /// Holds `model`'s weights in bf16 (and int8) when asked; say so (and warn when this CPU emulates bf16).
    func apply(to model: Transformer, what: String) throws {
        let name = frozenWeights.rawValue
        switch frozenWeights {
        case .float32:
            return
        case .bf16:
            do {
                try model.holdWeightsInBF16()
            } catch {
                throw CLIError("--frozen-weights bf16: \(error); use --frozen-weights float32 on this machine")
            }
        case .int8:
            guard Transformer.int8IsSupported else {
                throw CLIError("--frozen-weights int8: this CPU has no AVX-512 VNNI, which the int8 products need; use --frozen-weights bf16 or float32 on this machine")
            }
            do {
                try model.holdWeightsInInt8()
            } catch {
                throw CLIError("--frozen-weights int8: \(error); use --frozen-weights float32 on this machine")
            }
        }
        if !Transformer.bf16IsNative {
            printErr("warning: --frozen-weights \(name): this CPU has no AVX-512 BF16, so oneDNN emulates bf16 and \(what) may run slower than in float32")
        }
    }
}
