// Fuzz target: the TOML subset of experiment files (Sources/Host/Compare/TOML.swift), from the
// bytes decoded as UTF-8 the way ExperimentFile.load decodes a file. The parsed tables are walked
// completely. A thrown TOML.ParseError is the parser refusing bad input: fine.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    guard let root = try? TOML.parse(text, file: "fuzz.toml") else { return 0 }
    walk(root)
    return 0
}

private func walk(_ table: TOML.Table) {
    for entry in table.entries {
        precondition(table[entry.key] != nil, "key '\(entry.key)' listed but not found")
        _ = table.line(of: entry.key)
        walk(entry.value)
    }
}

private func walk(_ value: TOML.Value) {
    _ = value.typeName
    switch value {
    case .array(let items): items.forEach(walk)
    case .table(let t): walk(t)
    case .tables(let ts): ts.forEach(walk)
    default: break
    }
}
