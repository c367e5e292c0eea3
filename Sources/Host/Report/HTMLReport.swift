import Foundation

/// report.html: one self-contained page (inline CSS and SVG, no scripts, fonts or links to fetch)
/// that opens in any browser with no network, so a comparison folder can be copied or mailed
/// as it is.
enum HTMLReport {
    static func page(name: String, table: SummaryTable, variants: [ExperimentFolder.Variant]) -> String {
        let e = Escaping.xml
        var out = """
        <!DOCTYPE html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>\(e(name)) — comparison report</title>
        <style>
        body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, Helvetica, Arial, sans-serif; margin: 2em auto; max-width: 1200px; padding: 0 1em; color: #222; }
        table { border-collapse: collapse; margin: 1em 0; font-size: 14px; }
        th, td { border: 1px solid #ccc; padding: 4px 8px; }
        th { background: #f3f3f3; }
        td.num { text-align: right; font-variant-numeric: tabular-nums; }
        td.failed { color: #b00020; }
        .legend { font-size: 13px; color: #444; }
        figure { margin: 1.5em 0; }
        figcaption { font-size: 13px; color: #444; max-width: 760px; }
        svg { max-width: 100%; height: auto; }
        </style>
        </head>
        <body>
        <h1>\(e(name)) — comparison report</h1>

        """

        // Summary table.
        out += "<table>\n<tr>" + (SummaryTable.columns.map(\.header) + ["state"]).map { "<th>\(e($0))</th>" }.joined() + "</tr>\n"
        for (i, s) in table.summaries.enumerated() {
            out += "<tr>"
            for (c, column) in SummaryTable.columns.enumerated() {
                var text = e(column.value(s))
                if c == SummaryTable.finalColumn && table.bestRows.contains(i) { text = "<strong>\(text)</strong>" }
                out += c < 2 ? "<td>\(text)</td>" : "<td class=\"num\">\(text)</td>"
            }
            out += "<td\(s.state.isFailed ? " class=\"failed\"" : "")>\(e(s.state.labelWithError))</td></tr>\n"
        }
        out += "</table>\n<ul class=\"legend\">\n<li><strong>Bold</strong>: best final accuracy.</li>\n"
        out += (SummaryTable.legend + table.collapseNotes).map { "<li>\(e($0))</li>\n" }.joined() + "</ul>\n"

        // Accuracy at each evaluation.
        let points = table.evaluationPoints
        if !points.isEmpty {
            out += "<h2>Accuracy at each evaluation</h2>\n<p class=\"legend\">By update (SFT: by step); — where a variant was not evaluated at that point.</p>\n"
            out += "<table>\n<tr><th>variant</th>" + points.map { "<th>\($0)</th>" }.joined() + "</tr>\n"
            for s in table.summaries {
                out += "<tr><td>\(e(s.name))</td>" + table.accuracyRow(s).map { "<td class=\"num\">\(e($0))</td>" }.joined() + "</tr>\n"
            }
            out += "</table>\n"
        }

        // Charts.
        out += "<h2>Curves</h2>\n"
        out += figure(ReportCharts.accuracy(variants).svg(standalone: false),
                      caption: "Greedy accuracy on held-out questions at each evaluation, against training time (evaluation time excluded); one dot per evaluation.")
        for metric in ReportCharts.perUpdate {
            let (chart, window) = ReportCharts.chart(metric, variants)
            out += figure(chart.svg(standalone: false), caption: ReportCharts.caption(metric, window: window, empty: chart.series.isEmpty))
        }
        return out + "</body>\n</html>\n"
    }

    private static func figure(_ svg: String, caption: String) -> String {
        "<figure>\n\(svg)<figcaption>\(Escaping.xml(caption))</figcaption>\n</figure>\n"
    }
}
