import Foundation

/// The accuracy-by-step table with a bar per evaluation, printed at the end of a run.
enum AccuracyCurve {
    static func render(_ points: [(step: Int, accuracy: Double)], label: String = "step", width: Int = 40) -> String {
        var lines = [String(repeating: " ", count: max(0, 6 - label.count)) + label + "  accuracy"]
        for (step, acc) in points {
            let bar = String(repeating: "█", count: Int((acc * Double(width)).rounded()))
            lines.append(String(format: "%6d  %6.1f%%  ", step, acc * 100) + bar)
        }
        return lines.joined(separator: "\n")
    }
}
