import Engine
import Foundation

/// The report's tables, built once from the analysis so the terminal, Markdown and HTML never
/// disagree on a number: the verdicts (one row per variant), the costs and gains beside them, the
/// start, every run, and the accuracy at each evaluation.
struct ReportTables {
    let analysis: ComparisonAnalysis

    private var vsBaseline: String { "Δ vs \(analysis.baseline) (pts, 95% CI)" }

    /// Marked rows: a variant is marked only when its verdict against the baseline is "better".
    private var better: [Bool] { analysis.variants.map { $0.vsBaseline?.verdict == .better } }

    private func runs(_ v: ComparisonAnalysis.VariantResult) -> String { "\(v.scoredSeeds.count)/\(v.runs.count)" }

    /// What decides: accuracy, the difference from the baseline, p and the verdict.
    func verdicts() -> TextTable {
        var t = TextTable(columns: [.init(header: "variant"), .init(header: "runs", numeric: true),
                                    .init(header: "accuracy (95% CI)", numeric: true), .init(header: vsBaseline, numeric: true),
                                    .init(header: "p (Holm)", numeric: true), .init(header: "verdict"),
                                    .init(header: "collapsed", numeric: true)])
        for (v, mark) in zip(analysis.variants, better) {
            t.add([v.name, runs(v), ReportFormat.accuracy(v.accuracy),
                   v.isBaseline ? "baseline" : ReportFormat.difference(v.vsBaseline?.comparison),
                   v.isBaseline ? ReportFormat.missing : ReportFormat.pValue(v.vsBaseline?.adjustedP),
                   v.isBaseline ? ReportFormat.missing : ReportFormat.verdict(v.vsBaseline, long: false),
                   ReportFormat.collapses(v.collapses)], marked: mark)
        }
        return t
    }

    /// What each variant gained over the start, and what it cost.
    func gainsAndCosts() -> TextTable {
        var t = TextTable(columns: [.init(header: "variant"), .init(header: "algorithm"),
                                    .init(header: "Δ vs start (pts, 95% CI)", numeric: true), .init(header: "vs start"),
                                    .init(header: "budget"), .init(header: "wall/run", numeric: true),
                                    .init(header: "rollout tok/s", numeric: true), .init(header: "train tok/s", numeric: true)])
        for v in analysis.variants {
            t.add([v.name, v.algorithm, ReportFormat.difference(v.vsStart?.comparison), ReportFormat.verdict(v.vsStart, long: false),
                   v.budget ?? ReportFormat.missing, ReportFormat.duration(v.meanWallSeconds),
                   ReportFormat.rate(v.rolloutTokensPerSecond), ReportFormat.rate(v.trainTokensPerSecond)])
        }
        return t
    }

    /// Markdown and HTML have the width for everything in one table.
    func full() -> TextTable {
        var t = TextTable(columns: [.init(header: "variant"), .init(header: "algorithm"), .init(header: "runs", numeric: true),
                                    .init(header: "accuracy (95% CI)", numeric: true),
                                    .init(header: "Δ vs start (pts, 95% CI)", numeric: true), .init(header: "vs start"),
                                    .init(header: vsBaseline, numeric: true), .init(header: "p (Holm)", numeric: true),
                                    .init(header: "verdict"), .init(header: "collapsed", numeric: true), .init(header: "budget"),
                                    .init(header: "wall/run", numeric: true), .init(header: "rollout tok/s", numeric: true),
                                    .init(header: "train tok/s", numeric: true)])
        for (v, mark) in zip(analysis.variants, better) {
            t.add([v.name, v.algorithm, runs(v), ReportFormat.accuracy(v.accuracy),
                   ReportFormat.difference(v.vsStart?.comparison), ReportFormat.verdict(v.vsStart, long: true),
                   v.isBaseline ? "baseline" : ReportFormat.difference(v.vsBaseline?.comparison),
                   v.isBaseline ? ReportFormat.missing : ReportFormat.pValue(v.vsBaseline?.adjustedP),
                   v.isBaseline ? ReportFormat.missing : ReportFormat.verdict(v.vsBaseline, long: true),
                   ReportFormat.collapses(v.collapses), v.budget ?? ReportFormat.missing, ReportFormat.duration(v.meanWallSeconds),
                   ReportFormat.rate(v.rolloutTokensPerSecond), ReportFormat.rate(v.trainTokensPerSecond)], marked: mark)
        }
        return t
    }

    /// Every run: its final accuracy on the whole evaluation set and how it went.
    func perRun() -> TextTable {
        var t = TextTable(columns: [.init(header: "variant"), .init(header: "seed", numeric: true),
                                    .init(header: "final acc", numeric: true), .init(header: "Δ start", numeric: true),
                                    .init(header: "updates", numeric: true), .init(header: "wall", numeric: true),
                                    .init(header: "reward", numeric: true), .init(header: "drop", numeric: true),
                                    .init(header: "collapsed", numeric: true), .init(header: "state")])
        let start = analysis.start?.mean
        for v in analysis.variants {
            for r in v.runs {
                let delta = r.finalAccuracy.flatMap { f in start.map { (f - $0) * 100 } }
                let reasons = r.collapseReasons.flatMap { $0.isEmpty ? nil : "collapsed: " + $0.joined(separator: "; ") }
                t.add([v.name, r.seed.map(String.init) ?? ReportFormat.missing, ReportFormat.percent(r.finalAccuracy),
                       ReportFormat.points(delta, signed: true), r.steps.map(String.init) ?? ReportFormat.missing,
                       ReportFormat.duration(r.wallSeconds), ReportFormat.metric(r.meanReward),
                       ReportFormat.points(r.largestDropPoints, signed: false), ReportFormat.yesNo(r.collapsed), r.state.label],
                      note: r.state.failureDetail ?? reasons)
            }
        }
        return t
    }

    /// Mean accuracy over seeds at each periodic evaluation (a prefix of the evaluation set),
    /// with the lowest and highest seed when `range`; "—" where a variant was not evaluated.
    func curve(range: Bool, limit: Int? = nil) -> TextTable? {
        let points = Array(Set(analysis.variants.flatMap { $0.runs.flatMap { $0.evaluations.map(\.index) } })).sorted()
        guard !points.isEmpty else { return nil }
        let shown = limit.map { TextTable.spread(points.count, $0) } ?? Array(points.indices)
        var t = TextTable(columns: [.init(header: "variant")] + shown.map { .init(header: String(points[$0]), numeric: true) })
        for v in analysis.variants {
            let cells = shown.map { i -> String in
                let values = v.runs.compactMap { r in r.evaluations.last { $0.index == points[i] }?.accuracy }
                guard let mean = SeriesMath.mean(values) else { return ReportFormat.missing }
                let m = String(format: "%.1f", mean * 100)
                guard range && values.count > 1 else { return m }
                return m + String(format: " (%.1f–%.1f)", values.min()! * 100, values.max()! * 100)
            }
            t.add([v.name] + cells)
        }
        return t
    }

    /// What was compared, on how much: the design, then the start.
    var design: [String] {
        let a = analysis
        let seeds = a.seeds.count
        let q = a.questions.map { "\($0) held-out questions" } ?? "the held-out questions (no answers yet)"
        return ["\(seeds) seed\(seeds == 1 ? "" : "s") per variant (\(a.seeds.map(String.init).joined(separator: ", "))); every final checkpoint scored greedily on the same \(q).",
                a.start.map { "Start (the shared checkpoint): \(ReportFormat.accuracy($0))." } ?? "Start: not scored (\(a.startState.label)); no gains over it."]
    }

    var legend: [String] {
        let a = analysis
        let detect = String(format: "%.0f%%", a.statistics.power * 100)
        return [
            "Every run: final acc on the whole evaluation set; Δ start in points; updates (SFT: steps) done; reward: mean over updates; drop: see below.",
            "accuracy: mean over seeds of each run's final checkpoint (never the best one) on the whole evaluation set; 95% CI from the seeds × questions variance (both the runs and the questions are samples; with one seed, the questions only); runs: seeds scored / seeds asked.",
            "Δ: paired difference in points, run against run of the same seed and answer against answer on the same question; 95% CI as above.",
            "p (Holm): the larger of the exact paired sign-flip test over questions (each question's difference summed over the seeds) and the t test of the interval, Holm-adjusted over the \(a.vsBaselineFamily) comparison\(a.vsBaselineFamily == 1 ? "" : "s") with \(a.baseline) (and separately over the \(a.vsStartFamily) with the start); the first takes the runs as given, the second covers their variation.",
            "verdict: better or worse when the adjusted p is below \(a.statistics.alpha); otherwise not detected (no detectable difference), with ± the smallest difference in points this comparison would detect \(detect) of the time; no verdict with one seed, since how much runs differ is then unknown. ★ marks a verdict of better; nothing else is marked.",
            Stability.dropDefinition,
            CollapseRule.definition,
        ]
    }
}
