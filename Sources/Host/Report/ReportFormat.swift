import Foundation

/// How each kind of number reads in the tables; "—" wherever a value does not apply or is missing.
enum ReportFormat {
    static let missing = "—"

    static func percent(_ fraction: Double?) -> String {
        fraction.map { String(format: "%.1f%%", $0 * 100) } ?? missing
    }

    /// Signed, so a gain and a loss read differently at a glance.
    static func points(_ p: Double?, signed: Bool) -> String {
        guard let p else { return missing }
        let r = (p * 10).rounded() / 10
        return String(format: signed ? "%+.1f" : "%.1f", r == 0 ? 0 : r)
    }

    /// Three significant digits (rewards near 0.3, losses near 2); very small or large values
    /// (KLs near 1e-4) as a compact "7.4e-4", which keeps the column narrow.
    static func metric(_ x: Double?) -> String {
        guard let x else { return missing }
        if x == 0 { return "0" }
        let a = abs(x)
        if a >= 1e4 || a < 1e-3 {
            var e = Int(floor(log10(a)))
            var m = x / pow(10, Double(e))
            if abs((m * 10).rounded()) >= 100 { m /= 10; e += 1 }
            return String(format: "%.1fe%d", m, e)
        }
        let decimals = max(0, 2 - Int(floor(log10(a))))
        return String(format: "%.\(decimals)f", x)
    }

    static func best(_ s: VariantSummary) -> String {
        guard let b = s.bestAccuracy else { return missing }
        return percent(b) + (s.bestAt.map { " @\($0)" } ?? "")
    }

    static func duration(_ seconds: Double?) -> String { seconds.map(ProgressLine.duration) ?? missing }
    static func rate(_ x: Double?) -> String { x.map(ProgressLine.count) ?? missing }

    static func yesNo(_ b: Bool?) -> String { b.map { $0 ? "yes" : "no" } ?? missing }
}
