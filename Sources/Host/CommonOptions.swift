import ArgumentParser
import Engine
import Foundation

/// Flags shared by every training command: reproducibility, threads and where output goes.
struct RunOptions: ParsableArguments {
    @Option(parsing: .unconditional, help: "Random seed for initialisation, data order and sampling. Same seed and --threads give the same numbers.")
    var seed: UInt64 = 0

    @Option(parsing: .unconditional, help: "Threads for the Engine's loops and matrix products (default: this machine's cores; 1…1,024).")
    var threads: Int = ProcessInfo.processInfo.activeProcessorCount

    @Option(help: ArgumentHelp("Output folder for metrics.jsonl, run.json and checkpoints/ (default: runs/sft for sft, runs/<algo> for rl). It must be new or empty, unless --overwrite or --resume is given.", valueName: "dir"))
    var out: String?

    @Flag(help: "Use a non-empty --out anyway: the run there (run.json, metrics.jsonl, checkpoints/, final/, eval-final.jsonl) is deleted first; other files are kept.")
    var overwrite = false

    @Flag(help: "Continue the run in --out from its newest checkpoint, exactly as if it had not stopped (weights, optimiser, data order, metrics). Give the command that started it; other settings are refused.")
    var resume = false

    func validate() throws {
        try FlagLimits.check(threads, "--threads", FlagLimits.threads)
        if resume && overwrite { throw ValidationError("--resume continues the run in --out and --overwrite deletes it; give one of them") }
        if let out, out.isEmpty { throw ValidationError("--out must name a folder") }
    }

    var existing: RunFolder.Existing { resume ? .resume : overwrite ? .overwrite : .refuse }

    /// Fails at once, before anything loads, when the folder cannot be used as asked.
    func checkOut(default name: String) throws -> String {
        let dir = out ?? name
        try RunFolder.check(dir, existing: existing)
        return dir
    }
}

/// The model's shape, from a preset or flag by flag.
struct ModelOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Size preset: \(ModelPreset.allCases.map(\.rawValue).joined(separator: ", ")). Flags below override single fields.", valueName: "preset"))
    var model: ModelPreset = .tiny

    @Option(parsing: .unconditional, help: "Transformer layers.") var layers: Int?
    @Option(parsing: .unconditional, help: "Model width (hidden size).") var dim: Int?
    @Option(parsing: .unconditional, help: "Attention heads (dim must divide by it).") var heads: Int?
    @Option(name: .customLong("kv-heads"), parsing: .unconditional, help: "Key/value heads for grouped-query attention (heads must divide by it).") var kvHeads: Int?
    @Option(parsing: .unconditional, help: "SwiGLU hidden width.") var ffn: Int?
    @Option(parsing: .unconditional, help: "Context length in tokens (max sequence the model accepts).") var context: Int?
    @Option(name: .customLong("rope-theta"), parsing: .unconditional, help: "Rotary embedding base.") var ropeTheta: Float?
    @Flag(name: .customLong("untied"), help: "Use a separate output head instead of tying it to the token embedding.") var untied = false

    /// True when any shape flag was given (so it can be refused where a checkpoint sets the shape).
    var anyGiven: Bool {
        [layers, dim, heads, kvHeads, ffn, context].contains { $0 != nil } || ropeTheta != nil || untied
    }

    func config(vocabSize: Int) throws -> ModelConfig {
        var c = model.config(vocabSize: vocabSize)
        if let layers { c.layers = layers }
        if let dim { c.dim = dim }
        if let heads { c.heads = heads }
        if let kvHeads { c.kvHeads = kvHeads } else if heads != nil { c.kvHeads = c.heads }
        if let ffn { c.ffnDim = ffn }
        if let context { c.maxSeqLen = context }
        if let ropeTheta { c.ropeTheta = ropeTheta }
        if untied { c.tiedEmbeddings = false }
        try c.validate()
        return c
    }
}

enum ModelPreset: String, ExpressibleByArgument, CaseIterable {
    case tiny, small, base

    func config(vocabSize v: Int) -> ModelConfig {
        switch self {
        case .tiny: return ModelConfig(vocabSize: v, dim: 128, layers: 4, heads: 4, kvHeads: 4, ffnDim: 352, maxSeqLen: 320)
        case .small: return ModelConfig(vocabSize: v, dim: 256, layers: 6, heads: 8, kvHeads: 4, ffnDim: 704, maxSeqLen: 320)
        case .base: return ModelConfig(vocabSize: v, dim: 512, layers: 6, heads: 8, kvHeads: 8, ffnDim: 1408, maxSeqLen: 512)
        }
    }
}

/// A failure found while running (not while parsing flags): printed as "Error: …" without
/// the usage text, since the flags themselves were well-formed.
struct CLIError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
