import Engine
import Foundation
import Testing
@testable import Host

/// `workbench compare` and `workbench --plugin`: the experiment file, the child command lines
/// built from it, the warm-up cache key, and (with the built binary) whole comparisons.
@Suite struct CompareTests {
    // MARK: TOML

    @Test func tomlReadsTheValuesAnExperimentUses() throws {
        let t = try TOML.parse("""
            # a comment
            name = "a \\"quoted\\" # not a comment"   # a comment after a value
            path = 'C:\\raw'
            n = 20_000
            neg = -3
            lr = 2e-5
            x = 0.5
            on = true
            off = false
            list = [
                "a",   # comment inside
                'b',
            ]
            empty = []

            [data]
            test-size = 8
            "quoted key" = 1

            [[variant]]
            name = "one"
            [[variant]]
            name = "two"
            """, file: "t.toml")
        #expect(t["name"] == .string("a \"quoted\" # not a comment"))
        #expect(t["path"] == .string("C:\\raw"))
        #expect(t["n"] == .integer(20000, text: "20000"))
        #expect(t["neg"] == .integer(-3, text: "-3"))
        #expect(t["lr"] == .float(2e-5, text: "2e-5"))
        #expect(t["x"] == .float(0.5, text: "0.5"))
        #expect(t["on"] == .bool(true))
        #expect(t["off"] == .bool(false))
        #expect(t["list"] == .array([.string("a"), .string("b")]))
        #expect(t["empty"] == .array([]))
        guard case .table(let data)? = t["data"] else { Issue.record("no [data]"); return }
        #expect(data["test-size"] == .integer(8, text: "8"))
        #expect(data["quoted key"] == .integer(1, text: "1"))
        #expect(data.line(of: "test-size") == 17)
        guard case .tables(let variants)? = t["variant"] else { Issue.record("no [[variant]]"); return }
        #expect(variants.map { $0["name"] } == [.string("one"), .string("two")])
        #expect(variants.map(\.line) == [20, 22])
    }

    /// Each error names the file and the line, and says what is wrong.
    @Test(arguments: [
        ("a = 1\nb = \"open\n", "t.toml:2: unterminated string"),
        ("a = 1\n\nb 2\n", "t.toml:3: expected '=' after the key 'b'"),
        ("a = reft\n", "t.toml:1: 'reft' is not a value: strings need quotes (\"reft\")"),
        ("a = 1\na = 2\n", "t.toml:2: 'a' is set twice (first on line 1)"),
        ("[t]\nx = 1\n[t]\n", "t.toml:3: 't' is defined twice (first on line 1)"),
        ("a = { b = 1 }\n", "t.toml:1: inline tables ({ ... }) are not supported"),
        ("a.b = 1\n", "t.toml:1: dotted keys (a.b = ...) are not supported"),
        ("a = 1 b = 2\n", "t.toml:1: unexpected 'b' after the value of 'a'"),
        ("a = [\"x\",\n \"y\"\nb = 1\n", "t.toml:3: expected ',' or ']' in the array, found 'b'"),
        ("[[v]]\n[v]\n", "t.toml:2: 'v' is defined twice (first on line 1)"),
        ("a = \"\\q\"\n", "t.toml:1: unknown escape '\\q'"),
    ])
    func tomlErrorsGiveTheLine(text: String, expected: String) {
        #expect(throws: TOML.ParseError.self) { try TOML.parse(text, file: "t.toml") }
        do { _ = try TOML.parse(text, file: "t.toml") } catch { #expect("\(error)".hasPrefix(expected), "\(error)") }
    }

    // MARK: The experiment file

    static let header = """
        name = "t"
        seed = 7
        threads = 1
        jobs = 2

        [data]
        train-size = 64
        test-size = 8

        """

    /// A checkpoint folder, as far as the plan looks: config.json in it.
    static func fakeCheckpoint() throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("compare-ckpt-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try Data("{}".utf8).write(to: URL(fileURLWithPath: dir + "/config.json"))
        return dir
    }

    /// A .gguf file, as far as the plan looks: it exists.
    static func fakeGGUF() -> String {
        let gguf = FileManager.default.temporaryDirectory.appendingPathComponent("compare-\(UUID().uuidString).gguf").path
        #expect(FileManager.default.createFile(atPath: gguf, contents: Data("GGUF".utf8)))
        return gguf
    }

    static func plan(_ body: String, header: String = header, cache: String = "/tmp/cache") throws -> ExperimentPlan {
        try ExperimentPlan(ExperimentFile.parse(header + body, file: "x.toml", defaultName: "x"), cache: cache)
    }

    static func message(_ body: String, header: String = header) -> String {
        do { _ = try plan(body, header: header); return "(no error)" } catch { return "\(error)" }
    }

    @Test func variantsGetTheirCommandSharedFlagsAndDefaults() throws {
        let ckpt = try Self.fakeCheckpoint()
        let p = try Self.plan("""
            [warmup]
            init = "\(ckpt)"

            [shared]
            minutes = 2
            minibatch = 8
            batch = 16

            [[variant]]
            name = "sft"
            algorithm = "sft"

            [[variant]]
            name = "sft-fast"
            algorithm = "sft"
            lr = 1e-4
            steps = 10

            [[variant]]
            name = "reft"
            algorithm = "reft"
            batch = 4
            """)
        #expect(p.warmup == nil)
        #expect(p.checkpoint == ckpt)
        // The built-in task's questions are fixed by the first seed, for every seed.
        let common = ["--threads", "1", "--task-seed", "7", "--test-size", "8", "--train-size", "64"]
        // Continued SFT: --init-from, the 2e-5 constant defaults, shared flags sft has (not minibatch).
        #expect(p.variants[0].arguments == ["sft", "--init-from", ckpt] + common
            + ["--batch", "16", "--lr", "2e-5", "--minutes", "2", "--schedule", "constant", "--warmup", "0"])
        // Its own settings win over shared ones and the defaults; its own length (steps)
        // replaces the shared one (minutes) instead of clashing with it.
        #expect(p.variants[1].arguments == ["sft", "--init-from", ckpt] + common
            + ["--batch", "16", "--lr", "1e-4", "--schedule", "constant", "--steps", "10", "--warmup", "0"])
        #expect(p.variants[2].arguments == ["rl", "--algo", "reft", "--init", ckpt] + common
            + ["--batch", "4", "--minibatch", "8", "--minutes", "2"])
        #expect(p.variants.map(\.name) == ["sft", "sft-fast", "reft"])
        // One run per variant and seed, the seed right after the subcommand.
        #expect(p.runs.map(\.label) == ["sft/seed-7", "sft-fast/seed-7", "reft/seed-7"])
        #expect(p.runs[2].arguments == ["rl", "--seed", "7"] + p.variants[2].arguments.dropFirst())
        // The start is scored with the same data, threads and scoring flags as the runs.
        #expect(p.startArguments == ["eval", "--checkpoint", ckpt, "--seed", "7", "--threads", "1", "--task-seed", "7", "--test-size", "8", "--train-size", "64"])
    }

    @Test func seedsAreAListOrACountAndRunSeedMajor() throws {
        let body = "[shared]\nupdates = 1\n[[variant]]\nname = \"a\"\nalgorithm = \"reft\"\n[[variant]]\nname = \"b\"\nalgorithm = \"carft\"\n"
        let header = Self.header.replacingOccurrences(of: "seed = 7", with: "seeds = 3")
        let p = try Self.plan(body, header: header)
        #expect(p.seeds == [0, 1, 2] && p.baseline == "a")
        #expect(p.runs.map(\.label) == ["a/seed-0", "b/seed-0", "a/seed-1", "b/seed-1", "a/seed-2", "b/seed-2"])
        #expect(p.runs.map(\.folder)[3] == "b/seed-1" && p.runs[3].arguments.prefix(3) == ["rl", "--seed", "1"])
        #expect(p.variants[1].arguments.contains("--task-seed") && p.startArguments.contains("0"))
        let listed = try Self.plan(body + "\n", header: Self.header.replacingOccurrences(of: "seed = 7", with: "seeds = [4, 2]\nbaseline = \"b\""))
        #expect(listed.seeds == [4, 2] && listed.baseline == "b" && listed.runs.first?.arguments.prefix(3) == ["rl", "--seed", "4"])
        // Without test-size, the evaluation set is 2,000 questions.
        let sized = try Self.plan(body, header: "seeds = 2\n")
        #expect(sized.startArguments.joined(separator: " ").contains("--test-size 2000"))
    }

    /// Everything a variant's plugins need is loaded and created before anything runs: a config
    /// typo or a bad value names the variant, the spec and the key.
    @Test func pluginsAreCreatedUpFront() {
        let typo = Self.message("[[variant]]\nname = \"c\"\nalgorithm = \"carft\"\nupdates = 1\nplugins = [\"builtin:infonce-positive:magrin=0.3\"]\n")
        #expect(typo.contains("variant 'c' (x.toml:9)") && typo.contains("builtin:infonce-positive:magrin=0.3") && typo.contains("'magrin'"), "\(typo)")
        let value = Self.message("[[variant]]\nname = \"c\"\nalgorithm = \"carft\"\nupdates = 1\nplugins = [\"builtin:infonce-positive:tau=-1\"]\n")
        #expect(value.contains("variant 'c' (x.toml:9)") && value.contains("tau"), "\(value)")
        let kind = Self.message("[[variant]]\nname = \"r\"\nalgorithm = \"reft\"\nupdates = 1\nplugins = [\"builtin:mean\"]\n")
        #expect(kind.contains("variant 'r'") && kind.contains("add --algo carft"), "\(kind)")
        let missing = Self.message("[[variant]]\nname = \"a\"\nalgorithm = \"reft\"\nupdates = 1\nplugins = [\"/nonexistent/libx.so:k=v\"]\n")
        #expect(missing.contains("variant 'a' (x.toml:9)") && missing.contains("/nonexistent/libx.so: no such file"), "\(missing)")
    }

    @Test func booleansAndListsBecomeFlags() {
        #expect(Setting(key: "untied", value: .flag(true), origin: "").arguments == ["--untied"])
        #expect(Setting(key: "untied", value: .flag(false), origin: "").arguments == [])
        #expect(Setting(key: "plugin", value: .list(["a", "b"]), origin: "").arguments == ["--plugin", "a", "--plugin", "b"])
        // Sorted by key, stable within a key: the same settings in another order give the same line.
        let a = [Setting(key: "lr", value: .text("1"), origin: ""), Setting(key: "batch", value: .text("2"), origin: "")]
        #expect(Setting.arguments(a) == Setting.arguments(a.reversed()))
    }

    @Test func theWarmUpIsCachedUnderItsKeyAndDefaultsToAStepCount() throws {
        let p = try Self.plan("""
            [warmup]
            dim = 32
            [shared]
            minutes = 1
            [[variant]]
            name = "reft"
            algorithm = "reft"
            """, cache: "/c")
        let w = try #require(p.warmup)
        #expect(w.folder == "/c/sft-" + w.key)
        #expect(p.checkpoint == w.folder + "/final")
        #expect(p.variants[0].arguments.starts(with: ["rl", "--algo", "reft", "--init", w.folder + "/final"]))
        #expect(w.arguments == ["sft", "--seed", "7", "--threads", String(ProcessInfo.processInfo.activeProcessorCount),
                                "--task-seed", "7", "--test-size", "8", "--train-size", "64", "--dim", "32", "--final-eval", "0",
                                "--steps", ExperimentPlan.defaultWarmupSteps])
    }

    /// A typo fails before anything runs, naming the variant and the line the flag came from.
    @Test func anUnknownFlagIsRejectedUpFrontNamingTheVariantAndLine() {
        let m = Self.message("""
            [shared]
            minutes = 1
            [[variant]]
            name = "sft"
            algorithm = "sft"
            [[variant]]
            name = "reft"
            algorithm = "reft"
            lrr = 1e-5
            """)
        #expect(m.contains("variant 'reft' (x.toml:14)"), "\(m)")
        #expect(m.contains("Unknown option '--lrr'"), "\(m)")
        #expect(m.contains("set at x.toml:17 ('lrr' in variant 'reft')"), "\(m)")
    }

    @Test func aBadValueIsRejectedUpFront() {
        let m = Self.message("""
            [shared]
            minutes = 1
            [[variant]]
            name = "sft"
            algorithm = "sft"
            schedule = "cosine"
            """)
        #expect(m.contains("variant 'sft'") && m.contains("--schedule must be 'linear' or 'constant'") && m.contains("x.toml:14"), "\(m)")
    }

    @Test(arguments: [
        ("[shared]\nout = \"x\"\n[[variant]]\nname = \"v\"\nalgorithm = \"reft\"\nupdates = 1\n", "x.toml:10 ('out' in [shared]): --out is set by compare"),
        ("[shared]\nminutes = 1\n[[variant]]\nname = \"a\"\nalgorithm = \"reft\"\nseed = 3\n", "x.toml:14 ('seed' in variant 'a'): seeds are set once at the top"),
        ("[shared]\nfinal-eval = 5\n[[variant]]\nname = \"a\"\nalgorithm = \"reft\"\nupdates = 1\n", "x.toml:10 ('final-eval' in [shared]): every run's final checkpoint is scored on the whole evaluation set"),
        ("[shared]\nupdates = 1\n[[variant]]\nname = \"a\"\nalgorithm = \"reft\"\nmax-new-tokens = 90\n[[variant]]\nname = \"b\"\nalgorithm = \"reft\"\n", "variant 'b' (x.toml:15) has max-new-tokens (default) but 'a' has 90"),
        ("[shared]\nupdates = 1\n[[variant]]\nname = \"a\"\nalgorithm = \"reft\"\nlora-rank = 4\nfrozen-weights = \"bf16\"\n[[variant]]\nname = \"b\"\nalgorithm = \"reft\"\nlora-rank = 4\n", "variant 'b' (x.toml:16) has frozen-weights (default) but 'a' has bf16"),
        ("[shared]\ntest-size = 3\n[[variant]]\nname = \"v\"\nalgorithm = \"reft\"\nupdates = 1\n", "x.toml:10 ('test-size' in [shared]): data flags go in [data]"),
        ("[warmup]\ntask-steps = 3\n[[variant]]\nname = \"v\"\nalgorithm = \"reft\"\nupdates = 1\n", "x.toml:10 ('task-steps' in [warmup]): data flags go in [data]"),
        ("[[variant]]\nname = \"a\"\nalgorithm = \"reft\"\ninit = \"x\"\n", "every variant starts from the warm-up's checkpoint"),
        ("[[variant]]\nname = \"a\"\nalgorithm = \"reft\"\nalgo = \"drgrpo\"\n", "use algorithm = \"reft\""),
        ("[[variant]]\nname = \"a\"\nalgorithm = \"reft\"\n", "variant 'a' (x.toml:9) has no length: set updates or minutes"),
        ("[[variant]]\nname = \"a\"\nalgorithm = \"sft\"\nsteps = 3\nplugins = [\"builtin:x\"]\n", "variant 'a' (x.toml:9): sft takes no plugins"),
        ("[shared]\nminutes = 1\nvalue-lrr = 1\n[[variant]]\nname = \"a\"\nalgorithm = \"reft\"\n", "x.toml:11 ('value-lrr' in [shared]): no variant's command has --value-lrr"),
        ("[data]\n", "x.toml:9: 'data' is defined twice"),
        ("[[variant]]\nname = \"a b\"\nalgorithm = \"reft\"\n", "x.toml:10: variant name 'a b': may hold only letters"),
        ("[[variant]]\nname = \"start\"\nalgorithm = \"reft\"\n", "x.toml:10: variant name 'start' is taken by a file or folder the comparison writes"),
        ("[[variant]]\nname = \"report.html\"\nalgorithm = \"reft\"\n", "x.toml:10: variant name 'report.html' is taken"),
        ("[[variant]]\nname = \"a\"\nalgorithm = \"ppo\"\n", "x.toml:11: variant 'a': unknown algorithm 'ppo'; use one of sft, reft, drgrpo, carft"),
        ("[[variant]]\nname = \"a\"\nalgorithm = \"reft\"\n[[variant]]\nname = \"a\"\nalgorithm = \"sft\"\n", "x.toml:13: variant name 'a' is used twice (first on line 10)"),
        ("[[variant]]\nalgorithm = \"reft\"\n", "x.toml:9: this [[variant]] needs name"),
        ("[variant]\nname = \"a\"\n", "x.toml:9: variants are written [[variant]]"),
        ("[[variant]]\nname = \"a\"\nalgorithm = \"reft\"\nplugins = \"x.so\"\n", "x.toml:12: variant 'a': plugins must be an array of strings"),
        ("[warmup]\ninit = \"/nonexistent\"\n[[variant]]\nname = \"a\"\nalgorithm = \"reft\"\nupdates = 1\n", "'/nonexistent' is not a checkpoint folder"),
        ("[warmup]\ninit = \"/x\"\nsteps = 3\n", "x.toml:11 ('steps' in [warmup]): [warmup] has 'init'"),
        ("[warmup]\ninit = \"/nonexistent/m.gguf\"\n[[variant]]\nname = \"a\"\nalgorithm = \"reft\"\nupdates = 1\n", "'/nonexistent/m.gguf' does not exist; give the path of a llama .gguf file"),
    ])
    func mistakesAreRejectedWithTheLineAndWhatToDo(body: String, expected: String) {
        let m = Self.message(body)
        #expect(m.contains(expected), "\(m)")
    }

    /// A GGUF model starts an experiment as it starts `rl --init` and `sft --init-from`, and the
    /// variants may ask for its chat prompt.
    @Test func warmupInitTakesAGGUFFile() throws {
        let gguf = Self.fakeGGUF()
        defer { try? FileManager.default.removeItem(atPath: gguf) }
        let p = try Self.plan("""
            [warmup]
            init = "\(gguf)"

            [shared]
            prompt = "chat"

            [[variant]]
            name = "reft"
            algorithm = "reft"
            updates = 2
            """)
        #expect(p.warmup == nil && p.checkpoint == gguf)
        let a = p.variants[0].arguments
        #expect(Array(a.prefix(5)) == ["rl", "--algo", "reft", "--init", gguf], "\(a)")
        #expect(a.contains("--prompt") && a.contains("chat"), "\(a)")
    }

    /// A LoRA warm-up's checkpoint holds the adapters alone; it is as much a finished warm-up as a
    /// full one (it used to be trained again on every call, the folder deleted first).
    @Test func aLoRAWarmupIsCachedLikeAFullOne() throws {
        let cache = FileManager.default.temporaryDirectory.appendingPathComponent("warmup-cache-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: cache) }
        let run = try WarmupCache.Run(arguments: ["sft", "--steps", "3"], cache: cache, settings: [])
        try FileManager.default.createDirectory(atPath: run.checkpoint, withIntermediateDirectories: true)
        #expect(!run.isCached)
        try Data().write(to: URL(fileURLWithPath: run.checkpoint + "/adapter_model.safetensors"))
        #expect(!run.isCached)  // no marker: it did not exit cleanly
        try run.markFinished(wallSeconds: 1)
        #expect(run.isCached)
        try FileManager.default.removeItem(atPath: run.checkpoint + "/adapter_model.safetensors")
        #expect(!run.isCached)
        try Data().write(to: URL(fileURLWithPath: run.checkpoint + "/model.safetensors"))
        #expect(run.isCached)
    }

    /// A bf16 base answers a little differently from its float32 self, so the start is scored
    /// with the variants' frozen-weights too.
    @Test func theStartIsScoredWithTheVariantsFrozenWeights() throws {
        let gguf = Self.fakeGGUF()
        defer { try? FileManager.default.removeItem(atPath: gguf) }
        let p = try Self.plan("""
            [warmup]
            init = "\(gguf)"

            [shared]
            lora-rank = 8
            frozen-weights = "bf16"

            [[variant]]
            name = "reft"
            algorithm = "reft"
            updates = 2
            """)
        #expect(p.startArguments.joined(separator: " ").hasSuffix("--frozen-weights bf16"), "\(p.startArguments)")
        #expect(p.variants[0].arguments.joined(separator: " ").contains("--frozen-weights bf16"))
    }

    @Test func unknownTopLevelKeysAreRefused() {
        do { _ = try Self.plan("[[variant]]\nname = \"v\"\nalgorithm = \"reft\"\nupdates = 1\n", header: "sead = 1\n"); Issue.record("no error") } catch {
            #expect("\(error)".hasPrefix("x.toml:1: unknown top-level key 'sead'"), "\(error)")
        }
    }

    @Test(arguments: [
        ("seeds = 0\n", "x.toml:1: 'seeds' must be between 1 and 100 (got 0)"),
        ("seeds = [1, 1]\n", "x.toml:1: seed 1 is listed twice"),
        ("seeds = []\n", "x.toml:1: 'seeds' must list 1 to 100 seeds"),
        ("seeds = [-1]\n", "x.toml:1: 'seeds' must hold non-negative integers"),
        ("seeds = \"3\"\n", "x.toml:1: 'seeds' must be a list of seeds or a count"),
        ("seeds = 2\nseed = 1\n", "x.toml:2: give 'seeds' or 'seed', not both"),
        ("baseline = \"nope\"\n", "x.toml:1: baseline 'nope' is not a variant; the variants are 'v'"),
        ("baseline = 3\n", "x.toml:1: 'baseline' must be the name of a variant"),
    ])
    func badSeedsAndBaselinesAreRefused(header: String, expected: String) {
        let m = Self.message("[[variant]]\nname = \"v\"\nalgorithm = \"reft\"\nupdates = 1\n", header: header)
        #expect(m.hasPrefix(expected), "\(m)")
    }

    @Test func yamlIsRefusedByName() {
        do { _ = try ExperimentFile.load("e.yaml"); Issue.record("no error") } catch {
            #expect("\(error)".contains("experiment files are TOML"))
        }
    }

    // MARK: The warm-up cache key

    static func warmupKey(_ body: String, header: String = header) throws -> String {
        try #require(try plan(body + "\n[shared]\nminutes = 1\n[[variant]]\nname = \"a\"\nalgorithm = \"reft\"\n", header: header).warmup).key
    }

    @Test func theCacheKeyIsStableAndCoversWhatDecidesTheWeights() throws {
        #expect(RunFingerprint.fnv1a64(Data("a".utf8)) == "af63dc4c8601ec8c")  // the published FNV-1a test vector
        let base = try Self.warmupKey("[warmup]\nsteps = 3\nlr = 1e-3\n")
        #expect(try Self.warmupKey("[warmup]\nsteps = 3\nlr = 1e-3\n") == base)
        #expect(try Self.warmupKey("[warmup]\nlr = 1e-3\nsteps = 3\n") == base, "key order in the file must not matter")
        #expect(try Self.warmupKey("[warmup]\nsteps = 4\nlr = 1e-3\n") != base)
        #expect(try Self.warmupKey("[warmup]\nsteps = 3\nlr = 2e-3\n") != base)
        #expect(try Self.warmupKey("[warmup]\nsteps = 3\nlr = 1e-3\nthreads = 1\n") != base)
        #expect(try Self.warmupKey("[warmup]\nsteps = 3\nlr = 1e-3\n", header: Self.header.replacingOccurrences(of: "seed = 7", with: "seed = 8")) != base)
        #expect(try Self.warmupKey("[warmup]\nsteps = 3\nlr = 1e-3\n", header: Self.header.replacingOccurrences(of: "test-size = 8", with: "test-size = 9")) != base)
        // Threads per variant do not touch the warm-up.
        #expect(try Self.warmupKey("[warmup]\nsteps = 3\nlr = 1e-3\n", header: Self.header.replacingOccurrences(of: "jobs = 2", with: "jobs = 1")) == base)
        // The flags as written are part of the key (so a flag this key does not resolve still
        // counts): a default written out is another warm-up, a rare and safe miss.
        #expect(try Self.warmupKey("[warmup]\nsteps = 3\nlr = 1e-3\nmodel = \"tiny\"\n") != base)
        #expect(try Self.warmupKey("[warmup]\nsteps = 3\nlr = 1e-3\nmodel = \"small\"\n") != Self.warmupKey("[warmup]\nsteps = 3\nlr = 1e-3\nmodel = \"tiny\"\n"))
    }

    // MARK: The default experiment

    @Test func theDefaultExperimentIsBaselinePlusOneVariantPerPlugin() {
        let e = DefaultExperiment.make(plugins: [".build/release/libnegsignal.so", "builtin:carft-embedding:scale=0.2", "/x/libnegsignal.so:tau=1"],
                                       length: .minutes(3), warmup: .minutes(2.5), seeds: 4, threads: 1, jobs: nil)
        #expect(e.variants.map(\.name) == ["carft", "carft+negsignal", "carft+carft-embedding", "carft+negsignal-2"])
        #expect(e.variants.map(\.algorithm) == [.carft, .carft, .carft, .carft])
        #expect(e.variants.map(\.plugins) == [[], [".build/release/libnegsignal.so"], ["builtin:carft-embedding:scale=0.2"], ["/x/libnegsignal.so:tau=1"]])
        #expect(e.shared.flatMap(\.arguments) == ["--minutes", "3"])
        guard case .train(let w) = e.warmup else { Issue.record("no warm-up"); return }
        #expect(w.flatMap(\.arguments) == ["--minutes", "2.5"])
        #expect(e.seeds == [0, 1, 2, 3] && e.baselineName == "carft")
        // By default: counts, not minutes, so every machine does the same work.
        let counted = DefaultExperiment.make(plugins: ["builtin:mean"], length: .count(DefaultExperiment.defaultUpdates), warmup: nil,
                                             seeds: DefaultExperiment.defaultSeeds, threads: 1, jobs: nil)
        #expect(counted.shared.flatMap(\.arguments) == ["--updates", String(DefaultExperiment.defaultUpdates)] && counted.seeds == [0, 1, 2])
        guard case .train(let none) = counted.warmup, none.isEmpty else { Issue.record("the default warm-up is the plan's"); return }
        #expect(ExperimentPlan.pluginPath("/a:b/libx.so:k=v,j=w") == "/a:b/libx.so")
        #expect(ExperimentPlan.pluginPath("builtin:carft-embedding") == nil)
        // The one-plugin-of-several form `workbench rl --plugin` takes names the same file.
        #expect(ExperimentPlan.pluginPath("/x/libex.so@org.example.reward.a:k=v") == "/x/libex.so")
        #expect(DefaultExperiment.stem("/x/libex.so@org.example.reward.a:k=v") == "ex")
    }

    @Test func flagMentionsMatchWholeFlagNames() {
        #expect(ArgumentCheck.mentions("Unknown option '--lr'", flag: "lr"))
        #expect(!ArgumentCheck.mentions("Unknown option '--lr-x'", flag: "lr"))
        #expect(ArgumentCheck.mentions("--steps must be at least 1", flag: "steps"))
        #expect(ArgumentCheck.accepts(RLCommand.self, "minibatch", required: ["--init", "x"]))
        #expect(!ArgumentCheck.accepts(SFTCommand.self, "minibatch"))
        #expect(ArgumentCheck.accepts(SFTCommand.self, "untied"))
    }
}

/// Whole comparisons with the built binary and tiny settings (a 3-step warm-up of a one-layer
/// model, 2-update RL): the folders, statuses, table and report, resuming, a crashing variant.
@Suite(.serialized, .enabled(if: PluginTestSupport.cc != nil && FileManager.default.isExecutableFile(atPath: PluginTestSupport.workbench),
                             "needs cc and .build/release/workbench (built by scripts/test.sh)"))
struct CompareRunTests {
    typealias S = PluginTestSupport

    static let dir: String = {
        let d = FileManager.default.temporaryDirectory.appendingPathComponent("compare-tests-\(UUID().uuidString)").path
        try? FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true)
        return d
    }()
    /// Shared by the tests, so the warm-up trains once.
    static let cache = dir + "/cache"

    static let tiny = """
        seeds = [1, 2]
        jobs = 2
        threads = 1

        [data]
        train-size = 64
        test-size = 8

        [warmup]
        steps = 3
        dim = 32
        layers = 1
        heads = 2
        ffn = 64
        eval-examples = 8
        max-new-tokens = 24

        [shared]
        eval-examples = 8
        max-new-tokens = 24
        batch = 4
        minibatch = 4

        [[variant]]
        name = "sft"
        algorithm = "sft"
        steps = 3

        """

    static func experiment(_ name: String, _ variants: String, seeds: String = "[1, 2]") throws -> String {
        let path = dir + "/\(name).toml"
        let text = "name = \"\(name)\"\n" + tiny.replacingOccurrences(of: "seeds = [1, 2]", with: "seeds = \(seeds)") + variants
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
        return path
    }

    static func compare(_ file: String, out: String, _ extra: [String] = []) throws -> S.Output {
        try S.run(S.workbench, ["compare", file, "--out", out, "--cache", cache] + extra)
    }

    /// `run`: "reft/seed-1", or "start".
    static func status(_ out: String, _ run: String) throws -> ComparisonFiles.Status {
        try JSONDecoder().decode(ComparisonFiles.Status.self, from: try Data(contentsOf: URL(fileURLWithPath: "\(out)/\(run)/status.json")))
    }

    static let runs = ["sft/seed-1", "reft/seed-1", "sft/seed-2", "reft/seed-2"]

    static func modified(_ path: String) throws -> Date {
        try #require(try FileManager.default.attributesOfItem(atPath: path)[.modificationDate] as? Date)
    }

    /// The table printed after the last variant's line.
    static func table(_ stdout: String) -> String {
        let lines = stdout.split(separator: "\n", omittingEmptySubsequences: false)
        let last = lines.lastIndex { $0.hasPrefix("✓ ") || $0.hasPrefix("✗ ") || $0.contains("finished before with the same settings") || $0.contains("scored before") } ?? -1
        return lines[(last + 1)...].joined(separator: "\n")
    }

    @Test func twoVariantsTwoSeedsWriteTheirFoldersTheTableAndTheReportThenResume() throws {
        let file = try Self.experiment("two", "[[variant]]\nname = \"reft\"\nalgorithm = \"reft\"\nupdates = 2\n")
        let out = Self.dir + "/two"
        let r = try Self.compare(file, out: out)
        #expect(r.status == 0, "\(r.all)")
        for run in Self.runs {
            let s = try Self.status(out, run)
            #expect(s.state == .finished && s.exitCode == 0 && s.signal == nil && s.error == nil, "\(s)")
            #expect(s.seed == UInt64(run.suffix(1)) && (s.wallSeconds ?? 0) > 0)
            for f in ["metrics.jsonl", "run.json", "log.txt", "final/model.safetensors", "eval-final.jsonl"] {
                #expect(FileManager.default.fileExists(atPath: "\(out)/\(run)/\(f)"), "\(run)/\(f) missing")
            }
            #expect(r.stdout.contains("✓ \(run) finished"))
        }
        // Every run is scored on the same 8 questions, and so is the start.
        let ids = try EvalRecords.read("\(out)/start/eval-final.jsonl").map(\.id)
        #expect(ids.count == 8 && ids.first == "arith-test-1")
        for run in Self.runs { #expect(try EvalRecords.read("\(out)/\(run)/eval-final.jsonl").map(\.id) == ids) }
        #expect(try Self.status(out, "start").state == .finished)
        let table = Self.table(r.stdout)
        #expect(table.contains("sft") && table.contains("reft") && table.contains("2 seeds per variant (1, 2)"), "no table after the runs:\n\(r.stdout)")
        #expect(table.contains("Δ vs sft"), "the first variant is the baseline:\n\(table)")
        let files = try FileManager.default.contentsOfDirectory(atPath: out)
        #expect(files.contains("report.html") && files.contains("report.md") && files.contains("differences.svg"), "\(files)")
        let manifest = try #require(ComparisonFiles.readManifest(out))
        #expect(manifest.name == "two" && manifest.seeds == [1, 2] && manifest.baseline == "sft")
        #expect(manifest.variants.map(\.name) == ["sft", "reft"])
        #expect(manifest.variants[1].arguments.starts(with: ["--algo", "reft", "--init"]) && !manifest.variants[1].arguments.contains("--seed"))
        #expect(manifest.variants[1].arguments[3].hasPrefix(Self.cache + "/sft-"))

        // Again: the warm-up, the start and every run are reused.
        let watched = Self.runs.flatMap { run in ["status.json", "metrics.jsonl"].map { "\(out)/\(run)/\($0)" } } + ["\(out)/start/eval-final.jsonl"]
        let before = try watched.map(Self.modified)
        let again = try Self.compare(file, out: out)
        #expect(again.status == 0, "\(again.all)")
        #expect(again.stdout.contains("warm-up: reusing the cached SFT checkpoint"), "\(again.stdout)")
        #expect(again.stdout.contains("start: scored before on the same questions; kept"))
        #expect(again.stdout.contains("sft: seeds 1, 2 finished before with the same settings; kept"))
        #expect(again.stdout.contains("reft: seeds 1, 2 finished before with the same settings; kept"))
        #expect(!again.stdout.contains("✓ "))
        #expect(try watched.map(Self.modified) == before)
        #expect(Self.table(again.stdout).contains("reft"))

        // A third seed runs only the new runs; --fresh runs everything again.
        let three = try Self.experiment("two", "[[variant]]\nname = \"reft\"\nalgorithm = \"reft\"\nupdates = 2\n", seeds: "[1, 2, 3]")
        let more = try Self.compare(three, out: out)
        #expect(more.status == 0, "\(more.all)")
        #expect(more.stdout.contains("✓ reft/seed-3 finished") && more.stdout.contains("✓ sft/seed-3 finished") && !more.stdout.contains("✓ reft/seed-1"), "\(more.stdout)")
        let fresh = try Self.compare(three, out: out, ["--fresh"])
        #expect(fresh.status == 0, "\(fresh.all)")
        #expect(fresh.stdout.contains("✓ start finished") && fresh.stdout.contains("✓ sft/seed-1 finished") && fresh.stdout.contains("✓ reft/seed-3 finished"), "\(fresh.stdout)")
    }

    /// A comparison stopped part-way (SIGTERM, as Slurm or `timeout` send) resumes its stopped
    /// runs from their checkpoints when run again, instead of starting them over.
    @Test func aStoppedComparisonResumesItsRunsWhenRunAgain() throws {
        let file = try Self.experiment("stopped", "[[variant]]\nname = \"reft\"\nalgorithm = \"reft\"\nupdates = 300\neval-every = 10\n", seeds: "[1]")
        let out = Self.dir + "/stopped"
        let p = Process()
        p.executableURL = URL(fileURLWithPath: S.workbench)
        p.arguments = ["compare", file, "--out", out, "--cache", Self.cache]
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        let metrics = out + "/reft/seed-1/metrics.jsonl"
        func updates() -> [Int] {
            ((try? String(contentsOfFile: metrics, encoding: .utf8)) ?? "").split(separator: "\n").compactMap { line in
                guard line.contains("\"kind\":\"update\""), let o = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else { return nil }
                return o["update"] as? Int
            }
        }
        let deadline = Date().addingTimeInterval(300)
        while p.isRunning && Date() < deadline && updates().count < 25 { Thread.sleep(forTimeInterval: 0.01) }
        try #require(p.isRunning, "the comparison ended before it could be stopped")
        kill(p.processIdentifier, SIGTERM)
        p.waitUntilExit()
        #expect(p.terminationStatus == 128 + SIGTERM)
        let stoppedAt = try #require(try ResumePoint.newest(in: out + "/reft/seed-1")).state.position
        #expect(stoppedAt >= 25 && stoppedAt < 300)
        #expect(RunFolder.readStatus(out + "/reft/seed-1")?.state == .interrupted)
        // The comparison's own record of the run does not stay "running" after the signal.
        #expect(try Self.status(out, "reft/seed-1").state != .running)

        let again = try Self.compare(file, out: out)
        #expect(again.status == 0, "\(again.all)")
        #expect(again.stdout.contains("reft/seed-1: stopped before at update \(stoppedAt) with the same settings; resuming from there"), "\(again.stdout)")
        #expect(again.stdout.contains("✓ reft/seed-1 finished"), "\(again.stdout)")
        // Every update logged once, none twice: the run went on from its checkpoint.
        #expect(updates() == Array(1...300))
        #expect(RunFolder.readStatus(out + "/reft/seed-1")?.resumed == 1)
        #expect(try Self.status(out, "reft/seed-1").state == .finished)
    }

    /// Needs `workbench rl --plugin` (the ABI plugin replaces the built-in reward).
    @Test func aCrashingVariantIsReportedFailedWhileTheOtherFinishes() throws {
        let plugin = try S.fixture("abort_reward")
        let file = try Self.experiment("crash", "[[variant]]\nname = \"crash\"\nalgorithm = \"reft\"\nupdates = 2\nplugins = [\"\(plugin)\"]\n", seeds: "[1]")
        let out = Self.dir + "/crash"
        let r = try Self.compare(file, out: out)
        #expect(r.status != 0)
        #expect(r.stderr.contains("1 of 2 runs failed: crash/seed-1"), "\(r.all)")
        #expect(r.stdout.contains("✗ crash/seed-1 failed"), "\(r.stdout)")
        let crash = try Self.status(out, "crash/seed-1")
        #expect(crash.state == .failed && crash.signal == 6 && crash.exitCode == nil, "\(crash)")
        #expect(crash.error?.contains("killed by signal 6 (SIGABRT") == true, "\(crash)")
        #expect(try Self.status(out, "sft/seed-1").state == .finished)
        #expect(Self.table(r.stdout).contains("crash"), "the table is printed despite the failure:\n\(r.stdout)")
        #expect(Self.table(r.stdout).contains("crash: seed 1 failed"), "the report says why a seed is missing:\n\(r.stdout)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: out).contains { $0.hasSuffix(".html") })

        // Again: only the failed run runs.
        let again = try Self.compare(file, out: out)
        #expect(again.status != 0)
        #expect(again.stdout.contains("sft: seed 1 finished before with the same settings; kept"), "\(again.stdout)")
        #expect(again.stdout.contains("✗ crash/seed-1 failed"))
    }

    /// A variant whose plugin call never returns is stopped by its own watchdog and recorded as
    /// failed (timeout); one whose plugin crashes keeps the crash line and frames in its status;
    /// the comparison goes on and the other variant finishes.
    @Test func aHungVariantFailsWithTimeoutAndACrashKeepsItsLineWhileTheOtherFinishes() throws {
        let hang = try S.fixture("hang_reward"), segv = try S.fixture("segv_reward")
        let file = try Self.experiment("stall", """
            [[variant]]
            name = "hang"
            algorithm = "reft"
            updates = 2
            plugin-timeout = 2
            plugins = ["\(hang)"]

            [[variant]]
            name = "segv"
            algorithm = "reft"
            updates = 2
            plugins = ["\(segv)"]

            """, seeds: "[1]")
        let out = Self.dir + "/stall"
        let r = try S.run(S.workbench, ["compare", file, "--out", out, "--cache", Self.cache], limit: 300)
        #expect(!r.overran, "the comparison was still going after \(Int(r.seconds)) s: \(r.output.all)")
        #expect(r.output.status == 1 && r.output.stderr.contains("2 of 3 runs failed: hang/seed-1, segv/seed-1"), "\(r.output.all)")
        #expect(try Self.status(out, "sft/seed-1").state == .finished)

        let stalled = try Self.status(out, "hang/seed-1")
        #expect(stalled.state == .failed && stalled.failure == "timeout" && stalled.exitCode == Int(PluginWatchdog.exitCode) && stalled.signal == nil, "\(stalled)")
        let error = try #require(stalled.error)
        #expect(error.hasPrefix("stopped by the plugin watchdog (exit status 124): Error: plugin org.fixture.reward.hang (\(hang)) did not return from reward.score within 2 s"), "\(error)")
        let line = try #require(r.output.stdout.split(separator: "\n").first { $0.hasPrefix("✗ hang/seed-1 failed (timeout)") }, "\(r.output.stdout)")
        #expect(line.hasSuffix(String(error.split(separator: "\n")[0])), "\(line)")
        #expect(RunFolder.readStatus(out + "/hang/seed-1")?.state == .failed)

        let crashed = try Self.status(out, "segv/seed-1")
        #expect(crashed.state == .failed && crashed.failure == "crash" && crashed.signal == 11, "\(crashed)")
        let crash = try #require(crashed.error)
        let named = "workbench: crashed (SIGSEGV) inside plugin org.fixture.reward.segv (\(segv)), function reward.score"
        #expect(crash.hasPrefix("crashed: killed by signal 11 (SIGSEGV: a bad memory access): \(named)\n"), "\(crash)")
        #expect(crash.hasSuffix("\n" + named), "the line naming the plugin comes last: \(crash)")
        #expect(crash.contains("segv_score"), "the crash report's frames are kept: \(crash)")

        let table = Self.table(r.output.stdout)
        #expect(table.contains("FAILED (timeout)") && table.contains("hang: seed 1 failed: timeout: "), "\(table)")
    }

    /// compare creates every variant's plugins before anything runs: a create that hangs stops it
    /// there, under the variant's plugin-timeout, naming the variant.
    @Test func aHungCreateStopsTheComparisonBeforeAnythingRuns() throws {
        let hang = try S.fixture("hang_reward")
        let file = try Self.experiment("stall-create", "[[variant]]\nname = \"hang\"\nalgorithm = \"reft\"\nupdates = 2\nplugin-timeout = 1\nplugins = [\"\(hang):hang=create\"]\n", seeds: "[1]")
        let out = Self.dir + "/stall-create", cache = Self.dir + "/stall-create-cache"
        let r = try S.run(S.workbench, ["compare", file, "--out", out, "--cache", cache], limit: 60)
        #expect(!r.overran && r.output.status == PluginWatchdog.exitCode, "\(r.output.all)")
        #expect(r.output.stderr.contains("did not return from reward.create within 1 s (--plugin-timeout 1) while creating the plugins of variant 'hang'"), "\(r.output.stderr)")
        #expect(!FileManager.default.fileExists(atPath: out) && !FileManager.default.fileExists(atPath: cache))
    }

    /// A run that exits with an error shows the error itself on the console, not only its status.
    @Test func aFailingRunShowsItsErrorLine() throws {
        let plugin = try S.fixture("nan_output")
        let file = try Self.experiment("fail", "[[variant]]\nname = \"nan\"\nalgorithm = \"reft\"\nupdates = 1\nplugins = [\"\(plugin)@org.fixture.reward.nan\"]\n", seeds: "[1]")
        let r = try Self.compare(file, out: Self.dir + "/fail")
        #expect(r.status != 0)
        let line = try #require(r.stdout.split(separator: "\n").first { $0.hasPrefix("✗ nan/seed-1 failed") }, "\(r.all)")
        #expect(line.contains("exited with status 1: Error: ") && line.contains("org.fixture.reward.nan"), "\(line)")
        let error = try #require(try Self.status(Self.dir + "/fail", "nan/seed-1").error)
        #expect(line.hasSuffix(String(error.split(separator: "\n")[0])), "the console shows the status's first line: \(error)")
    }

    @Test func dryRunPrintsEveryChildAndRunsNothing() throws {
        let file = try Self.experiment("dry", "[[variant]]\nname = \"reft\"\nalgorithm = \"reft\"\nupdates = 2\n")
        let out = Self.dir + "/dry"
        let r = try Self.compare(file, out: out, ["--dry-run"])
        #expect(r.status == 0, "\(r.all)")
        #expect(r.stdout.contains(" sft --seed 1 --init-from \(Self.cache)/sft-"), "\(r.stdout)")
        #expect(r.stdout.contains(" rl --seed 2 --algo reft --init \(Self.cache)/sft-"))
        #expect(r.stdout.contains("--out \(out)/reft/seed-2"))
        #expect(r.stdout.contains(" eval --checkpoint \(Self.cache)/sft-") && r.stdout.contains("--dump \(out)/start/eval-final.jsonl"))
        #expect(r.stdout.contains("2 variants × 2 seeds (1, 2) = 4 runs"))
        #expect(!FileManager.default.fileExists(atPath: out))
    }

    @Test func aTypoStopsTheComparisonBeforeAnythingRuns() throws {
        let file = try Self.experiment("typo", "[[variant]]\nname = \"reft\"\nalgorithm = \"reft\"\nupdates = 2\nclip-epss = 0.1\n")
        let out = Self.dir + "/typo", cache = Self.dir + "/typo-cache"
        let r = try S.run(S.workbench, ["compare", file, "--out", out, "--cache", cache])
        #expect(r.status != 0)
        #expect(r.stderr.contains("variant 'reft'") && r.stderr.contains("Unknown option '--clip-epss'") && r.stderr.contains("typo.toml:33"), "\(r.stderr)")
        #expect(!FileManager.default.fileExists(atPath: out) && !FileManager.default.fileExists(atPath: cache))
    }

    @Test func withoutArgumentsTheHelpIsPrinted() throws {
        let r = try S.run(S.workbench, [])
        #expect(r.status == 0)
        #expect(r.stdout.contains("workbench --plugin <lib.so[:key=value,...]>") && r.stdout.contains("SUBCOMMANDS:"), "\(r.stdout)")
        let bare = try S.run(S.workbench, ["--minutes", "1"])
        #expect(bare.status != 0 && bare.stderr.contains("give at least one --plugin"), "\(bare.all)")
    }

    /// Needs `workbench rl --algo carft --plugin`.
    @Test func thePluginDefaultExperimentRunsCARFTWithAndWithoutEachPlugin() throws {
        let plugin = try S.fixture("abort_reward")
        let out = Self.dir + "/plugins"
        let r = try S.run(S.workbench, ["--plugin", plugin, "--out", out, "--cache", Self.cache, "--dry-run"])
        #expect(r.status == 0, "\(r.all)")
        #expect(r.stdout.contains(" sft --seed 0 --threads ") && r.stdout.contains("--steps \(ExperimentPlan.defaultWarmupSteps) --out \(Self.cache)/sft-"), "\(r.stdout)")
        #expect(r.stdout.contains(" rl --seed 2 --algo carft --init \(Self.cache)/sft-"))
        #expect(r.stdout.contains("--updates \(DefaultExperiment.defaultUpdates) --out \(out)/carft/seed-0 --overwrite\n"))
        #expect(r.stdout.contains("--plugin \(plugin) --out \(out)/carft+abort_reward/seed-2"))
        #expect(r.stdout.contains("2 variants × 3 seeds (0, 1, 2) = 6 runs"))
        // A config typo in a plugin is refused before anything runs.
        let typo = try S.run(S.workbench, ["--plugin", "builtin:infonce-positive:magrin=0.3", "--out", out, "--cache", Self.cache])
        #expect(typo.status != 0 && typo.stderr.contains("magrin") && !FileManager.default.fileExists(atPath: out), "\(typo.all)")
    }
}
