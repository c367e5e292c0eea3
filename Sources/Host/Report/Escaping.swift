import Foundation

/// Text from outside the report (variant names, error messages from stderr) made safe for each
/// place it lands: markup must not open tags, Markdown must not break a table row, and a
/// terminal must not receive escape sequences.
enum Escaping {
    /// For HTML and SVG (also attribute values). Control characters XML forbids are dropped, so
    /// accuracy.svg stays well-formed whatever a run printed.
    static func xml(_ s: String) -> String {
        var out = ""
        for u in s.unicodeScalars {
            switch u {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            case "\t", "\n", "\r": out.unicodeScalars.append(u)
            case _ where u.value < 0x20 || u.value == 0x7F || u.value == 0xFFFE || u.value == 0xFFFF: continue
            default: out.unicodeScalars.append(u)
            }
        }
        return out
    }

    /// For a Markdown table cell: one line, no column breaks, no emphasis or raw HTML.
    static func markdownCell(_ s: String) -> String {
        var out = ""
        for u in terminal(s).unicodeScalars {
            switch u {
            case "\\", "|", "*", "_", "`", "[", "]": out += "\\" + String(u)
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "&": out += "&amp;"
            default: out.unicodeScalars.append(u)
            }
        }
        return out
    }

    /// For the terminal and for single-line cells: control characters (escape sequences,
    /// newlines, tabs) become spaces.
    static func terminal(_ s: String) -> String {
        String(String.UnicodeScalarView(s.unicodeScalars.map {
            $0.properties.generalCategory == .control ? " " : $0
        }))
    }
}
