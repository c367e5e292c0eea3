import Engine
import Foundation
import Testing
@testable import Host

/// `workbench rl`'s defaults: the tuned preset (the settings that gain on the built-in task) and
/// the reference one, the reward as a built-in plugin, and the budget as a count.
@Suite struct RLPresetTests {
    static func command(_ args: [String]) throws -> RLCommand { try RLCommand.parse(["--init", "x"] + args) }

    static func rewardId(_ args: [String]) throws -> String {
        let reward = try command(args).makePlugins().reward
        return reward.instance.descriptor.id
    }

    @Test func theTunedPresetIsTheDefaultAndTheReferenceIsOneFlagAway() throws {
        let tuned = try Self.command([]).rlConfig()
        #expect(tuned.temperature == 0.4 && tuned.lambda == 1 && tuned.updates == RLCommand.defaultUpdates && tuned.minutes == nil)
        #expect(try Self.rewardId([]) == "org.workbench.reward.equation-checked")
        let reference = try Self.command(["--preset", "reference"]).rlConfig()
        #expect(reference.temperature == 1 && reference.lambda == 0.95)
        #expect(try Self.rewardId(["--preset", "reference"]) == "org.workbench.reward.reft-partial")
        // A flag given explicitly wins over its preset.
        let mixed = try Self.command(["--preset", "reference", "--temperature", "0.7", "--lambda", "1"]).rlConfig()
        #expect(mixed.temperature == 0.7 && mixed.lambda == 1)
        #expect(try Self.rewardId(["--reward", "reft-partial"]) == "org.workbench.reward.reft-partial")
        // Every algorithm gets the preset, carft included; the other defaults are unchanged.
        let carft = try Self.command(["--algo", "carft"]).rlConfig()
        #expect(carft.temperature == 0.4 && carft.lambda == 1 && carft.klBeta == 0.05 && carft.learningRate == 1e-5)
        // --minutes instead of a count.
        let timed = try Self.command(["--minutes", "3"]).rlConfig()
        #expect(timed.updates == nil && timed.minutes == 3)
    }

    @Test func partialRewardConfiguresTheBuiltInRewardOnly() throws {
        let reward = try Self.command(["--partial-reward", "0.2"]).makePlugins().reward
        #expect(reward.instance.config.first { $0.key == "partial" }?.value == "0.2")
        #expect(try reward.scores([RewardInput(question: "q", completion: "x\nTherefore, the answer is: 3", gold: 4)]) == [0.2])
        for other in [["--plugin", "builtin:carft-embedding"], ["--reward-fn", "./libx.so:f:f64(str,str)"]] {
            do {
                _ = try Self.command(["--partial-reward", "0.2"] + other).makePlugins()
                Issue.record("--partial-reward with \(other) must be refused")
            } catch {
                #expect("\(error)".contains("--partial-reward 0.2 configures the built-in reward, but"), "\(error)")
            }
        }
        // A value no reward may give a wrong answer is the plugin's to refuse, up front.
        #expect(throws: (any Error).self) { try Self.command(["--partial-reward", "1"]).makePlugins() }
    }

    @Test func theTaskSeedFixesTheQuestionsWhateverTheRunSeed() throws {
        let fixed = try DataOptions.parse(["--train-size", "20", "--test-size", "10", "--task-seed", "3"])
        let a = try fixed.load(seed: 0), b = try fixed.load(seed: 9)
        #expect(a.train == b.train && a.eval == b.eval)
        let own = try DataOptions.parse(["--train-size", "20", "--test-size", "10"])
        #expect(try own.load(seed: 3).eval == a.eval && own.load(seed: 4).eval != a.eval)
    }
}
