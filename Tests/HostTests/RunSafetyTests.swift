import Foundation
import Testing
import Engine
@testable import Host

private typealias S = PluginTestSupport

/// Nothing lost, nothing silent: a run's folder is never reused by accident, is held while the
/// run lives, records how the run ended, and a SIGTERM ends a run as cleanly as a Ctrl-C.
@Suite struct RunSafetyTests {
    static let tinyModel = ["--dim", "32", "--layers", "1", "--heads", "2", "--ffn", "64", "--context", "256"]
    static let tinyData = ["--train-size", "64", "--test-size", "8", "--threads", "1", "--eval-examples", "8", "--max-new-tokens", "8"]

    static func temp(_ name: String) -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("\(name)-\(UUID().uuidString)").path
    }

    static func sft(_ out: String, steps: Int = 2, _ extra: [String] = []) throws -> PluginTestSupport.Output {
        try S.run(S.workbench, ["sft", "--steps", "\(steps)", "--eval-every", "\(steps)", "--out", out] + tinyModel + tinyData + extra)
    }

    static func runStatus(_ dir: String) throws -> RunFolder.Status {
        try #require(RunFolder.readStatus(dir), "no status in \(dir)/run.json")
    }

    @Test func aFolderHoldingARunIsRefusedUnlessOverwriteIsGiven() throws {
        let dir = Self.temp("run-folder")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let first = try Self.sft(dir)
        #expect(first.status == 0, "\(first.all)")
        #expect(try Self.runStatus(dir).state == .finished)
        let metrics = try String(contentsOfFile: dir + "/metrics.jsonl", encoding: .utf8)
        let weights = try Data(contentsOf: URL(fileURLWithPath: dir + "/final/model.safetensors"))

        // Again into the same folder: refused at once, the first run untouched.
        let again = try Self.sft(dir, steps: 3)
        #expect(again.status != 0)
        #expect(again.stderr.contains("\(dir) is not empty") && again.stderr.contains("--overwrite"), "\(again.all)")
        #expect(!again.stdout.contains("workbench sft:"), "refused before anything loads: \(again.stdout)")
        #expect(try String(contentsOfFile: dir + "/metrics.jsonl", encoding: .utf8) == metrics)
        #expect(try Data(contentsOf: URL(fileURLWithPath: dir + "/final/model.safetensors")) == weights)

        // --overwrite replaces the run's files, keeps the user's, leaves no old checkpoint behind.
        try "mine".write(toFile: dir + "/notes.txt", atomically: true, encoding: .utf8)
        let replaced = try Self.sft(dir, steps: 3, ["--overwrite"])
        #expect(replaced.status == 0, "\(replaced.all)")
        #expect(try String(contentsOfFile: dir + "/notes.txt", encoding: .utf8) == "mine")
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir + "/checkpoints").sorted() == ["step-000000", "step-000003"])
        let lines = try String(contentsOfFile: dir + "/metrics.jsonl", encoding: .utf8).split(separator: "\n")
        #expect(lines.filter { $0.contains("\"kind\":\"train\"") }.count == 3)

        // A file above the folder: said in words, before anything loads (not "NSCocoaErrorDomain error 512").
        let under = try Self.sft(dir + "/notes.txt/run")
        #expect(under.status != 0 && under.stderr.contains("cannot create the output folder \(dir)/notes.txt/run: \(dir)/notes.txt is a file, not a folder; give another --out"), "\(under.all)")
        #expect(!under.stdout.contains("workbench sft:"))

        // A file where the folder should be.
        let file = dir + "/notes.txt"
        let onFile = try Self.sft(file)
        #expect(onFile.status != 0 && onFile.stderr.contains("--out \(file) is a file, not a folder"), "\(onFile.all)")
    }

    @Test func aFolderInUseIsRefusedNamingTheHolder() throws {
        let dir = Self.temp("run-locked")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let lock = try #require(try FileLock.acquire(dir + "/" + RunFolder.lockName, wait: false))
        lock.write(contents: "4242\n")
        let r = try Self.sft(dir, ["--overwrite"])
        #expect(r.status != 0)
        #expect(r.stderr.contains("\(dir) is in use by another run (pid 4242)"), "\(r.all)")
        lock.release()
        // Free again: the run goes ahead, and its lock is gone when it ends.
        let ok = try Self.sft(dir, ["--overwrite"])
        #expect(ok.status == 0, "\(ok.all)")
        #expect(RunFolder.holder(dir) == nil)
    }

    @Test func rlHasItsOwnDefaultFolder() throws {
        let rl = try RLCommand.parse(["--init", "x", "--algo", "drgrpo"])
        #expect(rl.runOptions.out == nil)
        let dir = Self.temp("rl-default")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try FileManager.default.createDirectory(atPath: dir + "/runs/sft", withIntermediateDirectories: true)
        try "x".write(toFile: dir + "/runs/sft/metrics.jsonl", atomically: true, encoding: .utf8)
        // Without --out, rl writes runs/<algo>, never the SFT run's folder it may start from.
        let r = try S.run(S.workbench, ["rl", "--algo", "drgrpo", "--init", "nope"], in: dir)
        #expect(r.status != 0)
        #expect(try String(contentsOfFile: dir + "/runs/sft/metrics.jsonl", encoding: .utf8) == "x")
        try FileManager.default.createDirectory(atPath: dir + "/runs/drgrpo", withIntermediateDirectories: true)
        try "x".write(toFile: dir + "/runs/drgrpo/metrics.jsonl", atomically: true, encoding: .utf8)
        let busy = try S.run(S.workbench, ["rl", "--algo", "drgrpo", "--init", "nope"], in: dir)
        #expect(busy.stderr.contains("runs/drgrpo is not empty"), "\(busy.all)")
    }

    /// SIGTERM (kill, timeout, Slurm) finishes the step, saves a checkpoint to resume from,
    /// records "interrupted" and exits 143, as Ctrl-C does with 130.
    @Test func sigtermStopsARunCleanly() throws {
        let dir = Self.temp("run-sigterm")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: S.workbench)
        p.arguments = ["sft", "--steps", "100000", "--eval-every", "100000", "--out", dir] + Self.tinyModel + Self.tinyData
        let stdout = Pipe()
        p.standardOutput = stdout
        p.standardError = FileHandle.nullDevice
        try p.run()
        // Until it has trained a few steps.
        let deadline = Date().addingTimeInterval(120)
        while Date() < deadline {
            let text = (try? String(contentsOfFile: dir + "/metrics.jsonl", encoding: .utf8)) ?? ""
            if text.components(separatedBy: "\"kind\":\"train\"").count > 3 { break }
            Thread.sleep(forTimeInterval: 0.1)
        }
        #expect(RunFolder.holder(dir) == p.processIdentifier)
        #expect(try Self.runStatus(dir).state == .running)
        kill(p.processIdentifier, SIGTERM)
        // Never left behind: a run that ignores SIGTERM fails the test and is killed.
        let stopBy = Date().addingTimeInterval(60)
        while p.isRunning && Date() < stopBy { Thread.sleep(forTimeInterval: 0.1) }
        if p.isRunning {
            Issue.record("the run did not stop within 60 s of SIGTERM")
            kill(p.processIdentifier, SIGKILL)
        }
        p.waitUntilExit()
        #expect(p.terminationReason == .exit && p.terminationStatus == 128 + SIGTERM)
        let status = try Self.runStatus(dir)
        #expect(status.state == .interrupted && status.detail == "SIGTERM" && status.ended != nil)
        // Not finished, so no final checkpoint or evaluation; a checkpoint at the step it stopped.
        #expect(!FileManager.default.fileExists(atPath: dir + "/final"))
        let point = try #require(try ResumePoint.newest(in: dir))
        let trained = try String(contentsOfFile: dir + "/metrics.jsonl", encoding: .utf8).components(separatedBy: "\"kind\":\"train\"").count - 1
        #expect(point.state.position == trained && trained > 2)
        let said = String(decoding: stdout.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(said.contains("Stopped at step \(trained); checkpoint \(point.dir). To continue, run the same command with --resume."), "\(said)")
        #expect(RunFolder.holder(dir) == nil)
    }

    /// A run that fails records the error in run.json, and lets the folder go.
    @Test(.enabled(if: PluginTestSupport.cc != nil, "needs cc")) func aFailedRunRecordsItsError() throws {
        let dir = Self.temp("run-failed")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        #expect(try Self.sft(dir + "/sft").status == 0)
        let lib = try S.fixture("nan_output")
        let r = try S.run(S.workbench, ["rl", "--init", dir + "/sft/final", "--updates", "2", "--batch", "4", "--minibatch", "4",
                                        "--plugin", lib + "@org.fixture.reward.nan", "--out", dir + "/rl"] + Self.tinyData)
        #expect(r.status == 1, "\(r.all)")
        let status = try Self.runStatus(dir + "/rl")
        #expect(status.state == .failed && (status.detail ?? "").contains("org.fixture.reward.nan"), "\(status)")
        #expect(RunFolder.holder(dir + "/rl") == nil)
    }

    /// A run whose loss or gradient stopped being a number records the kind `diverged` in
    /// run.json (a comparison counts it as a collapse, whatever the error's words); another
    /// failure records none.
    @Test func aDivergedRunRecordsItsKind() throws {
        struct Settings: Encodable { var command = "test" }
        for (error, kind) in [(TrainingError("the RL loss became inf", diverged: true), RunFolder.Status.Failure.diverged),
                              (TrainingError("reward 'x' returned nan for rollout 3"), nil)] as [(TrainingError, RunFolder.Status.Failure?)] {
            let dir = Self.temp("run-diverged")
            defer { try? FileManager.default.removeItem(atPath: dir) }
            let folder = try RunFolder.open(dir, existing: .refuse, settings: Settings())
            #expect(throws: (any Error).self) { try folder.record { throw error } }
            let status = try Self.runStatus(dir)
            #expect(status.state == .failed && status.failure == kind && status.detail == error.description, "\(status)")
        }
    }

    /// A status.json left "running" by a comparison that was killed (SIGKILL, out of memory) is
    /// reported as killed, not as running, and its cut-off curve is not judged a collapse.
    @Test func aRunningStatusWithNoLiveProcessReadsAsKilled() throws {
        let dir = try ReportTests.makeExperiment()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try FileManager.default.createDirectory(atPath: dir + "/drgrpo/seed-1", withIntermediateDirectories: true)
        try ReportTests.status("drgrpo", 1, "drgrpo", "running", wall: 0).write(toFile: dir + "/drgrpo/seed-1/status.json", atomically: true, encoding: .utf8)
        try (#"{"kind":"eval","update":0,"accuracy":0.40,"correct":200,"total":500,"elapsed":0}"# + "\n"
             + #"{"kind":"eval","update":5,"accuracy":0.05,"correct":25,"total":500,"elapsed":9}"# + "\n")
            .write(toFile: dir + "/drgrpo/seed-1/metrics.jsonl", atomically: true, encoding: .utf8)
        let killed = try ExperimentFolder.load(dir).variants[4].runs[1]
        #expect(killed.state == .killed)
        let analysis = ComparisonAnalysis(try ExperimentFolder.load(dir))
        #expect(analysis.variants[4].runs[1].collapsed == nil && analysis.variants[4].collapses.judged == 0)
        #expect(analysis.variants[4].notes.contains { $0.contains("killed") }, "\(analysis.variants[4].notes)")

        // While the comparison holds its lock, the same status is a live run.
        let lock = try #require(try FileLock.acquire(dir + "/" + ExperimentRun.lockName, wait: false))
        #expect(try ExperimentFolder.load(dir).variants[4].runs[1].state == .running)
        lock.release()
    }

    /// A held-out question longer than the model's context: a clear error naming it (eval, and
    /// sft before its first step), or with --skip-long a counted skip; never a trap.
    @Test func longEvaluationQuestionsAreRefusedOrSkippedNeverATrap() throws {
        let dir = Self.temp("long-eval")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let sft = try Self.sft(dir + "/sft")
        #expect(sft.status == 0, "\(sft.all)")
        let long = String(repeating: "How many apples are there? ", count: 12)
        let file = dir + "/test.jsonl"
        try ([#"{"question": "What is 2 + 3?", "answer": "2 + 3 = <<2+3=5>>5\n#### 5"}"#,
              #"{"question": "\#(long)", "answer": "It is 4.\n#### 4"}"#].joined(separator: "\n") + "\n")
            .write(toFile: file, atomically: true, encoding: .utf8)
        let eval = ["eval", "--checkpoint", dir + "/sft/final", "--eval-data", "gsm8k:" + file, "--threads", "1", "--max-new-tokens", "8"]
        let refused = try S.run(S.workbench, eval)
        #expect(refused.status == 1, "\(refused.all)")
        #expect(refused.stderr.contains("held-out question gsm8k-2 needs") && refused.stderr.contains("the model's context is 256 (1 of 2 held-out questions are too long)")
                && refused.stderr.contains("--skip-long"), "\(refused.all)")
        let skipped = try S.run(S.workbench, eval + ["--skip-long"])
        #expect(skipped.status == 0, "\(skipped.all)")
        #expect(skipped.stdout.contains("--skip-long: left out 1 of 2 held-out questions"), "\(skipped.stdout)")
        #expect(skipped.stdout.contains("(") && skipped.stdout.contains("/1) on gsm8k:"), "\(skipped.stdout)")
        // sft with the same held-out file: refused before training.
        let training = try Self.sft(dir + "/sft2", ["--eval-data", "gsm8k:" + file])
        #expect(training.status == 1 && training.stderr.contains("held-out question gsm8k-2 needs"), "\(training.all)")
        #expect(!FileManager.default.fileExists(atPath: dir + "/sft2"))
    }

    /// `eval --dump` to a path it cannot write fails before the evaluation, naming the path.
    @Test func aDumpPathThatCannotBeWrittenFailsFirst() throws {
        let r = try S.run(S.workbench, ["eval", "--checkpoint", "/nonexistent/ckpt", "--dump", "/nonexistent-folder/answers.jsonl"])
        #expect(r.status == 1)
        #expect(r.stderr.contains("/nonexistent-folder/") && r.stderr.contains("check that the folder exists"), "\(r.all)")
        #expect(!r.stderr.contains("/nonexistent/ckpt"), "the dump path is checked before the model loads: \(r.all)")
    }

    /// `logits` with an empty prompt: an error, not a trap in the generator.
    @Test func logitsRefusesAnEmptyPrompt() throws {
        let dir = Self.temp("logits-empty")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        #expect(try Self.sft(dir).status == 0)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: S.workbench)
        p.arguments = ["logits", dir + "/final", "--threads", "1"]
        let input = Pipe(), err = Pipe()
        p.standardInput = input
        p.standardOutput = FileHandle.nullDevice
        p.standardError = err
        try p.run()
        input.fileHandleForWriting.write(Data(#"{"prompts": [""], "new_tokens": 4}"#.utf8))
        try input.fileHandleForWriting.close()
        let text = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        #expect(p.terminationReason == .exit && p.terminationStatus == 1, "\(text)")
        #expect(text.contains("prompt 0 is empty"), "\(text)")
    }

    /// A built-in task whose few problems all fall in one split: an error naming the flags.
    @Test func aTaskWithAnEmptySplitIsAnError() throws {
        let data = try DataOptions.parse(["--task-ops", "sub", "--task-max-value", "2", "--task-steps", "2"])
        do {
            _ = try data.load(seed: 0)
            Issue.record("a task with an empty split must be refused")
        } catch {
            #expect("\(error)".contains("has no") && "\(error)".contains("raise --task-max-value"), "\(error)")
        }
    }
}
