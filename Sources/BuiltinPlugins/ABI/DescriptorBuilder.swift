import PluginABI

/// The C signature of wb_plugin_descriptor.create, as Swift imports it.
typealias CreateFunction = @convention(c) (UnsafePointer<wb_plugin_descriptor>?, UnsafePointer<wb_host>?, UInt32,
                                           UnsafePointer<UnsafePointer<CChar>?>?, UnsafePointer<UnsafePointer<CChar>?>?,
                                           UnsafeMutablePointer<UnsafeMutableRawPointer?>?) -> wb_status

/// The C signature of wb_plugin_descriptor.get_extension.
typealias GetExtensionFunction = @convention(c) (UnsafePointer<wb_plugin_descriptor>?, UnsafePointer<CChar>?) -> UnsafeRawPointer?

/// Builds a built-in's wb_plugin_descriptor exactly as a C plugin declares its static one:
/// struct sizes of this header, ABI 1.0, every string and table in never-freed memory.
enum DescriptorBuilder {
    /// Every built-in's own version.
    static let version = "1.0.0"

    static func descriptor(kind: Int, id: String, summary: String, keys: [ConfigKeySpec],
                           create: CreateFunction, functions: UnsafeRawPointer,
                           getExtension: GetExtensionFunction? = nil) -> UnsafePointer<wb_plugin_descriptor> {
        let cKeys = keys.map { k in
            CMemory.keep(wb_config_key(struct_size: UInt32(MemoryLayout<wb_config_key>.size), type: UInt32(k.abiType),
                                       name: CMemory.string(k.name), default_value: CMemory.string(k.defaultValue),
                                       help: CMemory.string(k.help),
                                       choices: k.choices.map { CMemory.string($0.joined(separator: "|")) }))
        }
        return CMemory.keep(wb_plugin_descriptor(
            struct_size: UInt32(MemoryLayout<wb_plugin_descriptor>.size), abi_major: UInt32(WB_ABI_MAJOR),
            abi_minor: UInt32(WB_ABI_MINOR), kind: UInt32(kind), id: CMemory.string(id), version: CMemory.string(version),
            summary: CMemory.string(summary), config_key_count: UInt32(keys.count), reserved: 0,
            config_keys: CMemory.array(cKeys), create: create, destroy: BuiltinCall.destroy, functions: functions,
            get_extension: getExtension))
    }
}
