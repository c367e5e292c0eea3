import PluginABI

/// One config key of a built-in, declared once: the descriptor's wb_config_key is made from it
/// and create parses the value with it, so the two cannot drift apart.
struct ConfigKeySpec {
    enum KeyType { case bool, float, string(choices: [String]) }

    var name: String
    var type: KeyType
    var defaultValue: String
    var help: String

    static func float(_ name: String, _ defaultValue: String, _ help: String) -> ConfigKeySpec {
        ConfigKeySpec(name: name, type: .float, defaultValue: defaultValue, help: help)
    }
    static func bool(_ name: String, _ defaultValue: Bool, _ help: String) -> ConfigKeySpec {
        ConfigKeySpec(name: name, type: .bool, defaultValue: defaultValue ? "true" : "false", help: help)
    }
    static func choice(_ name: String, _ choices: [String], _ defaultValue: String, _ help: String) -> ConfigKeySpec {
        ConfigKeySpec(name: name, type: .string(choices: choices), defaultValue: defaultValue, help: help)
    }

    var abiType: Int {
        switch type {
        case .bool: WB_CONFIG_BOOL
        case .float: WB_CONFIG_FLOAT
        case .string: WB_CONFIG_STRING
        }
    }

    var choices: [String]? {
        if case .string(let c) = type { return c }
        return nil
    }
}
