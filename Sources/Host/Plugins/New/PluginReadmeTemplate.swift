/// The README.md of a generated plugin folder: what the plugin does, how to build it, check it
/// and use it in training and in a comparison, with paths relative to the folder.
struct PluginReadmeTemplate {
    let scaffold: PluginScaffold
    init(_ scaffold: PluginScaffold) { self.scaffold = scaffold }

    var name: String { scaffold.name.text }
    var library: String { "./" + scaffold.library }
    var kind: String { scaffold.kind.rawValue }

    /// What the generated plugin computes and its config keys, per kind.
    var behaviour: (summary: String, keys: [(String, String)], example: String, metric: String?) {
        switch scaffold.kind {
        case .reward:
            return ("""
                    Scores each completion as the built-in ReFT reward does: 1 when the number on its
                    answer line (`Therefore, the answer is: <number>`) is within `tolerance` of the gold
                    answer, `partial` for any other number, 0 without an answer line. A reward of 1 or
                    more means "correct" to the host (rollout accuracy, CARFT's contrastive masks), so
                    keep wrong answers below 1.
                    """,
                    [("partial", "float, default 0.1: reward for a readable but wrong number (0 ≤ partial < 1)"),
                     ("tolerance", "float, default 0.01: largest |answer − gold| counted correct")],
                    "partial=0.2", "\(name)/answered")
        case .pooling:
            return ("""
                    Pools each sequence's masked token embeddings (CARFT's value-head projections p_t)
                    into one embedding: their mean, or with `reduction=sum` their sum. It ignores the
                    values V_t, so their gradient is zero; backward is the exact gradient of forward.
                    """,
                    [("reduction", "mean or sum, default mean")],
                    "reduction=sum", nil)
        case .contrastive:
            return ("""
                    A cosine-distance loss between two views, the annotated CoT and the rollout's CoT:
                    for each row whose reward is at least `min-reward` (the correct rollouts, by
                    default), 1 − cos(annotated, rollout), averaged over those rows (the host adds
                    c × this mean to the PPO loss). backward is its exact gradient.
                    """,
                    [("min-reward", "float, default 1: rows whose reward is at least this take part")],
                    "min-reward=0.5", "\(name)/rows")
        }
    }

    var build: String {
        switch scaffold.language {
        case .c:
            return """
            ```sh
            make        # cc -shared -fPIC -std=c11 -O2 -Wall -Wextra -Wpedantic -I include -o lib\(name).so \(name).c -lm
            ```

            `\(name).c` is the plugin; `include/workbench_plugin.h` is a copy of the header of the
            workbench that wrote this folder, so the folder builds on its own (a C11 compiler and
            make are all it needs). `-lm` links the C math library (`sqrt`, `fabs`, `expf`, …).
            """
        case .swift:
            return """
            ```sh
            swift build -c release        # → .build/release/lib\(name).so
            ```

            `Sources/\(SwiftPluginTemplate(scaffold).module)/` is the plugin (the kind's file, plus `Entry.swift` with the
            exported `workbench_plugin_entry_v1`, `Support.swift` with the glue, and `WB.swift` with
            the header's constants typed for Swift, so the code needs no casts such as
            `wb_status(WB_OK)`). `Sources/WorkbenchPluginABI/` holds a copy of the header of the
            workbench that wrote this folder and its module map, so the package builds on its own.
            `Package.swift` links with `-no-toolchain-stdlib-rpath`: the library gets no RUNPATH into
            the toolchain's folder (`readelf -d .build/release/lib\(name).so | grep -i path` shows only
            `$ORIGIN`), since the host process has the Swift runtime loaded already.
            """
        }
    }

    var text: String {
        let b = behaviour
        let header = scaffold.language == .c ? "include/workbench_plugin.h" : "Sources/WorkbenchPluginABI/workbench_plugin.h"
        let needsCARFT = scaffold.kind != .reward
        return """
        # \(name)

        A workbench \(kind) plugin, `\(scaffold.id)`, written by `workbench plugin new`.

        \(b.summary)

        Config keys (`key=value`, see below for where they go):

        \(b.keys.map { "- `\($0.0)`: \($0.1)" }.joined(separator: "\n"))

        The whole contract (every pointer's owner, every function's thread, what the completions look
        like, the reward scale, the contrastive loss's reduction) is in the comments of `\(header)`.

        ## Build

        \(build)

        ## Check

        ```sh
        workbench plugin list \(library)       # id, kind, config keys
        workbench plugin check \(library)      # exit status 0 when every check passes
        workbench plugin check \(library) --config \(b.example)
        ```

        `workbench` is the workbench binary (`.build/release/workbench` in its repository).
        `plugin check` creates the plugin, runs it on random inputs, fails on NaN/Inf, compares every
        backward with finite differences, and prints one PASS or FAIL line per check. Run it after
        every change.

        ## Use

        In training, `--plugin` puts it in place of the built-in \(kind) (config after a colon):

        ```sh
        \(needsCARFT ? "" : "workbench rl --algo reft --init runs/default/final --plugin \(library) --out runs/\(name)\n")\
        workbench rl --algo carft --init runs/default/final --plugin \(library):\(b.example) --out runs/\(name)-carft
        ```

        `--init` is an SFT checkpoint (`workbench sft` writes `runs/default/final`).\(needsCARFT ? " A \(kind) plugin works with `--algo carft` only: CARFT's contrastive term is where poolings and contrastive losses run." : " A reward plugin works with every algorithm (`reft`, `drgrpo`, `carft`).")\(b.metric.map { " The plugin reports the metric `\($0)`, which appears in the run's `metrics.jsonl` as `plugin/\($0)` (the mean over each update)." } ?? "")

        Does it beat the built-in?

        ```sh
        workbench --plugin \(library)
        ```

        trains (or reuses) the default SFT warm-up on the built-in arithmetic task, runs CARFT with
        the built-in plugins (the baseline) and with this plugin in place of the built-in \(kind),
        three seeds each from the same start, scores every final checkpoint on the same 2,000
        held-out questions and prints each variant's accuracy with a 95% interval, its paired
        difference from the baseline and a verdict; `runs/plugins/report.html` has the curves\(b.metric.map { ", plugin metrics such as `plugin/\($0)` included" } ?? ""). For other algorithms, seeds or settings,
        name the plugin in an experiment file for `workbench compare`:

        ```toml
        [[variant]]
        name = "\(name)"
        algorithm = "carft"
        plugins = ["\(scaffold.language == .c ? "path/to/\(name)/lib\(name).so" : "path/to/\(name)/.build/release/lib\(name).so"):\(b.example)"]
        ```

        """
    }
}
