import Foundation
import PluginHeaderText
import Testing

/// `workbench plugin new` as a plugin author runs it: the binary writes a folder, the folder's own
/// build (make, or swift build) makes a library in a scratch folder outside the repository, and
/// `workbench plugin check` passes on it as written.
@Suite(.enabled(if: FileManager.default.isExecutableFile(atPath: PluginTestSupport.workbench),
                "needs .build/release/workbench (built by scripts/test.sh)"))
struct PluginNewTests {
    typealias S = PluginTestSupport
    static let make = S.which("make")
    static let swift = S.which("swift")
    static let readelf = S.which("readelf")

    /// The rewards `plugin check` prints for its five completions (correct, wrong, no answer line,
    /// empty, long and correct): the generated reward's 1 / 0.1 / 0.
    /// The canonical completions of `plugin check` (right, wrong number, text after the number,
    /// comma-formatted, no answer line, empty, very long, non-UTF-8): the engine's own reading.
    static let expectedRewards = "same completions: rewards [1, 0.1, 1, 1, 0, 0, 1, 0]"

    static func scratch() throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("host-tests-plugin-new-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }

    static func includeHeader() throws -> Data {
        try Data(contentsOf: URL(fileURLWithPath: S.include + "/workbench_plugin.h"))
    }

    /// `plugin check` passed: exit status 0, no FAIL line, the summary line.
    static func expectCheckPasses(_ r: PluginTestSupport.Output, _ what: String) {
        #expect(r.status == 0, "\(what): \(r.all)")
        #expect(!r.stdout.contains("FAIL") && !r.stdout.contains("WARN"), "\(what): \(r.stdout)")
        #expect(r.stdout.contains("checks passed"), "\(what): \(r.stdout)")
    }

    @Test func embeddedHeaderIsTheIncludeHeaderByteForByte() throws {
        #expect(Data(PluginHeaderText.bytes) == (try Self.includeHeader()))
    }

    @Test(.enabled(if: PluginTestSupport.cc != nil && PluginNewTests.make != nil, "needs cc and make on PATH to build the generated C plugins"),
          arguments: ["reward", "pooling", "contrastive"])
    func cPluginOfEachKindBuildsAndPassesCheck(_ kind: String) throws {
        let dir = try Self.scratch()
        let folder = dir + "/my-\(kind)"
        let made = try S.run(S.workbench, ["plugin", "new", "my-\(kind)", "--lang", "c", "--kind", kind, "--out", folder])
        try #require(made.status == 0, "\(made.all)")
        #expect(made.stdout.contains("Wrote a C \(kind) plugin, org.example.\(kind).my-\(kind), into \(folder)/:"))
        #expect(made.stdout.contains("make -C \(folder)"))
        let files = Set(try FileManager.default.subpathsOfDirectory(atPath: folder))
        #expect(files == ["my-\(kind).c", "include", "include/workbench_plugin.h", "Makefile", "README.md", ".gitignore"])
        #expect(try Data(contentsOf: URL(fileURLWithPath: folder + "/include/workbench_plugin.h")) == (try Self.includeHeader()))

        // -Werror: the generated source is warning-free under the Makefile's own warnings.
        let build = try S.run(Self.make!, ["-C", folder, "CFLAGS=-O2 -Wall -Wextra -Wpedantic -Werror"])
        try #require(build.status == 0, "\(build.all)")
        let library = folder + "/libmy-\(kind).so"
        let check = try S.run(S.workbench, ["plugin", "check", library])
        Self.expectCheckPasses(check, kind)
        switch kind {
        case "reward":
            #expect(check.stdout.contains("PASS  org.example.reward.my-reward  score with 16-dim CoT embeddings, \(Self.expectedRewards)"), "\(check.stdout)")
            let strict = try S.run(S.workbench, ["plugin", "check", library, "--config", "partial=1"])
            #expect(strict.status != 0)
            #expect(strict.stdout.contains("partial is 1; it must be >= 0 and < 1, since a reward >= 1 means correct"), "\(strict.stdout)")
        case "pooling":
            #expect(check.stdout.contains("PASS  org.example.pooling.my-pooling  backward vs finite differences (token embeddings)"))
            Self.expectCheckPasses(try S.run(S.workbench, ["plugin", "check", library, "--config", "reduction=sum"]), "reduction=sum")
        default:
            #expect(check.stdout.contains("PASS  org.example.contrastive.my-contrastive  view count and sources: annotated, rollout"))
            #expect(check.stdout.contains("PASS  org.example.contrastive.my-contrastive  backward vs finite differences (view 1, rollout)"))
            Self.expectCheckPasses(try S.run(S.workbench, ["plugin", "check", library, "--config", "min-reward=0"]), "min-reward=0")
        }
    }

    /// The one slow test (a SwiftPM build of the generated package, a minute or two): the package
    /// builds without the repository, its library has no RUNPATH into the toolchain, and it passes.
    @Test(.enabled(if: PluginNewTests.swift != nil && PluginNewTests.readelf != nil, "needs swift and readelf on PATH to build and inspect the generated Swift plugin"))
    func swiftRewardPluginBuildsWithoutAToolchainRunpathAndPassesCheck() throws {
        let dir = try Self.scratch()
        let folder = dir + "/swift-reward"
        let made = try S.run(S.workbench, ["plugin", "new", "swift-reward", "--lang", "swift", "--out", folder])
        try #require(made.status == 0, "\(made.all)")
        #expect(try Data(contentsOf: URL(fileURLWithPath: folder + "/Sources/WorkbenchPluginABI/workbench_plugin.h")) == (try Self.includeHeader()))
        #expect(FileManager.default.fileExists(atPath: folder + "/Sources/WorkbenchPluginABI/module.modulemap"))

        let build = try S.run(Self.swift!, ["build", "-c", "release", "--package-path", folder])
        try #require(build.status == 0, "\(build.all)")
        let library = folder + "/.build/release/libswift-reward.so"
        let dynamic = try S.run(Self.readelf!, ["-d", library])
        try #require(dynamic.status == 0, "\(dynamic.all)")
        let paths = dynamic.stdout.split(separator: "\n").filter { $0.contains("RUNPATH") || $0.contains("RPATH") }
        // The toolchain's folder: swift is <toolchain>/usr/bin/swift, its runtime <toolchain>/usr/lib/swift.
        let toolchain = URL(fileURLWithPath: Self.swift!).resolvingSymlinksInPath().deletingLastPathComponent().deletingLastPathComponent().path
        #expect(!paths.contains { $0.contains(toolchain) }, "RUNPATH into \(toolchain): \(paths)")
        #expect(!paths.contains { $0.contains("/usr/lib/swift") }, "\(paths)")

        let check = try S.run(S.workbench, ["plugin", "check", library])
        Self.expectCheckPasses(check, "swift reward")
        #expect(check.stdout.contains("PASS  org.example.reward.swift-reward  score with 16-dim CoT embeddings, \(Self.expectedRewards)"), "\(check.stdout)")
        let strict = try S.run(S.workbench, ["plugin", "check", library, "--config", "tolerance=-1"])
        #expect(strict.status != 0)
        #expect(strict.stdout.contains("tolerance is -1.0; it must be >= 0"), "\(strict.stdout)")
    }

    @Test func refusesAFolderThatIsNotEmpty() throws {
        let dir = try Self.scratch()
        try "mine\n".write(toFile: dir + "/notes.txt", atomically: true, encoding: .utf8)
        let r = try S.run(S.workbench, ["plugin", "new", "mine", "--lang", "c", "--out", dir])
        #expect(r.status != 0)
        #expect(r.stderr.contains("\(dir) already exists and is not empty (1 entry, e.g. notes.txt); choose another --out"), "\(r.all)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir) == ["notes.txt"])
        #expect(try String(contentsOfFile: dir + "/notes.txt", encoding: .utf8) == "mine\n")
    }

    @Test func writesIntoAnEmptyFolderGivenWithATrailingSlash() throws {
        let dir = try Self.scratch()
        let r = try S.run(S.workbench, ["plugin", "new", "mine", "--lang", "c", "--kind", "pooling", "--out", dir + "/"])
        #expect(r.status == 0, "\(r.all)")
        #expect(r.stdout.contains("Wrote a C pooling plugin, org.example.pooling.mine, into \(dir)/:\n"), "\(r.stdout)")
        #expect(r.stdout.contains("  make -C \(dir)\n"), "\(r.stdout)")
        #expect(r.stdout.contains("plugin check \(dir)/libmine.so\n"), "\(r.stdout)")
        #expect(FileManager.default.fileExists(atPath: dir + "/mine.c"))
        #expect(try String(contentsOfFile: dir + "/mine.c", encoding: .utf8).contains(#".id = "org.example.pooling.mine""#))
    }

    @Test(arguments: [("my.reward", "contains '.'"), ("1reward", "starts with '1'"), ("my reward", "contains ' '"),
                      ("lib:x", "contains ':'"), (String(repeating: "a", count: 65), "is 65 characters long")])
    func rejectsNamesThatCannotBeALibraryAndAnId(_ name: String, _ why: String) throws {
        let dir = try Self.scratch()
        let r = try S.run(S.workbench, ["plugin", "new", name, "--lang", "c", "--out", dir + "/out"])
        #expect(r.status != 0)
        #expect(r.stderr.contains("plugin name '\(name)' \(why); the name becomes the library lib<name>.so and the id org.example.<kind>.<name>, so use ASCII letters, digits, '-' and '_', starting with a letter, at most 64 characters"), "\(r.all)")
        #expect(!FileManager.default.fileExists(atPath: dir + "/out"))
    }

    @Test func rejectsAnUnknownLanguageOrKind() throws {
        let lang = try S.run(S.workbench, ["plugin", "new", "mine", "--lang", "rust"])
        #expect(lang.status != 0)
        #expect(lang.stderr.contains("rust"), "\(lang.all)")
        let kind = try S.run(S.workbench, ["plugin", "new", "mine", "--lang", "c", "--kind", "value"])
        #expect(kind.status != 0)
        #expect(kind.stderr.contains("value"), "\(kind.all)")
    }

    @Test func helpExplainsKindsFilesAndNextSteps() throws {
        let r = try S.run(S.workbench, ["plugin", "new", "--help"])
        #expect(r.status == 0, "\(r.all)")
        for text in ["reward", "pooling", "contrastive", "--lang", "--kind", "--out",
                     "Makefile", "Package.swift", "module.modulemap", "README.md", "must not exist or be empty",
                     "make -C mine", "workbench plugin check mine/libmine.so",
                     "workbench rl --algo carft --init runs/default/final --plugin mine/libmine.so",
                     "workbench --plugin mine/libmine.so"] {
            #expect(r.stdout.contains(text), "missing \(text) in:\n\(r.stdout)")
        }
        let plugin = try S.run(S.workbench, ["plugin", "--help"])
        #expect(plugin.stdout.contains("new"), "\(plugin.stdout)")
    }
}
