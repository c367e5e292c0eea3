import Foundation

/// A line chart as SVG text: axes with nice ticks and labels, light grid lines, one polyline per
/// series (exactly one, so a reader or a test can count them), a legend on the right. No
/// scripts, fonts or images: it renders the same in any browser, offline, and inside
/// README.md.
struct LineChart {
    struct Series {
        var name: String
        /// Position in the experiment, so a variant keeps its colour on every chart.
        var colorIndex: Int
        var points: [ChartPoint]
        /// A shaded range around the line (the lowest and highest seed), drawn under it.
        var band: [ChartBand] = []
    }

    var title: String
    var xLabel: String
    var yLabel: String
    var series: [Series]
    /// Dots on every point: for sparse curves (evaluations), where the dots are the data.
    var markers = false
    /// The y axis spans at least this much, centred on the data: a gap of a point or two inside
    /// the noise must not fill the chart as if it were an effect.
    var minimumYSpan: Double? = nil

    static let width = 760.0
    static let height = 380.0

    /// Okabe–Ito colours, told apart with any common colour-vision deficiency; ordered for a
    /// white background (their yellow last). Beyond eight variants the colours repeat with a dash
    /// pattern.
    static let palette = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#F0E442"]
    static let dashes = ["", "7 4", "2 3", "9 3 2 3"]

    static func color(_ i: Int) -> String { palette[i % palette.count] }
    static func dash(_ i: Int) -> String { dashes[(i / palette.count) % dashes.count] }

    /// `standalone` adds the XML declaration and namespace a separate .svg file needs; inline
    /// in HTML neither is wanted.
    func svg(standalone: Bool) -> String {
        let W = Self.width, H = Self.height
        let drawn = series.map { s in
            Series(name: s.name, colorIndex: s.colorIndex, points: s.points.filter { $0.x.isFinite && $0.y.isFinite },
                   band: s.band.filter { $0.x.isFinite && $0.low.isFinite && $0.high.isFinite })
        }
        let longest = drawn.map { $0.name.count + ($0.points.isEmpty ? 10 : 0) }.max() ?? 0
        let legendWidth = min(250, 44 + 7 * Double(min(longest, 36)))
        let left = 70.0, top = 40.0, right = W - legendWidth - 16, bottom = H - 52

        var out = SVGFrame.open(width: W, height: H, title: title, standalone: standalone)

        let all = drawn.flatMap(\.points)
        let bands = drawn.flatMap(\.band)
        guard var minX = all.map(\.x).min(), var maxX = all.map(\.x).max(),
              var minY = all.map(\.y).min(), var maxY = all.map(\.y).max() else {
            out += "<text x=\"\(Int(W / 2))\" y=\"\(Int(H / 2))\" text-anchor=\"middle\" fill=\"#666666\">no data</text>\n</svg>\n"
            return out
        }
        minX = min(minX, bands.map(\.x).min() ?? minX); maxX = max(maxX, bands.map(\.x).max() ?? maxX)
        minY = min(minY, bands.map(\.low).min() ?? minY); maxY = max(maxY, bands.map(\.high).max() ?? maxY)
        if let span = minimumYSpan, maxY - minY < span {
            let mid = (minY + maxY) / 2
            minY = mid - span / 2
            maxY = mid + span / 2
            // Values that cannot go negative (accuracies) keep a floor of 0.
            if minY < 0 && all.allSatisfy({ $0.y >= 0 }) { maxY -= minY; minY = 0 }
        }
        let xt = AxisTicks(min: minX, max: maxX, target: 6)
        let yt = AxisTicks(min: minY, max: maxY, target: 5)
        func px(_ x: Double) -> Double { left + (x - xt.lower) / (xt.upper - xt.lower) * (right - left) }
        func py(_ y: Double) -> Double { bottom - (y - yt.lower) / (yt.upper - yt.lower) * (bottom - top) }
        func f(_ v: Double) -> String { String(format: "%.1f", v) }

        // Grid and tick labels.
        out += "<g stroke=\"#e3e3e3\" stroke-width=\"1\">\n"
        for v in yt.values { out += "<line x1=\"\(f(left))\" y1=\"\(f(py(v)))\" x2=\"\(f(right))\" y2=\"\(f(py(v)))\"/>\n" }
        for v in xt.values { out += "<line x1=\"\(f(px(v)))\" y1=\"\(f(top))\" x2=\"\(f(px(v)))\" y2=\"\(f(bottom))\"/>\n" }
        out += "</g>\n<g fill=\"#333333\">\n"
        for v in yt.values { out += "<text x=\"\(f(left - 6))\" y=\"\(f(py(v) + 4))\" text-anchor=\"end\">\(yt.label(v))</text>\n" }
        for v in xt.values { out += "<text x=\"\(f(px(v)))\" y=\"\(f(bottom + 16))\" text-anchor=\"middle\">\(xt.label(v))</text>\n" }
        out += "</g>\n"
        out += "<path d=\"M\(f(left)),\(f(top))V\(f(bottom))H\(f(right))\" fill=\"none\" stroke=\"#555555\" stroke-width=\"1\"/>\n"
        out += "<text x=\"\(f((left + right) / 2))\" y=\"\(f(H - 14))\" text-anchor=\"middle\">\(Escaping.xml(xLabel))</text>\n"
        out += "<text transform=\"translate(18,\(f((top + bottom) / 2))) rotate(-90)\" text-anchor=\"middle\">\(Escaping.xml(yLabel))</text>\n"

        // Bands first, so every line stays visible on top of them.
        for s in drawn where s.band.count > 1 && s.band.contains(where: { $0.high > $0.low }) {
            let upper = s.band.map { "\(f(px($0.x))),\(f(py($0.high)))" }
            let lower = s.band.reversed().map { "\(f(px($0.x))),\(f(py($0.low)))" }
            out += "<polygon fill=\"\(Self.color(s.colorIndex))\" fill-opacity=\"0.15\" stroke=\"none\" points=\"\((upper + lower).joined(separator: " "))\"/>\n"
        }

        // Curves.
        for s in drawn where !s.points.isEmpty {
            let color = Self.color(s.colorIndex), dash = Self.dash(s.colorIndex)
            let coords = s.points.map { "\(f(px($0.x))),\(f(py($0.y)))" }.joined(separator: " ")
            out += "<polyline fill=\"none\" stroke=\"\(color)\" stroke-width=\"2\" stroke-linejoin=\"round\""
            out += (dash.isEmpty ? "" : " stroke-dasharray=\"\(dash)\"") + " points=\"\(coords)\"><title>\(Escaping.xml(s.name))</title></polyline>\n"
            // A lone point draws no line, so it always gets its dot.
            if markers || s.points.count == 1 {
                for p in s.points { out += "<circle cx=\"\(f(px(p.x)))\" cy=\"\(f(py(p.y)))\" r=\"3\" fill=\"\(color)\"/>\n" }
            }
        }

        // Legend: every series, with "(no data)" for one that has nothing to draw.
        let legendX = right + 16
        for (i, s) in drawn.enumerated() {
            let y = top + 8 + Double(i) * 20
            let color = Self.color(s.colorIndex), dash = Self.dash(s.colorIndex)
            var name = s.name
            if name.count > 26 { name = String(name.prefix(25)) + "…" }
            out += "<line x1=\"\(f(legendX))\" y1=\"\(f(y))\" x2=\"\(f(legendX + 24))\" y2=\"\(f(y))\" stroke=\"\(color)\" stroke-width=\"3\""
            out += (dash.isEmpty ? "" : " stroke-dasharray=\"\(dash)\"") + "/>\n"
            out += "<text x=\"\(f(legendX + 30))\" y=\"\(f(y + 4))\">\(Escaping.xml(name))\(s.points.isEmpty ? " (no data)" : "")<title>\(Escaping.xml(s.name))</title></text>\n"
        }
        return out + "</svg>\n"
    }
}
