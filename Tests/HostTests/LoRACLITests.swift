import Foundation
import Testing
import Engine

/// `workbench sft --lora-rank` as a user runs it: bad LoRA flags are refused with what to do, a
/// run writes adapters alone, every command that opens a model takes the adapter folder (merged
/// into its base), and export writes it as PEFT adapters or, with --merge, as a whole model.
@Suite(.enabled(if: FileManager.default.isExecutableFile(atPath: PluginTestSupport.workbench),
                "needs .build/release/workbench (built by scripts/test.sh)"))
struct LoRACLITests {
    typealias S = PluginTestSupport

    @Test func badLoRAFlagsAreRefused() throws {
        func refused(_ args: [String]) throws -> String {
            let r = try S.run(S.workbench, ["sft", "--steps", "1"] + args)
            #expect(r.status != 0, "\(args) should fail")
            return r.all
        }
        #expect(try refused(["--lora-rank", "4"]).contains("--lora-rank trains adapters on a trained model; give it with --init-from"))
        #expect(try refused(["--init-from", "x", "--lora-rank", "4", "--lora-targets", "q,qv"])
            .contains("--lora-targets: 'qv' is not a layer map; choose from q, k, v, o, gate, up, down"))
        #expect(try refused(["--init-from", "x", "--lora-alpha", "8"]).contains("--lora-alpha, --lora-targets and --lora-dropout configure LoRA adapters; add --lora-rank"))
        #expect(try refused(["--init-from", "x", "--lora-dropout", "0.1"]).contains("configure LoRA adapters; add --lora-rank"))
        #expect(try refused(["--init-from", "x", "--lora-rank", "4", "--lora-dropout", "1"]).contains("--lora-dropout must be at least 0 and below 1 (got 1.0)"))
        #expect(try refused(["--init-from", "x", "--lora-rank", "4", "--lora-dropout", "-0.1"]).contains("--lora-dropout must be at least 0 and below 1 (got -0.1)"))
        #expect(try refused(["--init-from", "x", "--lora-rank", "4", "--lora-dropout", "nan"]).contains("--lora-dropout must be at least 0 and below 1"))
        #expect(try refused(["--init-from", "x", "--lora-rank", "0"]).contains("--lora-rank must be between 1 and 4,096 (got 0)"))
        #expect(try refused(["--init-from", "x", "--lora-rank", "4", "--lora-targets", "q,q"]).contains("a LoRA target module is named twice"))
        #expect(try refused(["--init-from", "x", "--frozen-weights", "bf16"])
            .contains("--frozen-weights bf16 holds a LoRA run's frozen base in bf16; without --lora-rank sft trains every weight"))
        #expect(try refused(["--init-from", "x", "--frozen-weights", "int8"])
            .contains("--frozen-weights int8 holds a LoRA run's frozen base in int8; without --lora-rank sft trains every weight"))
        #expect(try refused(["--init-from", "x", "--lora-rank", "4", "--frozen-weights", "half"]).contains("'half'"))
        let rl8 = try S.run(S.workbench, ["rl", "--init", "x", "--frozen-weights", "int8"])
        #expect(rl8.status != 0 && rl8.all.contains("without --lora-rank the frozen model is only the reference, which never generates"), "\(rl8.all)")
        let bench = try S.run(S.workbench, ["bench", "train-step", "--lora-rank", "4"])
        #expect(bench.status != 0 && bench.all.contains("--lora-rank needs a model to put adapters on: add --init"), "\(bench.all)")
    }

    @Test func aLoRARunWritesAdaptersThatEvalAndRLOpen() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("lora-cli-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let base = try RLPluginCLITests.tinyCheckpoint(dir)
        let sft = try S.run(S.workbench, ["sft", "--init-from", base, "--lora-rank", "4", "--lora-targets", "q,v,down", "--steps", "4",
                                          "--eval-every", "100", "--eval-examples", "8", "--final-eval", "8", "--max-new-tokens", "16",
                                          "--out", dir + "/lora"] + RLPluginCLITests.tinyData)
        #expect(sft.status == 0, "\(sft.all)")
        #expect(sft.stdout.contains("  LoRA: rank 4, α 4.0 on q,v,down: "), "\(sft.stdout)")
        let final = dir + "/lora/final"
        #expect(FileManager.default.fileExists(atPath: final + "/adapter_config.json"))
        #expect(FileManager.default.fileExists(atPath: final + "/adapter_model.safetensors"))
        #expect(!FileManager.default.fileExists(atPath: final + "/model.safetensors"))

        // eval opens the adapters merged into their base and scores what the run scored last.
        let finalLine = try #require(try String(contentsOfFile: dir + "/lora/metrics.jsonl", encoding: .utf8)
            .split(separator: "\n").last { $0.contains("\"kind\":\"final_eval\"") })
        let eval = try S.run(S.workbench, ["eval", "--checkpoint", final, "--examples", "8", "--max-new-tokens", "16"] + RLPluginCLITests.tinyData)
        #expect(eval.status == 0, "\(eval.all)")
        let json = try JSONSerialization.jsonObject(with: Data(finalLine.utf8)) as! [String: Any]
        let correct = try #require(json["correct"] as? Int)
        #expect(eval.stdout.contains("(\(correct)/8)"), "\(eval.stdout) vs \(finalLine)")

        let rl = try S.run(S.workbench, ["rl", "--init", final, "--updates", "1", "--batch", "4", "--minibatch", "4",
                                         "--max-new-tokens", "16", "--eval-examples", "4", "--final-eval", "0", "--out", dir + "/rl"] + RLPluginCLITests.tinyData)
        #expect(rl.status == 0, "\(rl.all)")
        // The same on a bf16 base, and with int8 for generation where the CPU has it: it says so,
        // and run.json records it.
        let banners = ["bf16": "bf16", "int8": "int8 when generating, bf16 when scoring and training"]
        for weights in ["bf16", "int8"] where weights == "bf16" || Transformer.int8IsSupported {
            let rl = try S.run(S.workbench, ["rl", "--init", final, "--updates", "1", "--batch", "4", "--minibatch", "4", "--lora-rank", "2",
                                             "--frozen-weights", weights, "--max-new-tokens", "16", "--eval-examples", "4", "--final-eval", "0",
                                             "--out", dir + "/rl-" + weights] + RLPluginCLITests.tinyData)
            #expect(rl.status == 0 && rl.stdout.contains("  frozen weights (the base, and so the reference): \(banners[weights]!)"), "\(rl.all)")
            let run = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir + "/rl-\(weights)/run.json"))) as! [String: Any]
            #expect(run["frozenWeights"] as? String == weights)
        }
        let eval16 = try S.run(S.workbench, ["eval", "--checkpoint", final, "--frozen-weights", "bf16", "--examples", "8", "--max-new-tokens", "16"]
                               + RLPluginCLITests.tinyData)
        #expect(eval16.status == 0 && eval16.stdout.contains("/8)"), "\(eval16.all)")
        // The benchmark's step trains the adapters of a loaded model: its loss falls.
        let step = try S.run(S.workbench, ["bench", "train-step", "--init", base, "--lora-rank", "4", "--frozen-weights", "bf16",
                                           "--batch", "2", "--seq", "16", "--steps", "5", "--warmup", "1", "--threads", "1"])
        #expect(step.status == 0, "\(step.all)")
        let timing = try JSONSerialization.jsonObject(with: Data(step.stdout.utf8)) as! [String: Any]
        #expect((timing["loss_last"] as! Double) < (timing["loss_first"] as! Double), "\(step.stdout)")
        // Every training line says how much memory the process has needed so far.
        for file in ["/lora/metrics.jsonl", "/rl/metrics.jsonl"] {
            let lines = try String(contentsOfFile: dir + file, encoding: .utf8).split(separator: "\n")
                .filter { $0.contains("\"kind\":\"train\"") || $0.contains("\"kind\":\"update\"") }
            #expect(!lines.isEmpty)
            for line in lines {
                let json = try JSONSerialization.jsonObject(with: Data(line.utf8)) as! [String: Any]
                let mb = try #require(json["peak_rss_mb"] as? Double, "\(line)")
                #expect(mb > 1 && mb < 100_000)
                // An RL update's time, phase by phase: they add up to the update's seconds.
                guard line.contains("\"kind\":\"update\"") else { continue }
                let phases = try ["rollout_seconds", "scoring_seconds", "optimise_seconds"].map { try #require(json[$0] as? Double, "\($0): \(line)") }
                let seconds = try #require(json["seconds"] as? Double)
                #expect(phases.allSatisfy { $0 > 0 } && phases.reduce(0, +) <= seconds + 1e-9 && phases.reduce(0, +) > 0.9 * seconds, "\(line)")
            }
        }

        // export: a PEFT adapter folder, or with --merge the whole model, which scores as the adapters do.
        let peft = try S.run(S.workbench, ["export", final, "--out", dir + "/peft"])
        #expect(peft.status == 0, "\(peft.all)")
        let config = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir + "/peft/adapter_config.json"))) as! [String: Any]
        #expect(config["r"] as? Int == 4 && config["peft_type"] as? String == "LORA")
        #expect(config["target_modules"] as? [String] == ["q_proj", "v_proj", "down_proj"])
        #expect(try Data(contentsOf: URL(fileURLWithPath: dir + "/peft/adapter_model.safetensors"))
                == Data(contentsOf: URL(fileURLWithPath: final + "/adapter_model.safetensors")))
        let merged = try S.run(S.workbench, ["export", final, "--merge", "--out", dir + "/merged"])
        #expect(merged.status == 0, "\(merged.all)")
        let evalMerged = try S.run(S.workbench, ["eval", "--checkpoint", dir + "/merged", "--examples", "8", "--max-new-tokens", "16"] + RLPluginCLITests.tinyData)
        #expect(evalMerged.status == 0 && evalMerged.stdout.contains("(\(correct)/8)"), "\(evalMerged.all)")
        let notAdapters = try S.run(S.workbench, ["export", base, "--merge", "--out", dir + "/x"])
        #expect(notAdapters.status != 0 && notAdapters.all.contains("is a whole model already (drop --merge)"), "\(notAdapters.all)")

        // A folder naming itself as its base is an error, not an endless descent.
        let loop = dir + "/loop"
        try FileManager.default.copyItem(atPath: final, toPath: loop)
        var selfish = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: loop + "/adapter_config.json"))) as! [String: Any]
        selfish["base_model_name_or_path"] = loop
        try JSONSerialization.data(withJSONObject: selfish).write(to: URL(fileURLWithPath: loop + "/adapter_config.json"))
        let looped = try S.run(S.workbench, ["eval", "--checkpoint", loop, "--examples", "2"] + RLPluginCLITests.tinyData)
        #expect(looped.status != 0 && looped.all.contains("name themselves as their own base"), "\(looped.all)")

        // Adapters trained on adapters go out merged only.
        let second = try S.run(S.workbench, ["sft", "--init-from", final, "--lora-rank", "2", "--steps", "2", "--eval-every", "100",
                                             "--eval-examples", "0", "--final-eval", "0", "--out", dir + "/second"] + RLPluginCLITests.tinyData)
        #expect(second.status == 0, "\(second.all)")
        let nested = try S.run(S.workbench, ["export", dir + "/second/final", "--out", dir + "/y"])
        #expect(nested.status != 0 && nested.all.contains("which holds LoRA adapters too; PEFT loads one adapter onto a whole model, so export this one with --merge"), "\(nested.all)")
        #expect(try S.run(S.workbench, ["export", dir + "/second/final", "--merge", "--out", dir + "/y"]).status == 0)
    }
}
