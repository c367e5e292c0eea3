#if canImport(Glibc)
import Glibc
#endif
import Engine
import PluginABI

/// `--reward-fn lib.so:symbol:signature` as a reward plugin. The host builds this descriptor
/// itself, because calling a function of any signature needs libffi, which plugins do not link.
/// Past the descriptor the C function is a reward like every other: a `PluginReward` whose calls
/// are watched (`--plugin-timeout`, crash reports name the symbol), whose scores are checked
/// finite, and which the trainer cannot tell from a built-in.
///
/// Its one config key, `function`, is the `--reward-fn` value; create looks the symbol up and
/// prepares the libffi call, so a missing library or symbol fails before any training.
enum FFIRewardPlugin {
    static let id = "org.workbench.reward.c-function"
    /// Where the plugin comes from, in error messages ("--reward-fn: plugin ...: ...").
    static let origin = "--reward-fn"

    /// The reward for one `--reward-fn` value.
    static func reward(_ spec: FFIRewardSpec) throws -> PluginReward {
        try PluginReward(PluginDescriptor(descriptor, library: origin), config: ["function": spec.description])
    }

    /// What the instance pointer points at: the prepared call and the host to report errors to.
    final class Instance {
        let function: FFIRewardCall
        let host: UnsafePointer<wb_host>?

        init(_ function: FFIRewardCall, host: UnsafePointer<wb_host>?) {
            self.function = function
            self.host = host
        }
    }

    private static func report(_ host: UnsafePointer<wb_host>?, _ message: String, _ status: Int) -> wb_status {
        if let host, let sink = host.pointee.error { message.withCString { sink(host, $0) } }
        return wb_status(status)
    }

    private static let create: @convention(c) (UnsafePointer<wb_plugin_descriptor>?, UnsafePointer<wb_host>?, UInt32,
                                               UnsafePointer<UnsafePointer<CChar>?>?, UnsafePointer<UnsafePointer<CChar>?>?,
                                               UnsafeMutablePointer<UnsafeMutableRawPointer?>?) -> wb_status = { _, host, count, keys, values, out in
        guard let out, let keys, let values else { return report(host, "create got a NULL argument", WB_ERROR_INVALID_ARGUMENT) }
        // The host resolves every declared key before create, so `function` is here (maybe empty).
        var text = ""
        for i in 0..<Int(count) where keys[i].map({ String(cString: $0) }) == "function" {
            text = values[i].map { String(cString: $0) } ?? ""
        }
        guard !text.isEmpty else {
            return report(host, "no C function given; set function=\"lib.so:symbol:signature\" (what --reward-fn takes)", WB_ERROR_CONFIG)
        }
        do {
            let function = try FFIRewardCall(spec: FFIRewardSpec(parsing: text))
            out.pointee = Unmanaged.passRetained(Instance(function, host: host)).toOpaque()
            return wb_status(WB_OK)
        } catch {
            return report(host, "\(error)", WB_ERROR_CONFIG)
        }
    }

    private static let destroy: @convention(c) (UnsafeMutableRawPointer?) -> Void = { instance in
        guard let instance else { return }
        Unmanaged<Instance>.fromOpaque(instance).release()
    }

    private static let score: @convention(c) (UnsafeMutableRawPointer?, UnsafePointer<wb_reward_batch>?, UnsafeMutablePointer<Float>?) -> wb_status = { instance, batch, out in
        guard let instance else { return wb_status(WB_ERROR_INVALID_ARGUMENT) }
        let me = Unmanaged<Instance>.fromOpaque(instance).takeUnretainedValue()
        guard let b = batch?.pointee, let out, let prompts = b.prompts, let completions = b.completions,
              let golds = b.gold_answers, let goldValues = b.gold_values else {
            return report(me.host, "score got a NULL batch, output or string array", WB_ERROR_INVALID_ARGUMENT)
        }
        let n = Int(b.count)
        do {
            for i in 0..<n {
                out[i] = try me.function.score(prompt: prompts[i], completion: completions[i], gold: golds[i], goldValue: goldValues[i],
                                               rollout: i, of: n)
            }
            return wb_status(WB_OK)
        } catch {
            return report(me.host, "\(error)", WB_ERROR)
        }
    }

    /// The descriptor, in never-freed memory as the header requires of every descriptor.
    static let descriptor: UnsafePointer<wb_plugin_descriptor> = {
        func keep<T>(_ value: T) -> UnsafePointer<T> {
            let p = UnsafeMutablePointer<T>.allocate(capacity: 1)
            p.initialize(to: value)
            return UnsafePointer(p)
        }
        func string(_ s: String) -> UnsafePointer<CChar> { UnsafePointer(strdup(s)!) }
        let key = keep(wb_config_key(struct_size: UInt32(MemoryLayout<wb_config_key>.size), type: UInt32(WB_CONFIG_STRING),
                                     name: string("function"), default_value: string(""),
                                     help: string("the C function as lib.so:symbol:signature, e.g. ./libmine.so:score:f64(str,str)"),
                                     choices: nil))
        let keys = UnsafeMutablePointer<UnsafePointer<wb_config_key>?>.allocate(capacity: 1)
        keys.initialize(to: key)
        let functions = keep(wb_reward_functions(struct_size: UInt32(MemoryLayout<wb_reward_functions>.size), score: score))
        return keep(wb_plugin_descriptor(
            struct_size: UInt32(MemoryLayout<wb_plugin_descriptor>.size), abi_major: UInt32(WB_ABI_MAJOR),
            abi_minor: UInt32(WB_ABI_MINOR), kind: UInt32(WB_KIND_REWARD), id: string(id), version: string("1.0.0"),
            summary: string("one exported C function with a plain signature, called through libffi once per rollout"),
            config_key_count: 1, reserved: 0, config_keys: UnsafePointer(keys), create: create, destroy: destroy,
            functions: UnsafeRawPointer(functions), get_extension: nil))
    }()
}
