import BuiltinPlugins
import Engine
import Foundation
import PluginABI

/// Opens plugin libraries and hands their validated tables to the Engine, which never opens
/// anything itself. Every failure names the file and says what to do.
///
/// Libraries are never dlclosed (`SharedLibrary`): a Swift plugin's type metadata stays
/// registered with the runtime after dlclose, and a later dynamic cast that walks the
/// conformance tables crashes (seen on Swift 6.3.1).
enum PluginLoader {
    /// What `workbench plugin list builtin` and friends name instead of a path.
    static let builtinName = "builtin"

    /// Libraries loaded so far, by the path the user gave; loading one twice returns the first
    /// table (the entry function runs once per process, as the header promises).
    nonisolated(unsafe) private static var loaded: [String: PluginLibrary] = [:]

    /// The built-ins, or the library at `spec`.
    static func library(_ spec: String) throws -> PluginLibrary {
        if spec == builtinName { return try PluginLibrary(table: BuiltinPlugins.library, name: builtinName) }
        return try load(spec)
    }

    /// Loading is meant for the main thread, but tests load from several; the lock keeps the
    /// cache and the entry's message list consistent.
    private static let lock = NSLock()

    static func load(_ path: String) throws -> PluginLibrary {
        lock.lock()
        defer { lock.unlock() }
        if let library = loaded[path] { return library }
        func fail(_ message: String, _ remedy: String) -> PluginError { PluginError(library: path, message: message, remedy: remedy) }
        let build = "build it with `cc -shared -fPIC -std=c11 -I include -o lib<name>.so <name>.c` (C) or `swift build -c release` (a Swift plugin's .dynamic product)"
        let handle: UnsafeMutableRawPointer
        switch SharedLibrary.open(path) {
        case .success(let h): handle = h
        case .failure(.missing): throw fail("no such file", "check the path, or build the plugin first (see its README)")
        case .failure(.folder): throw fail("is a folder, not a shared library", "give the path of the plugin's .so file")
        case .failure(.notLoadable(let reason)):
            if reason.contains("undefined symbol") {
                throw fail("cannot be loaded: \(reason)", "link the plugin with the libraries it uses, or define the missing symbol")
            }
            throw fail("is not a loadable shared library (\(reason))", build)
        }
        guard let symbol = dlsym(handle, WB_ENTRY_SYMBOL) else {
            // An entry for another major is a plugin this workbench cannot speak to, not a non-plugin.
            for major in [0] + Array(2...9) where dlsym(handle, "workbench_plugin_entry_v\(major)") != nil {
                throw fail("is built for plugin ABI \(major) (it exports workbench_plugin_entry_v\(major)), but this workbench speaks ABI \(WB_ABI_MAJOR).\(WB_ABI_MINOR)",
                            "rebuild the plugin against this workbench's include/workbench_plugin.h, or use a workbench that speaks ABI \(major)")
            }
            throw fail("is a shared library but not a workbench plugin: it exports no \(WB_ENTRY_SYMBOL)",
                       "define `WB_EXPORT const wb_library* \(WB_ENTRY_SYMBOL)(const wb_host_info*)` as include/workbench_plugin.h shows (with @_cdecl and `public` in Swift)")
        }
        let entry = unsafeBitCast(symbol, to: wb_entry_function.self)
        entryMessages = []
        var info = wb_host_info(struct_size: UInt32(MemoryLayout<wb_host_info>.size), abi_major: UInt32(WB_ABI_MAJOR),
                                abi_minor: UInt32(WB_ABI_MINOR), host_name: nil, host_version: nil, error: entryErrorSink)
        let table = hostName.withCString { name in
            hostVersion.withCString { version in
                info.host_name = name
                info.host_version = version
                return PluginCallRecord.during(plugin: "", library: path, function: WB_ENTRY_SYMBOL) { entry(&info) }
            }
        }
        guard let table else {
            let said = entryMessages.isEmpty ? "and gave no reason" : "saying: " + entryMessages.joined(separator: "; ")
            throw fail("its \(WB_ENTRY_SYMBOL) returned NULL (no plugin table) \(said)",
                       "the library refuses this host; rebuild it against this workbench's include/workbench_plugin.h")
        }
        let library = try PluginLibrary(table: table, name: path)
        loaded[path] = library
        ReservedPluginIDs.warn(library)
        return library
    }

    static let hostName = "workbench"
    static let hostVersion = "0.4.0"

    /// Messages the entry function sends through wb_host_info.error. The entry runs on the main
    /// thread, once per library, so one list suffices.
    nonisolated(unsafe) static var entryMessages: [String] = []
}

private let entryErrorSink: @convention(c) (UnsafePointer<wb_host_info>?, UnsafePointer<CChar>?) -> Void = { _, message in
    PluginLoader.entryMessages.append(message.map { String(cString: $0) } ?? "(a NULL message)")
}
