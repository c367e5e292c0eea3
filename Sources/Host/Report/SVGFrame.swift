/// The opening every chart shares: the <svg> element (with the XML declaration and namespace a
/// separate .svg file needs, neither when inline in HTML), a white background and the title.
enum SVGFrame {
    static func open(width: Double, height: Double, title: String, standalone: Bool) -> String {
        let w = Int(width), h = Int(height)
        var out = standalone ? "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n" : ""
        out += "<svg" + (standalone ? " xmlns=\"http://www.w3.org/2000/svg\"" : "")
        out += " width=\"\(w)\" height=\"\(h)\" viewBox=\"0 0 \(w) \(h)\" role=\"img\" aria-label=\"\(Escaping.xml(title))\""
        out += " font-family=\"system-ui, -apple-system, 'Segoe UI', Roboto, Helvetica, Arial, sans-serif\" font-size=\"12\">\n"
        out += "<rect width=\"\(w)\" height=\"\(h)\" fill=\"#ffffff\"/>\n"
        out += "<text x=\"\(Int(width / 2))\" y=\"22\" text-anchor=\"middle\" font-size=\"15\" font-weight=\"600\">\(Escaping.xml(title))</text>\n"
        return out
    }
}
