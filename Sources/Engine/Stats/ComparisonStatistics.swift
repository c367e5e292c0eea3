import Foundation

/// One run's result on the shared evaluation set: which questions it answered correctly.
public struct RunOutcomes: Sendable, Equatable {
    public var seed: UInt64
    /// One entry per question of the evaluation set, in the set's order.
    public var correct: [Bool]

    public init(seed: UInt64, correct: [Bool]) {
        self.seed = seed
        self.correct = correct
    }
}

/// A variant's accuracy over its seeds and the evaluation set (fractions, not points).
public struct AccuracyEstimate: Sendable, Equatable {
    public var mean: Double
    public var interval: ClosedRange<Double>
    public var seeds: Int
    public var questions: Int
}

/// A variant against a baseline, paired by seed and by question (fractions, not points).
public struct PairedDifference: Sendable, Equatable {
    /// Variant minus baseline, over the paired seeds and all questions.
    public var difference: Double
    public var interval: ClosedRange<Double>
    public var standardError: Double
    /// Of the t distribution the interval uses (Satterthwaite's; see CrossedMean).
    public var degreesOfFreedom: Double
    /// The exact paired sign-flip test over questions, two-sided.
    public var signFlipP: Double
    /// The t test from the interval's mean and standard error, two-sided.
    public var tTestP: Double
    /// The larger of the two, before any multiple-comparison adjustment: what a verdict is
    /// decided on (see ComparisonStatistics).
    public var pValue: Double { max(signFlipP, tTestP) }
    /// The seeds both sides ran, in the variant's order.
    public var seeds: [UInt64]
    public var questions: Int

    public init(difference: Double, interval: ClosedRange<Double>, standardError: Double, degreesOfFreedom: Double,
                signFlipP: Double, tTestP: Double, seeds: [UInt64], questions: Int) {
        self.difference = difference
        self.interval = interval
        self.standardError = standardError
        self.degreesOfFreedom = degreesOfFreedom
        self.signFlipP = signFlipP
        self.tTestP = tTestP
        self.seeds = seeds
        self.questions = questions
    }
}

/// What a comparison concludes about one variant.
public enum Verdict: Sendable, Equatable {
    case better
    case worse
    /// The evidence fell short; `smallestDetectable` is the difference (a fraction) this design
    /// would call with the chosen power, so "no detectable difference" can be read against it.
    case noDetectableDifference(smallestDetectable: Double)
    /// Fewer than two paired seeds: how much runs differ from one another is unknown, so no
    /// difference can be told from one run's luck.
    case tooFewSeeds
}

public struct Decision: Sendable, Equatable {
    public var comparison: PairedDifference
    /// Holm-adjusted over the family the decision was made in.
    public var adjustedP: Double
    public var verdict: Verdict

    public init(comparison: PairedDifference, adjustedP: Double, verdict: Verdict) {
        self.comparison = comparison
        self.adjustedP = adjustedP
        self.verdict = verdict
    }
}

public struct StatisticsError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// The statistics of a comparison: accuracies with intervals, paired differences against a
/// baseline, and a verdict per variant.
///
/// How a difference is judged. Two things vary between a variant's runs and the baseline's: the
/// trained models (training is random, so each seed gives other weights) and the questions (the
/// evaluation set is a sample). Both sides run the same seeds from the same start and are scored
/// on the same questions, so every comparison is paired twice, which removes most of the noise
/// the two sides share.
/// - The interval comes from the crossed seeds × questions random-effects model (CrossedMean),
///   which covers both sources of variation; why not a two-stage bootstrap is said there.
/// - Two tests, each valid on its own: the exact paired sign-flip test over questions
///   (SignFlipTest, each question's difference summed over the paired seeds), which needs no
///   approximation but takes the runs as given (one lucky seed that lifts every answer would
///   count as evidence); and the t test from the interval's mean and standard error, which
///   covers the runs' variation but leans on the t approximation (which overstates evidence
///   when few questions differ). A comparison's p is the larger of the two, so each guards the
///   other's weakness, and that p is Holm-adjusted over the family: the chance of any false
///   "better" or "worse" among all the variants stays below `alpha`.
/// - With fewer than two paired seeds the runs' variation is unknown and no verdict is given.
///   A sign-flip test over seeds alone would cover it too, but could never reach p < 0.05 with
///   fewer than six seeds (its smallest p is 2 / 2^S), which is why it is not the test here.
public struct ComparisonStatistics: Sendable {
    public var level = 0.95
    public var alpha = 0.05
    /// The power at which `Verdict.noDetectableDifference` states the smallest detectable difference.
    public var power = 0.8

    public init() {}

    public func accuracy(_ runs: [RunOutcomes]) throws -> AccuracyEstimate {
        let n = try Self.questionCount(runs, what: "runs")
        let table = CrossedMean(rows: runs.map { $0.correct.map { $0 ? 1 : 0 } })
        // An accuracy cannot leave [0, 1] (nor a difference [−1, 1]), whatever the t tails say near the edges.
        return AccuracyEstimate(mean: table.mean, interval: table.interval(level: level).clamped(to: 0...1), seeds: runs.count, questions: n)
    }

    /// The variant against the baseline, over the seeds both ran. A baseline with a single run
    /// that stands for every seed (the shared starting checkpoint, which no seed changes) is
    /// given as that run repeated under each of the variant's seeds.
    public func difference(_ variant: [RunOutcomes], against baseline: [RunOutcomes]) throws -> PairedDifference {
        let n = try Self.questionCount(variant + baseline, what: "the variant's and the baseline's runs")
        for (runs, side) in [(variant, "variant"), (baseline, "baseline")] where Set(runs.map(\.seed)).count != runs.count {
            throw StatisticsError("the \(side) has two runs of one seed; each seed is one run")
        }
        var bySeed: [UInt64: [Bool]] = [:]
        for b in baseline { bySeed[b.seed] = b.correct }
        let pairs = variant.compactMap { v in bySeed[v.seed].map { (v.seed, v.correct, $0) } }
        guard !pairs.isEmpty else {
            throw StatisticsError("the variant's seeds (\(variant.map { String($0.seed) }.joined(separator: ", "))) and the baseline's (\(baseline.map { String($0.seed) }.joined(separator: ", "))) have none in common; a paired comparison needs runs of the same seed")
        }
        let rows: [[Int8]] = pairs.map { _, v, b in zip(v, b).map { Int8($0 ? 1 : 0) - Int8($1 ? 1 : 0) } }
        var perQuestion = [Int](repeating: 0, count: n)
        for row in rows { for q in 0..<n { perQuestion[q] += Int(row[q]) } }
        let table = CrossedMean(rows: rows)
        return PairedDifference(difference: table.mean, interval: table.interval(level: level).clamped(to: -1...1), standardError: table.standardError,
                                degreesOfFreedom: table.degreesOfFreedom, signFlipP: SignFlipTest.pValue(perQuestion),
                                tTestP: Self.tTest(table), seeds: pairs.map(\.0), questions: n)
    }

    /// Two-sided p of mean / SE on the table's degrees of freedom; 0 for a difference with no
    /// spread at all (every question and seed the same nonzero value), 1 for none.
    static func tTest(_ t: CrossedMean) -> Double {
        guard t.mean != 0 else { return 1 }
        guard t.standardError > 0 else { return 0 }
        return min(1, 2 * StudentT.cdf(-abs(t.mean) / t.standardError, df: t.degreesOfFreedom))
    }

    /// Verdicts for a family of comparisons against one baseline, Holm-adjusting their p-values
    /// over the comparisons that have at least two seeds (the others get no verdict).
    public func decide(_ family: [PairedDifference]) -> [Decision] {
        let judged = family.indices.filter { family[$0].seeds.count >= 2 }
        let adjusted = Holm.adjust(judged.map { family[$0].pValue })
        var p = family.map(\.pValue)
        for (i, a) in zip(judged, adjusted) { p[i] = a }
        let m = judged.count
        return family.indices.map { i in
            let d = family[i]
            let verdict: Verdict
            if d.seeds.count < 2 {
                verdict = .tooFewSeeds
            } else if p[i] < alpha {
                verdict = d.difference > 0 ? .better : .worse
            } else {
                verdict = .noDetectableDifference(smallestDetectable: smallestDetectable(d, family: m))
            }
            return Decision(comparison: d, adjustedP: p[i], verdict: verdict)
        }
    }

    /// The difference this design detects with probability `power` at Holm's strictest level
    /// (alpha / m): (t(1 − alpha / 2m) + t(power)) × the standard error, on the interval's degrees
    /// of freedom. It is never below what the sign-flip test can resolve at all: k questions that
    /// differ, each in one seed and all the same way, give p = 2 / 2^k and a difference of
    /// k / (S·Q), so the first k with p below the level is needed.
    public func smallestDetectable(_ d: PairedDifference, family m: Int) -> Double {
        let level = alpha / Double(max(1, m))
        let df = d.degreesOfFreedom
        let byPower = (StudentT.quantile(1 - level / 2, df: df) + StudentT.quantile(power, df: df)) * d.standardError
        let questions = log2(2 / level).rounded(.down) + 1
        return min(2, max(byPower, questions / Double(max(1, d.seeds.count * d.questions))))
    }

    private static func questionCount(_ runs: [RunOutcomes], what: String) throws -> Int {
        guard let n = runs.first?.correct.count else { throw StatisticsError("no runs to compare") }
        guard n > 0 else { throw StatisticsError("an evaluation set with no questions") }
        if let bad = runs.first(where: { $0.correct.count != n }) {
            throw StatisticsError("\(what) were scored on different numbers of questions (\(n) and \(bad.correct.count), seed \(bad.seed)); every run must be scored on the same evaluation set")
        }
        return n
    }
}
