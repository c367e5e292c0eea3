import Testing
@testable import BuiltinPlugins

/// One-row helper around LCSViews.masks.
func views(rollout: [Int32], rolloutCot: [UInt8], annotated: [Int32], annotatedCot: [UInt8],
           scope: LCSViews.Scope = .cot) -> (lcs: [UInt8], aExc: [UInt8], rExc: [UInt8], result: LCSViews.Result) {
    var lcs = [UInt8](repeating: 9, count: rollout.count)
    var aExc = [UInt8](repeating: 9, count: annotated.count)
    var rExc = [UInt8](repeating: 9, count: rollout.count)
    let res = LCSViews.masks(batch: 1, rolloutT: rollout.count, annotatedT: annotated.count,
                             rolloutIds: rollout, rolloutCot: rolloutCot, annotatedIds: annotated, annotatedCot: annotatedCot,
                             scope: scope, rolloutLCS: &lcs, annotatedExc: &aExc, rolloutExc: &rExc)
    return (lcs, aExc, rExc, res)
}

@Suite struct LCSViewsTests {
    // Layout: 2 prompt tokens (cot 0), then CoT tokens (cot 1), then padding 0 (cot 0).
    @Test func handExampleCotScope() {
        let v = views(rollout: [1, 2, 5, 6, 7, 8, 0], rolloutCot: [0, 0, 1, 1, 1, 1, 0],
                      annotated: [1, 2, 5, 9, 7, 8], annotatedCot: [0, 0, 1, 1, 1, 1])
        #expect(v.lcs == [0, 0, 1, 0, 1, 1, 0])
        #expect(v.rExc == [0, 0, 0, 1, 0, 0, 0])
        #expect(v.aExc == [0, 0, 0, 1, 0, 0])
        #expect(v.result.lcsLength == [3] && v.result.usable == [1])
    }

    /// Sequence scope (reference): the prompt and the padding take part, so the common prompt
    /// lands in the LCS view and the views cover non-CoT positions.
    @Test func sequenceScopeIncludesPrompt() {
        let v = views(rollout: [1, 2, 5, 6, 7, 8, 0], rolloutCot: [0, 0, 1, 1, 1, 1, 0],
                      annotated: [1, 2, 5, 9, 7, 8, 0], annotatedCot: [0, 0, 1, 1, 1, 1, 0], scope: .sequence)
        #expect(v.lcs == [1, 1, 1, 0, 1, 1, 1])
        #expect(v.rExc == [0, 0, 0, 1, 0, 0, 0])
        #expect(v.aExc == [0, 0, 0, 1, 0, 0, 0])
        #expect(v.result.lcsLength == [6])
    }

    /// The CoT scope must not match a CoT token against a prompt token.
    @Test func cotScopeIgnoresPromptTokens() {
        let v = views(rollout: [4, 4, 3], rolloutCot: [0, 0, 1], annotated: [3, 4], annotatedCot: [0, 1])
        #expect(v.lcs == [0, 0, 0] && v.rExc == [0, 0, 1] && v.aExc == [0, 1])
        #expect(v.result.usable == [0])
    }

    @Test func emptyRolloutCot() {
        let v = views(rollout: [1, 2, 0], rolloutCot: [0, 0, 0], annotated: [1, 2, 3], annotatedCot: [0, 1, 1])
        #expect(v.lcs == [0, 0, 0] && v.rExc == [0, 0, 0])
        #expect(v.aExc == [0, 1, 1])
        #expect(v.result.lcsLength == [0] && v.result.usable == [0])
    }

    @Test func identicalSequences() {
        let ids: [Int32] = [1, 2, 3, 4, 5]
        let cot: [UInt8] = [0, 1, 1, 1, 1]
        let v = views(rollout: ids, rolloutCot: cot, annotated: ids, annotatedCot: cot)
        #expect(v.lcs == cot)
        #expect(v.rExc == [0, 0, 0, 0, 0] && v.aExc == [0, 0, 0, 0, 0])
        #expect(v.result.lcsLength == [4] && v.result.usable == [0])
    }

    @Test func nothingInCommon() {
        let v = views(rollout: [1, 10, 11, 12], rolloutCot: [0, 1, 1, 1], annotated: [1, 20, 21], annotatedCot: [0, 1, 1])
        #expect(v.lcs == [0, 0, 0, 0])
        #expect(v.rExc == [0, 1, 1, 1] && v.aExc == [0, 1, 1])
        #expect(v.result.lcsLength == [0] && v.result.usable == [0])
    }

    /// Several rows with different lengths of CoT; each row's masks equal the one-row answer,
    /// and in every row LCS ∪ exc = CoT, disjoint.
    @Test func batchRowsAreIndependent() {
        let Tr = 6, Ta = 5
        let rIds: [Int32] = [1, 2, 3, 4, 5, 0,   7, 8, 9, 9, 0, 0,   1, 1, 1, 1, 1, 1]
        let rCot: [UInt8] = [0, 1, 1, 1, 1, 0,   1, 1, 1, 1, 0, 0,   0, 0, 0, 0, 0, 0]
        let aIds: [Int32] = [1, 3, 2, 5, 4,      9, 8, 7, 0, 0,      1, 1, 1, 1, 1]
        let aCot: [UInt8] = [0, 1, 1, 1, 1,      1, 1, 1, 0, 0,      0, 1, 1, 0, 0]
        var lcs = [UInt8](repeating: 9, count: 3 * Tr), aExc = [UInt8](repeating: 9, count: 3 * Ta)
        var rExc = [UInt8](repeating: 9, count: 3 * Tr)
        let res = LCSViews.masks(batch: 3, rolloutT: Tr, annotatedT: Ta, rolloutIds: rIds, rolloutCot: rCot,
                                 annotatedIds: aIds, annotatedCot: aCot, rolloutLCS: &lcs, annotatedExc: &aExc, rolloutExc: &rExc)
        for b in 0..<3 {
            let one = views(rollout: Array(rIds[b * Tr..<(b + 1) * Tr]), rolloutCot: Array(rCot[b * Tr..<(b + 1) * Tr]),
                            annotated: Array(aIds[b * Ta..<(b + 1) * Ta]), annotatedCot: Array(aCot[b * Ta..<(b + 1) * Ta]))
            #expect(Array(lcs[b * Tr..<(b + 1) * Tr]) == one.lcs)
            #expect(Array(rExc[b * Tr..<(b + 1) * Tr]) == one.rExc)
            #expect(Array(aExc[b * Ta..<(b + 1) * Ta]) == one.aExc)
            #expect(res.lcsLength[b] == one.result.lcsLength[0])
            for t in 0..<Tr { #expect(lcs[b * Tr + t] + rExc[b * Tr + t] == rCot[b * Tr + t]) }
        }
        #expect(res.lcsLength == [2, 1, 0])
    }
}
