import Testing
@testable import BuiltinPlugins

@Suite struct EquationCheckTests {
    @Test func equationsAreCheckedLineByLine() {
        #expect(EquationCheck.equationsHold("She has 19 + 3 = 22.\nShe has 22 * 4 = 88."))
        #expect(!EquationCheck.equationsHold("She has 19 + 3 = 22.\nShe has 9 + 9 = 17."))
        #expect(EquationCheck.equationsHold("So 15 - 9 = 6 left. 6 / 4 = 1.5"))
        #expect(!EquationCheck.equationsHold("So 15 - 9 = 7 left."))
        #expect(EquationCheck.equationsHold("1,200 + 34 = 1,234"))
        // Chains are checked link by link.
        #expect(EquationCheck.equationsHold("2 + 3 = 5 * 2 = 10"))
        #expect(!EquationCheck.equationsHold("2 + 3 = 5 * 2 = 11"))
        // Text without equations, or with numbers that are not equations, is not penalised.
        #expect(EquationCheck.equationsHold("He buys 3 pens and 4 books."))
        #expect(EquationCheck.equationsHold(""))
        // Something between the signs breaks the equation: "3 + 4 more = 9" is not one.
        #expect(EquationCheck.equationsHold("3 + 4 more = 9"))
    }
}
