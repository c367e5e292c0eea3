import ArgumentParser
import Foundation

struct CompareCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compare",
        abstract: "Run the variants of an experiment file from one SFT warm-up and compare them in a table and an HTML report.",
        discussion: """
        Trains (or reuses) one SFT warm-up, scores its checkpoint on the evaluation set, then \
        runs every variant once per seed from that checkpoint, each run a `workbench sft|rl` \
        child process writing <out>/<variant>/seed-<k>/ (metrics.jsonl, run.json, log.txt, \
        status.json, and eval-final.jsonl: its final checkpoint's answer to every question). \
        The report pairs the runs by seed and question and gives each variant its accuracy \
        with a 95% interval, its gain over the start, its difference from the baseline with a \
        95% interval, a Holm-adjusted p-value and a verdict: better, worse, or not detected \
        together with the smallest difference the comparison would have detected. A run that \
        crashes or diverges is marked failed (its error on the console) and the others go on; \
        one whose plugin call overruns plugin-timeout (an rl flag, 120 s by default; settable in \
        [shared] or a variant) is stopped and marked failed (timeout); \
        the exit status is non-zero then, after the report is written. Every child's command \
        line is parsed, and every plugin loaded and created with its config, before anything \
        runs, so a typo fails at once, naming the variant and the line. Run the same command \
        again after a failure or Ctrl-C: runs that finished under unchanged settings (their \
        flags, every default this binary fills in, the plugin and data files) are kept, runs that \
        were stopped (Ctrl-C, SIGTERM, a kill) continue from their last checkpoint with --resume, \
        the rest run again from a clean folder; adding a seed runs only the new runs. A change to the \
        engine's code that keeps every setting is not seen: run with --fresh after one.

        The experiment file is TOML (YAML is not read); paths in it are relative to the folder \
        you run workbench in. Each key becomes a flag of the child command: `lr = 2e-5` is \
        `--lr 2e-5`, `untied = true` is `--untied` (false leaves it off), a list repeats the flag.

          name = "carft-vs-baselines"   # output: runs/<name> (default: the file's name)
          seeds = 5                     # each variant's runs: seeds 0..4 (or a list: [0, 1, 2])
          baseline = "reft"             # the variant the others are judged against (default: the first)
          threads = 1                   # every run's --threads
          jobs = 2                      # runs at once (default: cores / threads)

          [data]        # data flags for the warm-up and every run
          test-size = 2000              # (the default: the shared evaluation set)

          [warmup]      # `workbench sft` flags for the warm-up
          steps = 1200  # (the default; threads default to all cores)
          # or: init = "runs/mine/final" to start from that checkpoint

          [shared]      # flags for every variant whose command has them
          updates = 100 # (unless the variant sets them itself)

          [[variant]]
          name = "reft"                 # letters, digits, . _ + -
          algorithm = "reft"            # sft, reft, drgrpo or carft

          [[variant]]
          name = "carft-negsignal"
          algorithm = "carft"
          plugins = [".build/release/libnegsignal.so"]
          kl-beta = 0.05

        plugins: `workbench rl --plugin` specs (path/to/lib.so[:key=value,...] or \
        builtin:<name>[:key=value,...]), each replacing the built-in of its kind; a value holding \
        commas goes in double quotes, so in TOML a literal string: 'lib.so:prefix="a, b"'. The warm-up \
        is cached in <cache>/sft-<hash>, the hash covering its flags, the data flags, the first \
        seed, threads and this binary's defaults; a later comparison with the same ones reuses it.

        Every variant needs a length (updates for RL or steps for sft, or minutes) in itself or \
        in [shared]; counts do the same work on any machine, minutes do not. sft variants \
        continue from the warm-up (--init-from) at --lr 2e-5, --schedule constant, --warmup 0 \
        unless set; RL variants get --algo and --init. The built-in task's questions come from \
        the first seed (--task-seed) and the evaluation set is 2,000 of its test questions unless \
        test-size is set, so every run trains on and is scored on the same questions. The \
        runner sets --out, --seed, --threads, --init and --final-eval itself, so the file cannot; \
        max-new-tokens, prompt, context and frozen-weights must be the same for every variant. See experiments/ \
        for complete files.
        """
    )

    @Argument(help: ArgumentHelp("The experiment file (.toml).", valueName: "file")) var file: String
    @Option(help: ArgumentHelp("Output folder (default: runs/<experiment name>).", valueName: "dir")) var out: String?
    @Option(parsing: .unconditional, help: "Runs at once (default: the file's jobs, else cores / threads).") var jobs: Int?
    @Option(help: ArgumentHelp("Where SFT warm-ups are cached, one folder per configuration.", valueName: "dir")) var cache = "runs/cache"
    @Flag(help: "Run everything again, including runs that finished with the same settings (the cached warm-up is still reused).") var fresh = false
    @Flag(name: .customLong("dry-run"), help: "Print each child's command line and whether the warm-up is cached (with --launcher slurm: the sbatch scripts), then exit.") var dryRun = false
    @Option(help: ArgumentHelp("Where the runs run: 'local' (child processes here) or 'slurm' (submitted with sbatch: the warm-up as one job, every (variant, seed) still to run as a task of a job array after it, then a report job; finished runs are not submitted again; `workbench report <out>` shows pending and running tasks meanwhile).", valueName: "launcher")) var launcher: Launcher = .local
    @Option(name: .customLong("sbatch"), help: ArgumentHelp("With --launcher slurm: an sbatch option for every job, as key=value (e.g. partition=cpu, time=2:00:00, mem=8G); repeat for more. --jobs limits the array's tasks at once.", valueName: "key=value")) var sbatch: [String] = []
    @Option(help: .hidden) var task: String?

    enum Launcher: String, ExpressibleByArgument, CaseIterable { case local, slurm }

    /// Set by the launcher itself, per job; the rest goes through as given.
    static let sbatchManaged = ["array", "dependency", "chdir", "output", "error", "cpus-per-task", "parsable", "wrap"]

    func validate() throws {
        try FlagLimits.check(jobs, "--jobs", FlagLimits.jobs)
        if !sbatch.isEmpty && launcher != .slurm { throw ValidationError("--sbatch is for --launcher slurm") }
        if task != nil && (launcher != .local || dryRun) { throw ValidationError("--task runs one child of a comparison submitted to Slurm, inside its job; it takes no --launcher or --dry-run") }
        _ = try sbatchOptions()
    }

    func sbatchOptions() throws -> [(key: String, value: String)] {
        try sbatch.map { item in
            let parts = item.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2, !parts[1].isEmpty, parts[0].range(of: #"^[a-z][a-z0-9-]*$"#, options: .regularExpression) != nil,
                  !parts[1].contains(where: \.isWhitespace), !parts[1].contains("%") else {
                throw ValidationError("--sbatch '\(item)' is not key=value with an sbatch option's long name as key and a value without spaces or '%' (e.g. --sbatch partition=cpu --sbatch time=2:00:00)")
            }
            guard !Self.sbatchManaged.contains(parts[0]) else {
                throw ValidationError("--sbatch \(parts[0]) is set by compare itself for each job (cpus-per-task from the file's threads; logs in <out>/slurm/logs)")
            }
            return (parts[0], parts[1])
        }
    }

    func run() throws {
        let experiment = try ExperimentFile.load(file)
        let launch: ExperimentRun.Launch
        if let task { launch = .task(task) } else if launcher == .slurm { launch = .slurm(.init(sbatch: try sbatchOptions())) } else { launch = .local }
        try ExperimentRun(experiment: experiment, out: out ?? "runs/" + experiment.name, cache: cache,
                          jobs: jobs, fresh: fresh, dryRun: dryRun, launch: launch, file: file).run()
    }
}
