import ArgumentParser
import Engine
import Foundation
import PluginABI

struct PluginCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plugin",
        abstract: "Inspect and check plugin libraries (reward, pooling, contrastive loss).",
        discussion: """
        A plugin library is a .so built against include/workbench_plugin.h; `builtin` names the \
        plugins shipped inside workbench. `list` shows what a library holds; `check` runs every \
        plugin on random inputs and exits non-zero when anything fails.
        """,
        subcommands: [List.self, Check.self, New.self]
    )

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "list",
            abstract: "Print a library's plugins: ids, versions, kinds, summaries and config keys."
        )
        @Argument(help: ArgumentHelp("The plugin library (.so), or `builtin`.", valueName: "library")) var library: String

        func run() throws {
            let lib = try PluginLoader.library(library)
            print("\(lib.name): \(lib.plugins.count) plugin\(lib.plugins.count == 1 ? "" : "s") (plugin ABI \(WB_ABI_MAJOR).\(lib.abiMinor))")
            if lib.plugins.isEmpty && library == PluginLoader.builtinName {
                print("  (no built-in plugins are registered in this build)")
            }
            for d in lib.plugins {
                print("")
                print("\(d.id) \(d.version)  [\(d.kind)]")
                if !d.summary.isEmpty { print("  \(d.summary)") }
                if d.configKeys.isEmpty {
                    print("  config: none")
                    continue
                }
                print("  config:")
                let nameWidth = d.configKeys.map(\.name.count).max()!
                let typeWidth = d.configKeys.map(\.typeDescription.count).max()!
                let defaultWidth = d.configKeys.map(\.defaultValue.count).max()!
                for k in d.configKeys {
                    let name = k.name.padding(toLength: nameWidth, withPad: " ", startingAt: 0)
                    let type = k.typeDescription.padding(toLength: typeWidth, withPad: " ", startingAt: 0)
                    let def = k.defaultValue.padding(toLength: defaultWidth, withPad: " ", startingAt: 0)
                    print("    \(name)  \(type)  default \(def)  \(k.help)")
                }
            }
        }
    }

    struct Check: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "check",
            abstract: "Load a library, validate it, and run each plugin on random inputs (outputs finite, backward vs finite differences).",
            discussion: """
            Prints one PASS, WARN or FAIL line per check and exits with status 1 when any fails. \
            WARN marks a check that passed but found what a training run would get wrong (a \
            reward that counts an answerless completion as right, say); its warnings follow it. \
            A reward is scored on canonical completions of one question, shown as a table. \
            Whatever a plugin logs through host->log is shown under the check during which it \
            logged, as `log (<level>): <message>`. \
            --config applies each key to every plugin that declares it; with --plugin, the keys \
            must all belong to that plugin. A call into a plugin that runs longer than \
            --plugin-timeout is a FAIL line naming the check and the function that hung; the \
            check stops there and exits with status \(PluginWatchdog.exitCode).
            """
        )
        @Argument(help: ArgumentHelp("The plugin library (.so), or `builtin`.", valueName: "library")) var library: String
        @Option(help: ArgumentHelp(#"Config for the plugins, as key=value pairs separated by commas; a value holding commas goes in double quotes (inside them \" is a quote, \\ a backslash): --config 'prefix="Therefore, the answer is:",partial=0.2'."#, valueName: "k=v,...")) var config: String = ""
        @Option(help: ArgumentHelp("Check only the plugin with this id.", valueName: "id")) var plugin: String?
        @Option(parsing: .unconditional, help: "Seed for the random inputs.") var seed: UInt64 = 0
        @Option(name: .customLong("plugin-timeout"), parsing: .unconditional, help: ArgumentHelp("Seconds each call into a plugin may take (1…86,400).", valueName: "seconds"))
        var pluginTimeout: Int = PluginWatchdog.defaultTimeout

        func validate() throws {
            try FlagLimits.check(pluginTimeout, "--plugin-timeout", FlagLimits.pluginTimeout)
        }

        func run() throws {
            // Loading runs the library's entry function, which can hang too.
            let tally = CheckTally(library: library)
            PluginWatchdog.start(timeout: pluginTimeout) { call, message in tally.hung(call, message) }
            let lib: PluginLibrary
            do {
                lib = try PluginLoader.library(library)
            } catch {
                print("FAIL  \(library)  load: \(error)")
                throw ExitCode.failure
            }
            print("PASS  \(library)  load: \(lib.plugins.count) plugin\(lib.plugins.count == 1 ? "" : "s"), descriptors valid")
            let given = try PluginConfig.parse(config)
            let plugins = try plugin.map { [try lib.plugin($0)] } ?? lib.plugins
            if plugin == nil {
                // Without --plugin a key may belong to any plugin, but one nobody declares is a typo.
                for key in given.keys.sorted() where !plugins.contains(where: { $0.configKeys.contains { $0.name == key } }) {
                    let known = Set(plugins.flatMap { $0.configKeys.map(\.name) }).sorted()
                    throw PluginError(library: library, message: "no plugin in the library has the config key '\(key)'; the keys are: \(known.isEmpty ? "(none)" : known.joined(separator: ", "))",
                                      remedy: "check the spelling, or run `workbench plugin list \(library)`")
                }
            }
            tally.loaded()
            for d in plugins {
                let mine = plugin == nil ? given.filter { k, _ in d.configKeys.contains { $0.name == k } } : given
                _ = PluginChecker.check(d, config: mine, seed: seed, starting: { tally.starting(d.id, $0) }, finished: { result in
                    print(result)
                    tally.finished(result)
                })
            }
            let (failed, warned, total) = tally.counts
            let warnings = warned == 0 ? "" : " (\(warned) with warnings: the WARN lines)"
            print((failed == 0 ? "\(total) checks passed" : "\(failed) of \(total) checks failed") + warnings)
            if failed > 0 { throw ExitCode.failure }
        }
    }
}

/// The checks so far, for the summary line and for the watchdog's FAIL line when a call hangs.
/// Updated by the checking thread, read by the watchdog's.
final class CheckTally: @unchecked Sendable {
    private let lock = NSLock()
    private let library: String
    private var running: (plugin: String, check: String)?
    private var failed = 0, warned = 0, total = 0

    init(library: String) { self.library = library }

    var counts: (failed: Int, warned: Int, total: Int) {
        lock.lock()
        defer { lock.unlock() }
        return (failed, warned, total)
    }

    func loaded() {
        lock.lock()
        defer { lock.unlock() }
        total += 1
    }

    func starting(_ plugin: String, _ check: String) {
        lock.lock()
        defer { lock.unlock() }
        running = (plugin, check)
    }

    func finished(_ result: PluginCheckResult) {
        lock.lock()
        defer { lock.unlock() }
        running = nil
        total += 1
        if !result.passed { failed += 1 }
        if result.passed && !result.warnings.isEmpty { warned += 1 }
    }

    /// The hung check's FAIL line, the summary, and the error; the watchdog then exits.
    func hung(_ call: PluginCallRecord.Call, _ message: String) {
        lock.lock()
        // Outside a check: loading (the entry function), or an instance being destroyed after its checks.
        let (plugin, check) = running ?? (call.plugin.isEmpty ? library : call.plugin, total == 0 ? "load" : call.function)
        let failed = self.failed + 1, total = self.total + 1
        lock.unlock()
        print(PluginCheckResult(plugin: plugin, check: check, passed: false, detail: "\(message); the check stopped here"))
        print("\(failed) of \(total) checks failed (stopped at a call that did not return)")
        printErr("Error: \(message). Fix the plugin, or raise --plugin-timeout if the call is only slow.")
    }
}

