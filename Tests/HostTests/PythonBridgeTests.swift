import Engine
import Foundation
import PluginHost
import Testing
@testable import Host

/// python/workbench_plugins, the ctypes bridge, against this host: its numpy test suite (loading,
/// config, errors, NaN checks, finite-difference gradients of every differentiable plugin), and
/// the same inputs through both hosts, which must give the same outputs bit for bit (the same
/// library runs in both; only the marshalling differs). Needs the reference Python with numpy
/// (scripts/setup-reference.sh) and the built libraries.
@Suite(.enabled(if: PythonBridge.python != nil || PythonBridge.required,
                "needs .venv-ref with numpy (run scripts/setup-reference.sh)"))
struct PythonBridgeTests {
    typealias S = PluginTestSupport
    static let python = PythonBridge.python
    static let builtins = S.root + "/.build/release/libworkbench_builtins.so"

    static func environment() throws -> [String] {
        var fixtures: [String: String] = [:]
        for name in ["no_entry", "wrong_major", "missing_function", "create_error", "nan_output"] { fixtures[name] = try S.fixture(name) }
        let json = String(decoding: try JSONSerialization.data(withJSONObject: fixtures, options: [.sortedKeys]), as: UTF8.self)
        return ["WORKBENCH_BUILTINS=\(builtins)", "WORKBENCH_NEGSIGNAL=\(S.negsignal)",
                "WORKBENCH_C_EXAMPLE=\(try S.cExample())", "WORKBENCH_FIXTURES=\(json)"]
    }

    @Test func numpyTestSuitePasses() throws {
        let python = try #require(Self.python, "no .venv-ref Python with numpy: run scripts/setup-reference.sh")
        let r = try S.run("/usr/bin/env", try Self.environment() + [python, "-m", "unittest", "discover", "-s", S.root + "/python/tests", "-p", "test_bridge.py", "-v"])
        #expect(r.status == 0, "\(r.all)")
        // Nothing skipped: every library and fixture was there.
        #expect(r.stderr.contains("\nOK\n") && !r.stderr.contains("skipped"), "\(r.stderr)")
        #expect(r.stderr.range(of: #"Ran (1[7-9]|[2-9][0-9]) tests"#, options: .regularExpression) != nil, "\(r.stderr)")
    }

    /// Random inputs through this host's PluginHost, written with its outputs for the bridge's
    /// host_parity.py, which runs them through Python and compares.
    @Test func bridgeGivesTheSwiftHostsOutputs() throws {
        let python = try #require(Self.python, "no .venv-ref Python with numpy: run scripts/setup-reference.sh")
        var rng = RNG(seed: 11, stream: "python-bridge")
        func normals(_ n: Int) -> [Float] { (0..<n).map { _ in rng.normal() } }
        func bits(_ n: Int, _ p: Float) -> [UInt8] { (0..<n).map { _ in rng.uniform() < p ? 1 : 0 } }
        var cases: [[String: Any]] = []
        let example = try S.cExample()

        for (path, id, config) in [(Self.builtins, "org.workbench.pooling.softmax-values", [String: String]()),
                                   (Self.builtins, "org.workbench.pooling.mean", [:]), (Self.builtins, "org.workbench.pooling.last", [:])] {
            let pooling = try PluginPooling(try PluginLoader.load(path).plugin(id), config: config)
            let (b, t, d) = (3, 7, 5)
            let tokens = normals(b * t * d), values = normals(b * t), g = normals(b * d)
            var mask = bits(b * t, 0.6)
            mask[0] = 1
            for i in 0..<t { mask[2 * t + i] = 0 }
            var out = [Float](repeating: 0, count: b * d), gt = [Float](repeating: 0, count: b * t * d), gv = [Float](repeating: 0, count: b * t)
            try tokens.withUnsafeBufferPointer { tp in
                try values.withUnsafeBufferPointer { vp in
                    try mask.withUnsafeBufferPointer { mp in
                        let input = PoolingInput(batch: b, tokens: t, dim: d, tokenEmbeddings: tp.baseAddress!, values: vp.baseAddress, mask: mp.baseAddress!)
                        try pooling.forward(input, out: &out)
                        try pooling.backward(input, gradOut: g, gradTokens: &gt, gradValues: &gv)
                    }
                }
            }
            cases.append(["kind": "pooling", "library": path, "id": id, "config": config, "shape": [b, t, d],
                          "tokens": tokens, "values": values, "mask": mask, "grad_out": g,
                          "expect": ["out": out, "grad_tokens": gt, "grad_values": gv]])
        }

        for (path, id, config) in [(Self.builtins, "org.workbench.contrastive.infonce-positive", ["detach-denominator": "false"]),
                                   (Self.builtins, "org.workbench.contrastive.infonce-positive", [:]),
                                   (Self.builtins, "org.workbench.contrastive.lcs-negative", ["similarity": "dot", "reduction": "sum"]),
                                   (S.negsignal, "org.example.contrastive.negsignal", ["lcs-scope": "sequence"]),
                                   (example, "org.example.contrastive.triplet", ["margin": "0.3"])] {
            let loss = try PluginContrastiveLoss(try PluginLoader.load(path).plugin(id), config: config)
            let (b, tr, ta, d) = (4, 9, 6, 5)
            let rIDs = (0..<(b * tr)).map { _ in Int32(rng.int(in: 0...6)) }, aIDs = (0..<(b * ta)).map { _ in Int32(rng.int(in: 0...6)) }
            let rPresent = [UInt8](repeating: 1, count: b * tr), aPresent = [UInt8](repeating: 1, count: b * ta)
            let rCoT = bits(b * tr, 0.6), aCoT = bits(b * ta, 0.6)
            let masks = try rIDs.withUnsafeBufferPointer { ri in
                try aIDs.withUnsafeBufferPointer { ai in
                    try loss.select(TokenViewsInput(batch: b, rolloutTokens: tr, annotatedTokens: ta, rolloutIDs: ri.baseAddress!,
                                                    rolloutPresent: rPresent, rolloutCoT: rCoT, annotatedIDs: ai.baseAddress!,
                                                    annotatedPresent: aPresent, annotatedCoT: aCoT))
                }
            }
            let views = (0..<loss.viewCount).map { _ in normals(b * d) }
            let rewards: [Float] = [1, 0.1, 1, 0], valid: [UInt8] = [1, 1, 1, 0]
            var grads = views.map { _ in [Float](repeating: 0, count: b * d) }
            var value = 0.0
            let pointers = views.map { v -> UnsafeMutablePointer<Float> in
                let p = UnsafeMutablePointer<Float>.allocate(capacity: v.count); p.initialize(from: v, count: v.count); return p
            }
            let gradPointers = views.map { _ in UnsafeMutablePointer<Float>.allocate(capacity: b * d) }
            defer { (pointers + gradPointers).forEach { $0.deallocate() } }
            let input = ContrastiveInput(batch: b, dim: d, views: pointers.map { UnsafePointer($0) }, rewards: rewards, valid: valid)
            value = try loss.forward(input)
            try loss.backward(input, gradLoss: 0.5, gradViews: gradPointers)
            grads = gradPointers.map { Array(UnsafeBufferPointer(start: $0, count: b * d)) }
            cases.append(["kind": "contrastive", "library": path, "id": id, "config": config, "batch": b, "dim": d,
                          "rollout_tokens": tr, "annotated_tokens": ta, "rollout_ids": rIDs.map(Int.init), "annotated_ids": aIDs.map(Int.init),
                          "rollout_cot": rCoT, "annotated_cot": aCoT, "views": views, "rewards": rewards, "valid": valid, "grad_loss": 0.5,
                          "expect": ["masks": masks, "loss": value, "grad_views": grads]])
        }

        let completions = ["3 + 4 = 7\nTherefore, the answer is: 7", "3 + 4 = 8\nTherefore, the answer is: 8",
                           "Therefore, the answer is: 2.75", "no answer", "Therefore, the answer is: 1,024\nmore"]
        let golds = [7.0, 7, 2.75, 7, 1024]
        for (path, id, config) in [(Self.builtins, "org.workbench.reward.exact", [String: String]()),
                                   (Self.builtins, "org.workbench.reward.reft-partial", ["partial": "0.3"]),
                                   (Self.builtins, "org.workbench.reward.equation-checked", [:]),
                                   (Self.builtins, "org.workbench.reward.carft-embedding", [:]),
                                   (example, "org.example.reward.format-aware", ["partial": "0.2"])] {
            let reward = try PluginReward(try PluginLoader.load(path).plugin(id), config: config)
            let embeddings = id.hasSuffix("carft-embedding") ? (normals(5 * 4), normals(5 * 4)) : nil
            let inputs = completions.indices.map { i in
                RewardInput(question: "What is 3 + 4?", completion: completions[i], gold: golds[i],
                            rolloutEmbedding: embeddings.map { Array($0.0[(i * 4)..<(i * 4 + 4)]) },
                            annotatedEmbedding: embeddings.map { Array($0.1[(i * 4)..<(i * 4 + 4)]) })
            }
            var c: [String: Any] = ["kind": "reward", "library": path, "id": id, "config": config, "question": "What is 3 + 4?",
                                    "completions": completions, "golds": golds, "expect": ["scores": try reward.scores(inputs)]]
            if let embeddings { c["rollout_embeddings"] = embeddings.0; c["annotated_embeddings"] = embeddings.1; c["dim"] = 4 }
            cases.append(c)
        }

        let dir = try ExportCLITests.tempDir("python-bridge")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let file = dir + "/cases.json"
        try JSONSerialization.data(withJSONObject: cases).write(to: URL(fileURLWithPath: file))
        let r = try S.run(python, [S.root + "/python/tests/host_parity.py", file])
        #expect(r.status == 0, "\(r.all)")
        #expect(r.stdout.hasSuffix("\(cases.count) cases: the bridge gives the Swift host's outputs\n"), "\(r.all)")
    }
}

enum PythonBridge {
    static let required = ProcessInfo.processInfo.environment["WORKBENCH_REQUIRE_REFERENCE"] == "1"
    /// The reference Python (scripts/setup-reference.sh), when it can import numpy.
    static let python: String? = {
        let p = PluginTestSupport.root + "/.venv-ref/bin/python"
        guard FileManager.default.isExecutableFile(atPath: p), (try? PluginTestSupport.run(p, ["-c", "import numpy"]))?.status == 0 else { return nil }
        return p
    }()
}
