import ArgumentParser
import Engine

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
        subcommands: [SFTCommand.self, BenchCommand.self],
        defaultSubcommand: nil
    )
}
