import Foundation
import Testing
import TestSupport
@testable import BuiltinPlugins
@testable import Engine

/// CARFT inside the RL trainer, with the built-in plugins reached through their C descriptors:
/// the total loss's gradient with respect to the model (the contrastive term through pooling,
/// the value head's projection and the policy) against finite differences, and the CoT
/// embeddings the reward sees against an independent computation.
@Suite(.serialized) struct CARFTTrainerTests {
    static let library = try! PluginLibrary(table: BuiltinPlugins.library, name: "builtin")

    /// A random one-layer policy (large enough weights that every part matters), its frozen
    /// copy, and a CARFT trainer with the given contrastive plugin and c.
    static func trainer(contrastive: String, config: [String: String] = [:], pooling: String = "org.workbench.pooling.softmax-values", coefficient: Float,
                        reward: any RewardFunction = BuiltinRewards.reftPartial(), questions: Int = 6,
                        algorithm: RLConfig.Algorithm = .carft, updates: Int = 1) throws -> (RLTrainer, [MathExample]) {
        let tok = ByteTokenizer()
        var tc = ArithmeticTaskConfig.default
        tc.steps = 1; tc.maxValue = 9; tc.operations = ["add"]
        let model = try Transformer(config: ModelConfig(vocabSize: tok.vocabSize, dim: 16, layers: 1, heads: 2, kvHeads: 2,
                                                        ffnDim: 24, maxSeqLen: 256), seed: 1)
        model.randomizeMatrices(seed: 2, scale: 0.3)
        let reference = try Transformer(config: model.config)
        reference.params.values.copy(from: model.params.values)
        let objective = CARFTObjective(pooling: try PluginPooling(library.plugin(pooling)),
                                       contrastive: try PluginContrastiveLoss(library.plugin(contrastive), config: config),
                                       coefficient: coefficient, tokenizer: tok)
        var c = RLConfig()
        c.algorithm = algorithm
        c.updates = updates
        c.questionsPerUpdate = questions
        c.miniBatchSize = questions
        c.maxNewTokens = 12
        c.evalEvery = 10_000
        c.projectionDim = 8
        c.seed = 4
        let train = ArithmeticTask(config: tc, seed: 3).train(count: 40)
        let t = try RLTrainer(policy: model, reference: reference, tokenizer: tok, reward: reward, config: c,
                              carft: algorithm == .carft ? objective : nil,
                              train: train, eval: [], outputDir: nil)
        return (t, Array(train.prefix(questions)))
    }

    /// L = L_pg + α·L_v + c·L_contrastive for one mini-batch, differentiated by the trainer and
    /// by central differences, for every tensor of the policy and the value head. c = 1 so the
    /// contrastive term is a large part of the loss: a gradient lost anywhere between the
    /// contrastive plugin and the embeddings fails the check. The positive InfoNCE only counts
    /// correct rollouts, so half the rows are marked correct; the negative signal counts the rest.
    /// The reference's detached denominator is a deliberate non-gradient, so it is switched off
    /// here to make the loss's true gradient the thing computed.
    @Test(arguments: ["org.workbench.contrastive.infonce-positive", "org.workbench.contrastive.lcs-negative"])
    func totalLossGradientMatchesFiniteDifferences(contrastive: String) throws {
        let (t, questions) = try Self.trainer(contrastive: contrastive, config: ["detach-denominator": "false"], coefficient: 1)
        var ub = try t.collect(questions: questions, update: 0)
        for i in ub.rollouts.indices where i % 2 == 0 { ub.rollouts[i].reward = 1 }
        let mb = Array(ub.rollouts.indices)
        let head = try #require(t.valueHead)
        let terms = try t.accumulateGradients(miniBatch: mb, ub, trainPolicy: true)
        #expect(terms.contrastive > 0.1, "the contrastive term must be active for the check to mean anything: \(terms.contrastive)")
        let policyGrads = FloatBuffer(t.policy.params.count); policyGrads.copy(from: t.policy.params.grads)
        let headGrads = FloatBuffer(head.params.count); headGrads.copy(from: head.params.grads)
        func loss() -> Double { (try? t.accumulateGradients(miniBatch: mb, ub, trainPolicy: true).total) ?? .nan }
        for e in t.policy.params.entries {
            GradCheck.check(e.name, x: t.policy.params.values.ptr + e.offset, count: e.count,
                            analytic: policyGrads.ptr + e.offset, entries: 3, tolerance: 3e-2, loss: loss)
        }
        for e in head.params.entries {
            GradCheck.check(e.name, x: head.params.values.ptr + e.offset, count: e.count,
                            analytic: headGrads.ptr + e.offset, entries: 3, tolerance: 3e-2, loss: loss)
        }
    }

    /// The contrastive term changes the update: with c = 0 the same batch gives other gradients
    /// on the value head's projection (which only the contrastive term and V reach).
    @Test func contrastiveTermReachesTheProjection() throws {
        let (a, questions) = try Self.trainer(contrastive: "org.workbench.contrastive.lcs-negative", coefficient: 1)
        let (b, _) = try Self.trainer(contrastive: "org.workbench.contrastive.lcs-negative", coefficient: 0)
        let ub = try a.collect(questions: questions, update: 0)
        let mb = Array(ub.rollouts.indices)
        _ = try a.accumulateGradients(miniBatch: mb, ub, trainPolicy: true)
        _ = try b.accumulateGradients(miniBatch: mb, ub, trainPolicy: true)
        let ha = try #require(a.valueHead), hb = try #require(b.valueHead)
        let w = ha.params.entries.first { $0.name == "v_head.proj.weight" }!
        var diff = 0.0, size = 0.0
        for i in 0..<w.count {
            diff += Double(abs(ha.params.grads[w.offset + i] - hb.params.grads[w.offset + i]))
            size += Double(abs(ha.params.grads[w.offset + i]))
        }
        #expect(diff > 0.1 * size, "c = 1 vs c = 0: |Δgrad| \(diff) of \(size)")
    }

    /// c = 0 makes CARFT reft with the same value head, bit for bit: the value loss reads the
    /// head as reft's does, and the contrastive term, read on its own, adds exact zeros. Three
    /// updates of each from the same start leave the same policy and value head, and the same
    /// losses; with c = 1 they differ, so the comparison can see the term.
    @Test func carftWithCZeroIsReFTBitForBit() throws {
        func run(_ algorithm: RLConfig.Algorithm, c: Float) throws -> (policy: [Float], head: [Float], losses: [Double]) {
            let (t, _) = try Self.trainer(contrastive: "org.workbench.contrastive.infonce-positive", coefficient: c,
                                          reward: AlternatingReward(), algorithm: algorithm, updates: 3)
            var losses: [Double] = []
            t.onUpdate = { losses += [$0.policyLoss, $0.valueLoss, $0.gradNorm] }
            _ = try t.run()
            let head = try #require(t.valueHead)
            return (Array(UnsafeBufferPointer(start: t.policy.params.values.ptr, count: t.policy.params.count)),
                    Array(UnsafeBufferPointer(start: head.params.values.ptr, count: head.params.count)), losses)
        }
        let reft = try run(.reft, c: 0), zero = try run(.carft, c: 0), one = try run(.carft, c: 1)
        #expect(zero.policy == reft.policy)
        #expect(zero.head == reft.head)
        #expect(zero.losses == reft.losses)
        #expect(one.policy != reft.policy && one.head != reft.head, "c = 1 must move the weights differently")
    }

    /// Each term's gradient on the hidden states is reported: the policy's and the value loss's
    /// do not depend on c, the contrastive term's is exactly 0 at c = 0 and proportional to c.
    @Test func theTermsGradientsOnTheHiddenStatesAreReported() throws {
        func terms(_ c: Float) throws -> HiddenGradients {
            let (t, questions) = try Self.trainer(contrastive: "org.workbench.contrastive.infonce-positive", coefficient: c,
                                                  reward: AlternatingReward())
            let ub = try t.collect(questions: questions, update: 0)
            return try #require(t.accumulateGradients(miniBatch: Array(ub.rollouts.indices), ub, trainPolicy: true).hiddenGradients)
        }
        let zero = try terms(0), one = try terms(1), two = try terms(2)
        #expect(zero.policy > 0 && zero.value > 0)
        #expect(zero.contrastive == 0)
        #expect(one.policy == zero.policy && one.value == zero.value)
        let c1 = try #require(one.contrastive), c2 = try #require(two.contrastive)
        #expect(c1 > 0 && abs(c2 / c1 - 2) < 1e-5, "\(c1) \(c2)")
    }

    /// Records what the trainer hands a reward, so the embeddings can be checked.
    final class RecordingReward: RewardFunction {
        var name: String { "recording" }
        var seen: [RewardInput] = []
        func scores(_ batch: [RewardInput]) throws -> [Float] {
            seen = batch
            return batch.map { _ in 0 }
        }
    }

    /// Marks even rollouts correct and odd ones wrong, keeping the embeddings it was shown.
    final class AlternatingReward: RewardFunction {
        var name: String { "alternating" }
        var seen: [RewardInput] = []
        func scores(_ batch: [RewardInput]) throws -> [Float] {
            seen = batch
            return batch.indices.map { $0 % 2 == 0 ? 1 : 0.1 }
        }
    }

    /// Each update reports the mean cosine of correct and of wrong rollouts' pooled CoTs to their
    /// annotated CoTs, and the AUC of that cosine, over the embeddings the reward was shown
    /// (recomputed here pair by pair), and writes them to the metrics.
    @Test func theUpdateReportsHowTheEmbeddingSeparatesCorrectFromWrong() throws {
        let reward = AlternatingReward()
        let (t, _) = try Self.trainer(contrastive: "org.workbench.contrastive.infonce-positive", coefficient: 1e-3, reward: reward, questions: 6)
        var reports: [RLUpdateReport] = []
        t.onUpdate = { reports.append($0) }
        _ = try t.run()
        let e = try #require(reports.first?.embedding)
        func cos(_ a: [Float], _ b: [Float]) -> Double {
            let d = zip(a, b).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
            return d / ((a.reduce(0.0) { $0 + Double($1) * Double($1) } * b.reduce(0.0) { $0 + Double($1) * Double($1) }).squareRoot())
        }
        let cosines = reward.seen.map { cos($0.rolloutEmbedding!, $0.annotatedEmbedding!) }
        #expect(e.skipped == 0 && cosines.count == 6)
        let correct = stride(from: 0, to: 6, by: 2).map { cosines[$0] }, wrong = stride(from: 1, to: 6, by: 2).map { cosines[$0] }
        #expect(abs(e.correctCosine! - correct.reduce(0, +) / 3) < 1e-12)
        #expect(abs(e.wrongCosine! - wrong.reduce(0, +) / 3) < 1e-12)
        let wins = correct.reduce(0.0) { acc, c in acc + wrong.reduce(0.0) { $0 + (c > $1 ? 1 : c == $1 ? 0.5 : 0) } }
        #expect(e.auc == wins / 9)
    }

    /// The reward's z_rollout and z_annotated equal softmax(V)-weighted sums of p over the CoT
    /// tokens, computed here independently, one sequence at a time: token t's embedding is p at
    /// h_{t−1}; the annotated CoT is the tokens of `cots[0]` after the prompt; a rollout without
    /// an answer line pools its whole continuation except the EOS.
    @Test func rewardSeesThePooledCoTEmbeddings() throws {
        let recorder = RecordingReward()
        let (t, questions) = try Self.trainer(contrastive: "org.workbench.contrastive.infonce-positive", coefficient: 1e-3,
                                              reward: recorder, questions: 4)
        let ub = try t.collect(questions: questions, update: 0)
        let head = try #require(t.valueHead)
        let tok = ByteTokenizer()
        #expect(recorder.seen.count == 4)
        func pooled(_ ids: [Int32], cot: Range<Int>) -> [Float] {
            t.policy.forward(tokens: ids, batch: 1, seq: ids.count)
            let states = cot.map { $0 - 1 }
            let pass = ValueHead.Pass()
            let v = head.forward(hidden: t.policy.hiddenStates, positions: states, into: pass)
            let p = pass.projections!, P = head.projectionDim
            let m = v.max()!
            let w = v.map { exp(Double($0 - m)) }, sum = w.reduce(0, +)
            var z = [Double](repeating: 0, count: P)
            for (k, wk) in w.enumerated() { for d in 0..<P { z[d] += wk / sum * Double(p[k * P + d]) } }
            return z.map { Float($0) }
        }
        for (i, r) in ub.rollouts.enumerated() {
            let seen = try #require(recorder.seen[i].rolloutEmbedding)
            #expect(!r.completion.contains(ReFTFormat.answerMarker), "a random policy is not expected to write an answer line")
            let ids = r.prompt + r.response
            let end = r.response.last == Int32(tok.eosId) ? ids.count - 1 : ids.count
            // Only states the model computes can be checked this way: the last token is never fed.
            let rollout = pooled(Array(ids.prefix(ids.count - 1)), cot: r.prompt.count..<end)
            for (a, b) in zip(seen, rollout) { #expect(abs(a - b) < 1e-4, "rollout \(i): \(seen) vs \(rollout)") }

            let ex = r.example
            let annotated = PromptedSequence(example: ex, cot: ex.cots[0], tokenizer: tok)
            let cotCount = tok.encode(ex.cots[0]).count
            let expected = pooled(Array(annotated.ids.prefix(annotated.inputLength)),
                                  cot: annotated.promptLength..<(annotated.promptLength + cotCount))
            let got = try #require(recorder.seen[i].annotatedEmbedding)
            for (a, b) in zip(got, expected) { #expect(abs(a - b) < 1e-4, "annotated \(i): \(got) vs \(expected)") }
        }
    }

    /// CARFT without annotated CoTs, or with a value head that has no projection, is refused.
    @Test func refusesDataWithoutRationalesAndTheLinearHead() throws {
        let (t, _) = try Self.trainer(contrastive: "org.workbench.contrastive.infonce-positive", coefficient: 1e-3)
        var bare = t.train
        bare[0].cots = []
        #expect(throws: TrainingError.self) {
            _ = try RLTrainer(policy: t.policy, reference: t.reference, tokenizer: t.tokenizer, reward: t.reward,
                              config: t.config, carft: t.carft, train: bare, eval: [], outputDir: nil)
        }
        var linear = t.config
        linear.valueHead = .linear
        #expect(linear.problems.contains { $0.description.contains("carft value head") })
        var reft = t.config
        reft.algorithm = .reft
        #expect(throws: TrainingError.self) {
            _ = try RLTrainer(policy: t.policy, reference: t.reference, tokenizer: t.tokenizer, reward: t.reward,
                              config: reft, carft: t.carft, train: t.train, eval: [], outputDir: nil)
        }
    }
}
