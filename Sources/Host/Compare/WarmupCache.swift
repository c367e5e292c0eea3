import Engine
import Foundation

/// The SFT warm-up, trained once per configuration and reused by every later comparison that
/// asks for the same one: it is the slowest shared step and every variant must start from the
/// very same weights.
///
/// The cache key covers what decides the weights: the `workbench sft` arguments (data flags,
/// seed and threads included, since threads change the float summation order) and the values
/// this binary fills in for everything left unset (model shape, task, SFT hyperparameters), so
/// a binary with other defaults does not reuse a warm-up trained under the old ones. Data files
/// enter by path, size and modification time.
enum WarmupCache {
    /// Bump when the meaning of a cached folder changes.
    static let version = 2

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

        /// A finished warm-up: the marker written after a zero exit, and its checkpoint.
        var isCached: Bool {
            FileManager.default.fileExists(atPath: marker) && FileManager.default.fileExists(atPath: checkpoint + "/model.safetensors")
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

    /// Everything the weights depend on, resolved by the parsed command, as canonical JSON.
    private struct Resolved: Encodable {
        var version: Int
        var arguments: [String]
        var model: ModelConfig?
        var task: ArithmeticTaskConfig
        var dataFiles: [String]
        var steps: Int?, minutes: Double?, batch: Int, lr: Float, finalLR: Float, schedule: String, warmup: Int
        var weightDecay: Float, gradClip: Float, evalEvery: Int, evalExamples: Int, maxNewTokens: Int, cot: String
        var seed: UInt64, threads: Int, initFrom: String?
    }

    static func key(arguments: [String], resolved c: SFTCommand) throws -> String {
        let model = c.initFrom == nil ? try c.modelOptions.config(vocabSize: ByteTokenizer().vocabSize) : nil
        let files = [c.data.data, c.data.evalData].compactMap { $0 }.filter { $0 != "builtin" }.map(fileStamp)
        let r = Resolved(version: version, arguments: arguments, model: model, task: c.data.taskConfig, dataFiles: files,
                         steps: c.steps ?? (c.minutes == nil ? SFTCommand.defaultSteps : nil), minutes: c.minutes, batch: c.batch, lr: c.lr,
                         finalLR: c.finalLR, schedule: c.schedule, warmup: c.warmup, weightDecay: c.weightDecay,
                         gradClip: c.gradClip, evalEvery: c.evalEvery, evalExamples: c.evalExamples,
                         maxNewTokens: c.maxNewTokens, cot: c.cot, seed: c.runOptions.seed, threads: c.runOptions.threads,
                         initFrom: c.initFrom.map(fileStamp))
        let enc = JSONEncoder()
        enc.outputFormatting = [.sortedKeys]
        return fnv1a64(try enc.encode(r))
    }

    /// A data spec ("gsm8k:train.jsonl" or a path) with its file's size and modification time.
    private static func fileStamp(_ spec: String) -> String {
        let path = ["gsm8k:", "reft:", "svamp:"].first(where: spec.hasPrefix).map { String(spec.dropFirst($0.count)) } ?? spec
        let attributes = try? FileManager.default.attributesOfItem(atPath: path)
        let size = (attributes?[.size] as? NSNumber)?.int64Value ?? -1
        let modified = (attributes?[.modificationDate] as? Date)?.timeIntervalSince1970 ?? 0
        return "\(spec) \(size) \(modified)"
    }

    /// FNV-1a, 64 bits, as 16 hex digits: stable across processes and platforms (Swift's Hasher
    /// is seeded per process), and ample for a handful of cached warm-ups.
    static func fnv1a64(_ data: Data) -> String {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in data {
            h ^= UInt64(byte)
            h = h &* 0x0000_0100_0000_01b3
        }
        let hex = String(h, radix: 16)
        return String(repeating: "0", count: 16 - hex.count) + hex
    }
}
