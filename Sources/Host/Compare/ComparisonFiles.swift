import Foundation

/// The files a comparison's output folder holds besides the runs themselves, read by the report
/// and by the next call (to resume):
///
///     <out>/experiment.json        what was asked: the variants and their arguments
///     <out>/<variant>/status.json  how each one went
///     <out>/<variant>/log.txt      the child's stdout and stderr
///
/// (metrics.jsonl, run.json and checkpoints/ in each variant folder are the child's own.)
///
/// The runner writes these files and the report reads them back, both through the types here.
/// Decoding is tolerant of what a hand-made or older folder may lack (a missing list is empty, a
/// missing name or algorithm is ""), and a state word this version does not know is kept as it
/// is, so the report can still show it; a value of the wrong type is still an error.
enum ComparisonFiles {
    struct Manifest: Codable, Equatable {
        var name: String
        var variants: [Entry]

        struct Entry: Codable, Equatable {
            var name: String
            var algorithm: String
            var plugins: [String]
            /// The child's flags after its subcommand, without --out.
            var arguments: [String]

            init(name: String, algorithm: String, plugins: [String], arguments: [String]) {
                self.name = name
                self.algorithm = algorithm
                self.plugins = plugins
                self.arguments = arguments
            }

            init(from decoder: Decoder) throws {
                let c = try decoder.container(keyedBy: CodingKeys.self)
                name = try c.decode(String.self, forKey: .name)
                algorithm = try c.decodeIfPresent(String.self, forKey: .algorithm) ?? ""
                plugins = try c.decodeIfPresent([String].self, forKey: .plugins) ?? []
                arguments = try c.decodeIfPresent([String].self, forKey: .arguments) ?? []
            }
        }

        /// Where every variant started: the checkpoint, and the `workbench sft` flags that trained
        /// it (nil when the file named an existing checkpoint).
        var warmup: Warmup?

        struct Warmup: Codable, Equatable {
            var checkpoint: String
            var arguments: [String]?
        }

        init(name: String, variants: [Entry], warmup: Warmup?) {
            self.name = name
            self.variants = variants
            self.warmup = warmup
        }

        init(from decoder: Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            name = try c.decodeIfPresent(String.self, forKey: .name) ?? ""
            variants = try c.decodeIfPresent([Entry].self, forKey: .variants) ?? []
            warmup = try c.decodeIfPresent(Warmup.self, forKey: .warmup)
        }
    }

    struct Status: Codable, Equatable {
        /// The runner writes the four words below; another word read back is kept as it is.
        struct State: RawRepresentable, Codable, Equatable, Sendable {
            var rawValue: String
            init(rawValue: String) { self.rawValue = rawValue }
            static let pending = State(rawValue: "pending"), running = State(rawValue: "running")
            static let finished = State(rawValue: "finished"), failed = State(rawValue: "failed")
        }

        var name: String
        var algorithm: String
        var state: State
        var exitCode: Int?
        var signal: Int?
        /// Why it failed: our message and the last lines of the child's stderr.
        var error: String?
        var wallSeconds: Double?

        enum CodingKeys: String, CodingKey {
            case name, algorithm, state, exitCode = "exit_code", signal, error, wallSeconds = "wall_seconds"
        }

        init(name: String, algorithm: String, state: State) {
            self.name = name
            self.algorithm = algorithm
            self.state = state
        }

        /// A status without a state reads as pending: the runner had not got to it.
        init(from decoder: Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            name = try c.decodeIfPresent(String.self, forKey: .name) ?? ""
            algorithm = try c.decodeIfPresent(String.self, forKey: .algorithm) ?? ""
            state = try c.decodeIfPresent(State.self, forKey: .state) ?? .pending
            exitCode = try c.decodeIfPresent(Int.self, forKey: .exitCode)
            signal = try c.decodeIfPresent(Int.self, forKey: .signal)
            error = try c.decodeIfPresent(String.self, forKey: .error)
            wallSeconds = try c.decodeIfPresent(Double.self, forKey: .wallSeconds)
        }

        // Written out in full (nulls included): readers should not have to guess whether a
        // missing key means "none" or "an older writer".
        func encode(to encoder: Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(name, forKey: .name)
            try c.encode(algorithm, forKey: .algorithm)
            try c.encode(state, forKey: .state)
            try c.encode(exitCode, forKey: .exitCode)
            try c.encode(signal, forKey: .signal)
            try c.encode(error, forKey: .error)
            try c.encode(wallSeconds, forKey: .wallSeconds)
        }
    }

    static func manifestPath(_ out: String) -> String { out + "/experiment.json" }
    static func statusPath(_ out: String, _ variant: String) -> String { out + "/" + variant + "/status.json" }

    static func readManifest(_ out: String) -> Manifest? {
        FileManager.default.contents(atPath: manifestPath(out)).flatMap { try? JSONDecoder().decode(Manifest.self, from: $0) }
    }

    static func readStatus(_ out: String, _ variant: String) -> Status? {
        FileManager.default.contents(atPath: statusPath(out, variant)).flatMap { try? JSONDecoder().decode(Status.self, from: $0) }
    }

    static func write(_ manifest: Manifest, to out: String) throws {
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        try encode(manifest, to: manifestPath(out))
    }

    static func write(_ status: Status, to out: String) throws {
        try FileManager.default.createDirectory(atPath: out + "/" + status.name, withIntermediateDirectories: true)
        try encode(status, to: statusPath(out, status.name))
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
