import Foundation

/// A table as data, drawn three ways: aligned plain text for the terminal (a row's note on an
/// indented line under it, so it never widens the table), Markdown and HTML. Cells arrive
/// unescaped; each renderer escapes for where it writes.
struct TextTable {
    struct Column {
        var header: String
        /// Right-aligned (numbers, intervals).
        var numeric = false
    }

    var columns: [Column]
    var rows: [[String]] = []
    /// Per row, a line shown under it (a failure's error); nil for none.
    var notes: [String?] = []
    /// Rows to emphasise (bold in Markdown and HTML, ★ after the name in the terminal).
    var marked: Set<Int> = []

    mutating func add(_ cells: [String], note: String? = nil, marked mark: Bool = false) {
        precondition(cells.count == columns.count, "TextTable: \(cells.count) cells for \(columns.count) columns")
        if mark { marked.insert(rows.count) }
        rows.append(cells)
        notes.append(note)
    }

    func terminal() -> String {
        let header = columns.map(\.header)
        let body = rows.enumerated().map { i, row in
            row.enumerated().map { c, cell in Escaping.terminal(cell) + (c == 0 && !marked.isEmpty ? (marked.contains(i) ? " ★" : "  ") : "") }
        }
        let all = [header] + body
        let widths = columns.indices.map { c in all.map { $0[c].count }.max() ?? 0 }
        var lines: [String] = []
        for (r, row) in all.enumerated() {
            let cells = row.enumerated().map { c, text -> String in
                let pad = String(repeating: " ", count: widths[c] - text.count)
                return columns[c].numeric ? pad + text : c == row.count - 1 ? text : text + pad
            }
            lines.append(cells.joined(separator: "  "))
            if r > 0, let note = notes[r - 1] { lines.append("    ↳ " + Escaping.terminal(note)) }
        }
        return lines.joined(separator: "\n")
    }

    func markdown() -> String {
        func row(_ cells: [String]) -> String { "| " + cells.joined(separator: " | ") + " |" }
        var lines = [row(columns.map { Escaping.markdownCell($0.header) }),
                     "|" + columns.map { $0.numeric ? " ---: |" : " --- |" }.joined()]
        for (i, cells) in rows.enumerated() {
            var escaped = cells.map(Escaping.markdownCell)
            if marked.contains(i) { escaped[0] = "**" + escaped[0] + "**" }
            if let note = notes[i] { escaped[escaped.count - 1] += " — " + Escaping.markdownCell(note) }
            lines.append(row(escaped))
        }
        return lines.joined(separator: "\n")
    }

    func html() -> String {
        let e = Escaping.xml
        var out = "<table>\n<tr>" + columns.map { "<th>\(e($0.header))</th>" }.joined() + "</tr>\n"
        for (i, cells) in rows.enumerated() {
            out += "<tr>"
            for (c, cell) in cells.enumerated() {
                var text = e(cell)
                if c == 0 && marked.contains(i) { text = "<strong>\(text)</strong>" }
                if c == cells.count - 1, let note = notes[i] { text += "<br><span class=\"note\">\(e(note))</span>" }
                out += columns[c].numeric ? "<td class=\"num\">\(text)</td>" : "<td>\(text)</td>"
            }
            out += "</tr>\n"
        }
        return out + "</table>\n"
    }

    /// `limit` indices out of `0..<count`, evenly spaced, always the first and the last.
    static func spread(_ count: Int, _ limit: Int) -> [Int] {
        let limit = max(2, limit)
        guard count > limit else { return Array(0..<count) }
        return Array(Set((0..<limit).map { Int((Double($0) * Double(count - 1) / Double(limit - 1)).rounded()) })).sorted()
    }

    /// Prose wrapped at word boundaries, continuation lines indented, so a legend fits the
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
}
