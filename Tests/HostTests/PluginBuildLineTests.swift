import Foundation
import Testing

/// The C build line at the top of include/workbench_plugin.h, taken from the header itself and
/// run as written on a plugin that calls libm (expf, sqrtf), must make a library the host loads
/// and checks: the line a plugin author copies first has to work.
@Suite(.enabled(if: PluginTestSupport.cc != nil && FileManager.default.isExecutableFile(atPath: PluginTestSupport.workbench),
                "needs cc and .build/release/workbench (built by scripts/test.sh)"))
struct PluginBuildLineTests {
    typealias S = PluginTestSupport

    /// "cc -shared ... -lm" from the header's opening comment, split into words.
    static func documentedLine() throws -> [String] {
        let header = try String(contentsOfFile: S.include + "/workbench_plugin.h", encoding: .utf8)
        let line = try #require(header.split(separator: "\n").first { $0.trimmingCharacters(in: .whitespaces).hasPrefix("*") && $0.contains(" cc -shared ") })
        let command = line.drop { $0 == " " || $0 == "*" }
        return command.split(separator: " ").map(String.init)
    }

    /// A reward whose score goes through expf and sqrtf of the completion's length, so neither
    /// can be folded away at compile time: sqrt(exp(-len/100)), 1 for the empty completion.
    static let source = """
    #include <math.h>
    #include <string.h>
    #include "workbench_plugin.h"

    static wb_status create(const wb_plugin_descriptor* d, const wb_host* h, uint32_t n, const char* const* k,
                            const char* const* v, wb_instance** out) {
        (void)d; (void)h; (void)n; (void)k; (void)v;
        *out = NULL;
        return WB_OK;
    }
    static void destroy(wb_instance* i) { (void)i; }
    static wb_status score(wb_instance* i, const wb_reward_batch* b, float* out) {
        (void)i;
        for (uint32_t r = 0; r < b->count; r++) out[r] = sqrtf(expf(-(float)strlen(b->completions[r]) / 100.0f));
        return WB_OK;
    }
    static const wb_reward_functions functions = {sizeof(wb_reward_functions), score};
    static const wb_plugin_descriptor descriptor = {
        sizeof(wb_plugin_descriptor), WB_ABI_MAJOR, WB_ABI_MINOR, WB_KIND_REWARD, "org.test.reward.libm", "1.0.0",
        "sqrt(exp(-length/100))", 0, 0, NULL, create, destroy, &functions, NULL};
    static const wb_plugin_descriptor* const plugins[] = {&descriptor};
    static const wb_library library = {sizeof(wb_library), WB_ABI_MAJOR, WB_ABI_MINOR, 1, plugins};
    WB_EXPORT const wb_library* workbench_plugin_entry_v1(const wb_host_info* info) { (void)info; return &library; }

    """

    @Test func theHeadersBuildLineMakesALoadablePluginThatUsesLibm() throws {
        let words = try Self.documentedLine()
        #expect(words == ["cc", "-shared", "-fPIC", "-std=c11", "-I", "include", "-o", "libmine.so", "mine.c", "-lm"])
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("host-tests-build-line-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir + "/include", withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: S.include + "/workbench_plugin.h", toPath: dir + "/include/workbench_plugin.h")
        try Self.source.write(toFile: dir + "/mine.c", atomically: true, encoding: .utf8)

        let build = try S.run(S.cc!, Array(words.dropFirst()), in: dir)
        try #require(build.status == 0, "\(words.joined(separator: " ")):\n\(build.all)")
        if let readelf = S.which("readelf") {
            // -lm is on the line, so the library records libm itself rather than relying on the host having loaded it.
            let needed = try S.run(readelf, ["-d", dir + "/libmine.so"])
            #expect(needed.stdout.contains("[libm.so"), "\(needed.stdout)")
        }
        let check = try S.run(S.workbench, ["plugin", "check", "./libmine.so"], in: dir)
        #expect(check.status == 0, "\(check.all)")
        #expect(!check.stdout.contains("FAIL"), "\(check.stdout)")
        // The empty completion (sixth of the canonical ones) scores sqrt(exp(0)) = 1; the others less.
        let rewards = try #require(check.stdout.split(separator: "\n").first { $0.contains("same completions: rewards [") })
        let values = rewards.split(separator: "[")[1].split(separator: "]")[0].split(separator: ",").compactMap { Float($0.trimmingCharacters(in: .whitespaces)) }
        #expect(values.count == 8 && values[5] == 1 && values.enumerated().allSatisfy { $0.offset == 5 || ($0.element >= 0 && $0.element < 1) }, "\(rewards)")
    }
}
