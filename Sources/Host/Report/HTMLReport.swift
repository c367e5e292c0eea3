import Foundation

/// report.html: one self-contained page (inline CSS and SVG, no scripts, fonts or links to fetch)
/// that opens in any browser with no network, so a comparison folder can be copied or mailed
/// as it is.
enum HTMLReport {
    static func page(folder: ExperimentFolder, tables t: ReportTables, differences: (baseline: IntervalChart?, start: IntervalChart),
                     accuracy: [LineChart]) -> String {
        let e = Escaping.xml
        let a = t.analysis
        var out = """
        <!DOCTYPE html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>\(e(a.name)) — comparison report</title>
        <style>
        body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, Helvetica, Arial, sans-serif; margin: 2em auto; max-width: 1300px; padding: 0 1em; color: #222; }
        table { border-collapse: collapse; margin: 1em 0; font-size: 14px; }
        th, td { border: 1px solid #ccc; padding: 4px 8px; }
        th { background: #f3f3f3; }
        td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
        .note { color: #b00020; font-size: 12px; }
        .legend { font-size: 13px; color: #444; max-width: 1000px; }
        figure { margin: 1.5em 0; }
        figcaption { font-size: 13px; color: #444; max-width: 760px; }
        svg { max-width: 100%; height: auto; }
        </style>
        </head>
        <body>
        <h1>\(e(a.name)) — comparison report</h1>
        <p>\(e(t.design.joined(separator: " ")))</p>

        """
        out += t.full().html()
        out += "<ul class=\"legend\">\n" + t.legend.map { "<li>\(e($0))</li>\n" }.joined() + "</ul>\n"
        let notes = a.allNotes
        if !notes.isEmpty { out += "<ul class=\"legend\">\n" + notes.map { "<li>\(e($0))</li>\n" }.joined() + "</ul>\n" }

        out += "<h2>Differences</h2>\n"
        if let b = differences.baseline {
            out += figure(b.svg(standalone: false), caption: "Each variant's final accuracy minus \(a.baseline)'s, paired by seed and question, with its 95% interval. Grey: no verdict of better or worse.")
        }
        out += figure(differences.start.svg(standalone: false), caption: "Each variant's final accuracy minus the starting checkpoint's, on the same questions, with its 95% interval. Grey: no verdict of better or worse.")

        out += "<h2>Every run</h2>\n" + t.perRun().html()
        if let curve = t.curve(range: true) {
            out += "<h2>Accuracy at each evaluation</h2>\n<p class=\"legend\">Mean over seeds (lowest–highest seed), by update (SFT: by step), on the first questions of the evaluation set; — where a variant was not evaluated.</p>\n"
            out += curve.html()
        }

        out += "<h2>Curves</h2>\n"
        for chart in accuracy {
            out += figure(chart.svg(standalone: false),
                          caption: "Greedy accuracy on the first questions of the evaluation set at each evaluation: the line is the mean over seeds, the shaded band runs from the lowest to the highest seed. The axis spans at least 10 points, so a gap inside the noise does not fill the chart.")
        }
        for metric in ReportCharts.perUpdateCharts(folder) {
            let (chart, window) = ReportCharts.chart(metric, folder)
            out += figure(chart.svg(standalone: false), caption: ReportCharts.caption(metric, window: window, empty: chart.series.isEmpty))
        }
        return out + "</body>\n</html>\n"
    }

    private static func figure(_ svg: String, caption: String) -> String {
        "<figure>\n\(svg)<figcaption>\(Escaping.xml(caption))</figcaption>\n</figure>\n"
    }
}
