/// Whether the equations a CoT writes hold: `a + b = c`, `a - b = c`, `a * b = c` or
/// `a / b = c`. Outcome reward alone pays a small model for right answers reached through wrong
/// lines ("9 + 9 = 17" on the way to the right 17), which teaches it wrong arithmetic; the
/// equation-checked reward gives such answers partial credit only.
enum EquationCheck {
    /// True when no equation in `text` is false. The text is split into numbers, the signs
    /// + - * / × and =, and anything else (which breaks an equation); every run
    /// "number sign number = number" is checked, and chains ("2 + 3 = 5 * 2 = 10") are checked
    /// link by link.
    static func equationsHold(_ text: String) -> Bool {
        enum Piece: Equatable { case number(Double), sign(Character), equals, other }
        var pieces: [Piece] = []
        var current = ""
        func flushNumber() {
            if !current.isEmpty {
                pieces.append(Double(current.replacingOccurrences(of: ",", with: "")).map { .number($0) } ?? .other)
                current = ""
            }
        }
        let chars = Array(text)
        for (k, ch) in chars.enumerated() {
            let next = k + 1 < chars.count ? chars[k + 1] : " "
            if ch.isASCII && ch.isNumber {
                current.append(ch)
            } else if !current.isEmpty && (ch == "." || ch == ",") && next.isASCII && next.isNumber {
                current.append(ch)
            } else {
                flushNumber()
                switch ch {
                case " ": break
                case "+", "-", "*", "/", "×": pieces.append(.sign(ch))
                case "=": pieces.append(.equals)
                default: pieces.append(.other)
                }
            }
        }
        flushNumber()
        var i = 0
        while i + 4 < pieces.count {
            if case .number(let a) = pieces[i], case .sign(let op) = pieces[i + 1], case .number(let b) = pieces[i + 2],
               pieces[i + 3] == .equals, case .number(let c) = pieces[i + 4] {
                let v: Double
                switch op {
                case "+": v = a + b
                case "-": v = a - b
                case "/": v = b == 0 ? .nan : a / b
                default: v = a * b
                }
                if !(abs(v - c) <= 1e-2 * max(1, abs(c))) { return false }
                i += 4
            } else {
                i += 1
            }
        }
        return true
    }
}
