import Engine
import Foundation

/// Ids under `org.workbench.` name the built-ins. A library's plugin that takes one reads as a
/// built-in in banners, run.json and comparison tables, so loading it prints a warning: once
/// per id per process, since one process may load several libraries declaring the same id.
enum ReservedPluginIDs {
    static let prefix = "org.workbench."

    private static let lock = NSLock()
    nonisolated(unsafe) private static var warned: Set<String> = []

    /// Warns on stderr about each plugin of a loaded library (never the built-ins) in the prefix.
    static func warn(_ library: PluginLibrary) {
        for d in library.plugins where d.id.hasPrefix(prefix) {
            lock.lock()
            let first = warned.insert(d.id).inserted
            lock.unlock()
            if first { printErr(message(d)) }
        }
    }

    static func message(_ d: PluginDescriptor) -> String {
        let suggestion = "com.example." + d.id.dropFirst(prefix.count)
        return "warning: \(d.library): plugin \(d.id): ids starting with \(prefix) are reserved for workbench's built-in plugins; "
            + "give it an id under your own reverse-DNS prefix (such as \(suggestion)) so it cannot be taken for a built-in"
    }
}
