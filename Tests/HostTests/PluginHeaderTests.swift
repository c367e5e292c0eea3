import Foundation
import PluginABI
import Testing

/// The header is the contract: it must compile cleanly for C and C++ plugin authors, and the
/// structs Swift sees must have exactly the layout C compilers give them.
@Suite struct PluginHeaderTests {
    typealias S = PluginTestSupport

    @Test(.enabled(if: S.cc != nil, "cc not found on PATH: the C11 header check is skipped"))
    func compilesWarningFreeAsC11() throws {
        let dir = try scratch()
        let src = dir + "/use.c"
        try """
        #include "workbench_plugin.h"
        int main(void) {
            wb_plugin_descriptor d = {0};
            d.struct_size = sizeof d;
            return WB_HAS_FIELD(&d, wb_plugin_descriptor, get_extension) ? WB_OK : WB_ERROR;
        }

        """.write(toFile: src, atomically: true, encoding: .utf8)
        let r = try S.run(S.cc!, ["-std=c11", "-Wall", "-Wextra", "-Wpedantic", "-Werror", "-I", S.include, "-c", src, "-o", dir + "/use.o"])
        #expect(r.status == 0, "\(r.all)")
    }

    @Test(.enabled(if: S.cxx != nil, "c++ not found on PATH: the C++17 header check is skipped"))
    func compilesWarningFreeAsCxx17() throws {
        let dir = try scratch()
        let src = dir + "/use.cpp"
        try """
        #include "workbench_plugin.h"
        // The entry must keep C linkage when a C++ plugin defines it.
        extern "C" const wb_library* workbench_plugin_entry_v1(const wb_host_info*) { return nullptr; }
        int main() {
            wb_plugin_descriptor d{};
            d.struct_size = sizeof d;
            return WB_HAS_FIELD(&d, wb_plugin_descriptor, get_extension) ? WB_OK : WB_ERROR;
        }

        """.write(toFile: src, atomically: true, encoding: .utf8)
        let r = try S.run(S.cxx!, ["-std=c++17", "-Wall", "-Wextra", "-Wpedantic", "-Werror", "-I", S.include, "-c", src, "-o", dir + "/use.o"])
        #expect(r.status == 0, "\(r.all)")
    }

    @Test(.enabled(if: S.cc != nil, "cc not found on PATH"))
    func cExampleCompilesWarningFree() throws {
        _ = try S.cExample()  // built with -Wall -Wextra -Wpedantic -Werror
    }

    @Test func constantsMatchTheHeader() {
        #expect(WB_ABI_MAJOR == 1 && WB_ABI_MINOR == 0)
        #expect(WB_ENTRY_SYMBOL == "workbench_plugin_entry_v1")
        #expect(WB_OK == 0 && WB_KIND_REWARD == 1 && WB_KIND_POOLING == 2 && WB_KIND_CONTRASTIVE == 3)
    }

    /// Every ABI struct with its size and each field's offset as Swift imports it.
    static let swiftLayouts: [(name: String, size: Int, fields: [(String, Int?)])] = [
        ("wb_host_info", MemoryLayout<wb_host_info>.size, [
            ("struct_size", MemoryLayout<wb_host_info>.offset(of: \.struct_size)),
            ("abi_major", MemoryLayout<wb_host_info>.offset(of: \.abi_major)),
            ("abi_minor", MemoryLayout<wb_host_info>.offset(of: \.abi_minor)),
            ("host_name", MemoryLayout<wb_host_info>.offset(of: \.host_name)),
            ("host_version", MemoryLayout<wb_host_info>.offset(of: \.host_version)),
            ("error", MemoryLayout<wb_host_info>.offset(of: \.error)),
        ]),
        ("wb_host", MemoryLayout<wb_host>.size, [
            ("struct_size", MemoryLayout<wb_host>.offset(of: \.struct_size)),
            ("reserved", MemoryLayout<wb_host>.offset(of: \.reserved)),
            ("host_data", MemoryLayout<wb_host>.offset(of: \.host_data)),
            ("error", MemoryLayout<wb_host>.offset(of: \.error)),
            ("log", MemoryLayout<wb_host>.offset(of: \.log)),
            ("metric", MemoryLayout<wb_host>.offset(of: \.metric)),
            ("get_extension", MemoryLayout<wb_host>.offset(of: \.get_extension)),
        ]),
        ("wb_config_key", MemoryLayout<wb_config_key>.size, [
            ("struct_size", MemoryLayout<wb_config_key>.offset(of: \.struct_size)),
            ("type", MemoryLayout<wb_config_key>.offset(of: \.type)),
            ("name", MemoryLayout<wb_config_key>.offset(of: \.name)),
            ("default_value", MemoryLayout<wb_config_key>.offset(of: \.default_value)),
            ("help", MemoryLayout<wb_config_key>.offset(of: \.help)),
            ("choices", MemoryLayout<wb_config_key>.offset(of: \.choices)),
        ]),
        ("wb_plugin_descriptor", MemoryLayout<wb_plugin_descriptor>.size, [
            ("struct_size", MemoryLayout<wb_plugin_descriptor>.offset(of: \.struct_size)),
            ("abi_major", MemoryLayout<wb_plugin_descriptor>.offset(of: \.abi_major)),
            ("abi_minor", MemoryLayout<wb_plugin_descriptor>.offset(of: \.abi_minor)),
            ("kind", MemoryLayout<wb_plugin_descriptor>.offset(of: \.kind)),
            ("id", MemoryLayout<wb_plugin_descriptor>.offset(of: \.id)),
            ("version", MemoryLayout<wb_plugin_descriptor>.offset(of: \.version)),
            ("summary", MemoryLayout<wb_plugin_descriptor>.offset(of: \.summary)),
            ("config_key_count", MemoryLayout<wb_plugin_descriptor>.offset(of: \.config_key_count)),
            ("reserved", MemoryLayout<wb_plugin_descriptor>.offset(of: \.reserved)),
            ("config_keys", MemoryLayout<wb_plugin_descriptor>.offset(of: \.config_keys)),
            ("create", MemoryLayout<wb_plugin_descriptor>.offset(of: \.create)),
            ("destroy", MemoryLayout<wb_plugin_descriptor>.offset(of: \.destroy)),
            ("functions", MemoryLayout<wb_plugin_descriptor>.offset(of: \.functions)),
            ("get_extension", MemoryLayout<wb_plugin_descriptor>.offset(of: \.get_extension)),
        ]),
        ("wb_library", MemoryLayout<wb_library>.size, [
            ("struct_size", MemoryLayout<wb_library>.offset(of: \.struct_size)),
            ("abi_major", MemoryLayout<wb_library>.offset(of: \.abi_major)),
            ("abi_minor", MemoryLayout<wb_library>.offset(of: \.abi_minor)),
            ("plugin_count", MemoryLayout<wb_library>.offset(of: \.plugin_count)),
            ("plugins", MemoryLayout<wb_library>.offset(of: \.plugins)),
        ]),
        ("wb_reward_batch", MemoryLayout<wb_reward_batch>.size, [
            ("struct_size", MemoryLayout<wb_reward_batch>.offset(of: \.struct_size)),
            ("count", MemoryLayout<wb_reward_batch>.offset(of: \.count)),
            ("prompts", MemoryLayout<wb_reward_batch>.offset(of: \.prompts)),
            ("completions", MemoryLayout<wb_reward_batch>.offset(of: \.completions)),
            ("gold_answers", MemoryLayout<wb_reward_batch>.offset(of: \.gold_answers)),
            ("gold_values", MemoryLayout<wb_reward_batch>.offset(of: \.gold_values)),
            ("embedding_dim", MemoryLayout<wb_reward_batch>.offset(of: \.embedding_dim)),
            ("reserved", MemoryLayout<wb_reward_batch>.offset(of: \.reserved)),
            ("rollout_embeddings", MemoryLayout<wb_reward_batch>.offset(of: \.rollout_embeddings)),
            ("annotated_embeddings", MemoryLayout<wb_reward_batch>.offset(of: \.annotated_embeddings)),
        ]),
        ("wb_reward_functions", MemoryLayout<wb_reward_functions>.size, [
            ("struct_size", MemoryLayout<wb_reward_functions>.offset(of: \.struct_size)),
            ("score", MemoryLayout<wb_reward_functions>.offset(of: \.score)),
        ]),
        ("wb_pooling_batch", MemoryLayout<wb_pooling_batch>.size, [
            ("struct_size", MemoryLayout<wb_pooling_batch>.offset(of: \.struct_size)),
            ("batch", MemoryLayout<wb_pooling_batch>.offset(of: \.batch)),
            ("tokens", MemoryLayout<wb_pooling_batch>.offset(of: \.tokens)),
            ("dim", MemoryLayout<wb_pooling_batch>.offset(of: \.dim)),
            ("token_embeddings", MemoryLayout<wb_pooling_batch>.offset(of: \.token_embeddings)),
            ("values", MemoryLayout<wb_pooling_batch>.offset(of: \.values)),
            ("mask", MemoryLayout<wb_pooling_batch>.offset(of: \.mask)),
        ]),
        ("wb_pooling_functions", MemoryLayout<wb_pooling_functions>.size, [
            ("struct_size", MemoryLayout<wb_pooling_functions>.offset(of: \.struct_size)),
            ("flags", MemoryLayout<wb_pooling_functions>.offset(of: \.flags)),
            ("forward", MemoryLayout<wb_pooling_functions>.offset(of: \.forward)),
            ("backward", MemoryLayout<wb_pooling_functions>.offset(of: \.backward)),
        ]),
        ("wb_token_views_batch", MemoryLayout<wb_token_views_batch>.size, [
            ("struct_size", MemoryLayout<wb_token_views_batch>.offset(of: \.struct_size)),
            ("batch", MemoryLayout<wb_token_views_batch>.offset(of: \.batch)),
            ("rollout_tokens", MemoryLayout<wb_token_views_batch>.offset(of: \.rollout_tokens)),
            ("annotated_tokens", MemoryLayout<wb_token_views_batch>.offset(of: \.annotated_tokens)),
            ("rollout_ids", MemoryLayout<wb_token_views_batch>.offset(of: \.rollout_ids)),
            ("rollout_present", MemoryLayout<wb_token_views_batch>.offset(of: \.rollout_present)),
            ("rollout_cot", MemoryLayout<wb_token_views_batch>.offset(of: \.rollout_cot)),
            ("annotated_ids", MemoryLayout<wb_token_views_batch>.offset(of: \.annotated_ids)),
            ("annotated_present", MemoryLayout<wb_token_views_batch>.offset(of: \.annotated_present)),
            ("annotated_cot", MemoryLayout<wb_token_views_batch>.offset(of: \.annotated_cot)),
        ]),
        ("wb_contrastive_batch", MemoryLayout<wb_contrastive_batch>.size, [
            ("struct_size", MemoryLayout<wb_contrastive_batch>.offset(of: \.struct_size)),
            ("batch", MemoryLayout<wb_contrastive_batch>.offset(of: \.batch)),
            ("dim", MemoryLayout<wb_contrastive_batch>.offset(of: \.dim)),
            ("view_count", MemoryLayout<wb_contrastive_batch>.offset(of: \.view_count)),
            ("views", MemoryLayout<wb_contrastive_batch>.offset(of: \.views)),
            ("rewards", MemoryLayout<wb_contrastive_batch>.offset(of: \.rewards)),
            ("valid", MemoryLayout<wb_contrastive_batch>.offset(of: \.valid)),
        ]),
        ("wb_contrastive_functions", MemoryLayout<wb_contrastive_functions>.size, [
            ("struct_size", MemoryLayout<wb_contrastive_functions>.offset(of: \.struct_size)),
            ("reserved", MemoryLayout<wb_contrastive_functions>.offset(of: \.reserved)),
            ("view_count", MemoryLayout<wb_contrastive_functions>.offset(of: \.view_count)),
            ("view_source", MemoryLayout<wb_contrastive_functions>.offset(of: \.view_source)),
            ("select", MemoryLayout<wb_contrastive_functions>.offset(of: \.select)),
            ("forward", MemoryLayout<wb_contrastive_functions>.offset(of: \.forward)),
            ("backward", MemoryLayout<wb_contrastive_functions>.offset(of: \.backward)),
        ]),
    ]

    /// A C program prints sizeof and offsetof for the same structs and fields; the two lists
    /// must be identical line for line.
    @Test(.enabled(if: S.cc != nil, "cc not found on PATH: the C layout comparison is skipped"))
    func structLayoutsMatchC() throws {
        let dir = try scratch()
        var program = "#include <stdio.h>\n#include <stddef.h>\n#include \"workbench_plugin.h\"\nint main(void) {\n"
        var expected: [String] = []
        for s in Self.swiftLayouts {
            program += "    printf(\"\(s.name) size %zu\\n\", sizeof(\(s.name)));\n"
            expected.append("\(s.name) size \(s.size)")
            for (field, offset) in s.fields {
                program += "    printf(\"\(s.name).\(field) %zu\\n\", offsetof(\(s.name), \(field)));\n"
                expected.append("\(s.name).\(field) \(offset.map(String.init) ?? "nil")")
            }
        }
        program += "    return 0;\n}\n"
        try program.write(toFile: dir + "/layout.c", atomically: true, encoding: .utf8)
        let build = try S.run(S.cc!, ["-std=c11", "-I", S.include, dir + "/layout.c", "-o", dir + "/layout"])
        try #require(build.status == 0, "\(build.all)")
        let c = try S.run(dir + "/layout", []).stdout.split(separator: "\n").map(String.init)
        #expect(c.count == expected.count)
        for (fromC, fromSwift) in zip(c, expected) { #expect(fromC == fromSwift) }
    }

    private func scratch() throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("host-tests-header-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }
}
