import Foundation

/// Student's t distribution: CDF and quantiles for real (Satterthwaite) degrees of freedom.
///
/// The CDF goes through the regularised incomplete beta function, evaluated by its continued
/// fraction (modified Lentz); the quantile inverts it by bisection, which is plenty for the
/// handful of quantiles a report needs.
public enum StudentT {
    /// P(T ≤ t) for T ~ t(df). df = ∞ is the standard normal.
    public static func cdf(_ t: Double, df: Double) -> Double {
        precondition(df > 0, "StudentT needs positive degrees of freedom (got \(df))")
        // Beyond 1e5 degrees of freedom t and the normal agree to 1e-5 in every quantile used here,
        // while the continued fraction would need ever more terms.
        if df > 1e5 { return 0.5 * erfc(-t / 2.0.squareRoot()) }
        let x = df / (df + t * t)
        let tail = 0.5 * incompleteBeta(x, a: df / 2, b: 0.5)
        return t >= 0 ? 1 - tail : tail
    }

    /// The p-quantile of t(df).
    public static func quantile(_ p: Double, df: Double) -> Double {
        precondition(p > 0 && p < 1, "StudentT.quantile needs a probability strictly between 0 and 1 (got \(p))")
        if df > 1e5 { return NormalQuantile.z(p) }
        if p == 0.5 { return 0 }
        var lo = -1.0, hi = 1.0
        while cdf(lo, df: df) > p { lo *= 2 }
        while cdf(hi, df: df) < p { hi *= 2 }
        for _ in 0..<200 {
            let mid = (lo + hi) / 2
            if cdf(mid, df: df) < p { lo = mid } else { hi = mid }
            if hi - lo <= 1e-13 * max(1, abs(mid)) { break }
        }
        return (lo + hi) / 2
    }

    /// I_x(a, b), the regularised incomplete beta function.
    static func incompleteBeta(_ x: Double, a: Double, b: Double) -> Double {
        if x <= 0 { return 0 }
        if x >= 1 { return 1 }
        let logBeta: Double = lgamma(a + b) - lgamma(a) - lgamma(b)
        let logFront: Double = logBeta + a * log(x) + b * log(1 - x)
        // The continued fraction converges fast for x < (a + 1) / (a + b + 2); else use symmetry.
        if x < (a + 1) / (a + b + 2) { return exp(logFront) * continuedFraction(x, a: a, b: b) / a }
        return 1 - exp(logFront) * continuedFraction(1 - x, a: b, b: a) / b
    }

    private static func continuedFraction(_ x: Double, a: Double, b: Double) -> Double {
        let tiny = 1e-300
        var c = 1.0, d = 1 - (a + b) * x / (a + 1)
        if abs(d) < tiny { d = tiny }
        d = 1 / d
        var h = d
        for m in 1...500 {
            let m = Double(m), m2 = 2 * m
            var aa = m * (b - m) * x / ((a + m2 - 1) * (a + m2))
            d = 1 + aa * d; if abs(d) < tiny { d = tiny }
            c = 1 + aa / c; if abs(c) < tiny { c = tiny }
            d = 1 / d
            h *= d * c
            aa = -(a + m) * (a + b + m) * x / ((a + m2) * (a + m2 + 1))
            d = 1 + aa * d; if abs(d) < tiny { d = tiny }
            c = 1 + aa / c; if abs(c) < tiny { c = tiny }
            d = 1 / d
            let delta = d * c
            h *= delta
            if abs(delta - 1) < 1e-15 { break }
        }
        return h
    }
}
