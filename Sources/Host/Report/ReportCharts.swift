import Foundation

/// The report's charts from the variants' metrics: accuracy against training time (the fair
/// axis when variants differ in cost per update), and the per-update RL curves.
enum ReportCharts {
    static func accuracy(_ variants: [ExperimentFolder.Variant]) -> LineChart {
        LineChart(title: "Held-out accuracy (greedy)", xLabel: "training minutes (evaluation time excluded)", yLabel: "accuracy (%)",
                  series: variants.enumerated().map { i, v in
                      LineChart.Series(name: v.name, colorIndex: i,
                                       points: v.metrics.evaluations.map { ChartPoint(x: $0.elapsed / 60, y: $0.accuracy * 100) })
                  },
                  markers: true)
    }

    struct PerUpdate {
        var key: String
        var title: String
        var yLabel: String
    }

    static let perUpdate = [
        PerUpdate(key: "reward", title: "Mean reward", yLabel: "reward"),
        PerUpdate(key: "kl", title: "KL to the reference policy", yLabel: "KL"),
        PerUpdate(key: "policy_loss", title: "Policy (RL) loss", yLabel: "loss"),
        PerUpdate(key: "contrastive_loss", title: "Contrastive loss (CARFT)", yLabel: "loss"),
    ]

    /// A per-update metric for every variant that recorded it, smoothed by a trailing moving
    /// average (the window goes into the caption) and thinned to at most `maxPoints` points so
    /// a long run does not bloat the page.
    static func chart(_ metric: PerUpdate, _ variants: [ExperimentFolder.Variant], maxPoints: Int = 800) -> (chart: LineChart, window: Int) {
        let raw = variants.enumerated().compactMap { i, v -> LineChart.Series? in
            let points = v.metrics.hasSFTSteps ? [] : v.metrics.series(metric.key)
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
            ? "\(metric.title) per update, smoothed by a trailing moving average over \(window) updates (single updates are noisy)."
            : "\(metric.title) per update, unsmoothed (too few updates to average)."
    }
}
