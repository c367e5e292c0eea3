import ArgumentParser
import Foundation
import Testing
@testable import Host
@testable import Engine

/// Every numeric flag has a checked range: a value outside it is refused at parse time with the
/// flag, the range and the value, instead of being accepted and changing the algorithm (a
/// negative KL coefficient, γ above 1, a clip of 0) or growing memory until the machine kills it.
@Suite struct FlagLimitTests {
    /// The message a user sees for `arguments`, or nil when they parse.
    static func refusal<C: ParsableCommand>(_ command: C.Type, _ arguments: [String]) -> String? {
        do {
            _ = try C.parse(arguments)
            return nil
        } catch {
            return C.message(for: error)
        }
    }

    @Test(arguments: [
        (["--grad-clip", "0"], "--grad-clip must be in"),
        (["--grad-clip=-1"], "--grad-clip must be in"),
        (["--lr", "-1"], "--lr must be in"),
        (["--lr", "inf"], "--lr must be in"),
        (["--lr", "nan"], "--lr must be in"),
        (["--minutes", "1e300"], "--minutes must be in"),
        (["--eval-examples=-1"], "--eval-examples must be in"),
        (["--max-new-tokens", "0"], "--max-new-tokens must be in"),
        (["--batch", "100000000"], "--batch must be in"),
        (["--steps", "9223372036854775807"], "--steps must be in"),
        (["--threads", "0"], "--threads must be in"),
        (["--threads", "100000"], "--threads must be in"),
        (["--context", "100000000"], "max_position_embeddings is 100000000, above the largest"),
        (["--dim", "4294967296", "--heads", "2147483648"], "hidden_size is 4294967296, above the largest"),
        (["--rope-theta=-1"], "rope_theta must be positive"),
        (["--task-cots", "5"], "--task-cots must be in 1…4"),
        (["--task-ops", "add,add"], "each once"),
        (["--task-ops", "sub", "--task-steps", "21"], "do not work together"),
        (["--task-max-value", "1000000000"], "--task-max-value must be in"),
        (["--train-size", "50000000000000000"], "--train-size must be in"),
        (["--weight-decay=-1"], "--weight-decay must be in"),
        (["--final-lr=-1"], "--final-lr must be in"),
    ] as [([String], String)])
    func sftRefusesOutOfRange(arguments: [String], expected: String) {
        let message = Self.refusal(SFTCommand.self, arguments)
        #expect(message?.contains(expected) == true, "\(arguments): \(message ?? "accepted")")
    }

    @Test(arguments: [
        (["--kl-beta=-1"], "KL coefficient β must be ≥ 0"),
        (["--gamma", "2"], "γ must be in [0, 1]"),
        (["--lambda=-1"], "λ must be in [0, 1]"),
        (["--vf-coef=-1"], "value-loss weight must be ≥ 0"),
        (["--value-clip", "0"], "value clip range must be positive"),
        (["--grad-clip", "0"], "gradient-norm clip must be positive"),
        (["--clip-eps", "inf"], "clip epsilon must be positive"),
        (["--temperature=-1"], "temperature must be > 0"),
        (["--minutes=-1"], "minutes must be positive"),
        (["--max-new-tokens", "9223372036854775807"], "--max-new-tokens must be in"),
        (["--group", "100000", "--algo", "drgrpo"], "--group must be in"),
        // An Engine setting problem, shown with the CLI's flag.
        (["--group", "1", "--algo", "drgrpo"], "Dr.GRPO needs at least 2 for --group"),
        (["--stop-below", "0"], "--stop-below must be in (0, 1]"),
        (["--stop-below", "1.5"], "--stop-below must be in (0, 1]"),
    ] as [([String], String)])
    func rlRefusesOutOfRange(arguments: [String], expected: String) {
        let message = Self.refusal(RLCommand.self, ["--init", "x"] + arguments)
        #expect(message?.contains(expected) == true, "\(arguments): \(message ?? "accepted")")
    }

    @Test(arguments: [
        (["--threads", "0"], "--threads must be in"),
        (["--temperature=-1"], "--temperature must be in"),
        (["--temperature", "inf"], "--temperature must be in"),
        (["--examples=-1"], "--examples must be in"),
        (["--max-new-tokens", "0"], "--max-new-tokens must be in"),
    ] as [([String], String)])
    func evalRefusesOutOfRange(arguments: [String], expected: String) {
        let message = Self.refusal(EvalCommand.self, ["--checkpoint", "x"] + arguments)
        #expect(message?.contains(expected) == true, "\(arguments): \(message ?? "accepted")")
    }

    @Test func benchAndTheDefaultExperimentRefuseOutOfRange() {
        #expect(Self.refusal(BenchCommand.TrainStep.self, ["--batch=-1"])?.contains("--batch must be in") == true)
        #expect(Self.refusal(BenchCommand.TrainStep.self, ["--steps=-1"])?.contains("--steps must be in") == true)
        #expect(Self.refusal(BenchCommand.Rollout.self, ["--prompt-tokens", "0"])?.contains("--prompt-tokens must be in") == true)
        #expect(Self.refusal(BenchCommand.Rollout.self, ["--new-tokens", "0"])?.contains("--new-tokens must be in") == true)
        #expect(Self.refusal(Workbench.self, ["--plugin", "x.so", "--sft-minutes", "1e300"])?.contains("--sft-minutes must be in") == true)
        #expect(Self.refusal(Workbench.self, ["--plugin", "x.so", "--jobs", "1000"])?.contains("--jobs must be in 1…64") == true)
    }

    /// Engine errors name settings in the Engine's words; the CLI shows each as its flag.
    @Test func engineErrorsAreShownWithTheFlags() {
        let e = SettingFlags.shown(TrainingError("the RL loss became nan; lower \(setting: .learningRate) (now 1e-05)"))
        #expect("\(e)" == "the RL loss became nan; lower --lr (now 1e-05)")
        #expect("\(TrainingError("SFT needs a length: give \(setting: .steps) or \(setting: .minutes)"))" == "SFT needs a length: give the number of steps or the minutes")
        let flags = TrainingSetting.allCases.map(SettingFlags.flag)
        #expect(Set(flags).count == flags.count && flags.allSatisfy { $0.hasPrefix("--") })
        let other = CLIError("x")
        #expect("\(SettingFlags.shown(other))" == "x")
    }

    @Test func valuesInsideTheRangesParse() throws {
        #expect(Self.refusal(SFTCommand.self, ["--grad-clip", "1e6", "--lr", "3e-3", "--steps", "5", "--final-lr", "0"]) == nil)
        #expect(Self.refusal(RLCommand.self, ["--init", "x", "--kl-beta", "0", "--gamma", "1", "--lambda", "0"]) == nil)
        #expect(Self.refusal(EvalCommand.self, ["--checkpoint", "x", "--temperature", "0"]) == nil)
    }

    @Test func rangesPrintReadably() {
        #expect(FlagLimits.text(1...65_536) == "1…65,536")
        #expect(FlagLimits.text(1e-6...1e6) == "1e-06…1,000,000")
        #expect(FlagLimits.text(0...1.0) == "0…1")
    }
}

/// A run that cannot fit in memory is refused with the figure before it allocates, instead of
/// growing until the machine kills it.
@Suite struct MemoryRefusalTests {
    typealias S = PluginTestSupport

    @Test func aRunLargerThanTheMachineIsRefusedWithItsFigure() throws {
        let dir = RunSafetyTests.temp("memory")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let r = try S.run(S.workbench, ["sft", "--batch", "65536", "--steps", "1", "--train-size", "64", "--test-size", "8",
                                        "--threads", "1", "--out", dir])
        #expect(r.status != 0)
        #expect(r.stderr.contains("this run needs about") && r.stderr.contains("of memory at its peak (activations for 65536 × ")
                && r.stderr.contains("more than this machine's") && r.stderr.contains("lower --batch (now 65536)"), "\(r.all)")
        #expect(!FileManager.default.fileExists(atPath: dir), "refused before the run folder is made")

        let wide = try S.run(S.workbench, ["sft", "--dim", "262144", "--heads", "1", "--ffn", "1048576", "--steps", "1", "--out", dir])
        #expect(wide.status != 0 && wide.stderr.contains("this model needs about") && wide.stderr.contains("choose a smaller model"), "\(wide.all)")
    }

    @Test func theCheckComparesWithTheLimitGiven() throws {
        let e = MemoryEstimate(parts: [.init(name: "a", bytes: 3 * 1_073_741_824), .init(name: "b", bytes: 1_048_576)])
        #expect(throws: Never.self) { try MachineMemory.check(e, what: "x", remedy: "y", limit: 4 * 1_073_741_824) }
        #expect(throws: CLIError.self) { try MachineMemory.check(e, what: "x", remedy: "y", limit: 2 * 1_073_741_824) }
        #expect(MachineMemory.limit().map { $0 > 1_073_741_824 } == true, "the machine has more than 1 GiB")
    }
}
