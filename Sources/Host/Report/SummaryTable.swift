import Foundation

/// The comparison tables, as data: the summary (one row per variant) and accuracy at each
/// evaluation. The terminal, Markdown and HTML renderers all draw from here, so the three never
/// disagree on a number. The state column comes last: it is the only one of unbounded width.
struct SummaryTable {
    struct Column {
        /// Markdown and HTML header.
        var header: String
        /// Terminal header: shorter, so a row fits 120 columns; the legend spells them out.
        var short: String
        var value: (VariantSummary) -> String
    }

    let summaries: [VariantSummary]
    /// Rows whose final accuracy is the best of the comparison (all of them on a tie).
    let bestRows: Set<Int>

    init(_ summaries: [VariantSummary]) {
        self.summaries = summaries
        let best = summaries.compactMap(\.finalAccuracy).max()
        bestRows = Set(summaries.indices.filter { best != nil && summaries[$0].finalAccuracy == best })
    }

    static let startColumn = 2
    static let finalColumn = 3
    static let columns: [Column] = [
        Column(header: "variant", short: "variant") { $0.name },
        Column(header: "algorithm", short: "algo") { $0.algorithm },
        Column(header: "start", short: "start") { ReportFormat.percent($0.startAccuracy) },
        Column(header: "final", short: "final") { ReportFormat.percent($0.finalAccuracy) },
        Column(header: "best (at)", short: "best @") { ReportFormat.best($0) },
        Column(header: "Δ final−start (pts)", short: "Δ pts") { ReportFormat.points($0.deltaPoints, signed: true) },
        Column(header: "mean reward", short: "reward") { ReportFormat.metric($0.meanReward) },
        Column(header: "mean KL", short: "KL") { ReportFormat.metric($0.meanKL) },
        Column(header: "mean contrastive loss", short: "contr") { ReportFormat.metric($0.meanContrastiveLoss) },
        Column(header: "wall time", short: "wall") { ReportFormat.duration($0.wallSeconds) },
        Column(header: "rollout tok/s", short: "roll") { ReportFormat.rate($0.rolloutTokensPerSecond) },
        Column(header: "train tok/s", short: "train") { ReportFormat.rate($0.trainTokensPerSecond) },
        Column(header: "largest drop (pts)", short: "drop") { ReportFormat.points($0.largestDropPoints, signed: false) },
        Column(header: "collapsed", short: "coll") { ReportFormat.yesNo($0.collapsed) },
    ]

    /// The legend under the table, one line each; shared by every renderer.
    static let legend: [String] = [
        "start: the first evaluation (in a comparison, the shared starting checkpoint); best @: the update (SFT: step) where it was first reached",
        "mean reward, KL, contrastive loss: over all updates (— where the algorithm has none); tok/s: median over updates (SFT: its training speed)",
        Stability.dropDefinition,
        CollapseRule.definition,
    ]
    static let shortHeaderLegend = "Δ pts = final − start in points; contr = mean contrastive loss; roll, train = rollout and training tokens per second; coll = collapsed"

    /// Lines naming each collapsed variant and why, for the notes under the legend.
    var collapseNotes: [String] {
        summaries.compactMap { s in
            guard let r = s.collapseReasons, !r.isEmpty else { return nil }
            return "\(s.name) collapsed: \(r.joined(separator: "; "))"
        }
    }

    // MARK: accuracy at each evaluation

    /// The evaluation points of every variant, in order; a variant evaluated elsewhere gets "—".
    var evaluationPoints: [Int] { Array(Set(summaries.flatMap { $0.evaluations.map(\.index) })).sorted() }

    /// Accuracy cells per variant at `evaluationPoints` (a repeated point keeps the later value).
    func accuracyRow(_ s: VariantSummary) -> [String] {
        var at: [Int: Double] = [:]
        for e in s.evaluations { at[e.index] = e.accuracy }
        return evaluationPoints.map { ReportFormat.percent(at[$0]) }
    }
}
