import Foundation

/// What `workbench --plugin <lib.so> [--plugin ...]` runs: an SFT warm-up on the built-in task,
/// then CARFT with the built-in plugins (`carft`, the baseline) and, per plugin given, CARFT with
/// that plugin in place of the built-in of its kind (`carft+<name>`), all from the same
/// checkpoint, once per seed, each for the same number of updates.
enum DefaultExperiment {
    static let name = "plugins"
    /// The default budget: enough updates for reft and carft to gain detectably over the start
    /// (docs/results/rl-budget: +3.2 and +3.0 points after 100 updates, three seeds), few enough
    /// that two variants × three seeds take under 30 minutes on a 2-core machine, warm-up
    /// included (150 updates took about 40).
    static let defaultSeeds = 3
    static let defaultUpdates = 100

    /// A budget: a count (updates for the variants, steps for the warm-up) or minutes.
    enum Length {
        case count(Int)
        case minutes(Double)
    }

    /// `pluginTimeout`: every run's --plugin-timeout, when given.
    static func make(plugins: [String], length: Length, warmup: Length?, seeds: Int, threads: Int, jobs: Int?, pluginTimeout: Int? = nil) -> Experiment {
        var experiment = Experiment(name: name, seeds: (0..<UInt64(seeds)).map { $0 }, threads: threads, jobs: jobs)
        switch warmup {
        case .count(let steps)?: experiment.warmup = .train([Setting(key: "steps", value: .text(String(steps)), origin: "--sft-steps")])
        case .minutes(let m)?: experiment.warmup = .train([Setting(key: "minutes", value: .text(number(m)), origin: "--sft-minutes")])
        case nil: experiment.warmup = .train([])
        }
        switch length {
        case .count(let n): experiment.shared = [Setting(key: "updates", value: .text(String(n)), origin: "--updates")]
        case .minutes(let m): experiment.shared = [Setting(key: "minutes", value: .text(number(m)), origin: "--minutes")]
        }
        if let pluginTimeout {
            experiment.shared.append(Setting(key: "plugin-timeout", value: .text(String(pluginTimeout)), origin: "--plugin-timeout"))
        }
        experiment.variants = [Variant(name: "carft", algorithm: .carft, origin: "the built-in baseline")]
        var used: Set<String> = ["carft"]
        for spec in plugins {
            var name = "carft+" + stem(spec)
            var n = 2
            while used.contains(name) { name = "carft+\(stem(spec))-\(n)"; n += 1 }
            used.insert(name)
            experiment.variants.append(Variant(name: name, algorithm: .carft, plugins: [spec], origin: "--plugin \(spec)"))
        }
        return experiment
    }

    /// "negsignal" for ".build/release/libnegsignal.so:tau=0.1", "carft-embedding" for
    /// "builtin:carft-embedding": short enough for a table row, safe for a folder name.
    static func stem(_ spec: String) -> String {
        var base: String
        let parsed = try? PluginSpec(parsing: spec)
        if let parsed, parsed.path == nil {
            base = parsed.id ?? PluginLoader.builtinName
        } else {
            base = URL(fileURLWithPath: parsed?.library ?? spec).lastPathComponent
            for suffix in [".so", ".dylib"] where base.hasSuffix(suffix) { base.removeLast(suffix.count) }
            if base.hasPrefix("lib") && base.count > 3 { base.removeFirst(3) }
        }
        let safe = String(base.map { $0.isLetter || $0.isNumber || "._-".contains($0) ? $0 : "-" }.prefix(60))
        return safe.isEmpty || safe.hasPrefix(".") ? "plugin" : safe
    }

    static func number(_ x: Double) -> String { String(format: "%g", x) }
}
