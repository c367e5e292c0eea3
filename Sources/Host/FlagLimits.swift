import ArgumentParser

/// The ranges numeric flags are checked against, in one place so `--help` can show them. Lower
/// bounds are what the setting means (a batch has a question); upper bounds are where a value
/// stops being an experiment and only exhausts memory or overflows a count, so it is refused with
/// the range instead of growing until the machine kills the run.
enum FlagLimits {
    static let steps = 1...100_000_000
    static let batch = 1...65_536
    /// Tokens: generated per completion, or a context length.
    static let tokens = 1...1_048_576
    static let threads = 1...1_024
    /// Children of a comparison at once (each is a whole training run).
    static let jobs = 1...64
    /// Held-out questions per evaluation, or to score.
    static let examples = 0...10_000_000
    static let dataSize = 1...10_000_000
    /// Minutes: more than a week is a typo.
    static let minutes = 1e-3...10_080.0
    static let learningRate = 1e-12...10.0
    /// Seconds one plugin call may take: more than a day is no call that will ever return.
    static let pluginTimeout = 1...86_400
    static let modelLayers = 1...1_024
    static let modelWidth = 1...262_144
    static let taskSteps = 1...64
    static let taskMaxValue = 2...100_000

    static func check(_ value: Int, _ flag: String, _ range: ClosedRange<Int>) throws {
        guard range.contains(value) else {
            throw ValidationError("\(flag) must be in \(text(range)) (got \(value))")
        }
    }

    static func check(_ value: Int?, _ flag: String, _ range: ClosedRange<Int>) throws {
        if let value { try check(value, flag, range) }
    }

    /// NaN and the infinities are outside every range.
    static func check<F: BinaryFloatingPoint>(_ value: F, _ flag: String, _ range: ClosedRange<Double>) throws {
        guard value.isFinite, range.contains(Double(value)) else {
            throw ValidationError("\(flag) must be in \(text(range)) (got \(value))")
        }
    }

    static func check<F: BinaryFloatingPoint>(_ value: F?, _ flag: String, _ range: ClosedRange<Double>) throws {
        if let value { try check(value, flag, range) }
    }

    /// "1…65,536", as --help and errors print a range.
    static func text(_ r: ClosedRange<Int>) -> String { "\(number(r.lowerBound))…\(number(r.upperBound))" }
    static func text(_ r: ClosedRange<Double>) -> String { "\(compact(r.lowerBound))…\(compact(r.upperBound))" }

    private static func number(_ n: Int) -> String {
        let digits = String(n.magnitude)
        var out = ""
        for (i, c) in digits.enumerated() {
            if i > 0 && (digits.count - i) % 3 == 0 { out.append(",") }
            out.append(c)
        }
        return (n < 0 ? "-" : "") + out
    }

    private static func compact(_ x: Double) -> String {
        if x == x.rounded() && abs(x) < 1e7 { return number(Int(x)) }
        return "\(x)"
    }
}
