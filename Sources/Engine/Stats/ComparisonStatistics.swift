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
    /// The exact sign-flip test's two-sided p-value, before any multiple-comparison adjustment.
    public var pValue: Double
    /// The seeds both sides ran, in the variant's order.
    public var seeds: [UInt64]
    public var questions: Int

    public init(difference: Double, interval: ClosedRange<Double>, standardError: Double, degreesOfFreedom: Double,
                pValue: Double, seeds: [UInt64], questions: Int) {
        self.difference = difference
        self.interval = interval
        self.standardError = standardError
        self.degreesOfFreedom = degreesOfFreedom
        self.pValue = pValue
        self.seeds = seeds
        self.questions = questions
    }
}

/// What a comparison concludes about one variant.
public enum Verdict: Sendable, Equatable {
    case better
    case worse
    /// Neither test found a difference; `smallestDetectable` is the difference (a fraction) this
    /// design would call with the chosen power, so "no difference" can be read against it.
    case noDetectableDifference(smallestDetectable: Double)
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
/// - The p-value is the exact paired sign-flip test over questions (SignFlipTest), with each
///   question's difference summed over the paired seeds. It is exact for the question sample, but
///   it takes the runs as given: one lucky seed that lifts every answer would count as evidence.
/// - So a verdict needs both: the Holm-adjusted p below `alpha` and an interval that excludes
///   zero on the same side. When runs differ by more than their questions explain, the interval
///   is what limits, and more seeds narrow it. A sign-flip test over seeds alone would take the
///   run-to-run variation into account, but could never reach p < 0.05 with fewer than six seeds
///   (its smallest p is 2 / 2^S), which is why it is not the test here.
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
        var bySeed: [UInt64: [Bool]] = [:]
        for b in baseline where bySeed[b.seed] == nil { bySeed[b.seed] = b.correct }
        let pairs = variant.compactMap { v in bySeed[v.seed].map { (v.seed, v.correct, $0) } }
        guard !pairs.isEmpty else {
            throw StatisticsError("the variant's seeds (\(variant.map { String($0.seed) }.joined(separator: ", "))) and the baseline's (\(baseline.map { String($0.seed) }.joined(separator: ", "))) have none in common; a paired comparison needs runs of the same seed")
        }
        let rows: [[Int8]] = pairs.map { _, v, b in zip(v, b).map { Int8($0 ? 1 : 0) - Int8($1 ? 1 : 0) } }
        var perQuestion = [Int](repeating: 0, count: n)
        for row in rows { for q in 0..<n { perQuestion[q] += Int(row[q]) } }
        let table = CrossedMean(rows: rows)
        return PairedDifference(difference: table.mean, interval: table.interval(level: level).clamped(to: -1...1), standardError: table.standardError,
                                degreesOfFreedom: table.degreesOfFreedom, pValue: SignFlipTest.pValue(perQuestion),
                                seeds: pairs.map(\.0), questions: n)
    }

    /// Verdicts for a family of comparisons against one baseline, Holm-adjusting their p-values.
    public func decide(_ family: [PairedDifference]) -> [Decision] {
        let adjusted = Holm.adjust(family.map(\.pValue))
        let m = family.count
        return zip(family, adjusted).map { d, p in
            let verdict: Verdict
            if p < alpha && d.interval.lowerBound > 0 {
                verdict = .better
            } else if p < alpha && d.interval.upperBound < 0 {
                verdict = .worse
            } else {
                verdict = .noDetectableDifference(smallestDetectable: smallestDetectable(d, family: m))
            }
            return Decision(comparison: d, adjustedP: p, verdict: verdict)
        }
    }

    /// The difference this design detects with probability `power` at Holm's strictest level
    /// (alpha / m): (t(1 − alpha / 2m) + t(power)) × the standard error, on the interval's degrees
    /// of freedom. It is never below what the sign-flip test can resolve at all: k questions all
    /// going one way in every seed give p = 2 / 2^k, so at least log2(2m / alpha) are needed.
    public func smallestDetectable(_ d: PairedDifference, family m: Int) -> Double {
        let level = alpha / Double(max(1, m))
        let df = d.degreesOfFreedom
        let byPower = (StudentT.quantile(1 - level / 2, df: df) + StudentT.quantile(power, df: df)) * d.standardError
        let questions = (log2(2 / level)).rounded(.up)
        return max(byPower, questions / Double(max(1, d.questions)))
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
