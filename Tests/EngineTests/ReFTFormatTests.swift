import Testing
@testable import Engine

@Suite struct ReFTFormatTests {
    @Test func promptAndTargetLayout() {
        #expect(ReFTFormat.prompt("What is 2 + 3?") == "Question:\nWhat is 2 + 3?\nAnswer reasoning:\n")
        #expect(ReFTFormat.target(cot: "2 + 3 = 5.", answer: 5) == "2 + 3 = 5.\nTherefore, the answer is: 5")
        #expect(ReFTFormat.target(cot: "Half of 5 is 2.5.", answer: 2.5) == "Half of 5 is 2.5.\nTherefore, the answer is: 2.5")
    }

    @Test func formatAnswerDropsDecimalsOnlyForIntegers() {
        #expect(ReFTFormat.formatAnswer(72) == "72")
        #expect(ReFTFormat.formatAnswer(-3) == "-3")
        #expect(ReFTFormat.formatAnswer(0) == "0")
        #expect(ReFTFormat.formatAnswer(-0.0) == "0")
        #expect(ReFTFormat.formatAnswer(203.0) == "203")
        #expect(ReFTFormat.formatAnswer(0.5) == "0.5")
        #expect(ReFTFormat.formatAnswer(2.25) == "2.25")
        #expect(ReFTFormat.formatAnswer(-1.75) == "-1.75")
        #expect(ReFTFormat.formatAnswer(109_200_000) == "109200000")
        #expect(ReFTFormat.formatAnswer(1234.5) == "1234.5")
    }

    @Test func extractAnswerReadsNumberAfterMarker() {
        #expect(ReFTFormat.extractAnswer("5 + 3 = 8.\nTherefore, the answer is: 8") == 8)
        #expect(ReFTFormat.extractAnswer("Therefore, the answer is: 42") == 42)
        #expect(ReFTFormat.extractAnswer("x\nTherefore, the answer is: -7") == -7)
        #expect(ReFTFormat.extractAnswer("x\nTherefore, the answer is: 2.25") == 2.25)
        #expect(ReFTFormat.extractAnswer("x\nTherefore, the answer is: 1,000") == 1000)
        #expect(ReFTFormat.extractAnswer("x\nTherefore, the answer is: 1,234,567.5 dollars") == 1_234_567.5)
        #expect(ReFTFormat.extractAnswer("x\nTherefore, the answer is: 18.") == 18)
        #expect(ReFTFormat.extractAnswer("x\nTherefore, the answer is: $12") == 12)
        // Only the marker's own line is read: a number on the next line is not the answer.
        #expect(ReFTFormat.extractAnswer("x\nTherefore, the answer is: none\n5") == nil)
    }

    @Test func extractAnswerLastMarkerWins() {
        let text = "a\nTherefore, the answer is: 3\nwait, recheck\nTherefore, the answer is: 4"
        #expect(ReFTFormat.extractAnswer(text) == 4)
        let startAndLater = "Therefore, the answer is: 1\nTherefore, the answer is: 9"
        #expect(ReFTFormat.extractAnswer(startAndLater) == 9)
    }

    @Test func extractAnswerNilWhenAbsent() {
        #expect(ReFTFormat.extractAnswer("") == nil)
        #expect(ReFTFormat.extractAnswer("5 + 3 = 8") == nil)
        #expect(ReFTFormat.extractAnswer("So the answer is: 8") == nil)
        // Mid-line marker without the newline does not count: the format puts it on its own line.
        #expect(ReFTFormat.extractAnswer("ok Therefore, the answer is: 8") == nil)
        #expect(ReFTFormat.extractAnswer("x\nTherefore, the answer is: ") == nil)
    }

    @Test func parseNumberIsStrict() {
        #expect(ReFTFormat.parseNumber("203.0") == 203)
        #expect(ReFTFormat.parseNumber("-4") == -4)
        #expect(ReFTFormat.parseNumber("1,234.5") == 1234.5)
        #expect(ReFTFormat.parseNumber(" 72\n") == 72)
        #expect(ReFTFormat.parseNumber("$1,000") == 1000)
        #expect(ReFTFormat.parseNumber("-$5") == -5)
        #expect(ReFTFormat.parseNumber("0.5") == 0.5)
        #expect(ReFTFormat.parseNumber("") == nil)
        #expect(ReFTFormat.parseNumber("   ") == nil)
        #expect(ReFTFormat.parseNumber("abc") == nil)
        #expect(ReFTFormat.parseNumber("12abc") == nil)
        #expect(ReFTFormat.parseNumber("--4") == nil)
        #expect(ReFTFormat.parseNumber("1,23") == nil)
        #expect(ReFTFormat.parseNumber("inf") == nil)
        #expect(ReFTFormat.parseNumber("1e5") == nil)
    }

    @Test func isCorrectUsesPaperTolerance() {
        #expect(ReFTFormat.isCorrect(predicted: 72, gold: 72))
        #expect(ReFTFormat.isCorrect(predicted: 0.333, gold: 1.0 / 3.0))
        #expect(ReFTFormat.isCorrect(predicted: 10.009, gold: 10))
        #expect(!ReFTFormat.isCorrect(predicted: 10.02, gold: 10))
        #expect(!ReFTFormat.isCorrect(predicted: nil, gold: 0))
        #expect(!ReFTFormat.isCorrect(predicted: -72, gold: 72))
    }
}
