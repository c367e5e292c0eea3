import PluginABI

/// The validated table a library's entry function returned: its plugins' descriptors. The
/// Engine never opens libraries itself; the host (dlopen) or the built-ins hand it the table.
public struct PluginLibrary: @unchecked Sendable {
    /// The library path as the user gave it, or "builtin".
    public let name: String
    public let abiMinor: Int
    public let plugins: [PluginDescriptor]

    /// Validates the table and every descriptor in it; the first problem found is thrown.
    public init(table: UnsafePointer<wb_library>, name: String) throws {
        self.name = name
        let (t, size) = ABIStruct.read(table)
        guard t.abi_major == UInt32(WB_ABI_MAJOR) else {
            throw PluginError(library: name, message: "its plugin table is for plugin ABI \(t.abi_major).\(t.abi_minor), but this workbench speaks ABI \(WB_ABI_MAJOR).\(WB_ABI_MINOR)",
                              remedy: "rebuild the plugin against this workbench's include/workbench_plugin.h")
        }
        guard size >= ABIStruct.end(of: \wb_library.plugins) else {
            throw PluginError(library: name, message: "its wb_library.struct_size is \(size), smaller than the \(ABIStruct.end(of: \wb_library.plugins)) bytes of ABI \(WB_ABI_MAJOR).0",
                              remedy: "set struct_size = sizeof(wb_library) and rebuild")
        }
        abiMinor = Int(t.abi_minor)
        let count = Int(t.plugin_count)
        guard count == 0 || t.plugins != nil else {
            throw PluginError(library: name, message: "its table says \(count) plugins but the plugins array is NULL", remedy: "fix the wb_library in the plugin's source and rebuild")
        }
        var plugins: [PluginDescriptor] = []
        for i in 0..<count {
            guard let p = t.plugins![i] else {
                throw PluginError(library: name, message: "plugins[\(i)] is NULL", remedy: "fix the wb_library in the plugin's source and rebuild")
            }
            let d = try PluginDescriptor(p, library: name, index: i)
            if plugins.contains(where: { $0.id == d.id }) {
                throw PluginError(library: name, plugin: d.id, message: "two plugins in the library share this id", remedy: "give each plugin its own id")
            }
            plugins.append(d)
        }
        self.plugins = plugins
    }

    /// The plugin with this id, or an error listing the ids the library has.
    public func plugin(_ id: String) throws -> PluginDescriptor {
        if let d = plugins.first(where: { $0.id == id }) { return d }
        let known = plugins.isEmpty ? "it holds no plugins" : "it holds " + plugins.map(\.id).joined(separator: ", ")
        throw PluginError(library: name, message: "no plugin with the id '\(id)'; \(known)", remedy: "check the id against those")
    }
}
