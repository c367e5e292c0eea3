import BuiltinPlugins
import PluginABI

/// The built-in plugins as a plugin library of their own, libworkbench_builtins.so, so that any
/// host speaking the ABI (the Python bridge in python/, another trainer) loads the same rewards,
/// poolings and contrastive losses `workbench rl` uses, through the same entry symbol.
@_cdecl("workbench_plugin_entry_v1")
public func workbenchBuiltinsEntry(_ info: UnsafePointer<wb_host_info>?) -> UnsafePointer<wb_library>? {
    if let info, info.pointee.abi_major != UInt32(WB_ABI_MAJOR) {
        info.pointee.error?(info, "workbench's built-in plugins speak plugin ABI \(WB_ABI_MAJOR).\(WB_ABI_MINOR), the host \(info.pointee.abi_major).\(info.pointee.abi_minor)")
        return nil
    }
    return BuiltinPlugins.library
}
