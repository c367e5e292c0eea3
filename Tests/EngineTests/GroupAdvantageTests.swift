import Testing
@testable import Engine

@Test func drGRPOSubtractsGroupMeanOnly() {
    // Groups [1, 0.1] (mean 0.55) and [0, 0] (mean 0): no std division, so the all-wrong group
    // gives exactly zero advantage and the mixed one keeps its raw spread.
    let two = GroupAdvantage.drGRPO(rewards: [1, 0.1, 0, 0], groupSize: 2)
    #expect(RLCheck.near(two, [0.45, -0.45, 0, 0]))
    // One group of four: mean 0.275.
    let four = GroupAdvantage.drGRPO(rewards: [1, 0.1, 0, 0], groupSize: 4)
    #expect(RLCheck.near(four, [0.725, -0.175, -0.275, -0.275]))
    #expect(GroupAdvantage.drGRPO(rewards: [0.3, 0.7], groupSize: 1) == [0, 0])
    #expect(GroupAdvantage.drGRPO(rewards: [], groupSize: 2) == [])
}

@Test func drGRPORejectsRaggedGroups() async {
    await #expect(processExitsWith: .failure) {
        _ = GroupAdvantage.drGRPO(rewards: [1, 0, 1], groupSize: 2)
    }
}
