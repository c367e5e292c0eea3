import Engine
import Foundation
import Testing
@testable import Host

private typealias S = PluginTestSupport

/// A run killed at any moment and resumed ends exactly where the same run uninterrupted ends:
/// the same weights, value head, per-question answers and metrics (timing fields aside).
@Suite(.serialized) struct ResumeTests {
    static let tiny = ["--train-size", "64", "--test-size", "8", "--threads", "1", "--eval-examples", "8",
                       "--max-new-tokens", "8", "--final-eval", "8"]
    static let sftArgs = ["sft", "--steps", "300", "--eval-every", "25", "--dim", "32", "--layers", "1", "--heads", "2",
                          "--ffn", "64", "--context", "256"] + tiny
    static func rlArgs(_ algo: String, init dir: String) -> [String] {
        ["rl", "--init", dir, "--algo", algo, "--updates", "200", "--eval-every", "15", "--batch", "4", "--minibatch", "2"] + tiny
    }

    /// One SFT start shared by the RL tests.
    static let start: String = {
        let dir = RunSafetyTests.temp("resume-start")
        _ = try? S.run(S.workbench, ["sft", "--steps", "40", "--eval-every", "40", "--dim", "32", "--layers", "1", "--heads", "2",
                                     "--ffn", "64", "--context", "256", "--train-size", "64", "--test-size", "8", "--threads", "1",
                                     "--eval-examples", "8", "--max-new-tokens", "8", "--final-eval", "0", "--out", dir])
        return dir + "/final"
    }()

    /// Starts `arguments` into `out` and sends `signal` once metrics.jsonl has `lines` lines;
    /// returns false when the run ended before that.
    static func stop(_ arguments: [String], out: String, resume: Bool, afterLines lines: Int, signal: Int32) throws -> Bool {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: S.workbench)
        p.arguments = arguments + ["--out", out] + (resume ? ["--resume"] : [])
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        let deadline = Date().addingTimeInterval(120)
        while p.isRunning && Date() < deadline {
            let text = (try? String(contentsOfFile: out + "/metrics.jsonl", encoding: .utf8)) ?? ""
            if text.split(separator: "\n").count >= lines { break }
            Thread.sleep(forTimeInterval: 0.002)
        }
        let stopped = p.isRunning
        if stopped { kill(p.processIdentifier, signal) }
        p.waitUntilExit()
        return stopped
    }

    /// metrics.jsonl without the fields that measure time or memory, line by line.
    static func metrics(_ dir: String) throws -> [[String: String]] {
        try String(contentsOfFile: dir + "/metrics.jsonl", encoding: .utf8).split(separator: "\n").map { line in
            let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            return object.filter { key, _ in !(key.contains("seconds") || key.contains("per_sec") || key == "elapsed" || key == "peak_rss_mb") }
                .mapValues { "\($0)" }
        }
    }

    static func bytes(_ path: String) -> Data? { FileManager.default.contents(atPath: path) }

    /// Runs once uninterrupted, then again stopped at random points (SIGKILL, and a SIGTERM when
    /// `graceful`) and resumed each time, and compares the two.
    static func check(_ arguments: [String], lines: Int, graceful: Bool = false, files: [String]) throws {
        let root = RunSafetyTests.temp("resume")
        defer { try? FileManager.default.removeItem(atPath: root) }
        let whole = root + "/whole", stopped = root + "/stopped"
        let full = try S.run(S.workbench, arguments + ["--out", whole])
        try #require(full.status == 0, "\(full.all)")

        // Random points, drawn afresh each time the test runs (the property holds for any), and
        // shown in failures so one can be replayed.
        var points = (0..<2).map { _ in Int.random(in: 4...(lines - 8)) }.sorted()
        if points[1] - points[0] < 3 { points[1] = min(lines - 5, points[0] + 3) }
        var signals = [SIGKILL, graceful ? SIGTERM : SIGKILL]
        signals.shuffle()
        var stops = 0
        for (i, (point, signal)) in zip(points, signals).enumerated() {
            if try stop(arguments, out: stopped, resume: i > 0, afterLines: point, signal: signal) { stops += 1 }
        }
        let rest = try S.run(S.workbench, arguments + ["--out", stopped, "--resume"])
        #expect(rest.status == 0, "stopped after \(points) metrics lines by \(signals): \(rest.all)")
        #expect(stops >= 1, "the run ended before it could be stopped at \(points) lines")
        #expect(rest.stdout.contains("resuming at"), "\(rest.stdout)")

        #expect(try metrics(stopped) == metrics(whole), "metrics differ after stops at \(points) lines by \(signals)")
        for file in files {
            #expect(bytes(stopped + "/" + file) != nil && bytes(stopped + "/" + file) == bytes(whole + "/" + file),
                    "\(file) differs after stops at \(points) lines by \(signals)")
        }
        let status = try RunSafetyTests.runStatus(stopped)
        #expect(status.state == .finished && status.resumed == stops, "\(status)")
        // A finished run keeps no optimiser state.
        #expect(try ResumePoint.newest(in: stopped) == nil)
    }

    @Test func sftResumesBitIdentically() throws {
        try Self.check(Self.sftArgs, lines: 300, graceful: true, files: ["final/model.safetensors", "eval-final.jsonl"])
    }

    @Test func reftResumesBitIdentically() throws {
        try Self.check(Self.rlArgs("reft", init: Self.start), lines: 200, graceful: true,
                       files: ["final/model.safetensors", "final/value_head.safetensors", "eval-final.jsonl"])
    }

    @Test func drgrpoResumesBitIdentically() throws {
        try Self.check(Self.rlArgs("drgrpo", init: Self.start), lines: 200, files: ["final/model.safetensors", "eval-final.jsonl"])
    }

    @Test func carftResumesBitIdentically() throws {
        try Self.check(Self.rlArgs("carft", init: Self.start), lines: 200,
                       files: ["final/model.safetensors", "final/value_head.safetensors", "eval-final.jsonl"])
    }

    /// A resume must be the same run: other settings, another reference, a finished run, or a
    /// folder without a run are refused with what to do.
    @Test func aResumeThatWouldNotContinueTheSameRunIsRefused() throws {
        let root = RunSafetyTests.temp("resume-refused")
        defer { try? FileManager.default.removeItem(atPath: root) }
        let out = root + "/rl"
        let args = Self.rlArgs("reft", init: root + "/start")
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: Self.start, toPath: root + "/start")
        #expect(try Self.stop(args, out: out, resume: false, afterLines: 30, signal: SIGKILL))

        let lr = try S.run(S.workbench, args + ["--out", out, "--resume", "--lr", "1e-4"])
        #expect(lr.status != 0 && lr.stderr.contains("the settings differ from the run's") && lr.stderr.contains("learningRate (was"), "\(lr.all)")

        let both = try S.run(S.workbench, args + ["--out", out, "--resume", "--overwrite"])
        #expect(both.status != 0 && both.stderr.contains("give one of them"), "\(both.all)")

        let nothing = try S.run(S.workbench, args + ["--out", root + "/none", "--resume"])
        #expect(nothing.status != 0 && nothing.stderr.contains("does not exist, so there is no run to continue"), "\(nothing.all)")

        // The reference (the --init checkpoint) replaced by other weights under the same path.
        let other = root + "/other"
        _ = try S.run(S.workbench, ["sft", "--steps", "3", "--eval-every", "3", "--dim", "32", "--layers", "1", "--heads", "2",
                                    "--ffn", "64", "--context", "256", "--final-eval", "0", "--out", other] + Self.tiny.dropLast(2))
        try FileManager.default.removeItem(atPath: root + "/start/model.safetensors")
        try FileManager.default.copyItem(atPath: other + "/final/model.safetensors", toPath: root + "/start/model.safetensors")
        let swapped = try S.run(S.workbench, args + ["--out", out, "--resume"])
        #expect(swapped.status != 0 && swapped.stderr.contains("the reference model differs from the one this run started with"), "\(swapped.all)")
        #expect(try RunSafetyTests.runStatus(out).state == .failed)

        // Put back, it resumes and finishes; then there is nothing left to resume.
        try FileManager.default.removeItem(atPath: root + "/start/model.safetensors")
        try FileManager.default.copyItem(atPath: Self.start + "/model.safetensors", toPath: root + "/start/model.safetensors")
        #expect(try S.run(S.workbench, args + ["--out", out, "--resume"]).status == 0)
        let done = try S.run(S.workbench, args + ["--out", out, "--resume"])
        #expect(done.status != 0 && done.stderr.contains("finished; there is nothing to continue"), "\(done.all)")
    }
}
