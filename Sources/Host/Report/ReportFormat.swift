import Engine
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

    /// "71.2% [68.9, 73.5]": a mean accuracy and its 95% interval, in percent.
    static func accuracy(_ a: AccuracyEstimate?) -> String {
        guard let a else { return missing }
        return String(format: "%.1f%% [%.1f, %.1f]", a.mean * 100, a.interval.lowerBound * 100, a.interval.upperBound * 100)
    }

    /// "+0.7 [-1.5, +2.9]": a paired difference and its 95% interval, in points.
    static func difference(_ d: PairedDifference?) -> String {
        guard let d else { return missing }
        return "\(points(d.difference * 100, signed: true)) [\(points(d.interval.lowerBound * 100, signed: true)), \(points(d.interval.upperBound * 100, signed: true))]"
    }

    /// Two significant digits; "<0.001" below that.
    static func pValue(_ p: Double?) -> String {
        guard let p else { return missing }
        if p < 0.001 { return "<0.001" }
        return p >= 0.1 ? String(format: "%.2f", p) : String(format: "%.2g", p)
    }

    /// "better", "worse", or "not detected (±3.1)" / "no detectable difference (±3.1)": ± the
    /// smallest difference the comparison would have detected, in points.
    static func verdict(_ d: Decision?, long: Bool) -> String {
        guard let d else { return missing }
        switch d.verdict {
        case .better: return "better"
        case .worse: return "worse"
        case .noDetectableDifference(let mde):
            let pts = String(format: "%.1f", mde * 100)
            return long ? "no detectable difference (±\(pts))" : "not detected (±\(pts))"
        case .tooFewSeeds:
            return long ? "no verdict (one seed: how much runs differ is unknown)" : "no verdict (1 seed)"
        }
    }

    /// "1/3"; "—" when no run could be judged.
    static func collapses(_ c: (count: Int, judged: Int)) -> String {
        c.judged == 0 ? missing : "\(c.count)/\(c.judged)"
    }

    static func duration(_ seconds: Double?) -> String { seconds.map(ProgressLine.duration) ?? missing }
    static func rate(_ x: Double?) -> String { x.map(ProgressLine.count) ?? missing }

    static func yesNo(_ b: Bool?) -> String { b.map { $0 ? "yes" : "no" } ?? missing }
}
