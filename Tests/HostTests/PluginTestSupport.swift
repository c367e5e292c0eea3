import Foundation

/// Paths and tools the plugin tests share: the package root, the C compilers, the fixtures
/// compiled once per test process, and the `workbench` binary the test command built.
enum PluginTestSupport {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
    static let include = root + "/include"
    static let fixtures = root + "/Tests/HostTests/Fixtures"
    static let workbench = root + "/.build/release/workbench"

    /// The first executable called `name` on PATH.
    static func which(_ name: String) -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        return path.split(separator: ":").map { "\($0)/\(name)" }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    static let cc = which("cc")
    static let cxx = which("c++")

    struct Output {
        var status: Int32
        var stdout: String
        var stderr: String
        var all: String { stdout + stderr }
    }

    /// A child with its stdout and stderr on pipes, not yet started.
    private static func process(_ executable: String, _ arguments: [String], in directory: String?) -> (Process, Pipe, Pipe) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: executable)
        p.arguments = arguments
        if let directory { p.currentDirectoryURL = URL(fileURLWithPath: directory) }
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        return (p, out, err)
    }

    static func run(_ executable: String, _ arguments: [String], in directory: String? = nil) throws -> Output {
        let (p, out, err) = process(executable, arguments, in: directory)
        try p.run()
        // Read before waiting, so a chatty child never blocks on a full pipe.
        let o = out.fileHandleForReading.readDataToEndOfFile(), e = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return Output(status: p.terminationStatus, stdout: String(decoding: o, as: UTF8.self), stderr: String(decoding: e, as: UTF8.self))
    }

    /// How a time-limited run ended.
    struct Bounded {
        var output: Output
        /// The signal that ended it, nil when it exited.
        var signal: Int32?
        var seconds: Double
        /// Still running at the limit: it and every process it started were killed.
        var overran: Bool
    }

    /// Runs with a time limit, so a test of a hang fails instead of hanging: a child still running
    /// after `limit` seconds is killed with every process it started. `started` is called with the
    /// child once it runs (to signal it, say).
    static func run(_ executable: String, _ arguments: [String], limit: Double, in directory: String? = nil,
                    started: ((Process) -> Void)? = nil) throws -> Bounded {
        let (p, out, err) = process(executable, arguments, in: directory)
        let begin = Date()
        try p.run()
        let reads = DispatchGroup()
        nonisolated(unsafe) var o = Data(), e = Data()
        DispatchQueue.global().async(group: reads) { o = out.fileHandleForReading.readDataToEndOfFile() }
        DispatchQueue.global().async(group: reads) { e = err.fileHandleForReading.readDataToEndOfFile() }
        started?(p)
        var overran = false
        while p.isRunning {
            if Date().timeIntervalSince(begin) > limit {
                overran = true
                for pid in descendants(of: p.processIdentifier) + [p.processIdentifier] { kill(pid, SIGKILL) }
                break
            }
            Thread.sleep(forTimeInterval: 0.05)
        }
        p.waitUntilExit()
        let seconds = Date().timeIntervalSince(begin)
        _ = reads.wait(timeout: .now() + 30)
        return Bounded(output: Output(status: p.terminationStatus, stdout: String(decoding: o, as: UTF8.self), stderr: String(decoding: e, as: UTF8.self)),
                       signal: p.terminationReason == .uncaughtSignal ? p.terminationStatus : nil, seconds: seconds, overran: overran)
    }

    /// Every process below `pid`, from /proc's parent links.
    static func descendants(of pid: Int32) -> [Int32] {
        var parents: [Int32: Int32] = [:]
        for entry in (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? [] {
            guard let child = Int32(entry), let stat = try? String(contentsOfFile: "/proc/\(entry)/stat", encoding: .utf8),
                  let close = stat.lastIndex(of: ")") else { continue }
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            if fields.count > 1, let parent = Int32(fields[1]) { parents[child] = parent }
        }
        var found: [Int32] = [], frontier = [pid]
        while let next = frontier.popLast() {
            let children = parents.filter { $0.value == next }.map(\.key)
            found += children
            frontier += children
        }
        return found
    }

    struct CompileError: Error, CustomStringConvertible { var description: String }

    private static let lock = NSLock()
    nonisolated(unsafe) private static var built: [String: String] = [:]
    static let buildDir: String = {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("host-tests-plugins-\(UUID().uuidString)").path
        try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }()

    /// Compiles a C source (relative to the package root) into a shared library, once per process.
    static func sharedLibrary(_ source: String, flags: [String] = []) throws -> String {
        lock.lock()
        defer { lock.unlock() }
        if let path = built[source] { return path }
        guard let cc else { throw CompileError(description: "cc not found on PATH") }
        let name = URL(fileURLWithPath: source).deletingPathExtension().lastPathComponent
        let out = buildDir + "/lib\(name).so"
        let r = try run(cc, ["-shared", "-fPIC", "-std=c11", "-O1", "-I", include] + flags + ["-o", out, root + "/" + source, "-lm"])
        guard r.status == 0 else { throw CompileError(description: "cc \(source) failed:\n\(r.all)") }
        built[source] = out
        return out
    }

    static func fixture(_ name: String) throws -> String { try sharedLibrary("Tests/HostTests/Fixtures/\(name).c") }
    static func cExample() throws -> String { try sharedLibrary("plugins/c-example/example.c", flags: ["-Wall", "-Wextra", "-Wpedantic", "-Werror"]) }
}
