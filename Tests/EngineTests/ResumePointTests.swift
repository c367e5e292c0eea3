import Foundation
import Testing
@testable import Engine

/// Which checkpoints keep the optimiser state a resume needs.
struct ResumePointTests {
    /// A run killed between writing a new checkpoint's state and removing the old one's leaves
    /// two; when the run finishes, neither is left, and the weights stay.
    @Test func aFinishedRunLeavesNoStateInAnyCheckpoint() throws {
        let run = try makeTempDir("resume-discard")
        defer { try? FileManager.default.removeItem(atPath: run) }
        for name in ["update-00010", "update-00020"] {
            let dir = run + "/checkpoints/" + name
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            for file in [TrainingState.fileName, TrainingState.optimizerFileName, "model.safetensors"] {
                try "x".write(toFile: dir + "/" + file, atomically: true, encoding: .utf8)
            }
        }
        ResumePoint.discardAll(in: run)
        for name in ["update-00010", "update-00020"] {
            #expect(try FileManager.default.contentsOfDirectory(atPath: run + "/checkpoints/" + name) == ["model.safetensors"])
        }
        #expect(try ResumePoint.newest(in: run) == nil)
        ResumePoint.discardAll(in: run + "/no-such-run")  // nothing to do, no error
    }
}
