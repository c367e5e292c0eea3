import Foundation

/// The paired sign-flip (permutation) test on per-question differences, exact.
///
/// Each question q carries an integer difference a_q: over the paired seeds, the number of runs
/// in which the variant answered it correctly and the baseline did not, minus the reverse. If
/// the variant and the baseline were interchangeable, each a_q would be as likely to have the
/// opposite sign, so the observed total T = Σ a_q is compared with the totals Σ ±a_q of every
/// sign pattern. The a_q are small integers, so the distribution of Σ ±a_q is computed exactly
/// by convolution rather than sampled: the p-value has no Monte Carlo noise and no resolution
/// limit. Questions with a_q = 0 (both right or both wrong in every seed) do not change it.
public enum SignFlipTest {
    /// Two-sided p-value: the probability, over independent fair signs, that |Σ ±a_q| ≥ |Σ a_q|.
    /// 1 when every a_q is 0.
    public static func pValue(_ differences: [Int]) -> Double {
        let a = differences.map(abs).filter { $0 > 0 }
        let observed = abs(differences.reduce(0, +))
        guard !a.isEmpty, observed > 0 else { return 1 }
        let range = a.reduce(0, +)
        // Exact convolution costs about count × range; beyond that, sample sign patterns from a
        // fixed seed instead (never reached by comparisons of a few thousand questions).
        if Double(a.count) * Double(range) > 4e8 { return sampled(a, observed: observed) }
        var p = [Double](repeating: 0, count: 2 * range + 1)
        var next = p
        p[range] = 1
        var reach = 0  // the sums so far lie in −reach...reach
        for v in a {
            let newReach = reach + v
            for i in (range - newReach)...(range + newReach) { next[i] = 0 }
            for i in (range - reach)...(range + reach) where p[i] != 0 {
                next[i - v] += 0.5 * p[i]
                next[i + v] += 0.5 * p[i]
            }
            swap(&p, &next)
            reach = newReach
        }
        var tail = 0.0
        for x in observed...range { tail += p[range + x] + p[range - x] }
        return min(1, tail)
    }

    private static func sampled(_ a: [Int], observed: Int, draws: Int = 200_000) -> Double {
        var rng = RNG(seed: 0x51_6E_F1_1B, stream: "sign-flip")
        var extreme = 0
        for _ in 0..<draws {
            var sum = 0
            var bits: UInt64 = 0, left = 0
            for v in a {
                if left == 0 { bits = rng.next(); left = 64 }
                sum += bits & 1 == 1 ? v : -v
                bits >>= 1
                left -= 1
            }
            if abs(sum) >= observed { extreme += 1 }
        }
        return Double(extreme + 1) / Double(draws + 1)
    }
}
