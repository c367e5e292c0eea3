import Foundation

/// How steady a run was: the largest fall from its best accuracy, and whether it collapsed.
/// The collapse rule lives here and only here; the legends print `CollapseRule.definition`, so
/// the words under the table always match the code.
enum Stability {
    /// The largest fall from the best accuracy reached so far to a later evaluation, as a
    /// fraction (0.15 = 15 points); 0 when accuracy never fell, nil with no evaluations.
    static func largestDrop(_ accuracies: [Double]) -> Double? {
        guard var best = accuracies.first else { return nil }
        var drop = 0.0
        for a in accuracies {
            best = max(best, a)
            drop = max(drop, best - a)
        }
        return drop
    }

    static let dropDefinition = "drop: the largest fall, in points, from the best accuracy reached so far to a later evaluation (0 = never fell)"
}

/// A run collapsed when training broke down rather than merely did not help.
enum CollapseRule {
    /// Final accuracy below this fraction of the start accuracy.
    static let accuracyFraction = 0.5
    /// Mean reward of the last stretch below this fraction of the first stretch's…
    static let rewardFraction = 0.5
    /// …where a stretch is this share of the updates…
    static let stretchFraction = 0.1
    /// …judged only on runs with at least this many updates (fewer are noise, not a trend).
    static let minimumUpdates = 10

    /// An error that says a loss or gradient stopped being a number: how a failure is read
    /// when neither status.json nor run.json records its kind (folders from before they did).
    static let nonFiniteError = try! NSRegularExpression(pattern: #"\b(nan|inf|infinity|non-?finite|not finite)\b"#, options: [.caseInsensitive])

    static let definition = "collapsed: yes when the run failed with a non-finite (NaN/Inf) loss or gradient error, "
        + "or its final accuracy is below \(percent(accuracyFraction)) of its start accuracy, "
        + "or its mean reward over the last \(percent(stretchFraction)) of updates is below \(percent(rewardFraction)) of the mean over the first \(percent(stretchFraction)) "
        + "(runs of \(minimumUpdates)+ updates whose early reward is positive)"

    /// The reasons a run collapsed, empty when it did not; nil when there is nothing to judge
    /// (no evaluations, no updates and no failure).
    /// `diverged`: the failure's recorded kind (true: training broke down); nil when not
    /// recorded, and then the error text decides.
    static func reasons(failureError: String?, diverged: Bool? = nil, startAccuracy: Double?, finalAccuracy: Double?, rewards: [Double]) -> [String]? {
        var reasons: [String] = []
        if let error = failureError,
           diverged ?? (nonFiniteError.firstMatch(in: error, range: NSRange(error.startIndex..., in: error)) != nil) {
            reasons.append("failed with a non-finite value")
        }
        if let start = startAccuracy, let final = finalAccuracy, start > 0, final < accuracyFraction * start {
            reasons.append(String(format: "final accuracy %.1f%% < %@ of start %.1f%%", final * 100, percent(accuracyFraction), start * 100))
        }
        if rewards.count >= minimumUpdates {
            let n = max(1, Int((Double(rewards.count) * stretchFraction).rounded(.up)))
            let first = SeriesMath.mean(Array(rewards.prefix(n)))!
            let last = SeriesMath.mean(Array(rewards.suffix(n)))!
            if first > 0, last < rewardFraction * first {
                reasons.append(String(format: "late reward %.3f < %@ of early %.3f", last, percent(rewardFraction), first))
            }
        }
        if reasons.isEmpty && failureError == nil && finalAccuracy == nil && rewards.isEmpty { return nil }
        return reasons
    }

    private static func percent(_ f: Double) -> String { String(format: "%.0f%%", f * 100) }
}
