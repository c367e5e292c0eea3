import Foundation

/// The plain statistics the report needs. Inputs are finite: the metrics reader already dropped
/// NaN and infinities.
enum SeriesMath {
    static func mean(_ xs: [Double]) -> Double? {
        xs.isEmpty ? nil : xs.reduce(0, +) / Double(xs.count)
    }

    /// Median rather than mean for throughput: the first update pays for warm-up and an
    /// evaluation can stall one, and neither says how fast the variant runs.
    static func median(_ xs: [Double]) -> Double? {
        guard !xs.isEmpty else { return nil }
        let s = xs.sorted()
        let mid = s.count / 2
        return s.count % 2 == 1 ? s[mid] : (s[mid - 1] + s[mid]) / 2
    }

    /// Trailing moving average: each value is the mean of itself and up to `window - 1` values
    /// before it, so the curve does not run ahead of the data and its last point is recent.
    static func movingAverage(_ xs: [Double], window: Int) -> [Double] {
        let w = max(1, window)
        var out: [Double] = []
        out.reserveCapacity(xs.count)
        var sum = 0.0
        for (i, x) in xs.enumerated() {
            sum += x
            if i >= w { sum -= xs[i - w] }
            out.append(sum / Double(min(i + 1, w)))
        }
        return out
    }

    /// The smoothing window for per-update curves: none for short runs (every point matters),
    /// up to 10 updates for long ones (where single updates are noise), scaled so a chart keeps
    /// about 30 independent stretches.
    static func smoothingWindow(points: Int) -> Int {
        min(10, max(1, points / 30))
    }
}
