import Foundation

/// A comparison as the runner sees it, whether it came from an experiment file or from
/// `workbench --plugin ...`: one SFT warm-up, then every variant once per seed, all from its
/// checkpoint with the same threads and data, and a verdict per variant against the baseline.
struct Experiment {
    var name: String
    /// Every variant runs once per seed (its --seed: data order, sampling, initialisation of
    /// what it adds). The first also seeds the warm-up and the built-in task's questions.
    var seeds: [UInt64] = [0]
    /// The variant the others are judged against; nil: the first.
    var baseline: String?
    /// Threads per variant (numerics depend on it, so every variant gets the same).
    var threads = 1
    /// Variants run at once; nil: this machine's cores / threads.
    var jobs: Int?
    /// Data flags (`workbench sft|rl --train-size ...`), identical for the warm-up and every variant.
    var data: [Setting] = []
    var warmup: Warmup = .train([])
    /// Flags every variant whose command has them gets, unless the variant sets them itself.
    var shared: [Setting] = []
    var variants: [Variant] = []

    enum Warmup {
        /// `workbench sft` flags for the warm-up (cached by them, the data flags, seed and threads).
        case train([Setting])
        /// An existing checkpoint folder to start every variant from instead.
        case checkpoint(String, origin: String)
    }

    var jobsOrDefault: Int { jobs ?? max(1, ProcessInfo.processInfo.activeProcessorCount / threads) }

    var baselineName: String { baseline ?? variants.first?.name ?? "" }
}

struct Variant {
    var name: String
    var algorithm: Algorithm
    /// `--plugin` specs: `path/to/lib.so[:key=value,...]` or `builtin:<name>[:key=value,...]`.
    var plugins: [String] = []
    var settings: [Setting] = []
    /// Where it was defined, for messages ("experiments/x.toml:31", "--plugin").
    var origin: String
}

enum Algorithm: String, CaseIterable {
    case sft, reft, drgrpo, carft

    var isRL: Bool { self != .sft }
    var command: String { isRL ? "rl" : "sft" }
}

/// One `--key value` for a child command, remembering where it was set so a rejected flag can
/// be traced to its line.
struct Setting: Equatable {
    var key: String
    var value: Value
    var origin: String

    enum Value: Equatable {
        case text(String)
        /// true: `--key`; false: the flag left off (say so in the file rather than deleting the line).
        case flag(Bool)
        /// `--key a --key b`, for repeatable options.
        case list([String])
    }

    var arguments: [String] {
        switch value {
        case .text(let t): return ["--\(key)", t]
        case .flag(let on): return on ? ["--\(key)"] : []
        case .list(let items): return items.flatMap { ["--\(key)", $0] }
        }
    }

    /// Arguments of a list of settings, sorted by key so that the same settings written in
    /// another order give the same command line (and so the same resume and cache decisions).
    static func arguments(_ settings: [Setting]) -> [String] {
        settings.enumerated().sorted { ($0.element.key, $0.offset) < ($1.element.key, $1.offset) }.flatMap(\.element.arguments)
    }
}

extension Array where Element == Setting {
    subscript(key: String) -> Setting? { first { $0.key == key } }
    func has(_ key: String) -> Bool { contains { $0.key == key } }
}
