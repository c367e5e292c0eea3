import Foundation
import Testing
import Engine

/// `workbench rl --plugin` as a user runs it: bad specs are refused before anything loads, and
/// a CARFT run with a loaded plugin records it and its contrastive loss.
@Suite(.enabled(if: FileManager.default.isExecutableFile(atPath: PluginTestSupport.workbench),
                "needs .build/release/workbench (built by scripts/test.sh)"))
struct RLPluginCLITests {
    typealias S = PluginTestSupport

    /// Plugin problems are found before the checkpoint is read, so a missing one is fine here.
    func refused(_ args: [String]) throws -> String {
        let r = try S.run(S.workbench, ["rl", "--init", "/nonexistent-checkpoint", "--updates", "1"] + args)
        #expect(r.status != 0, "\(args) should fail")
        #expect(!r.all.contains("nonexistent-checkpoint"), "the plugin error must come first: \(r.all)")
        return r.all
    }

    @Test func badPluginSpecsAreRefusedWithWhatToDo() throws {
        #expect(try refused(["--algo", "reft", "--plugin", "builtin:mean"]).contains("used only by CARFT's contrastive term; add --algo carft"))
        #expect(try refused(["--algo", "carft", "--plugin", "builtin:nosuch"]).contains("no built-in plugin is called 'nosuch'"))
        #expect(try refused(["--algo", "carft", "--plugin", "builtin:infonce-positive:tua=0.1"])
            .contains("no plugin here has the config key 'tua'; the keys are: detach-denominator, positive-clamp, reduction, similarity, tau"))
        #expect(try refused(["--algo", "carft", "--plugin", "builtin:infonce-positive", "--plugin", "builtin:lcs-negative"])
            .contains("two contrastive plugins"))
        #expect(try refused(["--reward", "equation-checked", "--plugin", "builtin:carft-embedding"]).contains("both set the reward; keep one"))
        #expect(try refused(["--algo", "carft", "--plugin", "/no/such/libx.so"]).contains("no such file"))
        #expect(try refused(["--algo", "carft", "--plugin", "builtin:tau=0.2"]).contains("no built-in plugin is called 'tau=0.2'"))
    }

    /// A one-layer SFT checkpoint made in a second, for the RL runs below.
    static func tinyCheckpoint(_ dir: String) throws -> String {
        let sft = try S.run(S.workbench, ["sft", "--steps", "3", "--dim", "32", "--layers", "1", "--heads", "2", "--ffn", "64",
                                          "--eval-examples", "8", "--max-new-tokens", "16", "--out", dir + "/sft"] + tinyData)
        #expect(sft.status == 0, "\(sft.all)")
        return dir + "/sft/final"
    }

    static let tinyData = ["--train-size", "64", "--test-size", "8", "--seed", "1", "--threads", "1"]

    /// The banner names every plugin of the run with its whole config, defaults included, in
    /// declaration order: a library reward given no config, the default pooling (which has
    /// none), and a built-in contrastive loss given one key. A plugin's log reaches stderr
    /// with its id: debug dropped, a line repeated on every call shown once.
    @Test(.enabled(if: PluginTestSupport.cc != nil, "needs cc")) func bannerListsEveryPluginWithItsConfigAndLogsAreShownOnce() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("rl-banner-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let lib = try S.fixture("logging_reward")
        let rl = try S.run(S.workbench, ["rl", "--algo", "carft", "--init", try Self.tinyCheckpoint(dir), "--updates", "2", "--batch", "4",
                                         "--minibatch", "4", "--max-new-tokens", "16", "--eval-examples", "8", "--final-eval", "0",
                                         "--plugin", lib, "--plugin", "builtin:infonce-positive:tau=0.1", "--out", dir + "/rl"] + Self.tinyData)
        #expect(rl.status == 0, "\(rl.all)")
        #expect(rl.stdout.contains("""

              reward: org.fixture.reward.logging 0.1 (\(lib)) (no config keys)
              preset tuned: temperature 0.4, λ 1.0
              pooling: org.workbench.pooling.softmax-values 1.0.0 (built-in) (no config keys)
              contrastive: org.workbench.contrastive.infonce-positive 1.0.0 (built-in) {similarity=cosine, tau=0.1, positive-clamp=0.9, detach-denominator=true, reduction=mean}
              CARFT: contrastive coefficient c 0.001

            """), "\(rl.stdout)")
        #expect(Self.count(rl.stderr, "plugin org.fixture.reward.logging: info: answer table: the built-in rules\n") == 1, "\(rl.stderr)")
        #expect(Self.count(rl.stderr, "plugin org.fixture.reward.logging: warning: scoring without an answer table\n") == 1, "\(rl.stderr)")
        #expect(!rl.stderr.contains("score called"), "\(rl.stderr)")
    }

    static func count(_ text: String, _ part: String) -> Int { text.components(separatedBy: part).count - 1 }

    /// A tiny SFT checkpoint, then two CARFT updates with the C example's triplet loss (config
    /// given on the command line) and the embedding-enhanced reward: both are named in the
    /// output and run.json, and every update logs a finite contrastive loss.
    @Test(.enabled(if: PluginTestSupport.cc != nil, "needs cc")) func carftRunsWithLoadedPlugins() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("rl-plugin-cli-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let data = ["--train-size", "64", "--test-size", "8", "--seed", "1", "--threads", "1"]
        let sft = try S.run(S.workbench, ["sft", "--steps", "3", "--dim", "32", "--layers", "1", "--heads", "2", "--ffn", "64",
                                          "--eval-examples", "8", "--max-new-tokens", "16", "--out", dir + "/sft"] + data)
        #expect(sft.status == 0, "\(sft.all)")
        let lib = try S.cExample()
        let rl = try S.run(S.workbench, ["rl", "--algo", "carft", "--init", dir + "/sft/final", "--updates", "2", "--batch", "4",
                                         "--minibatch", "4", "--max-new-tokens", "16", "--eval-examples", "8",
                                         "--plugin", lib + "@org.example.contrastive.triplet:margin=0.3",
                                         "--plugin", "builtin:carft-embedding", "--out", dir + "/rl"] + data)
        #expect(rl.status == 0, "\(rl.all)")
        #expect(rl.stdout.contains("\n  contrastive: org.example.contrastive.triplet 1.0.0 (\(lib)) {margin=0.3, min-reward=1}\n"), "\(rl.stdout)")
        #expect(rl.stdout.contains("\n  reward: org.workbench.reward.carft-embedding 1.0.0 (built-in) {base=0.2, scale=0.1, fallback=0.1, check-equations=true}\n"), "\(rl.stdout)")
        let run = try String(contentsOfFile: dir + "/rl/run.json", encoding: .utf8)
        #expect(run.contains("org.example.contrastive.triplet"))
        let updates = try String(contentsOfFile: dir + "/rl/metrics.jsonl", encoding: .utf8)
            .split(separator: "\n").filter { $0.contains("\"kind\":\"update\"") }
        #expect(updates.count == 2)
        for line in updates {
            let json = try JSONSerialization.jsonObject(with: Data(line.utf8)) as! [String: Any]
            let c = try #require(json["contrastive_loss"] as? Double, "\(line)")
            #expect(c.isFinite && c >= 0)
        }
    }

    /// `--reward-fn` runs as a reward plugin: the banner names the C function, run.json records
    /// the spec, and a non-finite score stops the run with the plugin's id, the symbol and the
    /// rollout.
    @Test func aRewardFunctionRunsAsAPluginAndANonFiniteScoreStopsTheRunByName() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("rl-reward-fn-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let checkpoint = try Self.tinyCheckpoint(dir), lib = try FFIFixture.library()
        func rl(_ function: String, _ out: String) throws -> S.Output {
            try S.run(S.workbench, ["rl", "--init", checkpoint, "--updates", "2", "--batch", "4", "--minibatch", "4",
                                    "--max-new-tokens", "16", "--eval-examples", "8", "--final-eval", "0",
                                    "--reward-fn", "\(lib):\(function)", "--out", dir + "/" + out] + Self.tinyData)
        }
        let ok = try rl("exact:f64(str,str)", "ok")
        #expect(ok.status == 0, "\(ok.all)")
        #expect(ok.stdout.contains("\n  reward: exact from \(lib), f64(completion:str, gold:str)\n"), "\(ok.stdout)")
        let run = try String(contentsOfFile: dir + "/ok/run.json", encoding: .utf8)
        #expect(run.contains("exact:f64(completion:str, gold:str)"), "\(run)")

        let bad = try rl("infinite:f32(str)", "bad")
        #expect(bad.status != 0)
        #expect(bad.all.contains("--reward-fn: plugin org.workbench.reward.c-function: score failed with WB_ERROR: reward function infinite in '\(lib)' returned inf for rollout 0 of a batch of 4; a reward must be a finite number"), "\(bad.all)")
    }

    /// A contrastive term that never reaches the policy is said once, after three updates: here
    /// no rollout of a 3-step model is right, so the positive InfoNCE has no row and no gradient.
    /// With every rollout rewarded and the clamp and detached denominator off, it acts, and
    /// nothing is said.
    @Test(.enabled(if: PluginTestSupport.cc != nil, "needs cc")) func aContrastiveTermThatGivesNoGradientIsReported() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("rl-silent-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let checkpoint = try Self.tinyCheckpoint(dir)
        func run(_ plugins: [String], _ out: String) throws -> S.Output {
            try S.run(S.workbench, ["rl", "--algo", "carft", "--init", checkpoint, "--updates", "4", "--batch", "4", "--minibatch", "4",
                                    "--max-new-tokens", "16", "--eval-examples", "8", "--final-eval", "0", "--value-warmup", "0",
                                    "--out", dir + "/" + out] + plugins.flatMap { ["--plugin", $0] } + Self.tinyData)
        }
        let silent = try run(["builtin:exact"], "silent")
        #expect(silent.status == 0, "\(silent.all)")
        #expect(Self.count(silent.stdout, "has given the policy no gradient at all") == 1, "\(silent.stdout)")
        let acting = try run([try S.fixture("always_one"), "builtin:infonce-positive:positive-clamp=1,detach-denominator=false"], "acting")
        #expect(acting.status == 0, "\(acting.all)")
        #expect(!acting.stdout.contains("no gradient at all"), "\(acting.stdout)")
        let lines = try String(contentsOfFile: dir + "/acting/metrics.jsonl", encoding: .utf8).split(separator: "\n")
        let pushes = lines.compactMap { MetricsLine.parse($0) }.compactMap { line -> Double? in
            if case .update(let u) = line { return u.hiddenGradContrastive } else { return nil }
        }
        #expect(pushes.count == 4 && pushes.allSatisfy { $0 > 0 }, "\(pushes)")
    }
}
