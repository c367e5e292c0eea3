import PluginABI

// The library's static data: built once on first use, never freed (the host never unloads
// a library). Strings are StaticString literals, which live in the binary.

func text(_ s: StaticString) -> UnsafePointer<CChar> {
    UnsafeRawPointer(s.utf8Start).assumingMemoryBound(to: CChar.self)
}

func keep<T>(_ value: T) -> UnsafePointer<T> {
    let p = UnsafeMutablePointer<T>.allocate(capacity: 1)
    p.initialize(to: value)
    return UnsafePointer(p)
}

func key(_ type: Int, _ name: StaticString, _ def: StaticString, _ help: StaticString, choices: StaticString? = nil) -> UnsafePointer<wb_config_key>? {
    keep(wb_config_key(struct_size: UInt32(MemoryLayout<wb_config_key>.size), type: UInt32(type), name: text(name),
                       default_value: text(def), help: text(help), choices: choices.map(text)))
}

let keys: [UnsafePointer<wb_config_key>?] = [
    key(WB_CONFIG_STRING, "similarity", "cosine", "cosine (reference code) or raw inner product (paper)", choices: "cosine|dot"),
    key(WB_CONFIG_FLOAT, "tau", "0.2", "temperature: logits are similarity / tau (> 0)"),
    key(WB_CONFIG_FLOAT, "positive-clamp", "0.9", "clamp of the anchor-positive cosine, no gradient above it; >= 1 turns it off"),
    key(WB_CONFIG_BOOL, "detach-denominator", "true", "true (reference): no gradient to the candidates through the log-sum-exp"),
    key(WB_CONFIG_STRING, "reduction", "mean", "mean over the wrong rollouts (reference) or their sum (paper)", choices: "mean|sum"),
    key(WB_CONFIG_STRING, "lcs-scope", "cot", "LCS over the CoT tokens (cot) or over prompt + CoT (sequence)", choices: "cot|sequence"),
]

let keyArray: UnsafePointer<UnsafePointer<wb_config_key>?> = {
    let p = UnsafeMutablePointer<UnsafePointer<wb_config_key>?>.allocate(capacity: keys.count)
    p.initialize(from: keys, count: keys.count)
    return UnsafePointer(p)
}()

let functionTable = keep(functions)

let descriptor = keep(wb_plugin_descriptor(
    struct_size: UInt32(MemoryLayout<wb_plugin_descriptor>.size), abi_major: UInt32(WB_ABI_MAJOR), abi_minor: UInt32(WB_ABI_MINOR),
    kind: UInt32(WB_KIND_CONTRASTIVE), id: text("org.example.contrastive.negsignal"), version: text("1.0.0"),
    summary: text("CARFT's LCS negative signal as an external Swift plugin (own O(n·m) LCS)"),
    config_key_count: UInt32(keys.count), reserved: 0, config_keys: keyArray,
    create: { _, host, count, names, values, out in
        guard let out else { return wb_status(WB_ERROR_INVALID_ARGUMENT) }
        let n = Int(count)
        let k = (0..<n).map { names?[$0].map { String(cString: $0) } ?? "" }
        let v = (0..<n).map { values?[$0].map { String(cString: $0) } ?? "" }
        do {
            let instance = NegSignal(options: try Options(keys: k, values: v), host: host)
            out.pointee = Unmanaged.passRetained(instance).toOpaque()
            return wb_status(WB_OK)
        } catch {
            let message = (error as? Options.Failure)?.message ?? "\(error)"
            if let host, let sink = host.pointee.error { message.withCString { sink(host, $0) } }
            return wb_status(WB_ERROR_CONFIG)
        }
    },
    destroy: { instance in
        if let instance { Unmanaged<NegSignal>.fromOpaque(instance).release() }
    },
    functions: UnsafeRawPointer(functionTable),
    // detach-denominator=true stops gradients on purpose; with it off backward is the exact
    // gradient, so `workbench plugin check` compares finite differences under that config.
    get_extension: { _, id in
        guard let id, String(cString: id) == WB_EXT_GRADIENT_CHECK_CONFIG else { return nil }
        return UnsafeRawPointer(text("detach-denominator=false"))
    }))

let library = keep(wb_library(struct_size: UInt32(MemoryLayout<wb_library>.size), abi_major: UInt32(WB_ABI_MAJOR),
                              abi_minor: UInt32(WB_ABI_MINOR), plugin_count: 1,
                              plugins: keep(Optional(descriptor))))

/// The entry the host looks up with dlsym. `public`, or an optimised build drops the symbol.
@_cdecl("workbench_plugin_entry_v1")
public func workbenchPluginEntryV1(_ info: UnsafePointer<wb_host_info>?) -> UnsafePointer<wb_library>? {
    if let info, info.pointee.abi_major != UInt32(WB_ABI_MAJOR) {
        "negsignal is built for plugin ABI 1".withCString { message in info.pointee.error?(info, message) }
        return nil
    }
    return library
}
