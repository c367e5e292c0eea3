#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

public struct HFExportError: SettingError {
    public let path: String
    public let problem: SettingMessage
    public var message: SettingMessage { "export to \(path): \(problem)" }
}

/// A model as a folder Hugging Face transformers loads with `AutoModelForCausalLM` (and, with
/// tokenizer files, `AutoTokenizer`): model.safetensors and config.json as a checkpoint has
/// them, plus generation_config.json so `generate` stops at the engine's EOS.
///
/// The folder is assembled under a temporary name beside `out` and renamed into place only when
/// every file is written, so an interrupted export never leaves a folder that looks complete.
public enum HFExport {
    public static let generationConfigFileName = "generation_config.json"

    /// Writes the export into `out`, which must not exist yet or be an empty folder: files of
    /// an older export left beside new ones (an old tokenizer.json, say) would be loaded as if
    /// they belonged to this model.
    public static func write(model: Transformer, tokens: SpecialTokenIds, files: [String: Data] = [:],
                             metadata: [String: String] = [:], to out: String) throws {
        let target = URL(fileURLWithPath: out).standardizedFileURL
        try checkTarget(target.path)
        let parent = target.deletingLastPathComponent().path
        do {
            try FileManager.default.createDirectory(atPath: parent, withIntermediateDirectories: true)
        } catch {
            throw HFExportError(path: out, problem: "cannot create its parent folder \(parent) (\(error.localizedDescription)); check the path and permissions")
        }
        let staging = parent + "/." + target.lastPathComponent + ".partial-\(getpid())"
        try? FileManager.default.removeItem(atPath: staging)
        do {
            try Checkpoint.save(model.params, config: model.config, tokens: tokens, to: staging, metadata: metadata)
            var all = files
            all[generationConfigFileName] = try HFConfig.generationJSON(tokens: tokens)
            for (name, data) in all.sorted(by: { $0.key < $1.key }) {
                precondition(!name.contains("/") && name != Checkpoint.weightsFileName && name != Checkpoint.configFileName,
                             "HFExport: extra file name \(name) would clash or leave the folder")
                try data.write(to: URL(fileURLWithPath: staging + "/" + name))
            }
            // rename(2) replaces an empty folder, which checkTarget allowed.
            guard rename(staging, target.path) == 0 else {
                throw HFExportError(path: out, problem: "cannot move the finished export from \(staging) into place (\(String(cString: strerror(errno)))); check that nothing else is writing there")
            }
        } catch {
            try? FileManager.default.removeItem(atPath: staging)
            throw error
        }
    }

    /// Refuses a target that exists as a file or as a folder with anything in it; `write`
    /// checks again, but a caller can fail fast before loading a model.
    public static func checkTarget(_ path: String) throws {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir) else { return }
        guard isDir.boolValue else {
            throw HFExportError(path: path, problem: "is a file, not a folder; choose another \(setting: .outputFolder)")
        }
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []
        if !entries.isEmpty {
            let shown = entries.sorted().prefix(3).joined(separator: ", ") + (entries.count > 3 ? ", …" : "")
            throw HFExportError(path: path, problem: "already holds \(entries.count) item\(entries.count == 1 ? "" : "s") (\(shown)); choose another \(setting: .outputFolder), or delete this one first if it is an old export")
        }
    }
}
