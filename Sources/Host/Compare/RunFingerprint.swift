import Engine
import Foundation

/// What decides a child run's numbers: its command line, every value this binary fills in for
/// what the line leaves unset (the SFT or RL settings, the model shape, the task), the plugins
/// as created, and the files it reads, by path, size and modification time. Two runs with the
/// same command line under a binary with other defaults, or with a rebuilt plugin or a changed
/// data file, differ here: the warm-up cache is keyed by it, and a comparison keeps a finished
/// run only while it is unchanged. (A change to the engine's code that keeps every setting is
/// not seen: after one, run the comparison with --fresh.)
struct RunFingerprint: Encodable {
    struct DataFingerprint: Encodable {
        var task: ArithmeticTaskConfig
        var trainSize: Int, testSize: Int, holdout: Int
        var taskSeed: UInt64?
        var files: [String]

        init(_ d: DataOptions) {
            task = d.taskConfig
            trainSize = d.trainSize
            testSize = d.testSize
            holdout = d.holdout
            taskSeed = d.taskSeed
            files = [d.data, d.evalData].compactMap { $0 }.filter { $0 != "builtin" }.map(RunFingerprint.fileStamp)
        }
    }

    var arguments: [String]
    var sft: SFTConfig?
    var rl: RLConfig?
    var model: ModelConfig?
    var data: DataFingerprint
    /// Plugins as created (id, version, library, config).
    var plugins: [String] = []
    /// What the run starts from: a checkpoint's file stamp, or the key of the warm-up that will
    /// make it (the checkpoint may not exist yet when a comparison is planned).
    var start: String?
    /// Plugin libraries a run opens, stamped.
    var files: [String] = []
    var threads: Int

    /// `start`: how to identify the starting checkpoint; by default its file stamp.
    static func sft(_ c: SFTCommand, arguments: [String], start: String? = nil) throws -> RunFingerprint {
        RunFingerprint(arguments: arguments, sft: c.sftConfig(),
                       model: c.initFrom == nil ? try c.modelOptions.config(vocabSize: ByteTokenizer().vocabSize) : nil,
                       data: DataFingerprint(c.data), start: start ?? c.initFrom.map(fileStamp), threads: c.runOptions.threads)
    }

    static func rl(_ c: RLCommand, arguments: [String], plugins: [String], start: String? = nil) -> RunFingerprint {
        let libraries = c.plugins.compactMap(\.path) + (c.rewardFn.map { [$0.path] } ?? [])
        return RunFingerprint(arguments: arguments, rl: c.rlConfig(), data: DataFingerprint(c.data), plugins: plugins,
                              start: start ?? fileStamp(c.initFrom), files: libraries.map(fileStamp), threads: c.runOptions.threads)
    }

    /// 16 hex digits of the canonical JSON (sorted keys).
    func digest() throws -> String {
        let enc = JSONEncoder()
        enc.outputFormatting = [.sortedKeys]
        return Self.fnv1a64(try enc.encode(self))
    }

    /// A file or data spec ("gsm8k:train.jsonl", a folder's config.json for a checkpoint) with its
    /// size and modification time.
    static func fileStamp(_ spec: String) -> String {
        var path = ["gsm8k:", "reft:", "svamp:"].first(where: spec.hasPrefix).map { String(spec.dropFirst($0.count)) } ?? spec
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue { path += "/model.safetensors" }
        let attributes = try? FileManager.default.attributesOfItem(atPath: path)
        let size = (attributes?[.size] as? NSNumber)?.int64Value ?? -1
        let modified = (attributes?[.modificationDate] as? Date)?.timeIntervalSince1970 ?? 0
        return "\(spec) \(size) \(modified)"
    }

    /// FNV-1a, 64 bits, as 16 hex digits: stable across processes and platforms (Swift's Hasher
    /// is seeded per process), and ample for telling a handful of configurations apart.
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
