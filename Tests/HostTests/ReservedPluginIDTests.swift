import Foundation
import Testing

/// A library plugin under org.workbench. (the built-ins' prefix) is loaded, with a warning on
/// stderr, once per id, by every command that loads plugins.
@Suite(.enabled(if: PluginTestSupport.cc != nil && FileManager.default.isExecutableFile(atPath: PluginTestSupport.workbench),
                "needs cc and .build/release/workbench (built by scripts/test.sh)"))
struct ReservedPluginIDTests {
    typealias S = PluginTestSupport

    static func warning(_ lib: String) -> String {
        "warning: \(lib): plugin org.workbench.reward.lookalike: ids starting with org.workbench. are reserved for workbench's built-in plugins; give it an id under your own reverse-DNS prefix (such as com.example.reward.lookalike) so it cannot be taken for a built-in"
    }

    static func count(_ text: String, _ part: String) -> Int { text.components(separatedBy: part).count - 1 }

    @Test func listAndCheckWarnOnce() throws {
        let lib = try S.fixture("reserved_id")
        for args in [["plugin", "list", lib], ["plugin", "check", lib]] {
            let r = try S.run(S.workbench, args)
            #expect(r.stdout.contains("org.workbench.reward.lookalike"), "\(args): \(r.all)")
            #expect(Self.count(r.stderr, "reserved for workbench's built-in plugins") == 1, "\(args): \(r.stderr)")
            #expect(r.stderr.contains(Self.warning(lib)), "\(args): \(r.stderr)")
        }
        // Neither the built-ins nor a library with ids of its own get it.
        for lib in ["builtin", try S.cExample()] {
            let r = try S.run(S.workbench, ["plugin", "list", lib])
            #expect(r.status == 0 && !r.stderr.contains("reserved"), "\(lib): \(r.all)")
        }
    }

    /// rl loads its plugins before anything else, so the warning comes even though the
    /// checkpoint is missing; two files declaring the id warn once, naming the first.
    @Test func rlWarnsOncePerId() throws {
        let lib = try S.fixture("reserved_id")
        let copy = S.buildDir + "/libreserved_id_copy.so"
        try? FileManager.default.removeItem(atPath: copy)
        try FileManager.default.copyItem(atPath: lib, toPath: copy)
        let r = try S.run(S.workbench, ["rl", "--init", "/nonexistent-checkpoint", "--updates", "1", "--plugin", lib, "--plugin", copy])
        #expect(r.status != 0)
        #expect(r.stderr.contains("two reward plugins"), "\(r.stderr)")
        #expect(Self.count(r.stderr, "reserved for workbench's built-in plugins") == 1, "\(r.stderr)")
        #expect(r.stderr.contains(Self.warning(lib)), "\(r.stderr)")
    }

    /// `workbench --plugin` and `compare` create every variant's plugins before running
    /// anything, so a dry run shows the warning too.
    @Test func comparisonsWarnOnce() throws {
        let lib = try S.fixture("reserved_id")
        let out = CompareRunTests.dir + "/reserved"
        let plugin = try S.run(S.workbench, ["--plugin", lib, "--out", out, "--cache", CompareRunTests.cache, "--dry-run"])
        #expect(plugin.status == 0, "\(plugin.all)")
        #expect(Self.count(plugin.stderr, "reserved for workbench's built-in plugins") == 1 && plugin.stderr.contains(Self.warning(lib)), "\(plugin.stderr)")
        let file = try CompareRunTests.experiment("reserved", "[[variant]]\nname = \"lookalike\"\nalgorithm = \"reft\"\nupdates = 1\nplugins = [\"\(lib)\"]\n")
        let compare = try CompareRunTests.compare(file, out: out, ["--dry-run"])
        #expect(compare.status == 0, "\(compare.all)")
        #expect(Self.count(compare.stderr, "reserved for workbench's built-in plugins") == 1 && compare.stderr.contains(Self.warning(lib)), "\(compare.stderr)")
    }
}
