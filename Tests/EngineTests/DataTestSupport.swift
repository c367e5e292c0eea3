import Foundation
@testable import Engine

/// A scratch folder for one test's files, removed when the test lets go of it.
final class TempFolder {
    let url = FileManager.default.temporaryDirectory
        .appendingPathComponent("workbench-data-tests-\(UUID().uuidString)")

    init() throws {
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(at: url) }

    /// Writes `text` to `name` in this folder and returns the file's path.
    func file(_ name: String, _ text: String) throws -> String {
        let file = url.appendingPathComponent(name)
        try text.write(to: file, atomically: true, encoding: .utf8)
        return file.path
    }
}

/// Runs `body`, expecting a DataError, and returns it for inspection.
func dataError(_ body: () throws -> Void) -> DataError? {
    do {
        try body()
        return nil
    } catch let e as DataError {
        return e
    } catch {
        return nil
    }
}
