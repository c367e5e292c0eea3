/// The key=value pairs create received, checked against the plugin's declared keys. The host
/// already rejects unknown keys and ill-typed values, but a built-in is a plugin like any other
/// and does not rely on it: a key it does not declare, a value that does not parse, or a value
/// out of range fails create with WB_ERROR_CONFIG and a message naming the key.
struct BuiltinConfig {
    private var values: [String: String] = [:]
    let specs: [ConfigKeySpec]

    /// Reads `count` pairs; declared keys that are absent take their defaults.
    init(count: UInt32, keys: UnsafePointer<UnsafePointer<CChar>?>?, values raw: UnsafePointer<UnsafePointer<CChar>?>?,
         specs: [ConfigKeySpec]) throws {
        self.specs = specs
        if count > 0 && (keys == nil || raw == nil) {
            throw PluginFailure.config("create got \(count) config pairs but NULL keys or values")
        }
        for i in 0..<Int(count) {
            guard let k = keys![i], let v = raw![i] else { throw PluginFailure.config("config pair \(i) has a NULL key or value") }
            let key = String(cString: k)
            guard specs.contains(where: { $0.name == key }) else {
                let known = specs.isEmpty ? "this plugin takes no config keys" : "its keys are " + specs.map(\.name).joined(separator: ", ")
                throw PluginFailure.config("unknown config key '\(key)'; \(known)")
            }
            values[key] = String(cString: v)
        }
        for spec in specs where values[spec.name] == nil { values[spec.name] = spec.defaultValue }
    }

    private func spec(_ name: String) -> ConfigKeySpec {
        guard let s = specs.first(where: { $0.name == name }) else { preconditionFailure("built-in reads undeclared config key '\(name)'") }
        return s
    }

    /// A finite FLOAT key.
    func float(_ name: String) throws -> Float {
        let text = values[name]!
        guard let d = Double(text), d.isFinite, Float(d).isFinite else {
            throw PluginFailure.config("config key '\(name)' must be a finite number such as \(spec(name).defaultValue), not '\(text)'")
        }
        return Float(d)
    }

    /// A BOOL key ("true" / "false", as the host normalises them).
    func bool(_ name: String) throws -> Bool {
        switch values[name]!.lowercased() {
        case "true": return true
        case "false": return false
        case let text: throw PluginFailure.config("config key '\(name)' must be true or false, not '\(text)'")
        }
    }

    /// A STRING key restricted to its choices, mapped to a Swift enum.
    func choice<E: RawRepresentable>(_ name: String, as _: E.Type) throws -> E where E.RawValue == String {
        let text = values[name]!
        guard let e = E(rawValue: text) else {
            throw PluginFailure.config("config key '\(name)' must be one of \((spec(name).choices ?? []).joined(separator: ", ")), not '\(text)'")
        }
        return e
    }
}
