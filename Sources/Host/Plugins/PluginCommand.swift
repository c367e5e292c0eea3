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
        subcommands: [List.self, Check.self]
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
            Prints one PASS or FAIL line per check and exits with status 1 when any fails. \
            --config applies each key to every plugin that declares it; with --plugin, the keys \
            must all belong to that plugin.
            """
        )
        @Argument(help: ArgumentHelp("The plugin library (.so), or `builtin`.", valueName: "library")) var library: String
        @Option(help: ArgumentHelp("Config for the plugins, as key=value pairs separated by commas.", valueName: "k=v,...")) var config: String = ""
        @Option(help: ArgumentHelp("Check only the plugin with this id.", valueName: "id")) var plugin: String?
        @Option(parsing: .unconditional, help: "Seed for the random inputs.") var seed: UInt64 = 0

        func run() throws {
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
            var failed = 0, total = 1
            for d in plugins {
                let mine = plugin == nil ? given.filter { k, _ in d.configKeys.contains { $0.name == k } } : given
                for result in PluginChecker.check(d, config: mine, seed: seed) {
                    print(result)
                    total += 1
                    if !result.passed { failed += 1 }
                }
            }
            print(failed == 0 ? "\(total) checks passed" : "\(failed) of \(total) checks failed")
            if failed > 0 { throw ExitCode.failure }
        }
    }
}

