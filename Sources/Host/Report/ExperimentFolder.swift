import Engine
import Foundation

/// A comparison's folder read back: its name, seeds and baseline, the start's answers, and in
/// experiment order each variant's runs (one per seed) with their status, metrics, budget and
/// answers. With an experiment.json, exactly its variants and seeds (a variant or seed that never
/// ran still gets its row; folders of variants or seeds since removed are named in `ignored`,
/// not read, since they may come from other settings). Without one, every subfolder holding runs,
/// by name. A variant folder that holds a run itself (metrics.jsonl, as `workbench rl --out`
/// writes it) is read as one run, so a run copied in by hand is reported too: without a
/// status.json, it counts as finished once it has its final answers.
struct ExperimentFolder {
    struct Run {
        /// nil for a hand-made run whose run.json gives none.
        var seed: UInt64?
        /// Inside the experiment folder: "carft/seed-0" (or "carft" for a run copied in).
        var folder: String
        var state: RunState
        var wallSeconds: Double?
        var metrics: RunMetrics
        var budget: Budget?
        /// The final checkpoint's answers (eval-final.jsonl); nil when there are none yet.
        var answers: [EvalRecord]?
        /// Why `answers` is nil although the file exists.
        var answersProblem: String?
        /// For a failed run: whether training broke down (a loss or gradient stopped being a
        /// number), from status.json's failure kind or the run's run.json; nil when neither
        /// says (a folder from before they did).
        var diverged: Bool? = nil
    }

    struct Variant {
        var name: String
        var algorithm: String
        var runs: [Run]
    }

    /// What a run was asked to do, from its run.json.
    enum Budget: Equatable {
        case updates(Int), steps(Int), minutes(Double)

        var label: String {
            switch self {
            case .updates(let n): return "\(n) updates"
            case .steps(let n): return "\(n) steps"
            case .minutes(let m): return String(format: "%g min", m)
            }
        }
    }

    var name: String
    var directory: String
    var seeds: [UInt64]
    var baseline: String?
    /// The starting checkpoint's answers on the evaluation set (`start/eval-final.jsonl`).
    var startAnswers: [EvalRecord]?
    var startState: RunState
    var variants: [Variant]
    /// Run folders present but not in experiment.json ("old/seed-3"), left out.
    var ignored: [String] = []

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

        let listed = description?.variants ?? []
        func known(_ s: String?) -> String? { s?.isEmpty == false ? s : nil }
        let entries = ((try? fm.contentsOfDirectory(atPath: directory)) ?? []).sorted()
        let folders = entries.filter { $0 != ExperimentPlan.startFolder && !runFolders(directory + "/" + $0).isEmpty }
        let names = description == nil ? folders : listed.map(\.name)
        guard !names.isEmpty else {
            throw CLIError("\(directory) holds no variant folders (subfolders with seed-<k>/ runs, status.json or metrics.jsonl) and no experiment.json listing variants; is it the comparison's folder?")
        }
        let seeds = description?.seeds ?? []
        var ignored = folders.filter { !names.contains($0) }

        // A comparison submitted to Slurm: where each task stands in the queue.
        let slurm = SlurmQueue.states(of: directory)
        func readRun(_ directory: String, _ folder: String, seed: UInt64?) -> Run {
            Self.readRun(directory, folder, seed: seed, slurm: slurm?[folder])
        }
        let variants = names.map { name -> Variant in
            let dir = directory + "/" + name
            var runs: [Run]
            let inFolder = runFolders(dir)
            if inFolder == ["."] {
                runs = [readRun(directory, name, seed: nil)]
            } else {
                // Every listed seed gets a run (not run yet, if need be); without a description,
                // every seed folder there is.
                let found = description == nil ? inFolder.compactMap { UInt64($0.dropFirst(5)) } : seeds
                ignored += inFolder.filter { f in !found.contains { "seed-\($0)" == f } }.map { name + "/" + $0 }
                runs = found.map { readRun(directory, ExperimentPlan.Run.folder(variant: name, seed: $0), seed: $0) }
            }
            let algorithm = known(listed.first { $0.name == name }?.algorithm)
                ?? runs.lazy.compactMap { known(ComparisonFiles.readStatus(directory, $0.folder)?.algorithm) ?? runAlgorithm(directory + "/" + $0.folder) }.first
                ?? (runs.contains { $0.metrics.hasSFTSteps } ? "sft" : "?")
            return Variant(name: name, algorithm: algorithm, runs: runs)
        }
        let start = readRun(directory, ExperimentPlan.startFolder, seed: nil)
        let folderName = URL(fileURLWithPath: directory).standardizedFileURL.lastPathComponent
        return ExperimentFolder(name: known(description?.name) ?? folderName, directory: directory, seeds: seeds,
                                baseline: known(description?.baseline), startAnswers: start.answers, startState: start.state,
                                variants: variants, ignored: ignored)
    }

    /// The run folders of a variant folder: `seed-<k>` subfolders, or the folder itself when it
    /// holds a run (status.json or metrics.jsonl).
    private static func runFolders(_ dir: String) -> [String] {
        let fm = FileManager.default
        let seedFolders = ((try? fm.contentsOfDirectory(atPath: dir)) ?? []).filter { $0.hasPrefix("seed-") && UInt64($0.dropFirst(5)) != nil }
            .sorted { UInt64($0.dropFirst(5))! < UInt64($1.dropFirst(5))! }
        if !seedFolders.isEmpty { return seedFolders }
        return fm.fileExists(atPath: dir + "/status.json") || fm.fileExists(atPath: dir + "/metrics.jsonl") ? ["."] : []
    }

    /// `slurm`: the run's Slurm task state (squeue's PENDING or RUNNING, or how it ended), when
    /// the comparison was submitted to Slurm.
    private static func readRun(_ directory: String, _ folder: String, seed: UInt64?, slurm: String?) -> Run {
        let fm = FileManager.default
        let dir = directory + "/" + folder
        var status: ComparisonFiles.Status?
        var state: RunState
        if let data = fm.contents(atPath: ComparisonFiles.statusPath(directory, folder)) {
            // The runner may be rewriting it right now; a report must still come out.
            status = try? JSONDecoder().decode(ComparisonFiles.Status.self, from: data)
            state = status.map { RunState(file: $0) } ?? .other("status.json unreadable")
            // "running" is only true while the comparison or the run itself holds its lock.
            if state == .running && !FileLock.isHeld(directory + "/" + ExperimentRun.lockName) && RunFolder.holder(dir) == nil {
                state = .killed
            }
        } else {
            state = .notRun
        }
        let metrics = RunMetrics.load(path: dir + "/metrics.jsonl")
        var answers: [EvalRecord]?, problem: String?
        let answersPath = dir + "/" + EvalRecords.finalFileName
        if fm.fileExists(atPath: answersPath) {
            do { answers = try EvalRecords.read(answersPath) } catch { problem = "\(error)" }
        }
        if let word = slurm { state = state.seenInSlurm(word) }
        if case .notRun = state, !metrics.updates.isEmpty || !metrics.steps.isEmpty || !metrics.evaluations.isEmpty || answers != nil {
            // A run made outside a comparison and copied in: its final answers say it ended.
            state = answers != nil ? .finished : .other("no status")
        }
        let settings = runSettings(dir)
        var diverged: Bool?
        if state.isFailed {
            if let kind = status?.failure {
                diverged = kind == ComparisonFiles.Status.Failure.diverged
            } else if let own = RunFolder.readStatus(dir), own.state == .failed {
                diverged = own.failure == .diverged
            }
        }
        return Run(seed: seed ?? settings?.seed, folder: folder, state: state, wallSeconds: status?.wallSeconds,
                   metrics: metrics, budget: settings?.budget, answers: answers, answersProblem: problem, diverged: diverged)
    }

    /// The algorithm a run's own run.json records ("sft", or rl.algorithm), for folders the
    /// runner did not describe: a plain `workbench rl` output folder copied into an experiment.
    private static func runAlgorithm(_ dir: String) -> String? {
        guard let data = FileManager.default.contents(atPath: dir + "/run.json"),
              let json = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else { return nil }
        if json["command"] as? String == "sft" { return "sft" }
        return (json["rl"] as? [String: Any])?["algorithm"] as? String
    }

    /// The seed and budget a run's run.json records (`rl` or `sft` settings).
    private static func runSettings(_ dir: String) -> (seed: UInt64?, budget: Budget?)? {
        struct Length: Decodable { var updates: Int?; var steps: Int?; var minutes: Double?; var seed: UInt64? }
        struct File: Decodable { var rl: Length?; var sft: Length? }
        guard let data = FileManager.default.contents(atPath: dir + "/run.json"),
              let file = try? JSONDecoder().decode(File.self, from: data), let l = file.rl ?? file.sft else { return nil }
        let budget: Budget? = l.updates.map { .updates($0) } ?? l.steps.map { .steps($0) } ?? l.minutes.map { .minutes($0) }
        return (l.seed, budget)
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
