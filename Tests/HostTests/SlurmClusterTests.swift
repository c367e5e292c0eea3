import Foundation
import Testing

/// `compare --launcher slurm` against a real one-node Slurm cluster (scripts/slurm-test.sh brings
/// it up from Debian's slurm-wlm and munge, runs the smoke comparison through it, checks the
/// report says pending, then finished, and that submitting again submits nothing). CI installs
/// both packages (scripts/setup.sh), so there it must run.
@Suite(.enabled(if: SlurmCluster.available || PythonBridge.required,
                "needs slurm-wlm and munge (scripts/setup.sh installs them)"))
struct SlurmClusterTests {
    @Test func smokeComparisonRunsThroughSlurm() throws {
        try #require(SlurmCluster.available, "slurmctld, slurmd, munged or sbatch is missing: run scripts/setup.sh")
        let r = try PluginTestSupport.run("/bin/bash", [PluginTestSupport.root + "/scripts/slurm-test.sh"])
        #expect(r.status == 0, "\(r.all)")
        #expect(r.stdout.contains("slurm-test: PASS: 4 runs through Slurm"), "\(r.all)")
    }
}

enum SlurmCluster {
    static let available = ["slurmctld", "slurmd", "munged", "sbatch", "squeue", "sinfo"].allSatisfy { PluginTestSupport.which($0) != nil }
}
