import Engine
import Foundation

/// The report's charts: the differences with their intervals (what decides), accuracy against
/// updates with each variant's mean over seeds and its lowest-to-highest band, and the per-update
/// RL curves and plugin metrics, averaged over seeds.
enum ReportCharts {
    /// Δ vs the baseline (nil when nothing was compared yet) and Δ vs the start.
    static func differences(_ a: ComparisonAnalysis) -> (baseline: IntervalChart?, start: IntervalChart) {
        func row(_ i: Int, _ v: ComparisonAnalysis.VariantResult, _ d: Decision?) -> IntervalChart.Row {
            let c = d?.comparison
            return IntervalChart.Row(label: v.name, colorIndex: i, estimate: (c?.difference ?? .nan) * 100,
                                     low: (c?.interval.lowerBound ?? .nan) * 100, high: (c?.interval.upperBound ?? .nan) * 100,
                                     decided: d.map { $0.verdict == .better || $0.verdict == .worse } ?? false)
        }
        let others = a.variants.enumerated().filter { !$0.element.isBaseline }
        let baseline = others.isEmpty ? nil
            : IntervalChart(title: "Difference from \(a.baseline), 95% intervals", xLabel: "accuracy points (paired by seed and question)",
                            rows: others.map { row($0.offset, $0.element, $0.element.vsBaseline) })
        let start = IntervalChart(title: "Gain over the start, 95% intervals", xLabel: "accuracy points (paired by question)",
                                  rows: a.variants.enumerated().map { row($0.offset, $0.element, $0.element.vsStart) })
        return (baseline, start)
    }

    /// Held-out accuracy at each periodic evaluation: per variant, the mean over its seeds and a
    /// band from the lowest to the highest seed. RL variants by update, SFT variants by step (one
    /// chart each, since a step and an update are different amounts of work).
    static func accuracy(_ folder: ExperimentFolder) -> [LineChart] {
        var charts: [LineChart] = []
        for sft in [false, true] {
            let series = folder.variants.enumerated().compactMap { i, v -> LineChart.Series? in
                guard (v.algorithm == "sft") == sft else { return nil }
                var byIndex: [Int: [Double]] = [:]
                for r in v.runs { for e in r.metrics.evaluations { byIndex[e.index, default: []].append(e.accuracy * 100) } }
                let xs = byIndex.keys.sorted()
                return LineChart.Series(name: v.name, colorIndex: i,
                                        points: xs.map { ChartPoint(x: Double($0), y: SeriesMath.mean(byIndex[$0]!)!) },
                                        band: xs.map { ChartBand(x: Double($0), low: byIndex[$0]!.min()!, high: byIndex[$0]!.max()!) })
            }
            guard !series.isEmpty else { continue }
            charts.append(LineChart(title: sft ? "Held-out accuracy (greedy), continued SFT" : "Held-out accuracy (greedy)",
                                    xLabel: sft ? "step" : "update", yLabel: "accuracy (%)", series: series, markers: true,
                                    minimumYSpan: 10))
        }
        return charts
    }

    struct PerUpdate {
        var title: String
        var yLabel: String
        /// The metric, read from an update's line.
        var value: (RLUpdateLine) -> Double?
    }

    static let perUpdate = [
        PerUpdate(title: "Mean reward", yLabel: "reward", value: \.reward),
        PerUpdate(title: "KL to the reference policy", yLabel: "KL", value: \.kl),
        PerUpdate(title: "Policy (RL) loss", yLabel: "loss", value: \.policyLoss),
        PerUpdate(title: "Contrastive loss (CARFT)", yLabel: "loss", value: \.contrastiveLoss),
    ]

    /// CARFT's embedding diagnostics, charted when some variant recorded them.
    static let embedding = [
        PerUpdate(title: "Cosine of a correct rollout's pooled CoT to its annotated CoT (CARFT)", yLabel: "cosine", value: \.embedCosineCorrect),
        PerUpdate(title: "Cosine of a wrong rollout's pooled CoT to its annotated CoT (CARFT)", yLabel: "cosine", value: \.embedCosineWrong),
        PerUpdate(title: "How well that cosine separates correct from wrong rollouts (AUC, 0.5 = not at all)", yLabel: "AUC", value: \.embedAUC),
    ]

    /// How hard each loss term pushes the trunk, charted when some variant recorded it.
    static let hiddenGradients = [
        PerUpdate(title: "Gradient norm on the final hidden states: policy term", yLabel: "norm", value: \.hiddenGradPolicy),
        PerUpdate(title: "Gradient norm on the final hidden states: α × value loss", yLabel: "norm", value: \.hiddenGradValue),
        PerUpdate(title: "Gradient norm on the final hidden states: c × contrastive loss (CARFT)", yLabel: "norm", value: \.hiddenGradContrastive),
    ]

    /// The per-update charts of a folder: the standard ones, CARFT's embedding diagnostics and
    /// the terms' hidden-state gradients when recorded, then the plugins' metrics.
    static func perUpdateCharts(_ folder: ExperimentFolder) -> [PerUpdate] {
        let recorded = (embedding + hiddenGradients).filter { m in folder.variants.contains { v in v.runs.contains { r in r.metrics.updates.contains { m.value($0) != nil } } } }
        return perUpdate + recorded + pluginMetrics(folder)
    }

    /// The metrics plugins reported (`plugin/<name>` in metrics.jsonl), one chart each.
    static func pluginMetrics(_ folder: ExperimentFolder) -> [PerUpdate] {
        var keys = Set<String>()
        for v in folder.variants { for r in v.runs { for u in r.metrics.updates { keys.formUnion(u.plugin.keys) } } }
        return keys.sorted().map { name in PerUpdate(title: "Plugin metric \(name)", yLabel: "value", value: { $0.plugin[name] }) }
    }

    /// A per-update metric for every variant that recorded it, averaged over its seeds at each
    /// update, smoothed by a trailing moving average (the window goes into the caption) and
    /// thinned to at most `maxPoints` points so a long run does not bloat the page.
    static func chart(_ metric: PerUpdate, _ folder: ExperimentFolder, maxPoints: Int = 800) -> (chart: LineChart, window: Int) {
        let raw = folder.variants.enumerated().compactMap { i, v -> LineChart.Series? in
            var byIndex: [Int: [Double]] = [:]
            for r in v.runs where !r.metrics.hasSFTSteps {
                for u in r.metrics.updates { if let y = metric.value(u) { byIndex[u.update, default: []].append(y) } }
            }
            let points = byIndex.keys.sorted().map { ChartPoint(x: Double($0), y: SeriesMath.mean(byIndex[$0]!)!) }
            return points.isEmpty ? nil : LineChart.Series(name: v.name, colorIndex: i, points: points)
        }
        let window = SeriesMath.smoothingWindow(points: raw.map(\.points.count).max() ?? 0)
        let series = raw.map { s -> LineChart.Series in
            let smooth = SeriesMath.movingAverage(s.points.map(\.y), window: window)
            var points = zip(s.points, smooth).map { ChartPoint(x: $0.x, y: $1) }
            if points.count > maxPoints {
                let stride = (points.count + maxPoints - 1) / maxPoints
                let last = points.last!
                points = points.enumerated().filter { $0.offset % stride == 0 }.map(\.element)
                if points.last != last { points.append(last) }
            }
            return LineChart.Series(name: s.name, colorIndex: s.colorIndex, points: points)
        }
        return (LineChart(title: metric.title, xLabel: "update", yLabel: metric.yLabel, series: series), window)
    }

    static func caption(_ metric: PerUpdate, window: Int, empty: Bool) -> String {
        if empty { return "\(metric.title): no variant recorded this metric." }
        return window > 1
            ? "\(metric.title) per update, the mean over seeds, smoothed by a trailing moving average over \(window) updates (single updates are noisy)."
            : "\(metric.title) per update, the mean over seeds, unsmoothed (too few updates to average)."
    }
}
