import Foundation

/// One run's numbers, from its metrics and final answers: a row of the per-seed table and what
/// the variant rows aggregate. Accuracies are fractions; `largestDropPoints` is in points.
struct RunSummary {
    var variant: String
    var seed: UInt64?
    var state: RunState
    /// The final checkpoint on the whole evaluation set (eval-final.jsonl).
    var finalAccuracy: Double?
    var finalQuestions: Int?
    /// The periodic evaluations (a prefix of the evaluation set), for the curves.
    var evaluations: [RunMetrics.Evaluation]
    /// Updates (SFT: steps) the run did.
    var steps: Int?
    var budget: ExperimentFolder.Budget?
    var meanReward: Double?
    var meanKL: Double?
    var meanContrastiveLoss: Double?
    var wallSeconds: Double?
    var rolloutTokensPerSecond: Double?
    var trainTokensPerSecond: Double?
    var largestDropPoints: Double?
    /// Why the run collapsed (empty: it did not); nil when there was nothing to judge.
    var collapseReasons: [String]?

    var collapsed: Bool? { collapseReasons.map { !$0.isEmpty } }

    init(variant: String, _ run: ExperimentFolder.Run) {
        let m = run.metrics
        self.variant = variant
        seed = run.seed
        state = run.state
        evaluations = m.evaluations
        budget = run.budget
        steps = m.lastIndex
        if let answers = run.answers, !answers.isEmpty {
            finalAccuracy = Double(answers.filter(\.correct).count) / Double(answers.count)
            finalQuestions = answers.count
        }
        // An SFT run has no reward, KL or rollouts; its train lines' tokens_per_sec is training speed.
        let rewards = m.values(\.reward)
        meanReward = SeriesMath.mean(rewards)
        meanKL = m.hasSFTSteps ? nil : SeriesMath.mean(m.values(\.kl))
        meanContrastiveLoss = SeriesMath.mean(m.values(\.contrastiveLoss))
        rolloutTokensPerSecond = SeriesMath.median(m.values(\.rolloutTokensPerSecond))
        trainTokensPerSecond = SeriesMath.median(m.hasSFTSteps ? m.steps.compactMap(\.tokensPerSecond) : m.values(\.trainTokensPerSecond))
        // Without a status (still running, or killed before writing it), training time so far.
        wallSeconds = run.wallSeconds ?? m.lastElapsed
        let accuracies = m.evaluations.map(\.accuracy)
        largestDropPoints = Stability.largestDrop(accuracies).map { $0 * 100 }
        var failureError: String?
        if case .failed(_, _, let error) = state { failureError = error ?? "" }
        // A run still going, or killed mid-way, has no end to judge; its curve so far is no verdict.
        collapseReasons = state.hasEnded || state == .other("no status")
            ? CollapseRule.reasons(failureError: failureError, diverged: run.diverged, startAccuracy: accuracies.first,
                                   finalAccuracy: accuracies.last, rewards: rewards)
            : nil
    }
}
