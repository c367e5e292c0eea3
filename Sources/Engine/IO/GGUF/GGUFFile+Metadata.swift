/// Typed access to metadata. The optional accessors return nil both for a missing key and for a
/// value of another kind; the `require…` ones throw an error that says which, for the keys a
/// model cannot load without.
extension GGUFFile {
    public func string(_ key: String) -> String? { metadata[key]?.stringValue }
    /// Any integer type, if the value fits in `Int`.
    public func int(_ key: String) -> Int? { metadata[key]?.intValue }
    /// A float32 or float64, widened to Double.
    public func float(_ key: String) -> Double? { metadata[key]?.floatValue }
    public func bool(_ key: String) -> Bool? { metadata[key]?.boolValue }

    /// An array whose every element is a string (an empty array of any element type gives []).
    public func stringArray(_ key: String) -> [String]? { array(key) { $0.stringValue } }
    public func intArray(_ key: String) -> [Int]? { array(key) { $0.intValue } }
    public func floatArray(_ key: String) -> [Double]? { array(key) { $0.floatValue } }

    /// `general.architecture`, which prefixes the model's own keys ("llama" → `llama.block_count`).
    public var architecture: String? { string("general.architecture") }

    public func requireString(_ key: String) throws -> String { try require(key, "a string") { $0.stringValue } }
    public func requireInt(_ key: String) throws -> Int { try require(key, "an integer") { $0.intValue } }
    public func requireFloat(_ key: String) throws -> Double { try require(key, "a float") { $0.floatValue } }

    private func array<T>(_ key: String, _ element: (GGUFValue) -> T?) -> [T]? {
        guard let values = metadata[key]?.arrayValues else { return nil }
        var out: [T] = []
        out.reserveCapacity(values.count)
        for v in values {
            guard let e = element(v) else { return nil }
            out.append(e)
        }
        return out
    }

    private func require<T>(_ key: String, _ kind: String, _ get: (GGUFValue) -> T?) throws -> T {
        guard let value = metadata[key] else {
            throw GGUFError(kind: .missingKey, path: path,
                            problem: "metadata key \"\(key)\" is missing; this model cannot be loaded without it (was it converted for another architecture than \(architecture ?? "the one expected")?)")
        }
        guard let v = get(value) else {
            throw GGUFError(kind: .wrongValueType, path: path,
                            problem: "metadata key \"\(key)\" holds \(value) of type \(value.type), not \(kind); the file does not follow the GGUF conventions for this key — convert the model again")
        }
        return v
    }
}
