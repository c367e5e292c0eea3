import Engine
import Foundation
import Testing
import TestSupport
@testable import Host

/// plugins/negsignal, the example Swift plugin, as the host uses it: built by SwiftPM into
/// .build/release/libnegsignal.so (the test command builds every product), opened with the
/// Host's loader, checked, and compared with the built-in LCS negative signal it mirrors.
@Suite(.enabled(if: FileManager.default.fileExists(atPath: PluginTestSupport.negsignal),
                "needs .build/release/libnegsignal.so (built by `swift build -c release` or scripts/test.sh)"))
struct NegSignalPluginTests {
    typealias S = PluginTestSupport
    static let path = PluginTestSupport.negsignal
    static let id = "org.example.contrastive.negsignal"

    static func negsignal() throws -> PluginDescriptor { try PluginLoader.load(path).plugin(id) }
    static func builtin() throws -> PluginDescriptor { try PluginLoader.library("builtin").plugin("org.workbench.contrastive.lcs-negative") }

    @Test func exportsTheEntry() throws {
        guard let nm = S.which("nm") else { return }
        let r = try S.run(nm, ["-D", "--defined-only", Self.path])
        #expect(r.stdout.range(of: #"\bT workbench_plugin_entry_v1\b"#, options: .regularExpression) != nil, "\(r.all)")
    }

    /// Package.swift links it with -no-toolchain-stdlib-rpath: the host has the Swift runtime
    /// loaded already, and a library must not depend on where the toolchain is installed.
    @Test func hasNoRunpathIntoTheToolchain() throws {
        guard let readelf = S.which("readelf") else { return }
        let r = try S.run(readelf, ["-d", Self.path])
        try #require(r.status == 0, "\(r.all)")
        let paths = r.stdout.split(separator: "\n").filter { $0.contains("RUNPATH") || $0.contains("RPATH") }
        #expect(!paths.contains { $0.contains("/usr/lib/swift") }, "\(paths)")
    }

    @Test func loadsAndPassesTheChecker() throws {
        let lib = try PluginLoader.load(Self.path)
        #expect(lib.plugins.map(\.id) == [Self.id])
        let d = lib.plugins[0]
        #expect(d.kind == .contrastive && d.version == "1.0.0")
        // Same keys and defaults as the built-in, so the two can be swapped.
        #expect(d.configKeys.map { "\($0.name)=\($0.defaultValue)" } == (try Self.builtin()).configKeys.map { "\($0.name)=\($0.defaultValue)" })
        for config in [[:], ["similarity": "dot", "reduction": "sum", "positive-clamp": "1"], ["lcs-scope": "sequence", "tau": "0.1"]] {
            let results = PluginChecker.check(d, config: config, seed: 4)
            #expect(results.filter { !$0.passed }.isEmpty, "\(config): \(results.filter { !$0.passed })")
            #expect(results.filter { $0.check.hasPrefix("backward vs finite differences") && $0.passed }.count == 3)
        }
        #expect(S.message { _ = try PluginInstance(d, config: ["tau": "-1"]) }
                == "\(Self.path): plugin \(Self.id): create failed with WB_ERROR_CONFIG: tau is -1; the temperature must be > 0")
    }

    static let optionSets: [[String: String]] = [
        [:],
        ["similarity": "dot", "positive-clamp": "1", "detach-denominator": "false", "reduction": "sum"],
        ["tau": "0.5", "positive-clamp": "0.1", "detach-denominator": "false"],
        ["lcs-scope": "sequence"],
    ]

    /// Random token batches and views: select's masks are identical (same LCS tie-breaking),
    /// losses and gradients agree to float rounding, including a row with an empty view.
    @Test(arguments: optionSets) func agreesWithTheBuiltin(_ config: [String: String]) throws {
        let ext = try PluginContrastiveLoss(Self.negsignal(), config: config)
        let ref = try PluginContrastiveLoss(Self.builtin(), config: config)
        var rng = RNG(seed: 21, stream: "negsignal-vs-builtin-\(config.keys.sorted())")
        for trial in 0..<4 {
            let (batch, tr, ta, dim) = (6, 30 + trial * 9, 26 + trial * 5, 5)
            let tokens = RandomTokenViews(&rng, batch: batch, tr: tr, ta: ta, prompt: 4, minLength: 6,
                                          promptIDs: 40...60, cotIDs: 0...5)
            #expect(try tokens.select(ext) == tokens.select(ref), "trial \(trial)")

            let views = (0..<3).map { _ in FloatBuffer((0..<(batch * dim)).map { _ in rng.normal() }) }
            if trial == 3 { for k in 0..<dim { views[2][1 * dim + k] = 0 } } // row 1: empty "rollout not in LCS"
            let rewards: [Float] = [0, 0, 1, 0.1, 0, 1]
            let valid: [UInt8] = [1, 1, 1, 1, 1, trial % 2 == 0 ? 0 : 1]
            func run(_ loss: PluginContrastiveLoss) throws -> (Double, [[Float]]) {
                try rewards.withUnsafeBufferPointer { r in try valid.withUnsafeBufferPointer { v in
                    let input = ContrastiveInput(batch: batch, dim: dim, views: views.map { UnsafePointer($0.ptr) }, rewards: r.baseAddress!, valid: v.baseAddress!)
                    let grads = views.map { _ in FloatBuffer(batch * dim) }
                    try loss.backward(input, gradLoss: 0.8, gradViews: grads.map { $0.ptr })
                    return (try loss.forward(input), grads.map(\.array))
                } }
            }
            let (le, ge) = try run(ext), (lr, gr) = try run(ref)
            // Both compute in Double; the built-in holds tau as a Float (0.2 → 0.20000000298), the
            // plugin as a Double, so they differ by ~1e-8 relative, far below anything a wrong term gives.
            #expect(abs(le - lr) <= 1e-6 * max(1, abs(lr)), "trial \(trial): loss \(le) vs built-in \(lr)")
            #expect(le > 0)
            for v in 0..<3 {
                let worst = zip(ge[v], gr[v]).map { abs($0 - $1) / max(1, abs($1)) }.max()!
                #expect(worst <= 1e-5, "trial \(trial) view \(v): max relative gradient difference \(worst)")
            }
            if trial == 3 { #expect(ref.instance.metrics["lcs-negative/excluded"] == 1) }
        }
    }

    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: PluginTestSupport.workbench)))
    func cliChecksTheLibraryAndListsTheBuiltins() throws {
        let check = try S.run(S.workbench, ["plugin", "check", Self.path])
        #expect(check.status == 0, "\(check.all)")
        #expect(check.stdout.contains("PASS  \(Self.id)  backward vs finite differences (view 2, rollout) [with detach-denominator=false"))
        #expect(check.stdout.hasSuffix("12 checks passed\n"), "\(check.stdout)")
        let list = try S.run(S.workbench, ["plugin", "list", "builtin"])
        #expect(list.status == 0, "\(list.all)")
        #expect(list.stdout.hasPrefix("builtin: 9 plugins (plugin ABI 1.0)"))
        for id in ["org.workbench.reward.exact", "org.workbench.reward.reft-partial", "org.workbench.reward.equation-checked",
                   "org.workbench.reward.carft-embedding",
                   "org.workbench.pooling.softmax-values", "org.workbench.pooling.mean", "org.workbench.pooling.last",
                   "org.workbench.contrastive.infonce-positive", "org.workbench.contrastive.lcs-negative"] {
            #expect(list.stdout.contains("\(id) 1.0.0  ["), "\(id) missing from:\n\(list.stdout)")
        }
        #expect(list.stdout.range(of: #"positive-clamp\s+float\s+default 0.9\s+.*>= 1 turns the clamp off"#, options: .regularExpression) != nil)
        let builtin = try S.run(S.workbench, ["plugin", "check", "builtin"])
        #expect(builtin.status == 0 && !builtin.stdout.contains("FAIL"), "\(builtin.all)")
    }
}

extension PluginTestSupport {
    /// The example Swift plugin, as SwiftPM builds it.
    static let negsignal = root + "/.build/release/libnegsignal.so"

    static func message(_ body: () throws -> Void) -> String {
        do { try body(); return "(no error)" } catch { return "\(error)" }
    }
}
