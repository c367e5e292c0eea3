import Foundation

/// Reads an experiment file (TOML) into an Experiment. Only the file's shape is checked here
/// (known sections, types, names); whether each flag exists and takes its value is checked by
/// ExperimentPlan, which parses every child's command line before anything runs.
enum ExperimentFile {
    static let topLevelKeys = ["name", "seeds", "seed", "baseline", "jobs", "threads", "data", "warmup", "shared", "variant"]

    struct Error: Swift.Error, CustomStringConvertible {
        var description: String
    }

    static func load(_ path: String) throws -> Experiment {
        if [".yaml", ".yml", ".json"].contains(where: path.lowercased().hasSuffix) {
            throw Error(description: "\(path): experiment files are TOML (name.toml); YAML and JSON are not read. See `workbench compare --help` for the layout.")
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw Error(description: "\(path): no such file (give the path of an experiment .toml file, e.g. experiments/smoke.toml)")
        }
        guard let text = String(data: data, encoding: .utf8) else { throw Error(description: "\(path): not UTF-8 text") }
        let stem = URL(fileURLWithPath: path).deletingPathExtension().lastPathComponent
        return try parse(text, file: path, defaultName: stem)
    }

    static func parse(_ text: String, file: String, defaultName: String) throws -> Experiment {
        let root = try TOML.parse(text, file: file)
        func fail(_ line: Int, _ message: String) -> Error { Error(description: "\(file):\(line): \(message)") }
        func at(_ line: Int) -> String { "\(file):\(line)" }

        for entry in root.entries where !topLevelKeys.contains(entry.key) {
            let key = entry.key
            throw fail(entry.line, "unknown top-level key '\(key)'; the file has \(topLevelKeys.map { "'\($0)'" }.joined(separator: ", ")) (flags for the runs go in [data], [warmup], [shared] or a [[variant]])")
        }
        func positive(_ key: String, _ range: ClosedRange<Int>) throws -> Int? {
            guard let v = root[key] else { return nil }
            guard case .integer(let n, _) = v, n >= range.lowerBound, n <= range.upperBound else {
                let got = if case .integer(let n, _) = v { "\(n)" } else { v.typeName }
                throw fail(root.line(of: key), "'\(key)' must be an integer in \(FlagLimits.text(range)) (got \(got))")
            }
            return Int(n)
        }
        func table(_ key: String) throws -> TOML.Table? {
            guard let v = root[key] else { return nil }
            guard case .table(let t) = v else {
                throw fail(root.line(of: key), key == "variant" ? "variants are written [[variant]] (two brackets), one per variant"
                                                                  : "'\(key)' must be a [\(key)] table (got \(v.typeName))")
            }
            return t
        }

        var name = defaultName
        if let v = root["name"] {
            guard case .string(let s) = v else { throw fail(root.line(of: "name"), "'name' must be a string") }
            name = s
        }
        if let problem = Names.problem(name) { throw fail(root.line(of: "name"), "experiment name '\(name)': \(problem) (it names the output folder runs/<name>)") }
        var experiment = Experiment(name: name)
        experiment.seeds = try seeds(root, fail: fail)
        if let v = root["baseline"] {
            guard case .string(let b) = v else { throw fail(root.line(of: "baseline"), "'baseline' must be the name of a variant, e.g. baseline = \"reft\"") }
            experiment.baseline = b
        }
        experiment.threads = try positive("threads", FlagLimits.threads) ?? 1
        experiment.jobs = try positive("jobs", FlagLimits.jobs)

        experiment.data = try settings(of: try table("data"), section: "[data]", file: file)
        let warmup = try settings(of: try table("warmup"), section: "[warmup]", file: file)
        if let initSetting = warmup["init"] {
            guard case .text(let path) = initSetting.value else { throw Error(description: "\(initSetting.origin): 'init' must be a string: the checkpoint folder or .gguf file to start from") }
            if let other = warmup.first(where: { $0.key != "init" }) {
                throw Error(description: "\(other.origin): [warmup] has 'init' (start from an existing checkpoint) and '\(other.key)' (train one); keep one or the other")
            }
            experiment.warmup = .checkpoint(path, origin: initSetting.origin)
        } else {
            experiment.warmup = .train(warmup)
        }
        experiment.shared = try settings(of: try table("shared"), section: "[shared]", file: file)

        guard let variantValue = root["variant"] else {
            throw Error(description: "\(file): no [[variant]] tables; add at least one, e.g.\n\n[[variant]]\nname = \"reft\"\nalgorithm = \"reft\"")
        }
        guard case .tables(let tables) = variantValue else { throw fail(root.line(of: "variant"), "variants are written [[variant]] (two brackets), one per variant") }
        var seen: [String: Int] = [:]
        for t in tables {
            guard case .string(let vname)? = t["name"] else { throw fail(t.line, "this [[variant]] needs name = \"...\" (it names the variant's folder and its row in the table)") }
            if let problem = Names.problem(vname) { throw fail(t.line(of: "name"), "variant name '\(vname)': \(problem)") }
            if Names.reserved.contains(vname) || [".md", ".html", ".svg", ".json"].contains(where: vname.hasSuffix) {
                throw fail(t.line(of: "name"), "variant name '\(vname)' is taken by a file or folder the comparison writes beside the variants; choose another")
            }
            if let first = seen[vname] { throw fail(t.line(of: "name"), "variant name '\(vname)' is used twice (first on line \(first)); names must be unique") }
            seen[vname] = t.line(of: "name")
            let algorithms = Algorithm.allCases.map(\.rawValue).joined(separator: ", ")
            guard case .string(let a)? = t["algorithm"] else { throw fail(t.line, "variant '\(vname)' needs algorithm = one of \(algorithms)") }
            guard let algorithm = Algorithm(rawValue: a) else { throw fail(t.line(of: "algorithm"), "variant '\(vname)': unknown algorithm '\(a)'; use one of \(algorithms)") }
            var plugins: [String] = []
            if let p = t["plugins"] {
                let specs: [String]? = {
                    guard case .array(let items) = p else { return nil }
                    let strings = items.compactMap { item -> String? in if case .string(let s) = item { return s } else { return nil } }
                    return strings.count == items.count ? strings : nil
                }()
                guard let specs else {
                    throw fail(t.line(of: "plugins"), "variant '\(vname)': plugins must be an array of strings, e.g. [\"path/to/lib.so\", \"builtin:carft-embedding\"]")
                }
                plugins = specs
            }
            var rest = TOML.Table(line: t.line)
            for e in t.entries where !["name", "algorithm", "plugins"].contains(e.key) { rest.set(e.key, e.value, line: e.line) }
            experiment.variants.append(Variant(name: vname, algorithm: algorithm, plugins: plugins,
                                               settings: try settings(of: rest, section: "variant '\(vname)'", file: file),
                                               origin: at(t.line)))
        }
        if let b = experiment.baseline, !experiment.variants.contains(where: { $0.name == b }) {
            throw fail(root.line(of: "baseline"), "baseline '\(b)' is not a variant; the variants are \(experiment.variants.map { "'\($0.name)'" }.joined(separator: ", "))")
        }
        return experiment
    }

    /// The most seeds a file may ask for: each is a full run of every variant.
    static let maxSeeds = 100

    /// `seeds = [0, 1, 2]` (those seeds) or `seeds = 5` (0…4); `seed = 3` is one seed. Default: [0].
    static func seeds(_ root: TOML.Table, fail: (Int, String) -> Error) throws -> [UInt64] {
        let example = "seeds = [0, 1, 2] or seeds = 3 (meaning 0, 1, 2)"
        if root["seeds"] != nil && root["seed"] != nil {
            throw fail(root.line(of: "seed"), "give 'seeds' or 'seed', not both (\(example))")
        }
        if let v = root["seed"] {
            guard case .integer(let n, _) = v, n >= 0 else { throw fail(root.line(of: "seed"), "'seed' must be a non-negative integer; for several, \(example)") }
            return [UInt64(n)]
        }
        guard let v = root["seeds"] else { return [0] }
        let line = root.line(of: "seeds")
        switch v {
        case .integer(let n, _):
            guard n >= 1 && n <= maxSeeds else { throw fail(line, "'seeds' must be between 1 and \(maxSeeds) (got \(n)); \(example)") }
            return (0..<UInt64(n)).map { $0 }
        case .array(let items):
            var out: [UInt64] = []
            for item in items {
                guard case .integer(let n, _) = item, n >= 0 else { throw fail(line, "'seeds' must hold non-negative integers; \(example)") }
                guard !out.contains(UInt64(n)) else { throw fail(line, "seed \(n) is listed twice in 'seeds'") }
                out.append(UInt64(n))
            }
            guard !out.isEmpty && out.count <= maxSeeds else { throw fail(line, "'seeds' must list 1 to \(maxSeeds) seeds; \(example)") }
            return out
        default:
            throw fail(line, "'seeds' must be a list of seeds or a count; \(example)")
        }
    }

    /// A table's keys as flags. Values stay as written; tables inside are refused.
    static func settings(of table: TOML.Table?, section: String, file: String) throws -> [Setting] {
        guard let table else { return [] }
        return try table.entries.map { entry in
            let (key, value, line) = (entry.key, entry.value, entry.line)
            let origin = "\(file):\(line) ('\(key)' in \(section))"
            func text(_ v: TOML.Value) -> String? {
                switch v {
                case .string(let s): return s
                case .integer(_, let t), .float(_, let t): return t
                default: return nil
                }
            }
            switch value {
            case .bool(let b): return Setting(key: key, value: .flag(b), origin: origin)
            case .array(let items):
                let texts = items.compactMap(text)
                guard texts.count == items.count else { throw Error(description: "\(origin): an array of flag values holds strings or numbers only") }
                return Setting(key: key, value: .list(texts), origin: origin)
            case .table, .tables: throw Error(description: "\(origin): a flag's value cannot be a table")
            default: return Setting(key: key, value: .text(text(value)!), origin: origin)
            }
        }
    }
}

/// Names that become folder names.
enum Names {
    /// Folders a comparison writes beside its variants'.
    static let reserved: Set<String> = [ExperimentPlan.startFolder]

    /// Why `name` cannot name a folder, or nil when it can.
    static func problem(_ name: String) -> String? {
        if name.isEmpty { return "is empty" }
        if name.count > 80 { return "is longer than 80 characters" }
        if name.hasPrefix(".") || name.hasPrefix("-") { return "must not start with '.' or '-'" }
        let allowed = CharacterSet(charactersIn: "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._+-")
        if name.unicodeScalars.contains(where: { !allowed.contains($0) }) { return "may hold only letters, digits, '.', '_', '+' and '-' (it names a folder)" }
        return nil
    }
}
