import ArgumentParser
import Engine
import Foundation

/// Every child command line of an experiment, built and checked before anything runs.
///
/// The children: the warm-up (`sft`, cached), the start's evaluation (`eval` of the warm-up's
/// checkpoint on the evaluation set, which every variant's gain is measured from), and each
/// variant once per seed: its command (`sft --init-from <warm-up>/final`, or `rl --algo <a>
/// --init <warm-up>/final`), --seed, the experiment's --threads, the [data] flags, its own flags,
/// the [shared] flags its command has and it does not set, its --plugin specs, and for continued
/// SFT `--lr 2e-5 --schedule constant --warmup 0` unless set (measured: at the warm-up's peak
/// rate and schedule, continued SFT loses accuracy; at 2e-5 constant it gains).
///
/// Checked up front: every flag (each child's own parser), every plugin (its library loaded and
/// each plugin created with its config, in this process), and that every run is scored the same
/// way, so a typo fails at once naming the variant and the line.
struct ExperimentPlan {
    struct Variant: Equatable {
        var name: String
        var algorithm: Algorithm
        var plugins: [String]
        /// After the binary's path, starting with the subcommand, without --seed and --out.
        var arguments: [String]
        /// RunFingerprint's digest: a finished run is kept only while this is unchanged.
        var fingerprint: String
    }

    /// One (variant, seed): a child process writing `<out>/<folder>`.
    struct Run: Equatable {
        var variant: String
        var seed: UInt64
        /// After the binary's path, without --out.
        var arguments: [String]
        var folder: String { Self.folder(variant: variant, seed: seed) }
        var label: String { "\(variant)/seed-\(seed)" }

        static func folder(variant: String, seed: UInt64) -> String { "\(variant)/seed-\(seed)" }
    }

    var warmup: WarmupCache.Run?
    /// The checkpoint every variant starts from.
    var checkpoint: String
    var variants: [Variant]
    var seeds: [UInt64]
    var baseline: String
    /// `eval` of the starting checkpoint on the evaluation set, after the binary's path.
    var startArguments: [String]

    /// Seed-major, so an interrupted comparison has every variant at its first seeds.
    var runs: [Run] {
        seeds.flatMap { seed in variants.map { Run(variant: $0.name, seed: seed, arguments: Self.withSeed($0.arguments, seed)) } }
    }

    static let startFolder = "start"
    static let continuedSFTDefaults: [(String, String)] = [("lr", "2e-5"), ("schedule", "constant"), ("warmup", "0")]
    /// The warm-up's length unless [warmup] gives one: a count, so every machine trains the same
    /// start (the default job's: `workbench sft` with no length).
    static let defaultWarmupSteps = String(SFTCommand.defaultSteps)
    /// Built-in task questions in the shared evaluation set unless [data] sets test-size.
    static let defaultTestSize = "2000"
    /// Flags that decide how an answer is produced and read: the same for every run, the start included
    /// (frozen-weights too: a bf16 base answers a little differently from its float32 self).
    static let scoringKeys = ["max-new-tokens", "prompt", "context", "frozen-weights"]

    /// `warmupThreads`: the warm-up's --threads when [warmup] sets none (by default this machine's
    /// cores; a Slurm comparison passes the file's threads, since every node plans it again and
    /// the thread count is part of the warm-up's cache key).
    init(_ experiment: Experiment, cache: String, warmupThreads: Int? = nil) throws {
        try Self.refuseManagedKeys(experiment)
        guard !experiment.variants.isEmpty else { throw ExperimentFile.Error(description: "the experiment has no variants") }
        seeds = experiment.seeds
        baseline = experiment.baselineName
        let firstSeed = String(experiment.seeds[0])
        let data = Self.dataSettings(experiment.data, firstSeed: firstSeed)
        let dataArguments = Setting.arguments(data)
        try ArgumentCheck.parse(DataOptions.self, dataArguments, what: "[data]", settings: data)

        switch experiment.warmup {
        case .checkpoint(let path, let origin):
            try Self.checkStart(path, origin: origin)
            warmup = nil
            checkpoint = path
        case .train(var settings):
            if !settings.has("steps") && !settings.has("minutes") {
                settings.append(Setting(key: "steps", value: .text(Self.defaultWarmupSteps), origin: "the default warm-up length"))
            }
            // The start is scored by its own `eval` child, with the variants' scoring flags.
            if !settings.has("final-eval") {
                settings.append(Setting(key: "final-eval", value: .text("0"), origin: "the start's own evaluation"))
            }
            // The warm-up runs alone, so by default it uses every core; its own threads only
            // change its numerics, which the cache key covers.
            let threads = settings["threads"].map { _ in [String]() } ?? ["--threads", String(warmupThreads ?? ProcessInfo.processInfo.activeProcessorCount)]
            let arguments = ["sft", "--seed", firstSeed] + threads + dataArguments + Setting.arguments(settings)
            let run = try WarmupCache.Run(arguments: arguments, cache: cache, settings: data + settings)
            warmup = run
            checkpoint = run.checkpoint
        }

        var sharedKnown = Set<String>()
        let from = checkpoint
        let startStamp = warmup.map { "warm-up " + $0.key } ?? RunFingerprint.fileStamp(checkpoint)
        var scoring: [String: (value: String, variant: String, setting: Setting?)] = [:]
        variants = try experiment.variants.map { v in
            let command: any ParsableArguments.Type = v.algorithm.isRL ? RLCommand.self : SFTCommand.self
            let required = v.algorithm.isRL ? ["--init", "x"] : []
            let lengthKeys = v.algorithm.isRL ? ["updates", "minutes"] : ["steps", "minutes"]
            // A variant that states its own length replaces the shared length as a whole, so
            // `steps = 10` in a variant does not clash with `updates = 300` in [shared].
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
            for key in Self.scoringKeys {
                let value = settings[key].map { Setting.arguments([$0]).dropFirst().joined(separator: " ") } ?? "(default)"
                if let other = scoring[key], other.value != value {
                    throw ExperimentFile.Error(description: "variant '\(v.name)' (\(v.origin)) has \(key) \(value) but '\(other.variant)' has \(other.value): every run is scored on the same questions the same way, so set \(key) once in [shared]")
                }
                scoring[key] = (value, v.name, settings[key])
            }
            let start = v.algorithm.isRL ? ["rl", "--algo", v.algorithm.rawValue, "--init", from] : ["sft", "--init-from", from]
            let arguments = start + ["--threads", String(experiment.threads)] + dataArguments + Setting.arguments(settings)
                + v.plugins.flatMap { ["--plugin", $0] }
            let what = "variant '\(v.name)' (\(v.origin))"
            let parsed = try ArgumentCheck.parse(command, Array(Self.withSeed(arguments, experiment.seeds[0]).dropFirst()), what: what, settings: settings + data)
            let fingerprint: RunFingerprint
            if let rl = parsed as? RLCommand {
                do {
                    // Under the variant's own plugin-timeout (the watchdog runs in `compare`); the
                    // instances are destroyed inside too, and destroy can hang as well.
                    let plugins = try PluginWatchdog.limit(rl.pluginTimeout, while: "creating the plugins of \(what) to check them") {
                        let made = try rl.makePlugins()
                        // A --reward-fn reward is in the arguments already (and was never listed here).
                        let instances = [rl.rewardFn == nil ? made.reward.instance : nil, made.carft?.pooling.instance, made.carft?.contrastive.instance]
                        return instances.compactMap { $0.map(RLCommand.describe) }
                    }
                    fingerprint = .rl(rl, arguments: arguments, plugins: plugins, start: startStamp)
                } catch {
                    throw ExperimentFile.Error(description: "\(what): \(error)")
                }
            } else {
                fingerprint = try .sft(parsed as! SFTCommand, arguments: arguments, start: startStamp)
            }
            return Variant(name: v.name, algorithm: v.algorithm, plugins: v.plugins, arguments: arguments, fingerprint: try fingerprint.digest())
        }
        for s in experiment.shared where !sharedKnown.contains(s.key) {
            throw ExperimentFile.Error(description: "\(s.origin): no variant's command has --\(s.key) (see `workbench sft --help` and `workbench rl --help`)")
        }
        // The start is scored as every run is: with the scoring flags the variants agreed on.
        let scoringArguments = Setting.arguments(Self.scoringKeys.compactMap { scoring[$0]?.setting })
        startArguments = ["eval", "--checkpoint", checkpoint, "--seed", firstSeed, "--threads", String(experiment.threads)]
            + dataArguments + scoringArguments
        try ArgumentCheck.parse(EvalCommand.self, Array(startArguments.dropFirst()) + ["--dump", "x"], what: "the start's evaluation", settings: data + experiment.shared)
    }

    /// [data] as given, plus what makes every seed see the same questions: the built-in task's
    /// seed fixed to the first seed, and a 2,000-question evaluation set unless sized.
    static func dataSettings(_ data: [Setting], firstSeed: String) -> [Setting] {
        var out = data
        let builtin = data["data"].map { $0.value == .text("builtin") } ?? true
        if builtin && !out.has("task-seed") {
            out.append(Setting(key: "task-seed", value: .text(firstSeed), origin: "the first seed (every seed trains and is scored on the same questions)"))
        }
        if builtin && !out.has("test-size") && !out.has("eval-data") {
            out.append(Setting(key: "test-size", value: .text(defaultTestSize), origin: "the default evaluation set"))
        }
        return out
    }

    /// `arguments` with `--seed <seed>` after the subcommand's first flags.
    static func withSeed(_ arguments: [String], _ seed: UInt64) -> [String] {
        [arguments[0]] + ["--seed", String(seed)] + arguments.dropFirst()
    }

    /// Whatever `sft --init-from` and `rl --init` open: a checkpoint folder or a .gguf file.
    static func checkStart(_ path: String, origin: String) throws {
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
    }

    /// The library path of a `--plugin` spec, or nil for a built-in, read as `workbench rl`
    /// reads it; a spec rl would refuse is left to the up-front parse of the variant's flags.
    static func pluginPath(_ spec: String) -> String? {
        (try? PluginSpec(parsing: spec))?.path
    }

    /// Flags the runner sets itself, or that would break the comparison's sameness, with what to do instead.
    static func refuseManagedKeys(_ e: Experiment) throws {
        func refuse(_ s: Setting, _ why: String) -> ExperimentFile.Error { ExperimentFile.Error(description: "\(s.origin): \(why)") }
        let outWhy = "--out is set by compare (each run writes <out>/<variant>/seed-<k>); give `workbench compare --out <dir>` instead (compare replaces a run it reruns, and keeps the ones that finished)"
        let seedWhy = "seeds are set once at the top of the file (seeds = [0, 1, 2]), for the warm-up and every variant"
        let all: [(String, [Setting])] = [("[data]", e.data), ("[shared]", e.shared)] + e.variants.map { ("variant", $0.settings) }
        if case .train(let w) = e.warmup {
            for s in w {
                if s.key == "out" || s.key == "overwrite" { throw refuse(s, outWhy) }
                if s.key == "seed" { throw refuse(s, seedWhy) }
                if ArgumentCheck.accepts(DataOptions.self, s.key) { throw refuse(s, "data flags go in [data], so the warm-up and every variant see the same data") }
            }
        }
        for (section, settings) in all {
            for s in settings {
                switch s.key {
                case "out", "overwrite": throw refuse(s, outWhy)
                case "seed": throw refuse(s, seedWhy)
                case "threads": throw refuse(s, "threads is set once at the top of the file (every variant gets the same: numerics depend on it)")
                case "final-eval": throw refuse(s, "every run's final checkpoint is scored on the whole evaluation set, so the runs can be paired question by question; size it with test-size in [data]")
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
        if let warmup { lines.append(Self.shellLine([executable] + warmup.arguments + ["--out", warmup.folder, "--overwrite"])) }
        lines.append(Self.shellLine([executable] + startArguments + ["--dump", out + "/" + Self.startFolder + "/" + EvalRecords.finalFileName]))
        for r in runs { lines.append(Self.shellLine([executable] + r.arguments + ["--out", out + "/" + r.folder, "--overwrite"])) }
        return lines
    }

    static func shellLine(_ words: [String]) -> String {
        words.map { w in
            w.allSatisfy({ $0.isLetter || $0.isNumber || "-_./:=,+@".contains($0) }) && !w.isEmpty ? w : "'" + w.replacingOccurrences(of: "'", with: "'\\''") + "'"
        }.joined(separator: " ")
    }
}
