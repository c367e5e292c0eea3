import ArgumentParser
import Engine
import Foundation

@main
struct Workbench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "workbench",
        abstract: "Reinforced fine-tuning of language models on math reasoning (SFT, PPO/ReFT, CARFT, Dr.GRPO).",
        discussion: """
        Start with `workbench sft` to train a small model on the built-in arithmetic task and \
        watch its test accuracy rise. Every run writes metrics (JSON lines) and safetensors \
        checkpoints into its --out folder as it goes.
        """,
        subcommands: [SFTCommand.self, RLCommand.self, EvalCommand.self, ReportCommand.self, PluginCommand.self, BenchCommand.self],
        defaultSubcommand: nil
    )

    /// Line-buffered stdout, so evaluation lines appear as they happen even when the output
    /// goes to a file or a pipe (where the C library would otherwise hold them back).
    static func main() {
        setvbuf(stdout, nil, _IOLBF, 0)
        var command: ParsableCommand
        do {
            command = try parseAsRoot()
            try command.run()
        } catch {
            exit(withError: error)
        }
    }
}
