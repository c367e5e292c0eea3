import PluginABI

extension BuiltinPlugins {
    /// The built-in plugins' descriptors, in the order `workbench plugin list builtin` shows them.
    /// Each built-in registers here; the table below is what the Engine validates, exactly as
    /// it validates a loaded library's, so built-ins get no special path.
    static var descriptors: [UnsafePointer<wb_plugin_descriptor>] {
        [
            ExactReward.descriptor,
            ReFTPartialReward.descriptor,
            ReFTPartialReward.equationCheckedDescriptor,
            CARFTEmbeddingReward.descriptor,
            SoftmaxValuesPoolingPlugin.descriptor,
            MeanPoolingPlugin.descriptor,
            LastTokenPoolingPlugin.descriptor,
            InfoNCEPositivePlugin.descriptor,
            LCSNegativePlugin.descriptor,
        ]
    }

    /// The built-ins' plugin table, as a loaded library's entry function would return it.
    /// Allocated once and never freed: descriptors must live as long as the process.
    public static let library: UnsafePointer<wb_library> = {
        let list = descriptors
        let plugins = UnsafeMutablePointer<UnsafePointer<wb_plugin_descriptor>?>.allocate(capacity: max(1, list.count))
        for (i, d) in list.enumerated() { (plugins + i).initialize(to: d) }
        let table = UnsafeMutablePointer<wb_library>.allocate(capacity: 1)
        table.initialize(to: wb_library(struct_size: UInt32(MemoryLayout<wb_library>.size), abi_major: UInt32(WB_ABI_MAJOR),
                                        abi_minor: UInt32(WB_ABI_MINOR), plugin_count: UInt32(list.count),
                                        plugins: UnsafePointer(plugins)))
        return UnsafePointer(table)
    }()
}
