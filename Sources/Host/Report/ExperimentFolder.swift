import Foundation

/// A comparison's folder read back: its name and, in experiment order, each variant's status and
/// metrics. The variant order and algorithms come from experiment.json when there is one (so a
/// variant that never ran still gets a row); otherwise from the subfolders holding a status.json
/// or metrics.jsonl, by name.
struct ExperimentFolder {
    struct Variant {
        var name: String
        var algorithm: String
        var state: RunState
        var wallSeconds: Double?
        var metrics: RunMetrics
    }

    var name: String
    var directory: String
    var variants: [Variant]

    static func load(_ directory: String) throws -> ExperimentFolder {
        let fm = FileManager.default
        var isDir: ObjCBool = false
        guard fm.fileExists(atPath: directory, isDirectory: &isDir), isDir.boolValue else {
            throw CLIError("no experiment folder at \(directory): pass the folder a comparison wrote (one subfolder per variant)")
        }
        var description: ComparisonFiles.Manifest?
        let descriptionPath = ComparisonFiles.manifestPath(directory)
        if let data = fm.contents(atPath: descriptionPath) {
            do {
                description = try JSONDecoder().decode(ComparisonFiles.Manifest.self, from: data)
            } catch {
                throw CLIError("\(descriptionPath) is not a valid experiment description (\(Self.reason(error))); fix it, or delete it to report on the variant subfolders by name")
            }
        }

        // Listed variants first, in the listed order, then any other run folder (one added by hand).
        let listed = description?.variants ?? []
        func known(_ s: String?) -> String? { s?.isEmpty == false ? s : nil }
        var names = listed.map(\.name)
        let folders = ((try? fm.contentsOfDirectory(atPath: directory)) ?? []).sorted().filter { entry in
            fm.fileExists(atPath: ComparisonFiles.statusPath(directory, entry)) || fm.fileExists(atPath: "\(directory)/\(entry)/metrics.jsonl")
        }
        names += folders.filter { !names.contains($0) }
        guard !names.isEmpty else {
            throw CLIError("\(directory) holds no variant folders (subfolders with status.json or metrics.jsonl) and no experiment.json listing variants; is it the comparison's folder?")
        }

        let variants = names.map { name in
            let dir = directory + "/" + name
            var status: ComparisonFiles.Status?
            var state: RunState
            if let data = fm.contents(atPath: ComparisonFiles.statusPath(directory, name)) {
                // The runner may be rewriting it right now; a report must still come out.
                status = try? JSONDecoder().decode(ComparisonFiles.Status.self, from: data)
                state = status.map { RunState(file: $0) } ?? .other("status.json unreadable")
            } else {
                state = .notRun
            }
            let metrics = RunMetrics.load(path: dir + "/metrics.jsonl")
            if case .notRun = state, !metrics.training.isEmpty || !metrics.evaluations.isEmpty {
                state = .other("no status")
            }
            let algorithm = known(listed.first { $0.name == name }?.algorithm) ?? known(status?.algorithm) ?? runAlgorithm(dir)
                ?? (metrics.hasSFTSteps ? "sft" : "?")
            return Variant(name: name, algorithm: algorithm, state: state, wallSeconds: status?.wallSeconds, metrics: metrics)
        }
        let folderName = URL(fileURLWithPath: directory).standardizedFileURL.lastPathComponent
        return ExperimentFolder(name: known(description?.name) ?? folderName, directory: directory, variants: variants)
    }

    /// The algorithm a run's own run.json records ("sft", or rl.algorithm), for folders the
    /// runner did not describe: a plain `workbench rl` output folder copied into an experiment.
    private static func runAlgorithm(_ dir: String) -> String? {
        guard let data = FileManager.default.contents(atPath: dir + "/run.json"),
              let json = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else { return nil }
        if json["command"] as? String == "sft" { return "sft" }
        return (json["rl"] as? [String: Any])?["algorithm"] as? String
    }

    /// A decoding error as a reader can act on it: what is wrong and where.
    private static func reason(_ error: Error) -> String {
        func path(_ keys: [CodingKey]) -> String {
            keys.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined()
        }
        switch error as? DecodingError {
        case .typeMismatch(_, let c)?, .valueNotFound(_, let c)?:
            return "\(path(c.codingPath).isEmpty ? "the top level" : path(c.codingPath)): \(c.debugDescription)"
        case .keyNotFound(let key, let c)?:
            return "\(path(c.codingPath + [key])) is missing"
        case .dataCorrupted(let c)?:
            return "not JSON: \(c.debugDescription)"
        default:
            return "\(error)"
        }
    }
}
