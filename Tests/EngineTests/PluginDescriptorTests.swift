#if canImport(Glibc)
import Glibc
#endif
import PluginABI
import Testing
@testable import Engine
@testable import PluginHost

/// Descriptor validation and the checker, on descriptors built in Swift memory the way the
/// built-ins build theirs (no dlopen, no C compiler needed).
@Suite struct PluginDescriptorTests {
    /// A sum pooling: out[b] = Σ_t mask·x[b,t]; grad_tokens = mask·grad_out; grad_values = 0.
    static let forward: @convention(c) (UnsafeMutableRawPointer?, UnsafePointer<wb_pooling_batch>?, UnsafeMutablePointer<Float>?) -> wb_status = { _, b, out in
        let b = b!.pointee, (n, t, d) = (Int(b.batch), Int(b.tokens), Int(b.dim))
        for r in 0..<n {
            for k in 0..<d {
                var s: Float = 0
                for i in 0..<t where b.mask[r * t + i] != 0 { s += b.token_embeddings[(r * t + i) * d + k] }
                out![r * d + k] = s
            }
        }
        return wb_status(WB_OK)
    }
    static let backward: @convention(c) (UnsafeMutableRawPointer?, UnsafePointer<wb_pooling_batch>?, UnsafePointer<Float>?,
                                         UnsafeMutablePointer<Float>?, UnsafeMutablePointer<Float>?) -> wb_status = { _, b, g, gt, gv in
        let b = b!.pointee, (n, t, d) = (Int(b.batch), Int(b.tokens), Int(b.dim))
        for r in 0..<n {
            for i in 0..<t {
                gv?[r * t + i] = 0
                for k in 0..<d { gt?[(r * t + i) * d + k] = b.mask[r * t + i] != 0 ? g![r * d + k] : 0 }
            }
        }
        return wb_status(WB_OK)
    }
    static let create: @convention(c) (UnsafePointer<wb_plugin_descriptor>?, UnsafePointer<wb_host>?, UInt32,
                                       UnsafePointer<UnsafePointer<CChar>?>?, UnsafePointer<UnsafePointer<CChar>?>?,
                                       UnsafeMutablePointer<UnsafeMutableRawPointer?>?) -> wb_status = { _, _, _, _, _, out in
        out!.pointee = nil
        return wb_status(WB_OK)
    }
    static let destroy: @convention(c) (UnsafeMutableRawPointer?) -> Void = { _ in }

    /// Test memory is leaked on purpose: descriptors must outlive everything that saw them.
    static func key(_ name: String, _ type: Int, _ def: String, choices: String? = nil) -> UnsafePointer<wb_config_key>? {
        let k = UnsafeMutablePointer<wb_config_key>.allocate(capacity: 1)
        k.initialize(to: wb_config_key(struct_size: UInt32(MemoryLayout<wb_config_key>.size), type: UInt32(type), name: UnsafePointer(strdup(name)),
                                       default_value: UnsafePointer(strdup(def)), help: UnsafePointer(strdup("help")),
                                       choices: choices.map { UnsafePointer(strdup($0)) } ?? nil))
        return UnsafePointer(k)
    }

    static func descriptor(id: String = "org.test.pooling.sum", keys: [UnsafePointer<wb_config_key>?] = [],
                           edit: (inout wb_plugin_descriptor, inout wb_pooling_functions) -> Void = { _, _ in }) -> UnsafePointer<wb_plugin_descriptor> {
        var f = wb_pooling_functions(struct_size: UInt32(MemoryLayout<wb_pooling_functions>.size), flags: 0, forward: forward, backward: backward)
        let keyArray = UnsafeMutablePointer<UnsafePointer<wb_config_key>?>.allocate(capacity: max(1, keys.count))
        for (i, k) in keys.enumerated() { (keyArray + i).initialize(to: k) }
        var d = wb_plugin_descriptor(struct_size: UInt32(MemoryLayout<wb_plugin_descriptor>.size), abi_major: UInt32(WB_ABI_MAJOR),
                                     abi_minor: UInt32(WB_ABI_MINOR), kind: UInt32(WB_KIND_POOLING), id: UnsafePointer(strdup(id)),
                                     version: UnsafePointer(strdup("1.0")), summary: UnsafePointer(strdup("sum")),
                                     config_key_count: UInt32(keys.count), reserved: 0, config_keys: UnsafePointer(keyArray),
                                     create: create, destroy: destroy, functions: nil, get_extension: nil)
        edit(&d, &f)
        let fp = UnsafeMutablePointer<wb_pooling_functions>.allocate(capacity: 1)
        fp.initialize(to: f)
        if d.functions == nil && d.kind == UInt32(WB_KIND_POOLING) { d.functions = UnsafeRawPointer(fp) }
        let dp = UnsafeMutablePointer<wb_plugin_descriptor>.allocate(capacity: 1)
        dp.initialize(to: d)
        return UnsafePointer(dp)
    }

    func error(_ d: UnsafePointer<wb_plugin_descriptor>) -> String {
        do { _ = try PluginDescriptor(d, library: "libtest.so"); return "(valid)" } catch { return "\(error)" }
    }

    @Test func validDescriptorReadsBack() throws {
        let d = try PluginDescriptor(Self.descriptor(keys: [Self.key("similarity", WB_CONFIG_STRING, "cosine", choices: "cosine|dot"),
                                                             Self.key("tau", WB_CONFIG_FLOAT, "0.2")]), library: "builtin")
        #expect(d.id == "org.test.pooling.sum" && d.kind == .pooling && d.version == "1.0" && d.summary == "sum")
        #expect(d.configKeys.map(\.name) == ["similarity", "tau"])
        #expect(d.configKeys[0].choices == ["cosine", "dot"])
    }

    @Test func swiftMadePoolingPassesTheChecker() throws {
        let results = PluginChecker.check(try PluginDescriptor(Self.descriptor(), library: "builtin"))
        #expect(results.filter { !$0.passed }.isEmpty, "\(results.filter { !$0.passed })")
        #expect(results.contains { $0.check == "backward vs finite differences (values)" && $0.passed })
    }

    @Test func validationErrors() {
        #expect(error(Self.descriptor { d, _ in d.abi_major = 2 })
                == "libtest.so: plugin org.test.pooling.sum: built for plugin ABI 2.0, but this workbench speaks ABI 1.0; rebuild the plugin against this workbench's include/workbench_plugin.h")
        #expect(error(Self.descriptor { d, _ in d.struct_size = 16 }).contains("its struct_size is 16 bytes, smaller than the"))
        #expect(error(Self.descriptor { d, _ in d.kind = 9 }).contains("plugin org.test.pooling.sum: its kind is 9"))
        #expect(error(Self.descriptor(id: "sum")).contains("plugin #0: its id 'sum' is not a reverse-DNS name"))
        #expect(error(Self.descriptor(id: "org..sum")).contains("is not a reverse-DNS name"))
        #expect(error(Self.descriptor { _, f in f.backward = nil }).contains("the required function backward is missing (NULL); a pooling plugin must provide forward and backward"))
        #expect(error(Self.descriptor { d, _ in d.create = nil }).contains("the required function create is missing"))
        #expect(error(Self.descriptor { d, _ in d.version = nil }).contains("its version string is NULL or empty"))
        #expect(error(Self.descriptor(keys: [Self.key("tau", WB_CONFIG_FLOAT, "fast")]))
                .contains("config key 'tau' has the default 'fast', which is not a valid float"))
        #expect(error(Self.descriptor(keys: [Self.key("n", WB_CONFIG_INT, "1", choices: "1|2")])).contains("only string keys take choices"))
        #expect(error(Self.descriptor(keys: [Self.key("n", WB_CONFIG_INT, "1"), Self.key("n", WB_CONFIG_INT, "2")])).contains("config key 'n' is declared twice"))
        #expect(error(Self.descriptor(keys: [Self.key("n", 7, "1")])).contains("config key 'n' has type 7"))
        #expect(error(Self.descriptor(keys: [nil])).contains("config_keys[0] is NULL"))
    }

    @Test func wrongKindWrapperIsRefused() throws {
        let d = try PluginDescriptor(Self.descriptor(), library: "builtin")
        #expect(throws: PluginError.self) { _ = try PluginReward(d) }
    }

    /// Reward plugins get the gold answer as a dataset writes it (ReFTFormat.formatAnswer).
    @Test func goldText() {
        #expect(ReFTFormat.formatAnswer(42) == "42")
        #expect(ReFTFormat.formatAnswer(-3) == "-3")
        #expect(ReFTFormat.formatAnswer(2.75) == "2.75")
    }
}
