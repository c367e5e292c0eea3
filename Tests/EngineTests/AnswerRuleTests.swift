import Testing
@testable import Engine

@Suite struct AnswerRuleTests {
    @Test func reftRuleReadsOnlyTheAnswerLine() {
        #expect(AnswerRule.reft.extract("2 + 3 = 5\nTherefore, the answer is: 5") == 5)
        #expect(AnswerRule.reft.extract("2 + 3 = 5. The answer is 5.") == nil)
    }

    @Test func lastNumberPrefersTheAnswerLine() {
        // The answer line wins even when a later number follows it.
        #expect(AnswerRule.lastNumber.extract("x = 4\nTherefore, the answer is: 7\nCheck: 7 - 3 = 4") == 7)
    }

    @Test func lastNumberFallsBackToTheCompletionsLastNumber() {
        let rule = AnswerRule.lastNumber
        #expect(rule.extract("She has 3 + 4 = 7 apples. The answer is 180.") == 180)
        #expect(rule.extract("It costs $1,200 in total, or 12.50 per day") == 12.5)
        #expect(rule.extract("Total: 3, 4") == 4)
        #expect(rule.extract("He owes -15 dollars.") == -15)
        #expect(rule.extract("The total is 1,234,567.") == 1_234_567)
        #expect(rule.extract("no numbers here") == nil)
        #expect(rule.extract("") == nil)
    }

    @Test func parsesFromTheCommandLineSpelling() {
        #expect(AnswerRule(rawValue: "last-number") == .lastNumber)
        #expect(AnswerRule(rawValue: "reft") == .reft)
        #expect(AnswerRule(rawValue: "flexible") == nil)
    }
}
