import Engine
import Foundation
import Testing
@testable import Host

/// Engine-side plugin wrappers driven through real C plugins: config validation, the error
/// sink, log and metric callbacks, NaN/Inf detection, and the checker on good and bad plugins.
@Suite(.enabled(if: PluginTestSupport.cc != nil, "cc not found on PATH: the C plugins cannot be built"))
struct PluginInstanceTests {
    typealias S = PluginTestSupport

    func example(_ id: String) throws -> PluginDescriptor { try PluginLoader.load(try S.cExample()).plugin(id) }
    func fixture(_ name: String, _ id: String) throws -> PluginDescriptor { try PluginLoader.load(try S.fixture(name)).plugin(id) }

    func message(_ body: () throws -> Void) -> String {
        do { try body(); return "(no error)" } catch { return "\(error)" }
    }

    @Test func cExamplePassesEveryCheck() throws {
        let lib = try PluginLoader.load(try S.cExample())
        #expect(lib.plugins.map(\.id) == ["org.example.reward.format-aware", "org.example.contrastive.triplet"])
        for d in lib.plugins {
            let results = PluginChecker.check(d)
            #expect(results.count >= 4)
            #expect(results.filter { !$0.passed }.isEmpty, "\(results.filter { !$0.passed })")
        }
    }

    @Test func configIsCompletedWithDefaultsInDeclarationOrder() throws {
        let i = try PluginInstance(try example("org.example.reward.format-aware"), config: ["max-chars": "50", "partial": "0.25"])
        #expect(i.config.map(\.key) == ["partial", "max-chars", "length-penalty", "answer-prefix"])
        #expect(i.config.map(\.value) == ["0.25", "50", "0.1", "Therefore, the answer is:"])
    }

    @Test func unknownConfigKeyListsTheKnownOnes() throws {
        let d = try example("org.example.contrastive.triplet")
        let e = message { _ = try PluginInstance(d, config: ["margn": "0.3"]) }
        #expect(e.contains("plugin org.example.contrastive.triplet: has no config key 'margn'; its keys are: margin (float), min-reward (float)"))
        #expect(e.contains("check the spelling against the keys above"))
    }

    @Test func illTypedConfigValueNamesKeyTypeAndValue() throws {
        let d = try example("org.example.reward.format-aware")
        let e = message { _ = try PluginInstance(d, config: ["max-chars": "lots"]) }
        #expect(e.contains("config key 'max-chars' is an int but got 'lots'"))
        #expect(e.contains("max-chars=400"))
        #expect(message { _ = try PluginInstance(d, config: ["partial": "nan"]) }.contains("config key 'partial' is a float but got 'nan'"))
    }

    @Test func configTextParsing() throws {
        #expect(try PluginConfig.parse("tau=0.2, similarity = dot,") == ["tau": "0.2", "similarity": "dot"])
        #expect(try PluginConfig.parse("") == [:])
        #expect(message { _ = try PluginConfig.parse("tau") }.contains("config item 'tau' is not key=value"))
        #expect(message { _ = try PluginConfig.parse("tau=1,tau=2") }.contains("config key 'tau' is given twice"))
    }

    /// A value may hold commas, quotes and spaces in double quotes; what `text` writes, `parse`
    /// reads back unchanged.
    @Test func quotedConfigValues() throws {
        #expect(try PluginConfig.parse(#"prefix="Therefore, the answer is:",tau=0.2"#) == ["prefix": "Therefore, the answer is:", "tau": "0.2"])
        #expect(try PluginConfig.parse(#" p = " two  spaces " , q=x"#) == ["p": " two  spaces ", "q": "x"])
        #expect(try PluginConfig.parse(#"p="say \"hi\", then \\ go""#) == ["p": #"say "hi", then \ go"#])
        #expect(try PluginConfig.parse(#"p="""#) == ["p": ""])
        // A quote inside a bare value is an ordinary character.
        #expect(try PluginConfig.parse(#"p=5" screen"#) == ["p": #"5" screen"#])
        #expect(message { _ = try PluginConfig.parse(#"p="open, never closed"#) }.contains("the value of 'p' opens a double quote that is never closed"))
        #expect(message { _ = try PluginConfig.parse(#"p="a" b,q=1"#) }.contains("after the quoted value of 'p' comes 'b'; separate pairs with commas"))
        #expect(message { _ = try PluginConfig.parse(#"p="a\nb""#) }.contains(#"the quoted value of 'p' has a backslash before 'n'"#))
        #expect(message { _ = try PluginConfig.parse("tau") }.contains(#"prefix="Therefore, the answer is:""#))
        for value in ["plain", "a, b", #"say "hi""#, #""lead"#, " padded ", #"back\slash, too"#, "", "ünï, cödé"] {
            let pairs = [(key: "k", value: value), (key: "j", value: "1")]
            #expect(try PluginConfig.parse(PluginConfig.text(pairs)) == ["k": value, "j": "1"], "\(value) as \(PluginConfig.text(pairs))")
        }
        #expect(PluginConfig.text([(key: "k", value: "a, b")]) == #"k="a, b""#)
        #expect(PluginConfig.text([(key: "k", value: "0.2")]) == "k=0.2")
    }

    @Test func bools() {
        let key = PluginConfigKey(name: "on", type: .bool, defaultValue: "false", help: "")
        #expect(key.normalize("yes") == "true" && key.normalize("0") == "false" && key.normalize("maybe") == nil)
        let choice = PluginConfigKey(name: "similarity", type: .string, defaultValue: "cosine", help: "", choices: ["cosine", "dot"])
        #expect(choice.normalize("dot") == "dot" && choice.normalize("l2") == nil)
        #expect(choice.typeDescription == "string: cosine|dot")
    }

    @Test func pluginRejectsAConfigThroughItsErrorSink() throws {
        let d = try example("org.example.contrastive.triplet")
        let e = message { _ = try PluginInstance(d, config: ["margin": "5"]) }
        #expect(e.hasSuffix("plugin org.example.contrastive.triplet: create failed with WB_ERROR_CONFIG: margin must be between 0 and 2 (cosines differ by at most 2)"))
    }

    @Test func createErrorFromTheSink() throws {
        let d = try fixture("create_error", "org.fixture.reward.create-error")
        let e = message { _ = try PluginInstance(d) }
        #expect(e.contains("libcreate_error.so: plugin org.fixture.reward.create-error: create failed with WB_ERROR_CONFIG: cannot open the answer table /nowhere/answers.tsv"))
    }

    @Test func rewardScoresAndReportsMetrics() throws {
        let reward = try PluginReward(try example("org.example.reward.format-aware"), config: ["max-chars": "30"])
        var seen: [String: Double] = [:]
        reward.instance.onMetric = { seen[$0] = $1 }
        let r = try reward.scores([
            RewardInput(question: "q", completion: "Therefore, the answer is: 7", gold: 7),
            RewardInput(question: "q", completion: "Therefore, the answer is: 8", gold: 7),
            RewardInput(question: "q", completion: "no idea", gold: 7),
            RewardInput(question: "q", completion: String(repeating: "x", count: 40) + " Therefore, the answer is: 7", gold: 7),
        ])
        #expect(r == [1, 0.1, 0, 0.9])
        #expect(seen["format/over_length"] == 0.25)
        #expect(reward.instance.metrics["format/over_length"] == 0.25)
        #expect(reward.name == "org.example.reward.format-aware")
    }

    @Test func nanRewardIsCaughtAndNamed() throws {
        let reward = try PluginReward(try fixture("nan_output", "org.fixture.reward.nan"))
        var logs: [String] = []
        reward.instance.onLog = { level, text in logs.append("\(level) \(text)") }
        let batch = (0..<4).map { _ in RewardInput(question: "q", completion: "c", gold: 1) }
        let e = message { _ = try reward.scores(batch) }
        #expect(e.contains("plugin org.fixture.reward.nan: score wrote NaN into out_rewards[2]"))
        #expect(logs == ["1 scoring with a NaN in row 2"])
    }

    @Test func nanGradientIsCaughtAndNamed() throws {
        let pooling = try PluginPooling(try fixture("nan_output", "org.fixture.pooling.nan-grad"))
        let (batch, tokens, dim) = (3, 6, 2)
        let x = FloatBuffer(batch * tokens * dim), v = FloatBuffer(batch * tokens), g = FloatBuffer(batch * dim)
        let mask = [UInt8](repeating: 1, count: batch * tokens)
        _ = try pooling.forward(tokenEmbeddings: x, values: v, mask: mask, batch: batch, tokens: tokens, dim: dim)
        let e = message { _ = try pooling.backward(tokenEmbeddings: x, values: v, mask: mask, gradOut: g, batch: batch, tokens: tokens, dim: dim) }
        #expect(e.contains("plugin org.fixture.pooling.nan-grad: backward wrote NaN into grad_values[17]"))
    }

    @Test func checkerCatchesAWrongGradient() throws {
        let results = PluginChecker.check(try fixture("nan_output", "org.fixture.pooling.double-grad"))
        let fd = try #require(results.first { $0.check == "backward vs finite differences (token embeddings)" })
        #expect(!fd.passed)
        #expect(fd.detail.contains("backward gave"))
        #expect(results.first { $0.check == "forward is finite and pools an all-zero mask row to zeros" }?.passed == true)
    }

    /// A forward that fails only on perturbed inputs fails the finite-difference checks, and
    /// nothing else: the inputs are restored after the failed call, so the NULL-gradient check
    /// after them compares backward on the same views it was first run on.
    @Test func aFailedFiniteDifferenceLeavesTheInputsAsTheyWere() throws {
        let results = PluginChecker.check(try fixture("perturbed_nan", "org.fixture.contrastive.perturbed-nan"))
        let failed = results.filter { !$0.passed }
        #expect(failed.count == 2, "\(failed)")
        for r in failed {
            #expect(r.check.hasPrefix("backward vs finite differences (view "), "\(r)")
            #expect(r.detail.contains("forward wrote NaN into out_loss"), "\(r)")
            #expect(r.detail.contains("entry 0 of the view moved by +0.01"), "\(r)")
        }
        let nulls = try #require(results.first { $0.check.hasPrefix("backward honours NULL gradients") })
        #expect(nulls.passed, "\(nulls)")
    }

    /// What a reward plugin receives for a completion is its UTF-8 text: bytes that are not
    /// UTF-8 have become U+FFFD (3 bytes each) where the tokenizers decoded them, as in the
    /// checker's non-UTF-8 row; nothing else is changed.
    @Test func completionsReachAPluginAsUTF8Text() throws {
        let reward = try PluginReward(try fixture("byte_length_reward", "org.fixture.reward.byte-length"))
        let cut = String(decoding: [0x41, 0xFF, 0x42, 0xE2, 0x82] as [UInt8], as: UTF8.self)
        #expect(cut == "A\u{FFFD}B\u{FFFD}")
        let r = try reward.scores([cut, "Ünïcödé €", ""].map { RewardInput(question: "q", completion: $0, gold: 1) })
        #expect(r == [1 + 3 + 1 + 3, Float("Ünïcödé €".utf8.count), 0])
    }

    @Test func contrastiveViewsSelectAndGradient() throws {
        let loss = try PluginContrastiveLoss(try example("org.example.contrastive.triplet"))
        #expect(loss.viewSources == [.annotated, .rollout])
        // Two correct rows whose rollout CoT points away from its own annotated CoT: the hinge is
        // active and the loss is the mean of the two pairs' hinges.
        let a: [Float] = [1, 0, 0, 1], p: [Float] = [0, 1, 1, 0]  // rows: anchor, positive
        let rewards: [Float] = [1, 1], valid: [UInt8] = [1, 1]
        let value = try a.withUnsafeBufferPointer { ap in try p.withUnsafeBufferPointer { pp in
            try rewards.withUnsafeBufferPointer { r in try valid.withUnsafeBufferPointer { v in
                try loss.forward(ContrastiveInput(batch: 2, dim: 2, views: [pp.baseAddress!, ap.baseAddress!], rewards: r.baseAddress!, valid: v.baseAddress!))
            } }
        } }
        // cos(a_i, p_i) = 0, cos(a_i, p_j) = 1: hinge = 0.2 − 0 + 1 for both pairs.
        #expect(abs(value - 1.2) < 1e-9)
    }
}
