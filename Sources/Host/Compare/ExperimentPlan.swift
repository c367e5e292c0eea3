import ArgumentParser
import Foundation

/// Every child command line of an experiment, built and parsed before anything runs.
///
/// Each variant gets: its command (`sft --init-from <warm-up>/final`, or `rl --algo <a> --init
/// <warm-up>/final`), the experiment's --seed and --threads, the [data] flags, its own flags, the
/// [shared] flags its command has and it does not set, its --plugin specs, and for continued SFT
/// `--lr 2e-5 --schedule constant --warmup 0` unless set (measured: at the warm-up's peak rate
/// and schedule, continued SFT loses accuracy; at 2e-5 constant it gains).
struct ExperimentPlan {
    struct Child: Equatable {
        var name: String
        var algorithm: Algorithm
        var plugins: [String]
        /// After the binary's path, starting with the subcommand, without --out (the runner adds it).
        var arguments: [String]
    }

    var warmup: WarmupCache.Run?
    /// The checkpoint every variant starts from.
    var checkpoint: String
    var variants: [Child]

    static let continuedSFTDefaults: [(String, String)] = [("lr", "2e-5"), ("schedule", "constant"), ("warmup", "0")]
    static let defaultWarmupMinutes = "5"

    init(_ experiment: Experiment, cache: String) throws {
        try Self.refuseManagedKeys(experiment)
        let common = ["--seed", String(experiment.seed), "--threads", String(experiment.threads)]
        let dataArguments = Setting.arguments(experiment.data)
        try ArgumentCheck.parse(DataOptions.self, dataArguments, what: "[data]", settings: experiment.data)

        switch experiment.warmup {
        case .checkpoint(let path, let origin):
            // Whatever `sft --init-from` and `rl --init` open: a checkpoint folder or a .gguf file.
            var isDirectory: ObjCBool = false
            if ModelSource.isGGUF(path) {
                guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue else {
                    throw ExperimentFile.Error(description: "\(origin): '\(path)' does not exist; give the path of a llama .gguf file (or a checkpoint folder)")
                }
            } else {
                guard FileManager.default.fileExists(atPath: path + "/config.json", isDirectory: &isDirectory), !isDirectory.boolValue else {
                    throw ExperimentFile.Error(description: "\(origin): '\(path)' is not a checkpoint folder (no config.json in it); give a `final/` or `checkpoints/step-N/` folder of a `workbench sft` run, or a .gguf file")
                }
            }
            warmup = nil
            checkpoint = path
        case .train(var settings):
            if !settings.has("steps") && !settings.has("minutes") {
                settings.append(Setting(key: "minutes", value: .text(Self.defaultWarmupMinutes), origin: "the default warm-up length"))
            }
            // The warm-up runs alone, so by default it uses every core; its own threads only
            // change its numerics, which the cache key covers.
            let threads = settings["threads"].map { _ in [String]() } ?? ["--threads", String(ProcessInfo.processInfo.activeProcessorCount)]
            let arguments = ["sft", "--seed", String(experiment.seed)] + threads + dataArguments + Setting.arguments(settings)
            let run = try WarmupCache.Run(arguments: arguments, cache: cache, settings: experiment.data + settings)
            warmup = run
            checkpoint = run.checkpoint
        }

        var sharedKnown = Set<String>()
        let from = checkpoint
        variants = try experiment.variants.map { v in
            let command: any ParsableArguments.Type = v.algorithm.isRL ? RLCommand.self : SFTCommand.self
            let required = v.algorithm.isRL ? ["--init", "x"] : []
            let lengthKeys = v.algorithm.isRL ? ["updates", "minutes"] : ["steps", "minutes"]
            // A variant that states its own length replaces the shared length as a whole, so
            // `steps = 10` in a variant does not clash with `minutes = 5` in [shared].
            let ownLength = lengthKeys.contains(where: v.settings.has)
            var settings = v.settings
            for s in experiment.shared where ArgumentCheck.accepts(command, s.key, required: required) {
                sharedKnown.insert(s.key)
                if !v.settings.has(s.key) && !(ownLength && lengthKeys.contains(s.key)) { settings.append(s) }
            }
            if !v.algorithm.isRL {
                for (key, value) in Self.continuedSFTDefaults where !settings.has(key) {
                    settings.append(Setting(key: key, value: .text(value), origin: "the continued-SFT default"))
                }
            }
            if !lengthKeys.contains(where: settings.has) {
                throw ExperimentFile.Error(description: "variant '\(v.name)' (\(v.origin)) has no length: set \(lengthKeys[0]) or minutes in the variant or in [shared] (a comparison needs every variant's budget stated)")
            }
            if !v.plugins.isEmpty && !v.algorithm.isRL {
                throw ExperimentFile.Error(description: "variant '\(v.name)' (\(v.origin)): sft takes no plugins (they are rewards, poolings and contrastive losses for RL); drop plugins or use an RL algorithm")
            }
            for spec in v.plugins {
                if let path = Self.pluginPath(spec), !FileManager.default.fileExists(atPath: path) {
                    throw ExperimentFile.Error(description: "variant '\(v.name)' (\(v.origin)): plugin '\(path)' does not exist; build it first (e.g. `swift build -c release` for libnegsignal.so) or fix the path (relative to the folder you run workbench in)")
                }
            }
            let start = v.algorithm.isRL ? ["rl", "--algo", v.algorithm.rawValue, "--init", from] : ["sft", "--init-from", from]
            let arguments = start + common + dataArguments + Setting.arguments(settings) + v.plugins.flatMap { ["--plugin", $0] }
            try ArgumentCheck.parse(command, Array(arguments.dropFirst()), what: "variant '\(v.name)' (\(v.origin))", settings: settings + experiment.data)
            return Child(name: v.name, algorithm: v.algorithm, plugins: v.plugins, arguments: arguments)
        }
        for s in experiment.shared where !sharedKnown.contains(s.key) {
            throw ExperimentFile.Error(description: "\(s.origin): no variant's command has --\(s.key) (see `workbench sft --help` and `workbench rl --help`)")
        }
    }

    /// The library path of a `--plugin` spec, or nil for a built-in, read as `workbench rl`
    /// reads it; a spec rl would refuse is left to the up-front parse of the variant's flags.
    static func pluginPath(_ spec: String) -> String? {
        (try? PluginSpec(parsing: spec))?.path
    }

    /// Flags the runner sets itself, or that would break the comparison's sameness, with what to do instead.
    static func refuseManagedKeys(_ e: Experiment) throws {
        func refuse(_ s: Setting, _ why: String) -> ExperimentFile.Error { ExperimentFile.Error(description: "\(s.origin): \(why)") }
        let outWhy = "--out is set by compare (each variant writes <out>/<variant>); give `workbench compare --out <dir>` instead"
        let all: [(String, [Setting])] = [("[data]", e.data), ("[shared]", e.shared)] + e.variants.map { ("variant", $0.settings) }
        if case .train(let w) = e.warmup {
            for s in w {
                if s.key == "out" { throw refuse(s, outWhy) }
                if s.key == "seed" { throw refuse(s, "seed is set once at the top of the file, for the warm-up and every variant") }
                if ArgumentCheck.accepts(DataOptions.self, s.key) { throw refuse(s, "data flags go in [data], so the warm-up and every variant see the same data") }
            }
        }
        for (section, settings) in all {
            for s in settings {
                switch s.key {
                case "out": throw refuse(s, outWhy)
                case "seed", "threads": throw refuse(s, "\(s.key) is set once at the top of the file (every variant gets the same: numerics depend on it)")
                case "init", "init-from": throw refuse(s, "every variant starts from the warm-up's checkpoint; to start from another, set init = \"<dir>\" in [warmup]")
                case "algo" where section != "[data]": throw refuse(s, "use algorithm = \"reft\" (or sft, drgrpo, carft) in the [[variant]]")
                case "plugin" where section != "[data]": throw refuse(s, "use plugins = [\"path/to/lib.so\", ...] in the [[variant]]")
                default:
                    if section != "[data]" && ArgumentCheck.accepts(DataOptions.self, s.key) {
                        throw refuse(s, "data flags go in [data], so the warm-up and every variant see the same data")
                    }
                }
            }
        }
    }

    /// Every child command line, as the runner will start them.
    func commandLines(executable: String, out: String) -> [String] {
        var lines: [String] = []
        if let warmup { lines.append(Self.shellLine([executable] + warmup.arguments + ["--out", warmup.folder])) }
        for v in variants { lines.append(Self.shellLine([executable] + v.arguments + ["--out", out + "/" + v.name])) }
        return lines
    }

    static func shellLine(_ words: [String]) -> String {
        words.map { w in
            w.allSatisfy({ $0.isLetter || $0.isNumber || "-_./:=,+@".contains($0) }) && !w.isEmpty ? w : "'" + w.replacingOccurrences(of: "'", with: "'\\''") + "'"
        }.joined(separator: " ")
    }
}
