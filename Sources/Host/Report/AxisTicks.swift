import Foundation

/// An axis's range and tick marks at "nice" steps (1, 2 or 5 × a power of ten), widened to
/// whole ticks so every data point sits inside the plot.
struct AxisTicks: Equatable {
    var lower: Double
    var upper: Double
    var step: Double
    /// Tick values from lower to upper.
    var values: [Double]
    /// Decimals that tell neighbouring ticks apart (0 for a step of 5, 2 for 0.05).
    var decimals: Int

    /// Ticks covering `min...max` in about `target` intervals. Equal ends (one point, or a flat
    /// curve) are padded by 10% of the value (±1 at zero) so the range is never empty; padding
    /// never pushes a non-negative range below zero.
    init(min lo: Double, max hi: Double, target: Int = 5) {
        precondition(lo.isFinite && hi.isFinite && lo <= hi, "AxisTicks: range \(lo)...\(hi) must be finite and ordered")
        var a = lo, b = hi
        // A range lost in rounding noise is a flat line; treating it as a range would ask for
        // billions of ticks.
        if b - a <= Swift.max(abs(a), abs(b)) * 1e-9 {
            let pad = a == 0 ? 1 : abs(a) * 0.1
            a = lo - pad
            b = lo + pad
            if lo >= 0 && a < 0 { a = 0 }
        }
        let rough = (b - a) / Double(Swift.max(1, target))
        let magnitude = pow(10, floor(log10(rough)))
        let residual = rough / magnitude
        let nice: Double = residual < 1.5 ? 1 : residual < 3 ? 2 : residual < 7 ? 5 : 10
        let step = nice * magnitude
        let first = Int(floor(a / step + 1e-9))
        let last = Int(ceil(b / step - 1e-9))
        self.step = step
        values = (first...last).map { Double($0) * step }
        lower = values.first!
        upper = values.last!
        decimals = Swift.max(0, -Int(floor(log10(step) + 1e-9)))
    }

    func label(_ v: Double) -> String {
        let s = String(format: "%.\(decimals)f", v)
        // "-0.0" from rounding a tiny negative reads as a mistake.
        return Double(s) == 0 ? String(format: "%.\(decimals)f", 0.0) : s
    }
}
