import Engine
import Foundation

/// A run's output folder: created with its settings in run.json and a fresh metrics.jsonl.
/// Called only after the inputs were validated, so a refused run leaves no folder behind.
enum RunFolder {
    static func create(_ dir: String, settings: some Encodable) throws -> MetricsWriter {
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let enc = JSONEncoder()
        enc.outputFormatting = [.prettyPrinted, .sortedKeys]
        try enc.encode(settings).write(to: URL(fileURLWithPath: dir + "/run.json"))
        return try MetricsWriter(path: dir + "/metrics.jsonl", append: false)
    }
}
