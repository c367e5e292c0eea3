import Foundation
import Engine

/// Follows a running child's metrics.jsonl for the progress line: its latest step (SFT) or
/// update (RL) and its latest evaluated accuracy. Reads only what was appended since last time.
final class MetricsTail {
    let path: String
    private var offset: UInt64 = 0
    private var partial = Data()
    private(set) var position: Int?
    private(set) var accuracy: Double?
    /// "step" for SFT, "update" for RL: the key the child counts in.
    private(set) var unit = "step"

    init(path: String) { self.path = path }

    func poll() {
        guard let handle = FileHandle(forReadingAtPath: path) else { return }
        defer { try? handle.close() }
        // A child that was restarted truncates the file: start over.
        if let end = try? handle.seekToEnd(), end < offset { offset = 0; partial = Data() }
        do { try handle.seek(toOffset: offset) } catch { return }
        guard let data = try? handle.readToEnd(), !data.isEmpty else { return }
        offset += UInt64(data.count)
        partial.append(data)
        while let nl = partial.firstIndex(of: 0x0A) {
            let line = partial[partial.startIndex..<nl]
            partial = Data(partial[partial.index(after: nl)...])
            guard let line = MetricsLine.parse(String(decoding: line, as: UTF8.self)) else { continue }
            switch line {
            case .update(let u): advance("update", u.update)
            case .step(let s): advance("step", s.step)
            case .eval(let e):
                advance(e.unit.rawValue, e.index)
                if let a = e.accuracy { accuracy = a }
            case .finalEval(let e): advance(e.unit.rawValue, e.index)
            }
        }
    }

    private func advance(_ unit: String, _ n: Int) {
        self.unit = unit
        position = max(position ?? 0, n)
    }

    /// "update 14, 35.2%" or "starting".
    var summary: String {
        guard let position else { return "starting" }
        return "\(unit) \(position)" + (accuracy.map { String(format: ", %.1f%%", $0 * 100) } ?? "")
    }
}
