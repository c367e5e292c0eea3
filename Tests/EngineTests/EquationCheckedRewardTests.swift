import Testing
@testable import Engine

@Suite struct EquationCheckedRewardTests {
    @Test func equationsAreCheckedLineByLine() {
        #expect(EquationCheckedReward.equationsHold("She has 19 + 3 = 22.\nShe has 22 * 4 = 88."))
        #expect(!EquationCheckedReward.equationsHold("She has 19 + 3 = 22.\nShe has 9 + 9 = 17."))
        #expect(EquationCheckedReward.equationsHold("So 15 - 9 = 6 left. 6 / 4 = 1.5"))
        #expect(!EquationCheckedReward.equationsHold("So 15 - 9 = 7 left."))
        #expect(EquationCheckedReward.equationsHold("1,200 + 34 = 1,234"))
        // Chains are checked link by link.
        #expect(EquationCheckedReward.equationsHold("2 + 3 = 5 * 2 = 10"))
        #expect(!EquationCheckedReward.equationsHold("2 + 3 = 5 * 2 = 11"))
        // Text without equations, or with numbers that are not equations, is not penalised.
        #expect(EquationCheckedReward.equationsHold("He buys 3 pens and 4 books."))
        #expect(EquationCheckedReward.equationsHold(""))
        // Something between the signs breaks the equation: "3 + 4 more = 9" is not one.
        #expect(EquationCheckedReward.equationsHold("3 + 4 more = 9"))
    }

    @Test func fullCreditNeedsTrueEquations() throws {
        let r = EquationCheckedReward(partial: 0.1)
        let s = try r.scores([
            RewardInput(question: "", completion: "He has 8 + 9 = 17.\nTherefore, the answer is: 17", gold: 17),
            RewardInput(question: "", completion: "He has 9 + 9 = 17.\nTherefore, the answer is: 17", gold: 17),
            RewardInput(question: "", completion: "He has 8 + 9 = 17.\nTherefore, the answer is: 18", gold: 17),
            RewardInput(question: "", completion: "He has 8 + 9 = 17.", gold: 17),
        ])
        #expect(s == [1, 0.1, 0.1, 0])
    }
}
