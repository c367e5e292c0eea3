import Foundation

/// One table row: the numbers that say how a variant did, computed from its metrics. Accuracies
/// are fractions; `deltaPoints` and `largestDropPoints` are percentage points.
struct VariantSummary {
    var name: String
    var algorithm: String
    var state: RunState
    /// The first evaluation: in a comparison, the shared starting checkpoint's accuracy.
    var startAccuracy: Double?
    var finalAccuracy: Double?
    var bestAccuracy: Double?
    /// The update (or SFT step) of the first evaluation that reached the best accuracy.
    var bestAt: Int?
    var deltaPoints: Double?
    var meanReward: Double?
    var meanKL: Double?
    var meanContrastiveLoss: Double?
    var wallSeconds: Double?
    var rolloutTokensPerSecond: Double?
    var trainTokensPerSecond: Double?
    var largestDropPoints: Double?
    /// Why the run collapsed (empty: it did not); nil when there was nothing to judge.
    var collapseReasons: [String]?
    var evaluations: [RunMetrics.Evaluation]

    var collapsed: Bool? { collapseReasons.map { !$0.isEmpty } }

    init(_ v: ExperimentFolder.Variant) {
        let m = v.metrics
        name = v.name
        algorithm = v.algorithm
        state = v.state
        evaluations = m.evaluations
        let accuracies = m.evaluations.map(\.accuracy)
        startAccuracy = accuracies.first
        finalAccuracy = accuracies.last
        if let best = accuracies.max() {
            bestAccuracy = best
            bestAt = m.evaluations.first { $0.accuracy == best }?.index
        }
        if let s = startAccuracy, let f = finalAccuracy { deltaPoints = (f - s) * 100 }
        // An SFT run has no reward, KL or rollouts; its train lines' tokens_per_sec is training speed.
        let rewards = m.hasSFTSteps ? [] : m.values("reward")
        meanReward = SeriesMath.mean(rewards)
        meanKL = m.hasSFTSteps ? nil : SeriesMath.mean(m.values("kl"))
        meanContrastiveLoss = SeriesMath.mean(m.values("contrastive_loss"))
        rolloutTokensPerSecond = SeriesMath.median(m.values("rollout_tokens_per_sec"))
        trainTokensPerSecond = SeriesMath.median(m.values(m.hasSFTSteps ? "tokens_per_sec" : "train_tokens_per_sec"))
        // Without a status (still running, or killed before writing it), training time so far.
        wallSeconds = v.wallSeconds ?? m.training.last.flatMap { $0.values["elapsed"] ?? $0.values["train_seconds"] }
        largestDropPoints = Stability.largestDrop(accuracies).map { $0 * 100 }
        var failureError: String?
        if case .failed(_, _, let error) = state { failureError = error ?? "" }
        collapseReasons = CollapseRule.reasons(failureError: failureError, startAccuracy: startAccuracy,
                                               finalAccuracy: finalAccuracy, rewards: rewards)
    }
}
