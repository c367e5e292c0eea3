import Foundation
import Engine

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

    /// The line a run ends with when its final checkpoint was scored (FinalEvaluation).
    static func finalEvaluation(_ r: Evaluator.Result?, folder: String) -> String? {
        r.map { String(format: "Final checkpoint on %d held-out questions: %.1f%% (%d correct); every answer in %@/%@",
                       $0.total, $0.accuracy * 100, $0.correct, folder, EvalRecords.finalFileName) }
    }
}
