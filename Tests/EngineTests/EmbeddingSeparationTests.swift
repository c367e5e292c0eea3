import Testing
@testable import Engine

/// CARFT's per-update embedding diagnostics on hand-worked batches.
struct EmbeddingSeparationTests {
    @Test func cosinesAndAUCByHand() {
        // Annotated CoT along x; rollouts at 0°, 60°, 90° and 180° from it.
        let annotated: [[Float]] = Array(repeating: [1, 0], count: 4)
        let rollout: [[Float]] = [[2, 0], [0.5, 0.8660254], [0, 3], [-1, 0]]
        let s = EmbeddingSeparation(rollout: rollout, annotated: annotated, rewards: [1, 1.5, 0.1, 0])
        #expect(abs(s.correctCosine! - 0.75) < 1e-6)   // (1 + 0.5) / 2
        #expect(abs(s.wrongCosine! - -0.5) < 1e-6)     // (0 − 1) / 2
        #expect(s.auc == 1)                            // every correct cosine beats every wrong one
        #expect(s.skipped == 0)
        // Reversed labels: the wrong rollouts sit closer, AUC 0.
        #expect(EmbeddingSeparation(rollout: rollout, annotated: annotated, rewards: [0, 0, 1, 1]).auc == 0)
    }

    @Test func tiesCountHalfAndZeroEmbeddingsAreLeftOut() {
        let a: [[Float]] = Array(repeating: [0, 1], count: 4)
        // Two correct and one wrong rollout at the same cosine; one empty CoT (all zero).
        let r: [[Float]] = [[0, 1], [0, 2], [0, 5], [0, 0]]
        let s = EmbeddingSeparation(rollout: r, annotated: a, rewards: [1, 1, 0, 0])
        #expect(s.auc == 0.5 && s.skipped == 1)
        #expect(EmbeddingSeparation(rollout: r, annotated: [[0, 1], [0, 0], [0, 1], [0, 1]], rewards: [1, 1, 0, 0]).skipped == 2)
    }

    @Test func oneClassGivesNoAUC() {
        let s = EmbeddingSeparation(rollout: [[1, 0], [0, 1]], annotated: [[1, 0], [1, 0]], rewards: [1, 1])
        #expect(s.auc == nil && s.wrongCosine == nil && abs(s.correctCosine! - 0.5) < 1e-12)
        #expect(EmbeddingSeparation(rollout: [], annotated: [], rewards: []) == EmbeddingSeparation(rollout: [], annotated: [], rewards: []))
    }
}
