import PluginABI

/// What a plugin is for (WB_KIND_*).
public enum PluginKind: Int, Sendable, CustomStringConvertible {
    case reward = 1, pooling = 2, contrastive = 3

    public var description: String {
        switch self {
        case .reward: "reward"
        case .pooling: "pooling"
        case .contrastive: "contrastive"
        }
    }
}

/// A validated Swift view of one C plugin descriptor. Validation happens once, here, so the
/// wrappers can call the plugin's functions without re-checking them: every required function is
/// present, every string readable, every declared default parses as its type. The pointer stays
/// valid for the life of the process (libraries are never unloaded; built-ins are static).
public struct PluginDescriptor: @unchecked Sendable {
    public let pointer: UnsafePointer<wb_plugin_descriptor>
    /// The library path as the user gave it, or "builtin".
    public let library: String
    public let kind: PluginKind
    public let id: String
    public let version: String
    public let summary: String
    public let abiMinor: Int
    public let configKeys: [PluginConfigKey]
    /// The descriptor as read (truncated to its struct_size, zero beyond).
    let raw: wb_plugin_descriptor
    /// The kind's function table, read the same way; exactly one is non-nil.
    let rewardFunctions: wb_reward_functions?
    let poolingFunctions: wb_pooling_functions?
    let contrastiveFunctions: wb_contrastive_functions?

    /// Validates the descriptor at `pointer`. `library` names where it came from in errors;
    /// `index` is its position in the library's table, for errors before the id is known.
    public init(_ pointer: UnsafePointer<wb_plugin_descriptor>, library: String, index: Int = 0) throws {
        self.pointer = pointer
        self.library = library
        let (d, size) = ABIStruct.read(pointer)
        raw = d
        let rebuild = "fix the descriptor in the plugin's source and rebuild it (the rules are in include/workbench_plugin.h)"
        func fail(_ message: String, plugin: String? = nil) -> PluginError {
            PluginError(library: library, plugin: plugin ?? "#\(index)", message: message, remedy: rebuild)
        }
        // The major is checked first: a different major means every other field may mean something else.
        guard d.abi_major == UInt32(WB_ABI_MAJOR) else {
            throw PluginError(library: library, plugin: cString(size >= ABIStruct.end(of: \wb_plugin_descriptor.id) ? d.id : nil) ?? "#\(index)",
                              message: "built for plugin ABI \(d.abi_major).\(d.abi_minor), but this workbench speaks ABI \(WB_ABI_MAJOR).\(WB_ABI_MINOR)",
                              remedy: "rebuild the plugin against this workbench's include/workbench_plugin.h")
        }
        let required = ABIStruct.end(of: \wb_plugin_descriptor.functions)
        guard size >= required else {
            throw fail("its struct_size is \(size) bytes, smaller than the \(required) every ABI \(WB_ABI_MAJOR).x descriptor has")
        }
        guard let id = cString(d.id), Self.isReverseDNS(id) else {
            throw fail("its id \(cString(d.id).map { "'\($0)'" } ?? "is NULL and") is not a reverse-DNS name such as org.example.reward.mine")
        }
        self.id = id
        guard let kind = PluginKind(rawValue: Int(d.kind)) else {
            throw fail("its kind is \(d.kind); it must be WB_KIND_REWARD (1), WB_KIND_POOLING (2) or WB_KIND_CONTRASTIVE (3)", plugin: id)
        }
        self.kind = kind
        guard let version = cString(d.version), !version.isEmpty else { throw fail("its version string is NULL or empty", plugin: id) }
        self.version = version
        guard let summary = cString(d.summary) else { throw fail("its summary is NULL", plugin: id) }
        self.summary = summary
        abiMinor = Int(d.abi_minor)
        configKeys = try Self.readKeys(d, fail: { fail($0, plugin: id) })
        func missing(_ name: String, _ all: String) -> PluginError {
            PluginError(library: library, plugin: id,
                        message: "the required function \(name) is missing (NULL); a \(kind) plugin must provide \(all)",
                        remedy: "implement it and set it in the descriptor, then rebuild")
        }
        guard d.create != nil else { throw missing("create", "create and destroy") }
        guard d.destroy != nil else { throw missing("destroy", "create and destroy") }
        guard let table = d.functions else { throw missing("functions (the \(kind) function table)", "its function table") }
        var reward: wb_reward_functions?, pooling: wb_pooling_functions?, contrastive: wb_contrastive_functions?
        switch kind {
        case .reward:
            let (f, n) = ABIStruct.read(table.assumingMemoryBound(to: wb_reward_functions.self))
            guard n >= ABIStruct.end(of: \wb_reward_functions.score) else { throw fail("its wb_reward_functions.struct_size is \(n), too small to hold score", plugin: id) }
            guard f.score != nil else { throw missing("score", "score") }
            reward = f
        case .pooling:
            let (f, n) = ABIStruct.read(table.assumingMemoryBound(to: wb_pooling_functions.self))
            guard n >= ABIStruct.end(of: \wb_pooling_functions.backward) else { throw fail("its wb_pooling_functions.struct_size is \(n), too small to hold forward and backward", plugin: id) }
            guard f.forward != nil else { throw missing("forward", "forward and backward") }
            guard f.backward != nil else { throw missing("backward", "forward and backward") }
            pooling = f
        case .contrastive:
            let (f, n) = ABIStruct.read(table.assumingMemoryBound(to: wb_contrastive_functions.self))
            guard n >= ABIStruct.end(of: \wb_contrastive_functions.backward) else { throw fail("its wb_contrastive_functions.struct_size is \(n), too small to hold all five functions", plugin: id) }
            let all = "view_count, view_source, select, forward and backward"
            guard f.view_count != nil else { throw missing("view_count", all) }
            guard f.view_source != nil else { throw missing("view_source", all) }
            guard f.select != nil else { throw missing("select", all) }
            guard f.forward != nil else { throw missing("forward", all) }
            guard f.backward != nil else { throw missing("backward", all) }
            contrastive = f
        }
        rewardFunctions = reward
        poolingFunctions = pooling
        contrastiveFunctions = contrastive
    }

    /// An error about this plugin, in the common format.
    public func error(_ message: String, remedy: String = "") -> PluginError {
        PluginError(library: library, plugin: id, message: message, remedy: remedy)
    }

    /// The optional-feature lookup, when the descriptor has one (it is absent from descriptors
    /// shorter than the field, i.e. built against an older minor version).
    public func getExtension(_ extensionID: String) -> UnsafeRawPointer? {
        guard let f = raw.get_extension else { return nil }
        return PluginCallRecord.during(self, "get_extension") { f(pointer, extensionID) }
    }

    /// The config pairs under which the plugin's backward is the exact gradient of its forward
    /// (WB_EXT_GRADIENT_CHECK_CONFIG), for a plugin that stops gradients on purpose; nil if none.
    public var gradientCheckConfig: String? {
        guard let p = getExtension(WB_EXT_GRADIENT_CHECK_CONFIG) else { return nil }
        return String(cString: p.assumingMemoryBound(to: CChar.self))
    }

    /// The extension id gradientCheckConfig reads, for messages.
    public static let gradientCheckExtension = WB_EXT_GRADIENT_CHECK_CONFIG

    /// Names such as org.workbench.reward.exact: dot-separated labels of letters, digits, '-'
    /// and '_', at least two of them.
    static func isReverseDNS(_ id: String) -> Bool {
        let labels = id.split(separator: ".", omittingEmptySubsequences: false)
        return labels.count >= 2 && labels.allSatisfy { label in
            !label.isEmpty && label.unicodeScalars.allSatisfy { $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || $0 == "-" || $0 == "_") }
        }
    }

    private static func readKeys(_ d: wb_plugin_descriptor, fail: (String) -> PluginError) throws -> [PluginConfigKey] {
        let count = Int(d.config_key_count)
        guard count > 0 else { return [] }
        guard let array = d.config_keys else { throw fail("config_key_count is \(count) but config_keys is NULL") }
        var keys: [PluginConfigKey] = []
        for i in 0..<count {
            guard let p = array[i] else { throw fail("config_keys[\(i)] is NULL") }
            let (k, size) = ABIStruct.read(p)
            guard size >= ABIStruct.end(of: \wb_config_key.help) else {
                throw fail("config_keys[\(i)].struct_size is \(size), too small to hold type, name, default_value and help")
            }
            guard let name = cString(k.name), !name.isEmpty,
                  name.unicodeScalars.allSatisfy({ $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || "-_.".unicodeScalars.contains($0)) })
            else { throw fail("config_keys[\(i)] has the name \(cString(k.name).map { "'\($0)'" } ?? "NULL"); names use letters, digits, '-', '_' and '.'") }
            guard !keys.contains(where: { $0.name == name }) else { throw fail("config key '\(name)' is declared twice") }
            guard let type = PluginConfigType(rawValue: Int(k.type)) else {
                throw fail("config key '\(name)' has type \(k.type); it must be WB_CONFIG_BOOL (1), WB_CONFIG_INT (2), WB_CONFIG_FLOAT (3) or WB_CONFIG_STRING (4)")
            }
            guard let defaultValue = cString(k.default_value) else { throw fail("config key '\(name)' has no default_value (NULL)") }
            var choices: [String]?
            if let c = cString(k.choices) {
                guard type == .string else { throw fail("config key '\(name)' lists choices but is a \(type); only string keys take choices") }
                choices = c.split(separator: "|").map(String.init)
                guard !(choices ?? []).isEmpty else { throw fail("config key '\(name)' has empty choices") }
            }
            let key = PluginConfigKey(name: name, type: type, defaultValue: defaultValue, help: cString(k.help) ?? "", choices: choices)
            guard key.normalize(defaultValue) != nil else {
                throw fail("config key '\(name)' has the default '\(defaultValue)', which is not a valid \(key.typeDescription)")
            }
            keys.append(key)
        }
        return keys
    }
}
