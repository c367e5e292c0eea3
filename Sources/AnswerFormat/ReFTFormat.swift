/// The prompt/target text layout of the ReFT and CARFT papers, and the answer checking that goes
/// with it. Training targets and reward checks must agree byte for byte, so both live here.
public enum ReFTFormat {
    /// The marker before the final answer. Completions are scored only on what follows it.
    public static let answerMarker = "Therefore, the answer is: "

    public static func prompt(_ question: String) -> String {
        "Question:\n\(question)\nAnswer reasoning:\n"
    }

    /// The SFT target without EOS: the tokenizer's EOS id is appended as a token, so no textual
    /// end marker can be confused with model output.
    public static func target(cot: String, answer: Double) -> String {
        "\(cot)\n\(answerMarker)\(formatAnswer(answer))"
    }

    /// Integers print without ".0" because gold answers are mostly integers and the model should
    /// learn "72", not "72.0"; other values print in Swift's shortest round-tripping form.
    public static func formatAnswer(_ x: Double) -> String {
        if x.isFinite, x == x.rounded(), abs(x) < 1e15 {
            return String(Int64(x))
        }
        return "\(x)"
    }

    /// The number after the last answer marker, or nil when the completion has none. The last
    /// marker wins because a model may restate the marker inside its reasoning before concluding.
    public static func extractAnswer(_ completion: String) -> Double? {
        let tail: Substring
        if let r = completion.range(of: "\n" + answerMarker, options: .backwards) {
            tail = completion[r.upperBound...]
        } else if completion.hasPrefix(answerMarker) {
            tail = completion.dropFirst(answerMarker.count)
        } else {
            return nil
        }
        let line = tail.prefix { $0 != "\n" }
        guard let token = firstNumber(in: line) else { return nil }
        return Double(token.filter { $0 != "," })
    }

    /// Strict parse of a gold answer field: the whole string must be one number. A stray word
    /// signals a data problem that should surface as an error rather than a silently wrong label.
    public static func parseNumber(_ s: String) -> Double? {
        var text = Substring(s.trimmingCharacters(in: .whitespacesAndNewlines))
        var sign = 1.0
        if let first = text.first, first == "-" || first == "+" {
            sign = first == "-" ? -1 : 1
            text = text.dropFirst()
        }
        if text.first == "$" { text = text.dropFirst() }
        // Starting at a digit or point keeps a second sign ("--4") from slipping through.
        guard let first = text.first, first == "." || (first.isASCII && first.isNumber),
              let token = firstNumber(in: text), token.count == text.count,
              let value = Double(token.filter { $0 != "," })
        else { return nil }
        return sign * value
    }

    /// The papers' tolerance: answers like 0.333 vs 1/3 or 12.50 vs 12.5 count as equal.
    public static func isCorrect(predicted: Double?, gold: Double) -> Bool {
        guard let p = predicted else { return false }
        return abs(p - gold) <= 1e-2
    }

    /// The first `[sign] digits [,ddd]* [.digits]` in `text`. Commas count only in proper
    /// thousands groups, so "3, 4" reads as 3 rather than 34. A trailing sentence period is not
    /// consumed because a decimal point needs a digit after it.
    public static func firstNumber(in text: Substring) -> Substring? {
        let chars = Array(text)
        func isDigit(_ i: Int) -> Bool { i < chars.count && chars[i].isASCII && chars[i].isNumber }
        var i = 0
        while i < chars.count {
            let isSign = chars[i] == "-" || chars[i] == "+"
            let signed = isSign && (isDigit(i + 1) || (i + 1 < chars.count && chars[i + 1] == "." && isDigit(i + 2)))
            let start = i
            var j = signed ? i + 1 : i
            let intStart = j
            while isDigit(j) { j += 1 }
            let intDigits = j - intStart
            if intDigits > 0 && intDigits <= 3 {
                while j < chars.count, chars[j] == ",", isDigit(j + 1), isDigit(j + 2), isDigit(j + 3), !isDigit(j + 4) {
                    j += 4
                }
            }
            var fracDigits = 0
            if j < chars.count, chars[j] == ".", isDigit(j + 1) {
                j += 1
                while isDigit(j) { j += 1; fracDigits += 1 }
            }
            if intDigits > 0 || fracDigits > 0 {
                let lower = text.index(text.startIndex, offsetBy: start)
                let upper = text.index(text.startIndex, offsetBy: j)
                return text[lower..<upper]
            }
            i += 1
        }
        return nil
    }
}

import Foundation
