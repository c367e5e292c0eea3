import Foundation

/// The files a comparison's output folder holds besides the runs themselves, read by the report
/// and by the next call (to resume):
///
///     <out>/experiment.json                  what was asked: seeds, baseline, variants, arguments
///     <out>/start/status.json, eval-final.jsonl, log.txt
///                                            the starting checkpoint scored on the evaluation set
///     <out>/<variant>/seed-<k>/status.json   how each run went
///     <out>/<variant>/seed-<k>/log.txt       the child's stdout and stderr
///
/// (metrics.jsonl, run.json, eval-final.jsonl and checkpoints/ in each run folder are the
/// child's own.)
///
/// The runner writes these files and the report reads them back, both through the types here.
/// Decoding is tolerant of what a hand-made or older folder may lack (a missing list is empty, a
/// missing name or algorithm is ""), and a state word this version does not know is kept as it
/// is, so the report can still show it; a value of the wrong type is still an error.
enum ComparisonFiles {
    struct Manifest: Codable, Equatable {
        var name: String
        var seeds: [UInt64]
        /// The variant the others are judged against.
        var baseline: String
        var variants: [Entry]

        struct Entry: Codable, Equatable {
            var name: String
            var algorithm: String
            var plugins: [String]
            /// The child's flags after its subcommand, without --seed and --out.
            var arguments: [String]
            /// What else decides its numbers (RunFingerprint's digest); nil from an older writer.
            var fingerprint: String?

            init(name: String, algorithm: String, plugins: [String], arguments: [String], fingerprint: String?) {
                self.name = name
                self.algorithm = algorithm
                self.plugins = plugins
                self.arguments = arguments
                self.fingerprint = fingerprint
            }

            init(from decoder: Decoder) throws {
                let c = try decoder.container(keyedBy: CodingKeys.self)
                name = try c.decode(String.self, forKey: .name)
                algorithm = try c.decodeIfPresent(String.self, forKey: .algorithm) ?? ""
                plugins = try c.decodeIfPresent([String].self, forKey: .plugins) ?? []
                arguments = try c.decodeIfPresent([String].self, forKey: .arguments) ?? []
                fingerprint = try c.decodeIfPresent(String.self, forKey: .fingerprint)
            }
        }

        /// Where every variant started: the checkpoint, and the `workbench sft` flags that trained
        /// it (nil when the file named an existing checkpoint).
        var warmup: Warmup?

        struct Warmup: Codable, Equatable {
            var checkpoint: String
            var arguments: [String]?
        }

        /// The `eval` flags that scored the start (after the subcommand, without --dump).
        var start: [String]?

        init(name: String, seeds: [UInt64], baseline: String, variants: [Entry], warmup: Warmup?, start: [String]?) {
            self.name = name
            self.seeds = seeds
            self.baseline = baseline
            self.variants = variants
            self.warmup = warmup
            self.start = start
        }

        init(from decoder: Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            name = try c.decodeIfPresent(String.self, forKey: .name) ?? ""
            seeds = try c.decodeIfPresent([UInt64].self, forKey: .seeds) ?? []
            variants = try c.decodeIfPresent([Entry].self, forKey: .variants) ?? []
            baseline = try c.decodeIfPresent(String.self, forKey: .baseline) ?? variants.first?.name ?? ""
            warmup = try c.decodeIfPresent(Warmup.self, forKey: .warmup)
            start = try c.decodeIfPresent([String].self, forKey: .start)
        }
    }

    /// One run's state: a (variant, seed), or the start's evaluation (variant "start", no seed).
    struct Status: Codable, Equatable {
        /// The runner writes the four words below; another word read back is kept as it is.
        struct State: RawRepresentable, Codable, Equatable, Sendable {
            var rawValue: String
            init(rawValue: String) { self.rawValue = rawValue }
            static let pending = State(rawValue: "pending"), running = State(rawValue: "running")
            static let finished = State(rawValue: "finished"), failed = State(rawValue: "failed")
        }

        var name: String
        var seed: UInt64?
        var algorithm: String
        var state: State
        var exitCode: Int?
        var signal: Int?
        /// Why it failed: our message and the last lines of the child's stderr.
        var error: String?
        /// For a failed run, which kind of failure (Failure's words); nil otherwise, and from an
        /// older writer.
        var failure: String?
        var wallSeconds: Double?

        /// The kinds of failure the runner writes into `failure`.
        enum Failure {
            /// A plugin call overran --plugin-timeout; the child's watchdog stopped it.
            static let timeout = "timeout"
            /// A signal ended the child (a crash, or a kill from outside the comparison).
            static let crash = "crash"
            /// The child exited with a non-zero status (an error it reported).
            static let error = "error"
            /// Training broke down: a loss or gradient stopped being a number (a collapse).
            static let diverged = "diverged"
            /// The comparison was interrupted and stopped it.
            static let interrupted = "interrupted"
            /// It could not be started.
            static let notStarted = "not started"
        }

        enum CodingKeys: String, CodingKey {
            case name, seed, algorithm, state, exitCode = "exit_code", signal, error, failure, wallSeconds = "wall_seconds"
        }

        init(name: String, seed: UInt64?, algorithm: String, state: State) {
            self.name = name
            self.seed = seed
            self.algorithm = algorithm
            self.state = state
        }

        /// A status without a state reads as pending: the runner had not got to it.
        init(from decoder: Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            name = try c.decodeIfPresent(String.self, forKey: .name) ?? ""
            seed = try c.decodeIfPresent(UInt64.self, forKey: .seed)
            algorithm = try c.decodeIfPresent(String.self, forKey: .algorithm) ?? ""
            state = try c.decodeIfPresent(State.self, forKey: .state) ?? .pending
            exitCode = try c.decodeIfPresent(Int.self, forKey: .exitCode)
            signal = try c.decodeIfPresent(Int.self, forKey: .signal)
            error = try c.decodeIfPresent(String.self, forKey: .error)
            failure = try c.decodeIfPresent(String.self, forKey: .failure)
            wallSeconds = try c.decodeIfPresent(Double.self, forKey: .wallSeconds)
        }

        // Written out in full (nulls included): readers should not have to guess whether a
        // missing key means "none" or "an older writer".
        func encode(to encoder: Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(name, forKey: .name)
            try c.encode(seed, forKey: .seed)
            try c.encode(algorithm, forKey: .algorithm)
            try c.encode(state, forKey: .state)
            try c.encode(exitCode, forKey: .exitCode)
            try c.encode(signal, forKey: .signal)
            try c.encode(error, forKey: .error)
            try c.encode(failure, forKey: .failure)
            try c.encode(wallSeconds, forKey: .wallSeconds)
        }
    }

    static func manifestPath(_ out: String) -> String { out + "/experiment.json" }
    /// `folder`: a run's folder inside `out` ("carft/seed-0", "start").
    static func statusPath(_ out: String, _ folder: String) -> String { out + "/" + folder + "/status.json" }

    static func readManifest(_ out: String) -> Manifest? {
        FileManager.default.contents(atPath: manifestPath(out)).flatMap { try? JSONDecoder().decode(Manifest.self, from: $0) }
    }

    static func readStatus(_ out: String, _ folder: String) -> Status? {
        FileManager.default.contents(atPath: statusPath(out, folder)).flatMap { try? JSONDecoder().decode(Status.self, from: $0) }
    }

    static func write(_ manifest: Manifest, to out: String) throws {
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        try encode(manifest, to: manifestPath(out))
    }

    static func write(_ status: Status, to out: String, folder: String) throws {
        try FileManager.default.createDirectory(atPath: out + "/" + folder, withIntermediateDirectories: true)
        try encode(status, to: statusPath(out, folder))
    }

    /// Written to a temporary file and renamed, so a reader (or a crash) never sees half a file.
    private static func encode(_ value: some Encodable, to path: String) throws {
        let enc = JSONEncoder()
        enc.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        let tmp = path + ".tmp"
        try enc.encode(value).write(to: URL(fileURLWithPath: tmp))
        guard rename(tmp, path) == 0 else { throw CLIError("cannot write \(path): \(String(cString: strerror(errno)))") }
    }
}
