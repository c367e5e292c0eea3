import Foundation
import Engine

/// One run's metrics.jsonl read back for the report. The file is flushed line by line while the
/// run goes, so a failed or still-running run leaves a file that may stop mid-way or end in a
/// truncated line: unreadable lines are counted and skipped, never fatal. Non-finite numbers
/// (written as null) and missing fields are simply absent.
struct RunMetrics {
    /// A greedy evaluation on held-out questions. `elapsed` is training seconds so far
    /// (evaluation time excluded), taken from the line or, for older lines without it, from the
    /// latest training line before it.
    struct Evaluation: Equatable {
        var index: Int
        var accuracy: Double
        var elapsed: Double
    }

    /// RL update lines, in file order.
    var updates: [RLUpdateLine] = []
    /// SFT step lines, in file order.
    var steps: [SFTStepLine] = []
    var evaluations: [Evaluation] = []
    /// Lines that were not a metrics line (a truncated last line, an unknown kind, say).
    var skippedLines = 0
    /// True when the run wrote SFT steps rather than RL updates.
    var hasSFTSteps: Bool { !steps.isEmpty }
    /// The last update (SFT: step) the run logged.
    var lastIndex: Int? { hasSFTSteps ? steps.last?.step : updates.last?.update }
    /// Training seconds at the last training line.
    var lastElapsed: Double? { hasSFTSteps ? steps.last?.trainSeconds : updates.last?.elapsed }

    /// The file at `path`, or no metrics when there is none (a run that never started).
    static func load(path: String) -> RunMetrics {
        guard let data = FileManager.default.contents(atPath: path) else { return RunMetrics() }
        return parse(String(decoding: data, as: UTF8.self))
    }

    static func parse(_ text: String) -> RunMetrics {
        var m = RunMetrics()
        var lastElapsed = 0.0
        for text in text.split(whereSeparator: \.isNewline) {
            guard !text.allSatisfy(\.isWhitespace) else { continue }
            guard let line = MetricsLine.parse(text) else { m.skippedLines += 1; continue }
            switch line {
            case .update(let u):
                if let e = u.elapsed { lastElapsed = e }
                m.updates.append(u)
            case .step(let s):
                if let e = s.trainSeconds { lastElapsed = e }
                m.steps.append(s)
            case .finalEval:
                // The final checkpoint on the whole evaluation set: the report reads its answers
                // from eval-final.jsonl instead.
                continue
            case .eval(let e):
                let accuracy: Double
                if let a = e.accuracy {
                    accuracy = a
                } else if let c = e.correct, let t = e.total, t > 0 {
                    accuracy = Double(c) / Double(t)
                } else {
                    m.skippedLines += 1
                    continue
                }
                // An accuracy outside [0, 1] is a damaged line, not a point to chart.
                guard (0...1).contains(accuracy) else { m.skippedLines += 1; continue }
                m.evaluations.append(Evaluation(index: e.index, accuracy: accuracy, elapsed: e.elapsed ?? lastElapsed))
            }
        }
        return m
    }

    /// Every value of one RL metric, in file order, skipping updates without it.
    func values(_ metric: (RLUpdateLine) -> Double?) -> [Double] { updates.compactMap(metric) }
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
