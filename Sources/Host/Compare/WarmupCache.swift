import Engine
import Foundation

/// The SFT warm-up, trained once per configuration and reused by every later comparison that
/// asks for the same one: it is the slowest shared step and every variant must start from the
/// very same weights.
///
/// The cache key covers what decides the weights (RunFingerprint): the `workbench sft` arguments
/// (data flags, seed and threads included, since threads change the float summation order) and
/// the values this binary fills in for everything left unset (model shape, task, SFT
/// hyperparameters), so a binary with other defaults does not reuse a warm-up trained under the
/// old ones. Data files enter by path, size and modification time.
enum WarmupCache {
    /// Bump when the meaning of a cached folder changes.
    static let version = 3

    struct Run {
        /// Starting with "sft", without --out.
        var arguments: [String]
        var key: String
        /// `<cache>/sft-<key>`: the child's --out.
        var folder: String
        var checkpoint: String { folder + "/final" }
        var marker: String { folder + "/" + WarmupCache.markerName }

        init(arguments: [String], cache: String, settings: [Setting]) throws {
            let command = try ArgumentCheck.parse(SFTCommand.self, Array(arguments.dropFirst()), what: "[warmup]", settings: settings)
            self.arguments = arguments
            key = try WarmupCache.key(arguments: arguments, resolved: command)
            folder = cache + "/sft-" + key
        }

        /// A finished warm-up: the marker written after a zero exit, and its checkpoint: the full
        /// weights, or, for a LoRA warm-up (`lora-rank`), the adapters alone.
        var isCached: Bool {
            let fm = FileManager.default
            return fm.fileExists(atPath: marker)
                && (fm.fileExists(atPath: checkpoint + "/" + Checkpoint.weightsFileName)
                    || fm.fileExists(atPath: checkpoint + "/" + LoRACheckpoint.weightsFileName))
        }

        func markFinished(wallSeconds: Double) throws {
            struct Marker: Encodable { var arguments: [String]; var key: String; var wall_seconds: Double; var finished: String }
            let enc = JSONEncoder()
            enc.outputFormatting = [.prettyPrinted, .sortedKeys]
            try enc.encode(Marker(arguments: arguments, key: key, wall_seconds: wallSeconds,
                                  finished: ISO8601DateFormatter().string(from: Date()))).write(to: URL(fileURLWithPath: marker))
        }
    }

    static let markerName = "warmup.json"

    /// The run's fingerprint (RunFingerprint: its arguments, every default this binary fills in,
    /// the files it reads) under this cache's version.
    static func key(arguments: [String], resolved c: SFTCommand) throws -> String {
        struct Versioned: Encodable { var version: Int; var run: RunFingerprint }
        let enc = JSONEncoder()
        enc.outputFormatting = [.sortedKeys]
        return RunFingerprint.fnv1a64(try enc.encode(Versioned(version: version, run: try .sft(c, arguments: arguments))))
    }
}
