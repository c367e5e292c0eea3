import ArgumentParser
import Foundation

struct CompareCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compare",
        abstract: "Run the variants of an experiment file from one SFT warm-up and compare them in a table and an HTML report.",
        discussion: """
        Trains (or reuses) one SFT warm-up, then runs every variant from its checkpoint with the \
        same seed, threads and data, each as its own `workbench sft|rl` child process writing \
        <out>/<variant>/ (metrics.jsonl, run.json, log.txt, status.json). A variant that crashes \
        or diverges is marked failed and the others go on; the exit status is non-zero then, \
        after the report is written. Every child's command line is parsed before anything runs, \
        so a wrong flag fails at once, naming the variant and the line. Run the same command \
        again after a failure or Ctrl-C: variants that finished with unchanged arguments are \
        kept, the rest run again from a clean folder.

        The experiment file is TOML (YAML is not read); paths in it are relative to the folder \
        you run workbench in. Each key becomes a flag of the child command: `lr = 2e-5` is \
        `--lr 2e-5`, `untied = true` is `--untied` (false leaves it off), a list repeats the flag.

          name = "carft-vs-baselines"   # output: runs/<name> (default: the file's name)
          seed = 0                      # every run's --seed
          threads = 1                   # every variant's --threads
          jobs = 2                      # variants at once (default: cores / threads)

          [data]        # data flags for the warm-up and every variant
          test-size = 500

          [warmup]      # `workbench sft` flags for the warm-up
          minutes = 5   # (the default; threads default to all cores)
          # or: init = "runs/mine/final" to start from that checkpoint

          [shared]      # flags for every variant whose command has them
          minutes = 7   # (unless the variant sets them itself)

          [[variant]]
          name = "sft"                  # letters, digits, . _ + -
          algorithm = "sft"             # sft, reft, drgrpo or carft

          [[variant]]
          name = "carft-negsignal"
          algorithm = "carft"
          plugins = [".build/release/libnegsignal.so"]
          kl-beta = 0.05

        plugins: `workbench rl --plugin` specs (path/to/lib.so[:key=value,...] or \
        builtin:<name>[:key=value,...]), each replacing the built-in of its kind. The warm-up \
        is cached in <cache>/sft-<hash>, the hash covering its flags, the data flags, seed, \
        threads and this binary's defaults; a later comparison with the same ones reuses it.

        Every variant needs a length (minutes, or steps for sft / updates for RL) in itself or \
        in [shared]. sft variants continue from the warm-up (--init-from) at --lr 2e-5, \
        --schedule constant, --warmup 0 unless set; RL variants get --algo and --init. The \
        runner sets --out, --seed, --threads and --init itself, so the file cannot. \
        See experiments/ for complete files.
        """
    )

    @Argument(help: ArgumentHelp("The experiment file (.toml).", valueName: "file")) var file: String
    @Option(help: ArgumentHelp("Output folder (default: runs/<experiment name>).", valueName: "dir")) var out: String?
    @Option(help: "Variants to run at once (default: the file's jobs, else cores / threads).") var jobs: Int?
    @Option(help: ArgumentHelp("Where SFT warm-ups are cached, one folder per configuration.", valueName: "dir")) var cache = "runs/cache"
    @Flag(help: "Run every variant again, including those that finished with the same arguments (the cached warm-up is still reused).") var fresh = false
    @Flag(name: .customLong("dry-run"), help: "Print each child's command line and whether the warm-up is cached, then exit.") var dryRun = false

    func validate() throws {
        if let jobs, jobs < 1 { throw ValidationError("--jobs must be at least 1 (got \(jobs))") }
    }

    func run() throws {
        let experiment = try ExperimentFile.load(file)
        try ExperimentRun(experiment: experiment, out: out ?? "runs/" + experiment.name, cache: cache,
                          jobs: jobs, fresh: fresh, dryRun: dryRun).run()
    }
}
