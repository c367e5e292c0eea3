import Foundation

/// Everything besides the weights that a training run needs to continue exactly where it
/// stopped: the optimiser's moments (in `optimizer.safetensors` beside it), the data order and
/// its random stream, the clock, the evaluations so far, and how long metrics.jsonl was.
/// Randomness drawn per step or update (rollout sampling, mini-batch shuffles) is seeded from the
/// step number, so it needs no saving.
public struct TrainingState: Codable, Equatable, Sendable {
    public struct Evaluation: Codable, Equatable, Sendable {
        public var position: Int
        public var accuracy: Double
    }

    /// "sft", or the RL algorithm.
    public var run: String
    /// Steps (SFT) or updates (RL) finished.
    public var position: Int
    /// SFT with a budget in minutes: the step count fixed after the first steps.
    public var totalSteps: Int?
    public var dataRNG: [UInt64]
    public var order: [Int]
    public var cursor: Int
    /// Training seconds so far (SFT), or elapsed rollout-and-update seconds (RL).
    public var seconds: Double
    public var probeSeconds: Double
    public var lastUpdateSeconds: Double
    public var lastLoss: Float?
    public var evaluations: [Evaluation]
    /// metrics.jsonl's length when the state was saved; lines after it are logged again.
    public var metricsLength: UInt64
    /// RL: a hash of the frozen reference's weights, so a resumed run is refused when its
    /// reference is not the one the run started with.
    public var referenceChecksum: String?

    public static let fileName = "trainer-state.json"
    public static let optimizerFileName = "optimizer.safetensors"
}

/// A checkpoint folder a run can continue from: model weights (and value head), plus the
/// training state and optimiser moments. Only the newest checkpoint keeps the state: the
/// moments are twice the model's size.
public struct ResumePoint: Sendable {
    public let dir: String
    public let state: TrainingState

    /// Writes the state into `dir`, which already holds the weights, then removes it from
    /// `previous` (the checkpoint that held it until now). The state file goes last, atomically,
    /// so a checkpoint has a state file only when everything else is complete.
    static func save(_ state: TrainingState, optimizers: [(name: String, optimizer: AdamW)], to dir: String, replacing previous: String?) throws {
        var tensors: [String: TensorData] = [:]
        var metadata = ["format": "pt"]
        for (name, opt) in optimizers {
            tensors[name + ".m"] = TensorData(shape: [opt.m.count], values: Array(UnsafeBufferPointer(start: opt.m.ptr, count: opt.m.count)))
            tensors[name + ".v"] = TensorData(shape: [opt.v.count], values: Array(UnsafeBufferPointer(start: opt.v.ptr, count: opt.v.count)))
            metadata[name + ".t"] = String(opt.t)
        }
        try Safetensors.write(tensors, metadata: metadata, to: dir + "/" + TrainingState.optimizerFileName)
        let enc = JSONEncoder()
        enc.outputFormatting = [.sortedKeys]
        let json: Data
        do { json = try enc.encode(state) } catch {
            throw CheckpointError(path: dir, problem: "cannot record the training state (\(error))")
        }
        let file = try StagedFile(path: dir + "/" + TrainingState.fileName)
        try json.withUnsafeBytes { try file.write($0) }
        try file.commit()
        if let previous, previous != dir { discard(in: previous) }
    }

    /// Removes the state from an older checkpoint once a newer one has it; its weights stay.
    static func discard(in dir: String) {
        for name in [TrainingState.fileName, TrainingState.optimizerFileName] {
            try? FileManager.default.removeItem(atPath: dir + "/" + name)
        }
    }

    /// Fills the optimisers' moments and step counts from the checkpoint.
    func restore(_ optimizers: [(name: String, optimizer: AdamW)]) throws {
        let path = dir + "/" + TrainingState.optimizerFileName
        let file: SafetensorsFile
        do { file = try Safetensors.read(from: path) } catch {
            throw CheckpointError(path: path, problem: "\(error); the checkpoint's optimiser state is unreadable, so the run cannot resume exactly — start it again from the beginning")
        }
        for (name, opt) in optimizers {
            guard let m = file.tensors[name + ".m"], let v = file.tensors[name + ".v"],
                  m.values.count == opt.m.count, v.values.count == opt.v.count,
                  let t = file.metadata[name + ".t"].flatMap(Int.init), t >= 0 else {
                throw CheckpointError(path: path, problem: "has no \(name) optimiser state of \(opt.m.count) values; it was saved by a different model or run")
            }
            opt.restore(m: m.values, v: v.values, t: t)
        }
    }

    /// The checkpoint with the most steps under `runDir/checkpoints` that carries a training
    /// state; nil when there is none (the run was stopped before its first checkpoint).
    public static func newest(in runDir: String) throws -> ResumePoint? {
        let root = runDir + "/checkpoints"
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []).sorted()
        var best: ResumePoint?
        for name in names {
            let path = root + "/" + name + "/" + TrainingState.fileName
            guard let data = FileManager.default.contents(atPath: path) else { continue }
            let state: TrainingState
            do { state = try JSONDecoder().decode(TrainingState.self, from: data) } catch {
                throw CheckpointError(path: path, problem: "is not a readable training state (\(error)); remove it to resume from an older checkpoint, or start the run again from the beginning")
            }
            if best.map({ state.position > $0.state.position }) ?? true {
                best = ResumePoint(dir: root + "/" + name, state: state)
            }
        }
        return best
    }

    /// Removes the state from every checkpoint of a finished run. Not only the newest: a kill
    /// between a new state's commit and the old one's removal leaves two, and a resumed run
    /// knows only the newer.
    static func discardAll(in runDir: String) {
        let root = runDir + "/checkpoints"
        for name in (try? FileManager.default.contentsOfDirectory(atPath: root)) ?? [] { discard(in: root + "/" + name) }
    }

    /// A hash of a model's weights (FNV-1a over their bits), to recognise the same reference.
    public static func checksum(_ store: ParameterStore) -> String {
        var h: UInt64 = 0xCBF2_9CE4_8422_2325
        let p = store.values.ptr
        for i in 0..<store.count { h = (h ^ UInt64(p[i].bitPattern)) &* 0x0000_0100_0000_01B3 }
        return String(h, radix: 16)
    }
}
