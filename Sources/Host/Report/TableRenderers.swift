import Foundation

/// The tables as plain text for the terminal (aligned columns, `*` on the best final accuracy,
/// a failed run's error on an indented line under its row) and as Markdown (bold best final,
/// the error inside the state cell).
extension SummaryTable {
    func terminal() -> String {
        // In a comparison every variant starts from the same checkpoint: a column repeating one
        // number would cost the width a 120-column terminal does not have, so it becomes a line.
        let starts = Set(summaries.compactMap(\.startAccuracy))
        let shared = starts.count == 1 ? starts.first : nil
        let shown = Self.columns.indices.filter { shared == nil || $0 != Self.startColumn }
        let header = shown.map { Self.columns[$0].short } + ["state"]
        let rows: [[String]] = summaries.enumerated().map { i, s in
            shown.map { c in
                let text = Escaping.terminal(Self.columns[c].value(s))
                // The mark, or a space in its place, so the column stays aligned on the digits.
                guard c == Self.finalColumn, !bestRows.isEmpty else { return text }
                return text + (bestRows.contains(i) ? "*" : " ")
            } + [Escaping.terminal(s.state.label)]
        }
        var out = shared.map { "start accuracy (first evaluation), the same for every variant: \(ReportFormat.percent($0))\n\n" } ?? ""
        out += Self.aligned([header] + rows, notes: [nil] + summaries.map { $0.state.failureDetail.map(Escaping.terminal) })
        out += "\n\n" + (["* best final accuracy; " + Self.shortHeaderLegend] + Self.legend + collapseNotes.map(Escaping.terminal))
            .map { Self.wrapped($0, width: 118) }.joined(separator: "\n")
        let points = evaluationPoints
        if !points.isEmpty {
            // As many evaluation columns as fit 120 columns, spread evenly, first and last kept.
            let nameWidth = summaries.map { Escaping.terminal($0.name).count }.max() ?? 0
            let shown = Self.spread(points.count, max(2, (120 - max(7, nameWidth)) / 8))
            out += "\n\nAccuracy at each evaluation (by update; SFT: by step)"
            out += shown.count < points.count ? ", \(shown.count) of \(points.count) shown (all in report.md):\n" : ":\n"
            out += Self.aligned([["variant"] + shown.map { String(points[$0]) }]
                                + summaries.map { s in let row = accuracyRow(s); return [Escaping.terminal(s.name)] + shown.map { row[$0] } },
                                notes: [])
        }
        return out
    }

    /// `limit` indices out of `0..<count`, evenly spaced, always the first and the last.
    static func spread(_ count: Int, _ limit: Int) -> [Int] {
        guard count > limit else { return Array(0..<count) }
        return Array(Set((0..<limit).map { Int((Double($0) * Double(count - 1) / Double(limit - 1)).rounded()) })).sorted()
    }

    func markdown() -> String {
        var lines = [Self.markdownRow(Self.columns.map(\.header) + ["state"]),
                     "|" + String(repeating: " --- |", count: 2) + String(repeating: " ---: |", count: Self.columns.count - 2) + " --- |"]
        for (i, s) in summaries.enumerated() {
            var cells = Self.columns.map { Escaping.markdownCell($0.value(s)) }
            if bestRows.contains(i) { cells[Self.finalColumn] = "**" + cells[Self.finalColumn] + "**" }
            lines.append(Self.markdownRow(cells + [Escaping.markdownCell(s.state.labelWithError)]))
        }
        lines.append("")
        lines.append("- **Bold**: best final accuracy.")
        lines += (Self.legend + collapseNotes).map { "- " + Escaping.markdownCell($0) }
        let points = evaluationPoints
        if !points.isEmpty {
            lines += ["", "## Accuracy at each evaluation", "",
                      "By update (SFT: by step); — where a variant was not evaluated at that point.", "",
                      Self.markdownRow(["variant"] + points.map(String.init)),
                      "| --- |" + String(repeating: " ---: |", count: points.count)]
            lines += summaries.map { Self.markdownRow([Escaping.markdownCell($0.name)] + accuracyRow($0)) }
        }
        return lines.joined(separator: "\n")
    }

    private static func markdownRow(_ cells: [String]) -> String { "| " + cells.joined(separator: " | ") + " |" }

    /// Columns padded to their widest cell: a column of numbers (or "—") right-aligned, others
    /// left, the last unpadded. A row's note goes on the next line, indented, so it never widens
    /// the table.
    private static func aligned(_ rows: [[String]], notes: [String?]) -> String {
        guard let first = rows.first else { return "" }
        let body = rows.dropFirst()
        let widths = first.indices.map { c in rows.map { $0[c].count }.max() ?? 0 }
        let right = first.indices.map { c in c > 0 && body.allSatisfy { isNumeric($0[c]) } }
        var lines: [String] = []
        for (r, row) in rows.enumerated() {
            let cells = row.enumerated().map { c, text -> String in
                let pad = String(repeating: " ", count: widths[c] - text.count)
                return right[c] ? pad + text : c == row.count - 1 ? text : text + pad
            }
            lines.append(cells.joined(separator: "  "))
            if r < notes.count, let note = notes[r] { lines.append("    ↳ " + note) }
        }
        return lines.joined(separator: "\n")
    }

    /// Prose wrapped at word boundaries, continuation lines indented, so the legend fits the
    /// same terminal as the table.
    static func wrapped(_ text: String, width: Int) -> String {
        var lines: [String] = []
        var line = ""
        for word in text.split(separator: " ") {
            if !line.isEmpty && line.count + 1 + word.count > width {
                lines.append(line)
                line = "  "
            }
            line += (line.isEmpty || line == "  " ? "" : " ") + word
        }
        if !line.isEmpty { lines.append(line) }
        return lines.joined(separator: "\n")
    }

    /// Numeric-looking cells (and "—") align right.
    private static func isNumeric(_ s: String) -> Bool {
        guard let f = s.unicodeScalars.first else { return true }
        return s == ReportFormat.missing || s == "yes" || s == "no" || CharacterSet(charactersIn: "0123456789+-.").contains(f)
    }
}
