import Foundation
import PluginABI
import Testing
import TestSupport
@testable import BuiltinPlugins
@testable import Engine

/// The built-ins through their C descriptors, exactly as the host sees them: the checker passes
/// on each, each gives the numbers of the Math routine it wraps, and config errors are clear.
@Suite struct BuiltinDescriptorTests {
    static let library = try! PluginLibrary(table: BuiltinPlugins.library, name: "builtin")
    static let ids = [
        "org.workbench.reward.exact", "org.workbench.reward.reft-partial", "org.workbench.reward.equation-checked",
        "org.workbench.reward.carft-embedding",
        "org.workbench.pooling.softmax-values", "org.workbench.pooling.mean", "org.workbench.pooling.last",
        "org.workbench.contrastive.infonce-positive", "org.workbench.contrastive.lcs-negative",
    ]

    static func plugin(_ id: String) -> PluginDescriptor { try! library.plugin(id) }

    static func message(_ body: () throws -> Void) -> String {
        do { try body(); return "(no error)" } catch { return "\(error)" }
    }

    @Test func libraryHoldsTheNineBuiltins() throws {
        let lib = Self.library
        #expect(lib.plugins.map(\.id) == Self.ids)
        #expect(lib.plugins.allSatisfy { $0.version == "1.0.0" && !$0.summary.isEmpty })
        #expect(lib.plugins.map(\.kind) == [.reward, .reward, .reward, .reward, .pooling, .pooling, .pooling, .contrastive, .contrastive])
        #expect(Self.plugin("org.workbench.reward.reft-partial").configKeys.map { "\($0.name)=\($0.defaultValue)" } == ["partial=0.1"])
        #expect(Self.plugin("org.workbench.reward.carft-embedding").configKeys.map { "\($0.name)=\($0.defaultValue)" }
                == ["base=0.2", "scale=0.1", "fallback=0.1", "check-equations=true"])
        #expect(Self.plugin("org.workbench.reward.equation-checked").configKeys.map { "\($0.name)=\($0.defaultValue)" } == ["partial=0.1"])
        let lcs = Self.plugin("org.workbench.contrastive.lcs-negative").configKeys
        #expect(lcs.map { "\($0.name)=\($0.defaultValue)" }
                == ["similarity=cosine", "tau=0.2", "positive-clamp=0.9", "detach-denominator=true", "reduction=mean", "lcs-scope=cot"])
        #expect(lcs[0].choices == ["cosine", "dot"] && lcs[2].type == .float && lcs[3].type == .bool && lcs[5].choices == ["cot", "sequence"])
        #expect(Self.plugin("org.workbench.contrastive.infonce-positive").configKeys.map(\.name) == lcs.dropLast().map(\.name))
        #expect(try PluginPooling(Self.plugin("org.workbench.pooling.softmax-values")).usesValues)
        #expect(try !PluginPooling(Self.plugin("org.workbench.pooling.mean")).usesValues)
        #expect(try !PluginPooling(Self.plugin("org.workbench.pooling.last")).usesValues)
        // The descriptors are built once: the table is the same memory every time.
        #expect(BuiltinPlugins.library == BuiltinPlugins.library)
        #expect(lib.plugins[0].pointer == (try PluginLibrary(table: BuiltinPlugins.library, name: "builtin")).plugins[0].pointer)
    }

    @Test(arguments: ids) func passesTheChecker(_ id: String) {
        let results = PluginChecker.check(Self.plugin(id))
        #expect(results.filter { !$0.passed }.isEmpty, "\(results.filter { !$0.passed })")
        if Self.plugin(id).kind != .reward {
            #expect(results.filter { $0.check.hasPrefix("backward vs finite differences") && $0.passed }.count >= 2)
        }
    }

    /// Every check line says what it checks, so no two of a plugin's lines read the same (a
    /// pooling once printed "backward: finite" twice, for one instance wrapped twice).
    @Test(arguments: ids) func checkNamesAreDistinct(_ id: String) {
        let names = PluginChecker.check(Self.plugin(id)).map(\.check)
        let repeated = Dictionary(grouping: names, by: { $0 }).filter { $0.value.count > 1 }.keys.sorted()
        #expect(repeated.isEmpty, "\(id) repeats \(repeated) in \(names)")
    }

    @Test(arguments: [
        "similarity=dot,positive-clamp=1,detach-denominator=false,reduction=sum",
        "similarity=cosine,tau=0.5,positive-clamp=0.3,reduction=sum",
        "lcs-scope=sequence,tau=0.1",
    ])
    func contrastiveBuiltinsPassTheCheckerUnderOtherOptions(_ config: String) throws {
        for id in Self.ids where Self.plugin(id).kind == .contrastive {
            let given = try PluginConfig.parse(config).filter { k, _ in Self.plugin(id).configKeys.contains { $0.name == k } }
            let results = PluginChecker.check(Self.plugin(id), config: given, seed: 3)
            #expect(results.filter { !$0.passed }.isEmpty, "\(id) \(config): \(results.filter { !$0.passed })")
        }
    }

    /// The stop-gradient default is checked under the exact-gradient config the plugin names.
    @Test func detachedDenominatorIsCheckedUnderTheExactGradientConfig() {
        let d = Self.plugin("org.workbench.contrastive.lcs-negative")
        #expect(d.gradientCheckConfig == "detach-denominator=false")
        #expect(Self.plugin("org.workbench.pooling.mean").gradientCheckConfig == nil)
        let results = PluginChecker.check(d)
        #expect(results.contains { $0.check.contains("(view 2, rollout) [with detach-denominator=false") && $0.passed })
    }

    // MARK: rewards

    static let correct = "6 * 7 = 42\nTherefore, the answer is: 42"
    static let wrong = "6 * 7 = 43\nTherefore, the answer is: 43"
    static let none = "6 * 7 is a lot"

    @Test func rewardsGiveRewardMathsNumbers() throws {
        let plain = [Self.correct, Self.wrong, Self.none].map { RewardInput(question: "What is 6 times 7?", completion: $0, gold: 42) }
        let exact = try PluginReward(Self.plugin("org.workbench.reward.exact"))
        #expect(try exact.scores(plain) == [1, 0, 0])
        let reft = try PluginReward(Self.plugin("org.workbench.reward.reft-partial"))
        #expect(try reft.scores(plain) == [1, 0.1, 0])
        let reft25 = try PluginReward(Self.plugin("org.workbench.reward.reft-partial"), config: ["partial": "0.25"])
        #expect(try reft25.scores(plain) == [1, 0.25, 0])
        let carft = try PluginReward(Self.plugin("org.workbench.reward.carft-embedding"))
        #expect(try carft.scores(plain) == [1, 0.1, 0], "no embeddings: ReFT's fallback")
        // cos([1, 0], [1, 1]) = 1/√2: 0.2 + 0.1/√2 = 0.270711.
        let embedded = plain.map { item -> RewardInput in
            var item = item
            item.rolloutEmbedding = [1, 0]
            item.annotatedEmbedding = [1, 1]
            return item
        }
        let r = try carft.scores(embedded)
        #expect(r[0] == 1 && r[2] == 0)
        #expect(abs(r[1] - 0.270711) < 1e-6)
        #expect(r[1] == [Float(1), 0].withUnsafeBufferPointer { ro in [Float(1), 1].withUnsafeBufferPointer { an in
            RewardMath.carftEmbedding(completion: Self.wrong, gold: 42, rollout: ro.baseAddress, annotated: an.baseAddress, dim: 2)
        } })
        let custom = try PluginReward(Self.plugin("org.workbench.reward.carft-embedding"), config: ["base": "0.5", "scale": "-0.2", "fallback": "0"])
        #expect(try custom.scores(plain) == [1, 0, 0])
        #expect(abs(try custom.scores(embedded)[1] - Float(0.5 - 0.2 / 2.0.squareRoot())) < 1e-6)

        // A right answer reached through a false equation: full credit only without the check.
        let falseLine = RewardInput(question: "What is 6 times 7?", completion: "6 * 7 = 43.\nTherefore, the answer is: 42", gold: 42)
        let checked = try PluginReward(Self.plugin("org.workbench.reward.equation-checked"))
        #expect(try checked.scores(plain + [falseLine]) == [1, 0.1, 0, 0.1])
        #expect(try PluginReward(Self.plugin("org.workbench.reward.equation-checked"), config: ["partial": "0"]).scores([falseLine]) == [0])
        #expect(try carft.scores([falseLine]) == [0.1], "the embedding reward checks equations by default")
        let paper = try PluginReward(Self.plugin("org.workbench.reward.carft-embedding"), config: ["check-equations": "false"])
        #expect(try paper.scores([falseLine]) == [1], "the paper's answer-only rule")
        #expect(try reft.scores([falseLine]) == [1])
    }

    // MARK: pooling

    @Test func poolingsGiveTheMathsNumbers() throws {
        // Two tokens [1, 2] and [3, 4], both pooled; values 0 and ln 3 give softmax weights ¼, ¾.
        let x = FloatBuffer([1, 2, 3, 4]), values = FloatBuffer([0, Float(log(3.0))])
        func pool(_ id: String) throws -> [Float] {
            try PluginPooling(Self.plugin(id)).forward(tokenEmbeddings: x, values: values, mask: [1, 1], batch: 1, tokens: 2, dim: 2).array
        }
        #expect(try pool("org.workbench.pooling.mean") == [2, 3])
        #expect(try pool("org.workbench.pooling.last") == [3, 4])
        let soft = try pool("org.workbench.pooling.softmax-values")
        #expect(abs(soft[0] - 2.5) < 1e-6 && abs(soft[1] - 3.5) < 1e-6)

        // Random batches: forward and backward equal the Math routines bit for bit.
        var rng = RNG(seed: 11, stream: "builtin-pooling")
        let (batch, tokens, dim) = (4, 7, 3)
        let tok = FloatBuffer((0..<(batch * tokens * dim)).map { _ in rng.normal() })
        let val = FloatBuffer((0..<(batch * tokens)).map { _ in rng.normal() })
        let mask: [UInt8] = (0..<(batch * tokens)).map { $0 / tokens == 3 ? 0 : UInt8(rng.int(in: 0...1)) }
        let gOut = FloatBuffer((0..<(batch * dim)).map { _ in rng.normal() })
        let cases: [(String, any PoolingMath.Type)] = [("org.workbench.pooling.softmax-values", SoftmaxValuesPooling.self),
                                                        ("org.workbench.pooling.mean", MeanPooling.self),
                                                        ("org.workbench.pooling.last", LastTokenPooling.self)]
        for (id, math) in cases {
            let p = try PluginPooling(Self.plugin(id))
            let out = try p.forward(tokenEmbeddings: tok, values: val, mask: mask, batch: batch, tokens: tokens, dim: dim)
            let (gt, gv) = try p.backward(tokenEmbeddings: tok, values: val, mask: mask, gradOut: gOut, batch: batch, tokens: tokens, dim: dim)
            let ref = FloatBuffer(batch * dim), rgt = FloatBuffer(batch * tokens * dim), rgv = FloatBuffer(batch * tokens)
            mask.withUnsafeBufferPointer { m in
                let b = PoolingBatch(batch: batch, T: tokens, dim: dim, tokens: tok.ptr, values: val.ptr, mask: m.baseAddress!)
                math.forward(b, out: ref.ptr)
                math.backward(b, gradOut: gOut.ptr, gradTokens: rgt.ptr, gradValues: rgv.ptr)
            }
            #expect(out.array == ref.array, "\(id) forward")
            #expect(gt.array == rgt.array && gv!.array == rgv.array, "\(id) backward")
        }
    }

    @Test func softmaxValuesWithoutValuesFailsClearly() throws {
        let p = try PluginPooling(Self.plugin("org.workbench.pooling.softmax-values"))
        let m = Self.message { _ = try p.forward(tokenEmbeddings: FloatBuffer([1, 2]), values: nil, mask: [1], batch: 1, tokens: 1, dim: 2) }
        #expect(m == "builtin: plugin org.workbench.pooling.softmax-values: forward failed with WB_ERROR_INVALID_ARGUMENT: this pooling weights tokens by the value head's outputs, but batch->values is NULL (the host has no value head)")
    }

    // MARK: contrastive

    struct Views {
        var batch: Int, dim: Int
        var views: [FloatBuffer]
        var rewards: [Float]
        var valid: [UInt8]

        init(_ rng: inout RNG, batch: Int = 7, dim: Int = 4, count: Int) {
            self.batch = batch
            self.dim = dim
            views = (0..<count).map { _ in FloatBuffer((0..<(batch * dim)).map { _ in rng.normal() }) }
            rewards = (0..<batch).map { _ in [Float(1), 0, 0.1, 1][rng.int(in: 0...3)] }
            rewards[0] = 1
            rewards[1] = 0
            valid = (0..<batch).map { $0 == batch - 1 ? 0 : 1 }
        }

        func with<R>(_ body: (ContrastiveInput, UnsafePointer<Float>, UnsafePointer<UInt8>) throws -> R) rethrows -> R {
            try rewards.withUnsafeBufferPointer { r in try valid.withUnsafeBufferPointer { v in
                try body(ContrastiveInput(batch: batch, dim: dim, views: views.map { UnsafePointer($0.ptr) }, rewards: r.baseAddress!, valid: v.baseAddress!),
                         r.baseAddress!, v.baseAddress!)
            } }
        }

        func grads(_ loss: PluginContrastiveLoss, gradLoss: Float) throws -> [[Float]] {
            let g = views.map { _ in FloatBuffer(batch * dim) }
            try with { input, _, _ in try loss.backward(input, gradLoss: gradLoss, gradViews: g.map { $0.ptr }) }
            return g.map(\.array)
        }
    }

    static let optionSets: [(config: [String: String], options: InfoNCEOptions)] = [
        ([:], .reference),
        (["similarity": "dot", "positive-clamp": "1", "detach-denominator": "false", "reduction": "sum"], .paper),
        (["tau": "0.5", "positive-clamp": "0.2", "detach-denominator": "false"],
         InfoNCEOptions(similarity: .cosine, tau: 0.5, positiveClamp: 0.2, detachDenominator: false, reduction: .mean)),
        (["positive-clamp": "7"], InfoNCEOptions(positiveClamp: nil)),
    ]

    static func close(_ a: [Float], _ b: [Float], _ tol: Float = 1e-6) -> Bool {
        a.count == b.count && zip(a, b).allSatisfy { abs($0 - $1) <= tol * max(1, abs($1)) }
    }

    @Test func infoncePositiveHandChecked() throws {
        // a0 = [1, 0], r0 = [1, 0], r1 = [0, 1], rewards [1, 0], dot, τ 1, no clamp:
        // L = −1 + log(e¹ + e⁰) = log(1 + e⁻¹).
        let loss = try PluginContrastiveLoss(Self.plugin("org.workbench.contrastive.infonce-positive"),
                                             config: ["similarity": "dot", "tau": "1", "positive-clamp": "1"])
        let annotated = FloatBuffer([1, 0, 0, 0]), rollout = FloatBuffer([1, 0, 0, 1])
        let l = try [Float(1), 0].withUnsafeBufferPointer { r in try [UInt8(1), 1].withUnsafeBufferPointer { v in
            try loss.forward(ContrastiveInput(batch: 2, dim: 2, views: [UnsafePointer(annotated.ptr), UnsafePointer(rollout.ptr)],
                                              rewards: r.baseAddress!, valid: v.baseAddress!))
        } }
        #expect(abs(l - log(1 + exp(-1.0))) < 1e-12)
        #expect(loss.instance.metrics["infonce-positive/rows"] == 1)
    }

    @Test func infoncePositiveGivesTheMathsNumbers() throws {
        var rng = RNG(seed: 5, stream: "builtin-infonce")
        for (config, options) in Self.optionSets {
            let loss = try PluginContrastiveLoss(Self.plugin("org.workbench.contrastive.infonce-positive"), config: config)
            let v = Views(&rng, count: 2)
            let got = try v.with { input, _, _ in try loss.forward(input) }
            let want = v.with { _, r, valid in
                InfoNCEPositive.forward(batch: v.batch, dim: v.dim, annotated: v.views[0].ptr, rollout: v.views[1].ptr, rewards: r, valid: valid, options: options)
            }
            #expect(got == want, "\(config)")
            let g = try v.grads(loss, gradLoss: 0.7)
            let ga = FloatBuffer(v.batch * v.dim), gr = FloatBuffer(v.batch * v.dim)
            v.with { _, r, valid in
                InfoNCEPositive.backward(batch: v.batch, dim: v.dim, annotated: v.views[0].ptr, rollout: v.views[1].ptr, rewards: r, valid: valid,
                                         options: options, gradLoss: 0.7, gradAnnotated: ga.ptr, gradRollout: gr.ptr)
            }
            #expect(g[0] == ga.array && g[1] == gr.array, "\(config)")
        }
    }

    /// Token sequences sharing a five-token prompt, with CoTs from a small vocabulary, padded to T;
    /// select leaves 171 wherever it writes nothing, so an unwritten entry shows.
    struct Tokens {
        var base: RandomTokenViews
        var batch: Int { base.batch }
        var tr: Int { base.tr }
        var ta: Int { base.ta }
        var rPresent: [UInt8] { base.rPresent }
        var aPresent: [UInt8] { base.aPresent }
        var rCoT: [UInt8] { base.rCoT }
        var aCoT: [UInt8] { base.aCoT }

        init(_ rng: inout RNG, batch: Int = 5, tr: Int = 24, ta: Int = 20, padded: Bool = true) {
            base = RandomTokenViews(&rng, batch: batch, tr: tr, ta: ta, padded: padded, prompt: 5, promptIDs: 20...30, cotIDs: 0...6)
        }

        func select(_ loss: PluginContrastiveLoss) throws -> [[UInt8]] { try base.select(loss, fill: 171) }

        func lcsViews(_ scope: LCSViews.Scope) -> [[UInt8]] {
            var m0 = [UInt8](repeating: 9, count: batch * tr), m1 = [UInt8](repeating: 9, count: batch * ta), m2 = m0
            _ = LCSViews.masks(batch: batch, rolloutT: tr, annotatedT: ta, rolloutIds: base.rIDs, rolloutCot: rCoT, annotatedIds: base.aIDs,
                               annotatedCot: aCoT, scope: scope, rolloutLCS: &m0, annotatedExc: &m1, rolloutExc: &m2)
            return [m0, m1, m2]
        }
    }

    @Test func selectGivesTheMathsMasks() throws {
        var rng = RNG(seed: 8, stream: "builtin-select")
        let t = Tokens(&rng)
        let lcs = try PluginContrastiveLoss(Self.plugin("org.workbench.contrastive.lcs-negative"))
        #expect(try t.select(lcs) == t.lcsViews(.cot))
        // Sequence scope: identical to the Math's on unpadded rows; padding never joins a view.
        let seq = try PluginContrastiveLoss(Self.plugin("org.workbench.contrastive.lcs-negative"), config: ["lcs-scope": "sequence"])
        let full = Tokens(&rng, padded: false)
        #expect(try full.select(seq) == full.lcsViews(.sequence))
        let padded = try t.select(seq)
        #expect(padded[0].indices.allSatisfy { padded[0][$0] + padded[2][$0] == t.rPresent[$0] })
        #expect(padded[1].indices.allSatisfy { padded[1][$0] <= t.aPresent[$0] })
        #expect((0..<t.batch).allSatisfy { b in (0..<5).allSatisfy { padded[0][b * t.tr + $0] == 1 } }, "the shared prompt is in the LCS")
        let pos = try PluginContrastiveLoss(Self.plugin("org.workbench.contrastive.infonce-positive"))
        #expect(try t.select(pos) == [t.aCoT, t.rCoT])
    }

    @Test func lcsNegativeGivesTheMathsNumbers() throws {
        var rng = RNG(seed: 9, stream: "builtin-lcs")
        for (config, options) in Self.optionSets {
            let loss = try PluginContrastiveLoss(Self.plugin("org.workbench.contrastive.lcs-negative"), config: config)
            let v = Views(&rng, count: 3)
            let got = try v.with { input, _, _ in try loss.forward(input) }
            let want = v.with { _, r, valid in
                LCSNegative.forward(batch: v.batch, dim: v.dim, rolloutLCS: v.views[0].ptr, annotatedExc: v.views[1].ptr, rolloutExc: v.views[2].ptr,
                                    rewards: r, valid: valid, options: options)
            }
            #expect(got == want && got > 0, "\(config)")
            let g = try v.grads(loss, gradLoss: -1.3)
            let ref = (0..<3).map { _ in FloatBuffer(v.batch * v.dim) }
            v.with { _, r, valid in
                LCSNegative.backward(batch: v.batch, dim: v.dim, rolloutLCS: v.views[0].ptr, annotatedExc: v.views[1].ptr, rolloutExc: v.views[2].ptr,
                                     rewards: r, valid: valid, options: options, gradLoss: -1.3,
                                     gradRolloutLCS: ref[0].ptr, gradAnnotatedExc: ref[1].ptr, gradRolloutExc: ref[2].ptr)
            }
            #expect(g == ref.map(\.array), "\(config)")
        }
    }

    /// A row with an empty view (zero embedding) is dropped as if not valid: not a term, not a
    /// candidate, zero gradient; the metrics count it.
    @Test func lcsNegativeExcludesRowsWithAnEmptyView() throws {
        var rng = RNG(seed: 10, stream: "builtin-lcs-empty")
        var v = Views(&rng, count: 3)
        v.rewards[1] = 0
        v.rewards[2] = 0
        for k in 0..<v.dim { v.views[1][2 * v.dim + k] = 0 }
        let loss = try PluginContrastiveLoss(Self.plugin("org.workbench.contrastive.lcs-negative"), config: ["detach-denominator": "false"])
        let got = try v.with { input, _, _ in try loss.forward(input) }
        #expect(loss.instance.metrics["lcs-negative/excluded"] == 1)
        var masked = v
        masked.valid[2] = 0
        let want = masked.with { _, r, valid in
            LCSNegative.forward(batch: v.batch, dim: v.dim, rolloutLCS: v.views[0].ptr, annotatedExc: v.views[1].ptr, rolloutExc: v.views[2].ptr,
                                rewards: r, valid: valid, options: InfoNCEOptions(detachDenominator: false))
        }
        #expect(got == want)
        let g = try v.grads(loss, gradLoss: 1)
        #expect(g.allSatisfy { grad in (0..<v.dim).allSatisfy { grad[2 * v.dim + $0] == 0 } })
        #expect(g[2].contains { $0 != 0 })
    }

    // MARK: config

    @Test func configTyposAndBadValuesAreRejectedClearly() throws {
        let lcs = Self.plugin("org.workbench.contrastive.lcs-negative")
        #expect(Self.message { _ = try PluginInstance(lcs, config: ["tua": "0.3"]) }
                == "builtin: plugin org.workbench.contrastive.lcs-negative: has no config key 'tua'; its keys are: similarity (string: cosine|dot), tau (float), positive-clamp (float), detach-denominator (bool), reduction (string: mean|sum), lcs-scope (string: cot|sequence); check the spelling against the keys above")
        #expect(Self.message { _ = try PluginInstance(lcs, config: ["tau": "fast"]) }.contains("config key 'tau' is a float but got 'fast'"))
        #expect(Self.message { _ = try PluginInstance(lcs, config: ["similarity": "cos"]) }
                .contains("config key 'similarity' is a string: cosine|dot but got 'cos'; give one of cosine, dot"))
        #expect(Self.message { _ = try PluginInstance(lcs, config: ["detach-denominator": "maybe"]) }.contains("is a bool but got 'maybe'"))
        #expect(Self.message { _ = try PluginInstance(lcs, config: ["tau": "0"]) }
                == "builtin: plugin org.workbench.contrastive.lcs-negative: create failed with WB_ERROR_CONFIG: tau is 0.0; the temperature must be > 0 (the reference uses 0.2)")
        #expect(Self.message { _ = try PluginInstance(lcs, config: ["positive-clamp": "-1"]) }.contains("WB_ERROR_CONFIG: positive-clamp is -1.0"))
        #expect(Self.message { _ = try PluginInstance(Self.plugin("org.workbench.reward.reft-partial"), config: ["partial": "1"]) }
                .contains("WB_ERROR_CONFIG: partial is 1.0, but rewards for wrong answers must stay below 1"))
        #expect(Self.message { _ = try PluginInstance(Self.plugin("org.workbench.reward.carft-embedding"), config: ["base": "0.95"]) }
                .contains("base + |scale| is 1.05"))
        #expect(Self.message { _ = try PluginInstance(Self.plugin("org.workbench.reward.exact"), config: ["partial": "0.1"]) }
                .contains("has no config key 'partial'; it takes no config keys"))
    }

    final class Messages { var list: [String] = [] }

    /// The plugins check their config themselves, not trusting the host: a raw create call
    /// with a key they do not declare or a value that does not parse fails with WB_ERROR_CONFIG.
    @Test func createRejectsWhatTheHostWouldHaveCaught() {
        let box = Messages()
        var host = wb_host(struct_size: UInt32(MemoryLayout<wb_host>.size), reserved: 0, host_data: Unmanaged.passUnretained(box).toOpaque(),
                           error: { host, message in
                               Unmanaged<Messages>.fromOpaque(host!.pointee.host_data!).takeUnretainedValue().list.append(String(cString: message!))
                           }, log: nil, metric: nil, get_extension: nil)
        let d = Self.plugin("org.workbench.contrastive.infonce-positive").pointer
        func create(_ pairs: [(String, String)]) -> (wb_status, UnsafeMutableRawPointer?) {
            let k = pairs.map { strdup($0.0) }, v = pairs.map { strdup($0.1) }
            defer { (k + v).forEach { free($0) } }
            var out: UnsafeMutableRawPointer?
            let s = k.map { UnsafePointer($0) }.withUnsafeBufferPointer { kp in v.map { UnsafePointer($0) }.withUnsafeBufferPointer { vp in
                d.pointee.create!(d, &host, UInt32(pairs.count), kp.baseAddress, vp.baseAddress, &out)
            } }
            return (s, out)
        }
        let typo = create([("tua", "0.3")])
        #expect(typo.0 == WB_ERROR_CONFIG && typo.1 == nil)
        #expect(box.list.last == "unknown config key 'tua'; its keys are similarity, tau, positive-clamp, detach-denominator, reduction")
        #expect(create([("tau", "fast")]).0 == WB_ERROR_CONFIG)
        #expect(box.list.last == "config key 'tau' must be a finite number such as 0.2, not 'fast'")
        #expect(create([("reduction", "median")]).0 == WB_ERROR_CONFIG)
        #expect(box.list.last == "config key 'reduction' must be one of mean, sum, not 'median'")
        // Missing keys take their defaults; the instance works and is destroyed cleanly.
        let ok = create([("tau", "0.5")])
        #expect(ok.0 == WB_OK && ok.1 != nil)
        d.pointee.destroy!(ok.1)
    }

    /// positive-clamp ≥ 1 is no clamp (a cosine never exceeds 1): the same loss as the Math's nil.
    @Test func clampAtOneOrMoreIsOff() throws {
        var rng = RNG(seed: 12, stream: "builtin-clamp")
        let v = Views(&rng, count: 2)
        // Nearly identical positive pairs, so a 0.9 clamp would act.
        for i in 0..<(v.batch * v.dim) { v.views[1][i] = v.views[0][i] + 0.01 * rng.normal() }
        var losses: [Double] = []
        for clamp in ["0.9", "1", "3.5"] {
            let loss = try PluginContrastiveLoss(Self.plugin("org.workbench.contrastive.infonce-positive"), config: ["positive-clamp": clamp])
            losses.append(try v.with { input, _, _ in try loss.forward(input) })
        }
        let unclamped = v.with { _, r, valid in
            InfoNCEPositive.forward(batch: v.batch, dim: v.dim, annotated: v.views[0].ptr, rollout: v.views[1].ptr, rewards: r, valid: valid,
                                    options: InfoNCEOptions(positiveClamp: nil))
        }
        #expect(losses[1] == unclamped && losses[2] == unclamped)
        #expect(losses[0] > unclamped)
    }
}
