import Foundation
import Testing
@testable import Engine

/// SFT with LoRA adapters on a frozen model: only the adapters move, the checkpoints hold them
/// alone (reloading them reproduces the model), and an interrupted run resumes to the numbers of
/// one that never stopped.
@Suite(.serialized) struct LoRASFTTests {
    static let tok = ByteTokenizer()

    /// A model already trained a little, so adapters have something to adjust, saved as the base.
    static func base(_ dir: String) throws -> Transformer {
        let model = try SFTTests.smallModel(seed: 8)
        var cfg = SFTConfig()
        cfg.steps = 10
        cfg.evalEvery = 1000
        cfg.evalExamples = 0
        cfg.finalEvalExamples = 0
        _ = try SFTTrainer(model: model, tokenizer: tok, config: cfg, train: SFTTests.easyTask().train(count: 200),
                           eval: [], outputDir: dir + "/base", metrics: nil).run()
        return model
    }

    static func config(steps: Int) -> SFTConfig {
        var cfg = SFTConfig()
        cfg.steps = steps
        cfg.learningRate = 5e-3
        cfg.evalEvery = 4
        cfg.evalExamples = 8
        cfg.finalEvalExamples = 8
        cfg.maxNewTokens = 30
        return cfg
    }

    static func attach(_ model: Transformer, base: String, dropout: Float = 0) -> LoRAAdapters {
        let a = LoRAAdapters(config: LoRAConfig(rank: 4, alpha: 8, targets: [.q, .v, .up, .down], dropout: dropout), model: model.config, seed: 5)
        a.base = base
        model.attach(a)
        return a
    }

    @Test func onlyTheAdaptersTrainAndTheirCheckpointReproducesTheModel() throws {
        let held = ThreadCount.hold(1)
        defer { held.release() }
        let dir = SFTTests.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        _ = try Self.base(dir)
        // Loaded fresh, as a run opens its --init-from model.
        let model = try Transformer(config: try Checkpoint.readConfig(from: dir + "/base/final"))
        try Checkpoint.loadWeights(from: dir + "/base/final", into: model.params)
        let frozen = Array(UnsafeBufferPointer(start: model.params.values.ptr, count: model.params.count))
        let adapters = Self.attach(model, base: dir + "/base/final")
        let before = Array(UnsafeBufferPointer(start: adapters.params.values.ptr, count: adapters.params.count))
        let task = SFTTests.easyTask()
        let summary = try SFTTrainer(model: model, tokenizer: Self.tok, config: Self.config(steps: 8), train: task.train(count: 200),
                                     eval: task.test(count: 8), outputDir: dir + "/lora", metrics: nil).run()
        #expect(memcmp(frozen, model.params.values.ptr, frozen.count * 4) == 0, "the base must not move")
        #expect(!model.params.hasGradients, "a frozen base must not even hold gradient memory")
        #expect(memcmp(before, adapters.params.values.ptr, before.count * 4) != 0, "the adapters must train")
        #expect(summary.finalLoss.isFinite)

        // The final checkpoint: adapters only, PEFT's files, naming the base.
        let final = dir + "/lora/final"
        #expect(LoRACheckpoint.isAdapter(final) && !FileManager.default.fileExists(atPath: final + "/" + Checkpoint.weightsFileName))
        let info = try LoRACheckpoint.read(from: final)
        #expect(info.config == adapters.config && info.base == dir + "/base/final")
        let reloaded = try Transformer(config: try Checkpoint.readConfig(from: info.base))
        try Checkpoint.loadWeights(from: info.base, into: reloaded.params)
        let again = LoRAAdapters(config: info.config, model: reloaded.config, seed: 99)
        try LoRACheckpoint.loadWeights(from: final, into: again)
        reloaded.attach(again)
        #expect(memcmp(again.params.values.ptr, adapters.params.values.ptr, adapters.params.count * 4) == 0)
        let ev = Evaluator(tokenizer: Self.tok, maxNewTokens: 30)
        #expect(ev.evaluate(model: reloaded, examples: task.test(count: 8)).samples.map(\.completion)
                == ev.evaluate(model: model, examples: task.test(count: 8)).samples.map(\.completion))
    }

    /// With dropout too: its masks follow the step, so the resumed steps draw the ones the
    /// uninterrupted run drew (and a run with dropout trains to other adapters than one without).
    @Test(arguments: [Float(0), 0.2])
    func anInterruptedLoRARunResumesToTheSameAdapters(dropout: Float) throws {
        let held = ThreadCount.hold(1)
        defer { held.release() }
        let dir = SFTTests.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let task = SFTTests.easyTask()
        func run(_ out: String, stopAfter: Int?, resume: ResumePoint?, dropout: Float = dropout) throws -> (LoRAAdapters, SFTTrainer.Summary) {
            let model = try Self.base(dir + "/" + out)
            let adapters = Self.attach(model, base: dir + "/" + out + "/base/final", dropout: dropout)
            let t = try SFTTrainer(model: model, tokenizer: Self.tok, config: Self.config(steps: 8), train: task.train(count: 200),
                                   eval: task.test(count: 8), outputDir: dir + "/" + out + "/lora", metrics: nil)
            var steps = 0
            t.onStep = { _ in steps += 1 }
            if let stopAfter { t.shouldStop = { steps >= stopAfter } }
            return (adapters, try t.run(resume: resume))
        }
        let (whole, _) = try run("whole", stopAfter: nil, resume: nil)
        let (_, stopped) = try run("split", stopAfter: 5, resume: nil)
        #expect(stopped.interrupted)
        let point = try #require(try ResumePoint.newest(in: dir + "/split/lora"))
        #expect(point.dir == stopped.resumeFrom)
        let (resumed, _) = try run("split", stopAfter: nil, resume: point)
        #expect(memcmp(whole.params.values.ptr, resumed.params.values.ptr, whole.params.count * 4) == 0)
        if dropout > 0 {
            let (plain, _) = try run("plain", stopAfter: nil, resume: nil, dropout: 0)
            #expect(memcmp(whole.params.values.ptr, plain.params.values.ptr, whole.params.count * 4) != 0, "dropout must change training")
        }
    }

    /// lora_dropout is written to adapter_config.json as set, and read back.
    @Test func theDropoutIsSavedWithTheAdapters() throws {
        let dir = SFTTests.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let config = ModelGradientTests.tinyConfig(tied: false)
        let adapters = LoRAAdapters(config: LoRAConfig(rank: 2, targets: [.q, .v], dropout: 0.05), model: config, seed: 1)
        try LoRACheckpoint.save(adapters, base: "/m", to: dir)
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir + "/adapter_config.json"))) as! [String: Any]
        #expect(json["lora_dropout"] as? Double == 0.05)
        #expect(try LoRACheckpoint.read(from: dir).config.dropout == 0.05)
    }

    /// adapter_config.json settings this engine cannot apply are refused, not ignored.
    @Test func adapterConfigsItCannotApplyAreRefused() throws {
        let dir = SFTTests.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        func read(_ json: [String: Any]) -> String {
            let base: [String: Any] = ["peft_type": "LORA", "r": 8, "lora_alpha": 16, "target_modules": ["q_proj", "v_proj"],
                                       "base_model_name_or_path": "/m"]
            let data = try! JSONSerialization.data(withJSONObject: base.merging(json) { _, new in new })
            try! data.write(to: URL(fileURLWithPath: dir + "/" + LoRACheckpoint.configFileName))
            do { _ = try LoRACheckpoint.read(from: dir); return "accepted" } catch { return "\(error)" }
        }
        #expect(read([:]) == "accepted")
        #expect(read(["use_rslora": true]).contains("rank-stabilised adapters are not supported"))
        #expect(read(["alpha_pattern": ["q_proj": 4]]).contains("adapters with one rank and α throughout are supported only"))
        #expect(read(["r": 100_000]).contains("the LoRA rank must be between 1 and 4096"))
        #expect(read(["target_modules": ["lm_head"]]).contains("not one of a Llama layer's"))
        #expect(read(["bias": "all"]).contains("bias terms are not supported"))
        #expect(read(["lora_alpha": NSNull()]) == "accepted")
        let alpha: Float = try LoRACheckpoint.read(from: dir).config.alpha
        #expect(alpha == 8, "PEFT's default α when the file has none")
    }
}
