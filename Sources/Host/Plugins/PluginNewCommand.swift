import ArgumentParser
import Foundation

extension PluginCommand {
    /// `workbench plugin new`: writes a plugin folder that builds on its own and passes
    /// `plugin check` as written, so a plugin author starts from working code and the header
    /// of this very binary.
    struct New: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "new",
            abstract: "Write a new plugin folder (C or Swift) that builds and passes `plugin check` as written.",
            discussion: """
            Kinds (--kind, default reward):
              reward       1 when the number on the answer line ("Therefore, the answer
                           is: <number>") is within 0.01 of the gold answer, 0.1 for
                           another number, 0 without an answer line
                           (config keys partial, tolerance)
              pooling      the masked mean of the token embeddings
                           (config key reduction=mean|sum)
              contrastive  1 - cos(annotated CoT, rollout CoT), averaged over the
                           correct rollouts, with its exact backward (config key
                           min-reward)

            Files written into --out (default ./<name>), which must not exist or be empty:
              --lang c      <name>.c, include/workbench_plugin.h, Makefile,
                            README.md, .gitignore
              --lang swift  Package.swift, Sources/<Name>Plugin/*.swift,
                            Sources/WorkbenchPluginABI/workbench_plugin.h and
                            module.modulemap, README.md, .gitignore
            The header is a copy of the one this workbench was built with, so the \
            folder builds without the workbench repository. The plugin's id is \
            org.example.<kind>.<name> and its library lib<name>.so, so the name allows \
            \(PluginName.rule).

            Next, for a C plugin written into ./mine:
              make -C mine
              workbench plugin check mine/libmine.so
              workbench rl --algo carft --init runs/default/final --plugin mine/libmine.so
              workbench --plugin mine/libmine.so     # against the built-in, over seeds
            For Swift: `swift build -c release --package-path mine`, then use \
            mine/.build/release/libmine.so. The folder's README.md has the same steps.
            """
        )

        @Argument(help: ArgumentHelp("The plugin's name: lib<name>.so, id org.example.<kind>.<name>.", valueName: "name"))
        var name: String
        @Option(help: ArgumentHelp("The language: c (a Makefile) or swift (a SwiftPM package).", valueName: "c|swift"))
        var lang: PluginScaffold.Language
        @Option(help: ArgumentHelp("What the plugin is.", valueName: "reward|pooling|contrastive"))
        var kind: PluginScaffold.Kind = .reward
        @Option(help: ArgumentHelp("The folder to write (default ./<name>); it must not exist or be empty.", valueName: "dir"))
        var out: String?

        func validate() throws {
            _ = try PluginName(name)
        }

        func run() throws {
            let scaffold = PluginScaffold(name: try PluginName(name), language: lang, kind: kind)
            // "mine/" and "mine" are one folder; the printed paths join it with "/".
            var folder = out ?? name
            while folder.count > 1 && folder.hasSuffix("/") { folder.removeLast() }
            try Self.write(scaffold.files, into: folder)
            print("Wrote a \(lang == .c ? "C" : "Swift") \(kind.rawValue) plugin, \(scaffold.id), into \(folder)/:")
            for file in scaffold.files { print("  \(file.path)") }
            print("")
            print("Next:")
            for line in Self.nextSteps(scaffold, folder: folder) { print("  \(line)") }
        }

        /// The commands to run from here: build, check, train, compare.
        static func nextSteps(_ scaffold: PluginScaffold, folder: String) -> [String] {
            let library = folder + "/" + scaffold.library
            let workbench = invokedAs()
            let build = scaffold.language == .c ? "make -C \(shellQuoted(folder))" : "swift build -c release --package-path \(shellQuoted(folder))"
            let algo = scaffold.kind == .reward ? "reft" : "carft"
            return [
                build,
                "\(workbench) plugin check \(shellQuoted(library))",
                "\(workbench) rl --algo \(algo) --init runs/default/final --plugin \(shellQuoted(library)) --out runs/\(scaffold.name)",
                "\(workbench) --plugin \(shellQuoted(library))        # against the built-in \(scaffold.kind.rawValue), over seeds",
            ]
        }

        /// This binary as the user can type it from the same folder: its path when it was run by
        /// path (made absolute, so it survives a cd), else `workbench` from PATH.
        static func invokedAs() -> String {
            let argv0 = CommandLine.arguments.first ?? "workbench"
            guard argv0.contains("/") else { return "workbench" }
            let absolute = argv0.hasPrefix("/") ? argv0 : FileManager.default.currentDirectoryPath + "/" + argv0
            return shellQuoted(URL(fileURLWithPath: absolute).standardizedFileURL.path)
        }

        static func shellQuoted(_ s: String) -> String {
            let plain = s.unicodeScalars.allSatisfy { $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || "/._-+:@=,".unicodeScalars.contains($0)) }
            return plain ? s : "'" + s.replacingOccurrences(of: "'", with: "'\\''") + "'"
        }

        /// Writes the files under `folder`, which must not exist or be an empty folder: a plugin
        /// folder written over another's files would mix the two.
        static func write(_ files: [PluginScaffold.File], into folder: String) throws {
            let fm = FileManager.default
            var isDirectory: ObjCBool = false
            if fm.fileExists(atPath: folder, isDirectory: &isDirectory) {
                guard isDirectory.boolValue else {
                    throw CLIError("\(folder) exists and is not a folder; choose another --out")
                }
                let entries = (try? fm.contentsOfDirectory(atPath: folder)) ?? []
                guard entries.isEmpty else {
                    throw CLIError("\(folder) already exists and is not empty (\(entries.count) entr\(entries.count == 1 ? "y" : "ies"), e.g. \(entries.sorted()[0])); choose another --out, or move it away first: plugin new never writes over files")
                }
            }
            for file in files {
                let path = folder + "/" + file.path
                do {
                    try fm.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
                    try Data(file.contents).write(to: URL(fileURLWithPath: path))
                } catch {
                    throw CLIError("could not write \(path): \(error.localizedDescription); check that \(folder) is writable")
                }
            }
        }
    }
}
