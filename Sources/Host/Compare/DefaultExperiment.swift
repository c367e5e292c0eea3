import Foundation

/// What `workbench --plugin <lib.so> [--plugin ...]` runs: an SFT warm-up on the built-in task,
/// then CARFT with the built-in plugins (`carft`) and, per plugin given, CARFT with that plugin
/// in place of the built-in of its kind (`carft+<name>`), all from the same checkpoint, seed and
/// data order, each for the same minutes.
enum DefaultExperiment {
    static let name = "plugins"

    static func make(plugins: [String], minutes: Double, sftMinutes: Double, seed: UInt64, threads: Int, jobs: Int?) -> Experiment {
        var experiment = Experiment(name: name, seed: seed, threads: threads, jobs: jobs)
        experiment.warmup = .train([Setting(key: "minutes", value: .text(number(sftMinutes)), origin: "--sft-minutes")])
        experiment.shared = [Setting(key: "minutes", value: .text(number(minutes)), origin: "--minutes")]
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
