import ArgumentParser
import Foundation
import Testing
@testable import Host

/// The parts of `compare --launcher slurm` that need no cluster: the scripts, the flags, and how a
/// Slurm task's state corrects a run's status in the report. SlurmClusterTests runs it for real.
@Suite struct SlurmLauncherTests {
    static func launcher(sbatch: [(key: String, value: String)] = [], jobs: Int? = nil) throws -> SlurmLauncher {
        let body = """
            [shared]
            updates = 2

            [[variant]]
            name = "reft"
            algorithm = "reft"

            [[variant]]
            name = "carft"
            algorithm = "carft"
            """
        let header = "name = \"x\"\nseeds = 2\nthreads = 1\n[data]\ntrain-size = 64\ntest-size = 8\n"
        let experiment = try ExperimentFile.parse(header + body, file: "x.toml", defaultName: "x")
        let plan = try ExperimentPlan(experiment, cache: "/tmp/cache-\(UUID().uuidString)")
        return SlurmLauncher(options: .init(sbatch: sbatch), experiment: experiment, plan: plan, file: "exp/x.toml",
                             out: "runs/x", cache: "runs/cache", executable: "/opt/wb/workbench", jobs: jobs)
    }

    @Test func scriptsHoldTheArrayOfRunsStillToRunAndTheirOrder() throws {
        let l = try Self.launcher(sbatch: [("partition", "cpu"), ("time", "1:00:00")], jobs: 3)
        // The plan's order is seed-major: reft/seed-0, carft/seed-0, reft/seed-1, carft/seed-1.
        let s = l.scripts(runs: ["start", "carft/seed-0", "carft/seed-1"])
        #expect(s.tasks == ["1": "carft/seed-0", "3": "carft/seed-1"])
        let runs = try #require(s.runs)
        #expect(runs.contains("#SBATCH --array=1,3%3\n"), "\(runs)")
        #expect(runs.contains("#SBATCH --cpus-per-task=1\n#SBATCH --array"))
        #expect(runs.contains("#SBATCH --partition=cpu\n#SBATCH --time=1:00:00\n"))
        #expect(runs.contains("  1) run=carft/seed-0 ;;\n  3) run=carft/seed-1 ;;\n"))
        #expect(runs.hasSuffix("exec /opt/wb/workbench compare exp/x.toml --out runs/x --cache runs/cache --task \"$run\"\n"), "\(runs)")
        #expect(runs.contains("#SBATCH --output=\(FileManager.default.currentDirectoryPath)/runs/x/slurm/logs/runs-%A_%a.out"))
        let warmup = try #require(s.warmup)
        #expect(warmup.hasSuffix("--task warm-up\n") && warmup.contains("#SBATCH --job-name=wb-x-warmup\n"))
        #expect(s.report.hasSuffix("exec /opt/wb/workbench report runs/x\n"))
    }

    @Test func nothingLeftButTheStartStillNeedsTheWarmupJob() throws {
        let s = try Self.launcher().scripts(runs: ["start"])
        #expect(s.runs == nil && s.tasks.isEmpty && s.warmup != nil)
    }

    @Test(arguments: [
        (["--sbatch", "partition=cpu"], "--sbatch is for --launcher slurm"),
        (["--launcher", "slurm", "--sbatch", "partition"], "--sbatch 'partition' is not key=value"),
        (["--launcher", "slurm", "--sbatch", "Partition=x"], "--sbatch 'Partition=x' is not key=value"),
        (["--launcher", "slurm", "--sbatch", "array=0-3"], "--sbatch array is set by compare itself"),
        (["--launcher", "slurm", "--sbatch", "comment=a b"], "a value without spaces or '%'"),
        (["--launcher", "slurm", "--sbatch", "output=x%j"], "a value without spaces or '%'"),
        (["--launcher", "slurm", "--sbatch", "cpus-per-task=4"], "cpus-per-task from the file's threads"),
        (["--launcher", "slurm", "--task", "reft/seed-0"], "--task runs one child of a comparison submitted to Slurm"),
        (["--launcher", "pbs"], "pbs"),
    ])
    func badFlagsAreRefused(arguments: [String], expected: String) {
        do {
            _ = try CompareCommand.parse(["x.toml"] + arguments)
            Issue.record("parsed: \(arguments)")
        } catch {
            let message = CompareCommand.message(for: error)
            #expect(message.contains(expected), "\(message)")
        }
    }

    @Test func slurmStatesCorrectTheRunsStatus() {
        #expect(RunState.notRun.seenInSlurm("PENDING") == .queued)
        #expect(RunState.queued.label == "pending")
        #expect(RunState.killed.seenInSlurm("RUNNING") == .running)
        #expect(RunState.notRun.seenInSlurm("RUNNING") == .running)
        #expect(RunState.running.seenInSlurm("TIMEOUT") == .failed(exitCode: nil, signal: nil, error: "Slurm ended the task: TIMEOUT"))
        #expect(RunState.killed.seenInSlurm("CANCELLED").labelWithError == "FAILED (Slurm ended the task: CANCELLED)")
        // What the run recorded itself wins once it has ended.
        #expect(RunState.finished.seenInSlurm("TIMEOUT") == .finished)
        #expect(RunState.failed(exitCode: 1, signal: nil, error: "x").seenInSlurm("FAILED") == .failed(exitCode: 1, signal: nil, error: "x"))
        #expect(RunState.killed.seenInSlurm("COMPLETED") == .killed)
        // Cancelled while it waited, or refused to start: it never wrote a status of its own.
        #expect(RunState.notRun.seenInSlurm("CANCELLED") == .failed(exitCode: nil, signal: nil, error: "Slurm ended the task: CANCELLED"))
    }
}
