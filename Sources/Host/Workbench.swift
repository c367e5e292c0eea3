import ArgumentParser
import Engine
import Foundation

@main
struct Workbench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "workbench",
        abstract: "Reinforced fine-tuning of language models on math reasoning (SFT, PPO/ReFT, CARFT, Dr.GRPO).",
        usage: """
        workbench <subcommand>
        workbench --plugin <lib.so[:key=value,...]> [--plugin ...] [<options>]
        """,
        discussion: """
        Start with `workbench sft` to train a small model on the built-in arithmetic task and \
        watch its test accuracy rise. Every run writes metrics (JSON lines) and safetensors \
        checkpoints into its --out folder as it goes.

        Without a subcommand, `workbench --plugin <lib.so>` tries your plugins: it trains (or \
        reuses) an SFT warm-up on the built-in task, then runs CARFT with the built-in plugins \
        (variant `carft`, the baseline) and, for each --plugin, CARFT with that plugin in place \
        of the built-in of its kind (variant `carft+<name>`), each once per seed from the same \
        checkpoint. Every run's final checkpoint is scored on the same 2,000 held-out questions, \
        and the table gives each variant's accuracy with a 95% interval, its difference from \
        the baseline paired by seed and question, a p-value and a verdict: better, worse, or no \
        detectable difference (with the smallest difference the comparison could have seen). \
        An HTML report is written next to it. A plugin's config goes after a colon: --plugin \
        ./libmine.so:tau=0.1,margin=0.3; a built-in by name: --plugin builtin:carft-embedding. \
        For other algorithms and settings, write an experiment file for `workbench compare`.
        """,
        subcommands: [SFTCommand.self, RLCommand.self, EvalCommand.self, ExportCommand.self, CompareCommand.self, ReportCommand.self, PluginCommand.self, BenchCommand.self, LogitsCommand.self],
        defaultSubcommand: nil
    )

    // The default experiment's options; they apply only when no subcommand is given.
    @Option(name: .customLong("plugin"), help: ArgumentHelp("A plugin to try against the built-ins: a library path or builtin:<name>, then optionally :key=value,... (repeatable); a value holding commas goes in double quotes: 'lib.so:prefix=\"a, b\"'.", valueName: "spec"))
    var plugins: [String] = []
    @Option(parsing: .unconditional, help: "Runs per variant, seeds 0…N−1; more seeds narrow the intervals.") var seeds: Int = DefaultExperiment.defaultSeeds
    @Option(parsing: .unconditional, help: "CARFT updates per run (default \(DefaultExperiment.defaultUpdates)): a count, so any machine does the same work.") var updates: Int?
    @Option(parsing: .unconditional, help: "Minutes of CARFT per run instead of --updates (rollouts and updates; evaluation excluded); how far a run gets then depends on the machine.") var minutes: Double?
    @Option(name: .customLong("sft-steps"), parsing: .unconditional, help: "Steps of SFT warm-up (default \(ExperimentPlan.defaultWarmupSteps); cached: reused while the settings stay the same).") var sftSteps: Int?
    @Option(name: .customLong("sft-minutes"), parsing: .unconditional, help: "Minutes of SFT warm-up instead of --sft-steps.") var sftMinutes: Double?
    @Option(help: ArgumentHelp("Output folder: one subfolder per variant holding one per seed, the report beside them.", valueName: "dir")) var out = "runs/plugins"
    @Option(parsing: .unconditional, help: "Threads per run.") var threads = 1
    @Option(parsing: .unconditional, help: "Runs at once (default: cores / threads).") var jobs: Int?
    @Option(name: .customLong("plugin-timeout"), parsing: .unconditional, help: ArgumentHelp("Seconds one plugin call may take in every run (1…86,400; default \(PluginWatchdog.defaultTimeout)); a run whose call overruns is stopped and marked failed (timeout), and the others go on.", valueName: "seconds"))
    var pluginTimeout: Int?
    @Option(help: ArgumentHelp("Where SFT warm-ups are cached.", valueName: "dir")) var cache = "runs/cache"
    @Flag(help: "Run every run again even if it finished before with the same settings.") var fresh = false
    @Flag(name: .customLong("dry-run"), help: "Print each child's command line, then exit.") var dryRun = false

    func validate() throws {
        if updates != nil && minutes != nil { throw ValidationError("give --updates or --minutes, not both") }
        if sftSteps != nil && sftMinutes != nil { throw ValidationError("give --sft-steps or --sft-minutes, not both") }
        typealias L = FlagLimits
        try L.check(updates, "--updates", L.steps)
        try L.check(sftSteps, "--sft-steps", L.steps)
        try L.check(minutes, "--minutes", L.minutes)
        try L.check(sftMinutes, "--sft-minutes", L.minutes)
        if seeds < 1 || seeds > ExperimentFile.maxSeeds { throw ValidationError("--seeds must be between 1 and \(ExperimentFile.maxSeeds) (got \(seeds))") }
        try L.check(threads, "--threads", L.threads)
        try L.check(jobs, "--jobs", L.jobs)
        try L.check(pluginTimeout, "--plugin-timeout", L.pluginTimeout)
    }

    /// Runs only without a subcommand: the default experiment, or the help when there is nothing to run.
    func run() throws {
        guard !plugins.isEmpty else {
            if CommandLine.arguments.count > 1 {
                throw ValidationError("give at least one --plugin <lib.so> to compare against the built-ins, or a subcommand (see `workbench --help`)")
            }
            print(Self.helpMessage())
            return
        }
        let length: DefaultExperiment.Length = minutes.map { .minutes($0) } ?? .count(updates ?? DefaultExperiment.defaultUpdates)
        let warmup: DefaultExperiment.Length? = sftMinutes.map { .minutes($0) } ?? sftSteps.map { .count($0) }
        let experiment = DefaultExperiment.make(plugins: plugins, length: length, warmup: warmup, seeds: seeds, threads: threads, jobs: jobs,
                                                pluginTimeout: pluginTimeout)
        try ExperimentRun(experiment: experiment, out: out, cache: cache, jobs: jobs, fresh: fresh, dryRun: dryRun).run()
    }

    /// Line-buffered stdout, so evaluation lines appear as they happen even when the output
    /// goes to a file or a pipe (where the C library would otherwise hold them back).
    ///
    /// A command line that starts with a subcommand is parsed by WorkbenchSubcommands, which has
    /// no options of its own: swift-argument-parser lets a parent's option take a subcommand's
    /// option of the same name (`workbench sft --out x` would set the root's --out and leave
    /// sft's at its default), and the root's options above share names with sft's and rl's.
    static func main() {
        OpenMPSpin.settle()
        setvbuf(stdout, nil, _IOLBF, 0)
        PluginWatchdog.installCrashHandler()
        let arguments = Array(CommandLine.arguments.dropFirst())
        let subcommandNames = Set(configuration.subcommands.compactMap { $0.configuration.commandName } + ["help"])
        let root: ParsableCommand.Type = arguments.first.map(subcommandNames.contains) == true ? WorkbenchSubcommands.self : Workbench.self
        do {
            var command = try root.parseAsRoot(arguments)
            try command.run()
        } catch {
            root.exit(withError: SettingFlags.shown(error))
        }
    }
}

/// The root for command lines that start with a subcommand (see Workbench.main).
struct WorkbenchSubcommands: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: Workbench.configuration.commandName,
        abstract: Workbench.configuration.abstract,
        subcommands: Workbench.configuration.subcommands
    )
}
