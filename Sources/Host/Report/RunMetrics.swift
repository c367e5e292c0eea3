import Foundation

/// One run's metrics.jsonl read back for the report. The file is flushed line by line while the
/// run goes, so a failed or still-running run leaves a file that may stop mid-way or end in a
/// truncated line: unreadable lines are counted and skipped, never fatal. Non-finite numbers
/// (written as null) and missing fields are simply absent.
struct RunMetrics {
    /// A training line: an RL update (`kind` update, numbered by `update`) or an SFT step
    /// (`kind` train, numbered by `step`), with every finite number it carried.
    struct TrainingPoint {
        var index: Int
        var values: [String: Double]
    }

    /// A greedy evaluation on held-out questions. `elapsed` is training seconds so far
    /// (evaluation time excluded), taken from the line or, for older lines without it, from the
    /// latest training line before it.
    struct Evaluation: Equatable {
        var index: Int
        var accuracy: Double
        var elapsed: Double
    }

    var training: [TrainingPoint] = []
    var evaluations: [Evaluation] = []
    /// Lines that were not a JSON object with a known kind and index (a truncated last line, say).
    var skippedLines = 0
    /// True when the run wrote SFT `train` lines rather than RL `update` lines.
    var hasSFTSteps = false

    /// The file at `path`, or no metrics when there is none (a run that never started).
    static func load(path: String) -> RunMetrics {
        guard let data = FileManager.default.contents(atPath: path) else { return RunMetrics() }
        return parse(String(decoding: data, as: UTF8.self))
    }

    static func parse(_ text: String) -> RunMetrics {
        var m = RunMetrics()
        var lastElapsed = 0.0
        for line in text.split(whereSeparator: \.isNewline) {
            guard !line.allSatisfy(\.isWhitespace) else { continue }
            guard let object = (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any],
                  let kind = object["kind"] as? String else {
                m.skippedLines += 1
                continue
            }
            switch kind {
            case "update", "train":
                guard let index = integer(object[kind == "update" ? "update" : "step"]) else { m.skippedLines += 1; continue }
                var values: [String: Double] = [:]
                for (key, value) in object { if let d = number(value) { values[key] = d } }
                if let e = values[kind == "update" ? "elapsed" : "train_seconds"] { lastElapsed = e }
                m.training.append(TrainingPoint(index: index, values: values))
                if kind == "train" { m.hasSFTSteps = true }
            case "final_eval":
                // The final checkpoint on the whole evaluation set: the report reads its answers
                // from eval-final.jsonl instead.
                continue
            case "eval":
                guard let index = integer(object["update"]) ?? integer(object["step"]) else { m.skippedLines += 1; continue }
                let accuracy: Double
                if let a = number(object["accuracy"]) {
                    accuracy = a
                } else if let c = number(object["correct"]), let t = number(object["total"]), t > 0 {
                    accuracy = c / t
                } else {
                    m.skippedLines += 1
                    continue
                }
                // An accuracy outside [0, 1] is a damaged line, not a point to chart.
                guard (0...1).contains(accuracy) else { m.skippedLines += 1; continue }
                m.evaluations.append(Evaluation(index: index, accuracy: accuracy, elapsed: number(object["elapsed"]) ?? lastElapsed))
            default:
                m.skippedLines += 1
            }
        }
        return m
    }

    /// Every finite value of one training metric, in file order.
    func values(_ key: String) -> [Double] { training.compactMap { $0.values[key] } }

    /// One training metric against the update (or step) number, skipping lines without it.
    func series(_ key: String) -> [ChartPoint] {
        training.compactMap { p in p.values[key].map { ChartPoint(x: Double(p.index), y: $0) } }
    }

    private static func number(_ value: Any?) -> Double? {
        guard let n = value as? NSNumber else { return nil }
        let d = n.doubleValue
        return d.isFinite ? d : nil
    }

    private static func integer(_ value: Any?) -> Int? {
        guard let d = number(value), d == d.rounded(), abs(d) < 1e15 else { return nil }
        return Int(d)
    }
}

/// A point of a curve: an update (or training minutes) and a value.
struct ChartPoint: Equatable {
    var x: Double
    var y: Double
}

/// A band's extent at one x: the lowest and highest value there.
struct ChartBand: Equatable {
    var x: Double
    var low: Double
    var high: Double
}
