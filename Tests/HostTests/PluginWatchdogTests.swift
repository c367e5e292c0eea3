import Foundation
import Testing
@testable import Host

fileprivate typealias S = PluginTestSupport

/// A plugin call that never returns, or that crashes the process, as a user meets it: `rl` and
/// `plugin check` stop a hung call after --plugin-timeout naming the plugin and the function (exit
/// 124, run.json failed), a Ctrl-C during one says what it waits for, and a crash inside one ends
/// with a line naming them. Every run here has a time limit, so a hang fails the test instead of
/// stalling it.
@Suite(.enabled(if: PluginTestSupport.cc != nil && FileManager.default.isExecutableFile(atPath: PluginTestSupport.workbench),
                "needs cc and .build/release/workbench (built by scripts/test.sh)"))
struct PluginWatchdogTests {
    /// A tiny SFT checkpoint, trained once for the suite.
    static let start: String = {
        let dir = RunSafetyTests.temp("watchdog-start")
        _ = try? RunSafetyTests.sft(dir)
        return dir + "/final"
    }()

    fileprivate static func rl(_ plugin: String, out: String, _ extra: [String] = [], limit: Double = 90,
                   started: ((Process) -> Void)? = nil) throws -> S.Bounded {
        try S.run(S.workbench, ["rl", "--init", start, "--updates", "2", "--batch", "4", "--minibatch", "4",
                                "--plugin", plugin, "--out", out] + RunSafetyTests.tinyData + extra, limit: limit, started: started)
    }

    static func lastLine(_ text: String) -> String {
        String(text.split(separator: "\n").last { !$0.trimmingCharacters(in: .whitespaces).isEmpty } ?? "")
    }

    @Test func rlStopsAHungPluginCallNamingThePluginAndTheFunction() throws {
        let dir = RunSafetyTests.temp("watchdog-rl")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let lib = try S.fixture("hang_reward")
        let r = try Self.rl(lib, out: dir, ["--plugin-timeout", "2"])
        #expect(!r.overran, "the run was still going after \(Int(r.seconds)) s: \(r.output.all)")
        #expect(r.signal == nil && r.output.status == PluginWatchdog.exitCode, "\(r.output.all)")
        let line = Self.lastLine(r.output.stderr)
        #expect(line.hasPrefix("Error: plugin org.fixture.reward.hang (\(lib)) did not return from reward.score within 2 s (--plugin-timeout 2); the run is stopped."), "\(r.output.stderr)")
        #expect(line.contains("Its last checkpoint is \(dir)/checkpoints/update-00000 (update 0)"), "\(line)")
        let status = try RunSafetyTests.runStatus(dir)
        #expect(status.state == .failed && status.ended != nil, "\(status)")
        #expect(status.detail == "timeout: plugin org.fixture.reward.hang (\(lib)) did not return from reward.score within 2 s (--plugin-timeout 2)", "\(status)")
        #expect(RunFolder.holder(dir) == nil, "the folder is let go")
        // What was written before the hang is on disk.
        #expect(FileManager.default.fileExists(atPath: dir + "/checkpoints/update-00000/model.safetensors"))
        #expect(try String(contentsOfFile: dir + "/metrics.jsonl", encoding: .utf8).contains("\"kind\":\"eval\""))
    }

    /// A hang in create (before the run's folder exists) is caught the same way.
    @Test func rlStopsAHungCreate() throws {
        let dir = RunSafetyTests.temp("watchdog-create")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let lib = try S.fixture("hang_reward")
        let r = try Self.rl(lib + ":hang=create", out: dir, ["--plugin-timeout", "1"])
        #expect(!r.overran && r.output.status == PluginWatchdog.exitCode, "\(r.output.all)")
        #expect(r.output.stderr.contains("plugin org.fixture.reward.hang (\(lib)) did not return from reward.create within 1 s"), "\(r.output.stderr)")
        #expect(!FileManager.default.fileExists(atPath: dir), "nothing was written")
    }

    /// Ctrl-C during a hung call says which call the step waits for; the watchdog still ends it.
    @Test func aCtrlCDuringAHungCallSaysWhatItWaitsFor() throws {
        let dir = RunSafetyTests.temp("watchdog-interrupt")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let lib = try S.fixture("hang_reward")
        let r = try Self.rl(lib, out: dir, ["--plugin-timeout", "4"]) { p in
            // After the first evaluation, once the main thread sleeps in the plugin's score
            // (clock_nanosleep, syscall 230 on x86-64; at most 3 s of waiting for it).
            let deadline = Date().addingTimeInterval(60)
            while Date() < deadline, !((try? String(contentsOfFile: dir + "/metrics.jsonl", encoding: .utf8)) ?? "").contains("\"kind\":\"eval\"") {
                Thread.sleep(forTimeInterval: 0.05)
            }
            let inside = Date().addingTimeInterval(3)
            while Date() < inside, !((try? String(contentsOfFile: "/proc/\(p.processIdentifier)/syscall", encoding: .utf8)) ?? "").hasPrefix("230 ") {
                Thread.sleep(forTimeInterval: 0.05)
            }
            kill(p.processIdentifier, SIGINT)
        }
        #expect(!r.overran && r.output.status == PluginWatchdog.exitCode, "\(r.output.all)")
        #expect(r.output.stderr.contains("interrupted: finishing this step"), "\(r.output.stderr)")
        #expect(r.output.stderr.contains("waiting for plugin org.fixture.reward.hang (\(lib)), function reward.score, to return; if it never does, --plugin-timeout stops the run"),
                "\(r.output.stderr)")
        #expect(try RunSafetyTests.runStatus(dir).state == .failed)
    }

    @Test func pluginCheckReportsTheCallThatHung() throws {
        let lib = try S.fixture("hang_reward")
        let r = try S.run(S.workbench, ["plugin", "check", lib, "--plugin-timeout", "1"], limit: 60)
        #expect(!r.overran && r.output.status == PluginWatchdog.exitCode, "\(r.output.all)")
        #expect(r.output.stdout.contains("PASS  org.fixture.reward.hang  create: hang=score"), "\(r.output.stdout)")
        #expect(r.output.stdout.contains("FAIL  org.fixture.reward.hang  scores of canonical completions (gold 1800, no CoT embeddings): plugin org.fixture.reward.hang (\(lib)) did not return from reward.score within 1 s (--plugin-timeout 1); the check stopped here"),
                "\(r.output.stdout)")
        #expect(Self.lastLine(r.output.stdout) == "1 of 3 checks failed (stopped at a call that did not return)", "\(r.output.stdout)")

        let create = try S.run(S.workbench, ["plugin", "check", lib, "--config", "hang=create", "--plugin-timeout", "1"], limit: 60)
        #expect(!create.overran && create.output.status == PluginWatchdog.exitCode, "\(create.output.all)")
        #expect(create.output.stdout.contains("FAIL  org.fixture.reward.hang  create: plugin org.fixture.reward.hang (\(lib)) did not return from reward.create within 1 s"),
                "\(create.output.stdout)")
    }

    /// The crash handler's line names the plugin and the function, last, after the runtime's
    /// crash report; the process still ends by the signal.
    @Test func aCrashInsideAPluginEndsWithALineNamingIt() throws {
        let dir = RunSafetyTests.temp("watchdog-segv")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let lib = try S.fixture("segv_reward")
        let r = try Self.rl(lib, out: dir, ["--max-new-tokens", "8"])
        #expect(!r.overran && r.signal == SIGSEGV, "\(r.output.all)")
        #expect(Self.lastLine(r.output.stderr) == "workbench: crashed (SIGSEGV) inside plugin org.fixture.reward.segv (\(lib)), function reward.score",
                "\(r.output.stderr)")

        let abort = try S.fixture("abort_reward")
        let check = try S.run(S.workbench, ["plugin", "check", abort], limit: 60)
        #expect(!check.overran && check.signal == SIGABRT, "\(check.output.all)")
        #expect(Self.lastLine(check.output.stderr) == "workbench: crashed (SIGABRT) inside plugin org.fixture.reward.abort (\(abort)), function reward.score",
                "\(check.output.stderr)")
    }

    @Test func theTimeoutHasARange() {
        #expect(FlagLimitTests.refusal(RLCommand.self, ["--init", "x", "--plugin-timeout", "0"])?.contains("--plugin-timeout must be in 1…86,400 (got 0)") == true)
        #expect(FlagLimitTests.refusal(RLCommand.self, ["--init", "x", "--plugin-timeout", "86401"])?.contains("--plugin-timeout must be in 1…86,400") == true)
        #expect(FlagLimitTests.refusal(PluginCommand.Check.self, ["x.so", "--plugin-timeout", "0"])?.contains("--plugin-timeout must be in 1…86,400") == true)
        #expect(FlagLimitTests.refusal(Workbench.self, ["--plugin", "x.so", "--plugin-timeout", "0"])?.contains("--plugin-timeout must be in 1…86,400") == true)
        #expect(FlagLimitTests.refusal(RLCommand.self, ["--init", "x", "--plugin-timeout", "1"]) == nil)
        // `workbench --plugin` hands it to every run; without it the runs keep rl's default.
        let given = DefaultExperiment.make(plugins: ["builtin:mean"], length: .count(1), warmup: nil, seeds: 1, threads: 1, jobs: nil, pluginTimeout: 5)
        #expect(given.shared.flatMap(\.arguments).suffix(2) == ["--plugin-timeout", "5"], "\(given.shared)")
        let none = DefaultExperiment.make(plugins: ["builtin:mean"], length: .count(1), warmup: nil, seeds: 1, threads: 1, jobs: nil)
        #expect(!none.shared.flatMap(\.arguments).contains("--plugin-timeout"))
        #expect(RLCommand.helpMessage().contains("--plugin-timeout <seconds>"))
        #expect(RLCommand.helpMessage().contains("(1…86,400)"))
        #expect(PluginCommand.Check.helpMessage().contains("--plugin-timeout <seconds>"))
    }
}
