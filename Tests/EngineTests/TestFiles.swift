import Foundation

/// A fresh, empty folder per test, so tests running in parallel never share files.
func makeTempDir(_ label: String) throws -> String {
    let dir = FileManager.default.temporaryDirectory
        .appendingPathComponent("engine-tests-\(label)-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    return dir
}
