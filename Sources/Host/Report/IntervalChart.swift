import Foundation

/// Differences with their intervals, one row each, against a line at zero (a forest plot): the
/// chart a decision is read from. A difference without a verdict of better or worse is drawn in
/// grey, so the eye does not take a dot on the right of the line for a gain.
struct IntervalChart {
    struct Row {
        var label: String
        var colorIndex: Int
        var estimate: Double
        var low: Double
        var high: Double
        /// False: the verdict found no difference (grey).
        var decided: Bool
    }

    var title: String
    var xLabel: String
    var rows: [Row]

    static let width = 760.0

    func svg(standalone: Bool) -> String {
        let rowHeight = 28.0, top = 44.0, bottomSpace = 50.0
        let H = top + Double(max(1, rows.count)) * rowHeight + bottomSpace, W = Self.width
        var out = SVGFrame.open(width: W, height: H, title: title, standalone: standalone)
        let finite = rows.filter { $0.low.isFinite && $0.high.isFinite && $0.estimate.isFinite }
        guard !finite.isEmpty else {
            out += "<text x=\"\(Int(W / 2))\" y=\"\(Int(H / 2))\" text-anchor=\"middle\" fill=\"#666666\">no comparisons yet</text>\n</svg>\n"
            return out
        }
        // Zero is always on the axis, and the axis is symmetric enough to show both signs.
        let extent = max(1, finite.map { max(abs($0.low), abs($0.high)) }.max()!)
        let ticks = AxisTicks(min: -extent, max: extent, target: 6)
        let left = 190.0, right = W - 30, bottom = H - bottomSpace + 8
        func px(_ x: Double) -> Double { left + (x - ticks.lower) / (ticks.upper - ticks.lower) * (right - left) }
        func f(_ v: Double) -> String { String(format: "%.1f", v) }

        out += "<g stroke=\"#e3e3e3\" stroke-width=\"1\">\n"
        for v in ticks.values { out += "<line x1=\"\(f(px(v)))\" y1=\"\(f(top))\" x2=\"\(f(px(v)))\" y2=\"\(f(bottom))\"/>\n" }
        out += "</g>\n<g fill=\"#333333\">\n"
        for v in ticks.values { out += "<text x=\"\(f(px(v)))\" y=\"\(f(bottom + 16))\" text-anchor=\"middle\">\(ticks.label(v))</text>\n" }
        out += "</g>\n"
        out += "<line x1=\"\(f(px(0)))\" y1=\"\(f(top - 6))\" x2=\"\(f(px(0)))\" y2=\"\(f(bottom))\" stroke=\"#333333\" stroke-width=\"1.5\"/>\n"
        out += "<text x=\"\(f((left + right) / 2))\" y=\"\(f(H - 10))\" text-anchor=\"middle\">\(Escaping.xml(xLabel))</text>\n"
        for (i, r) in rows.enumerated() {
            let y = top + (Double(i) + 0.5) * rowHeight
            var label = r.label
            if label.count > 26 { label = String(label.prefix(25)) + "…" }
            out += "<text x=\"\(f(left - 10))\" y=\"\(f(y + 4))\" text-anchor=\"end\">\(Escaping.xml(label))<title>\(Escaping.xml(r.label))</title></text>\n"
            guard r.low.isFinite && r.high.isFinite && r.estimate.isFinite else { continue }
            let color = r.decided ? LineChart.color(r.colorIndex) : "#9a9a9a"
            out += "<line x1=\"\(f(px(r.low)))\" y1=\"\(f(y))\" x2=\"\(f(px(r.high)))\" y2=\"\(f(y))\" stroke=\"\(color)\" stroke-width=\"3\"/>\n"
            for x in [r.low, r.high] {
                out += "<line x1=\"\(f(px(x)))\" y1=\"\(f(y - 6))\" x2=\"\(f(px(x)))\" y2=\"\(f(y + 6))\" stroke=\"\(color)\" stroke-width=\"2\"/>\n"
            }
            out += "<circle cx=\"\(f(px(r.estimate)))\" cy=\"\(f(y))\" r=\"5\" fill=\"\(color)\"><title>\(Escaping.xml(String(format: "%@: %+.1f [%+.1f, %+.1f]", r.label, r.estimate, r.low, r.high)))</title></circle>\n"
        }
        return out + "</svg>\n"
    }
}
