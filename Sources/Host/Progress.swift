import Foundation

/// The live progress line on stderr: rewritten in place on a terminal, one line every few
/// seconds otherwise (so logs of CI or `nohup` runs stay readable).
final class ProgressLine {
    private let isTTY = isatty(STDERR_FILENO) == 1
    private var lastPrint = ContinuousClock.now
    private var width = 0

    func update(_ text: String, force: Bool = false) {
        if isTTY {
            let pad = max(0, width - text.count)
            FileHandle.standardError.write(Data(("\r" + text + String(repeating: " ", count: pad)).utf8))
            width = text.count
        } else if force || ContinuousClock.now - lastPrint > .seconds(5) {
            FileHandle.standardError.write(Data((text + "\n").utf8))
            lastPrint = ContinuousClock.now
        }
    }

    /// Ends the in-place line so the next output starts on a fresh one.
    func finishLine() {
        if isTTY && width > 0 { FileHandle.standardError.write(Data("\n".utf8)) }
        width = 0
    }

    static func duration(_ seconds: Double) -> String {
        // Above a thousand years an estimate is no duration (and Int(_:) would trap past 2^63).
        guard seconds.isFinite, seconds >= 0 else { return "?" }
        guard seconds < 3e10 else { return "centuries" }
        let s = Int(seconds.rounded())
        return s >= 3600 ? "\(s / 3600)h\(String(format: "%02d", s % 3600 / 60))m"
            : s >= 60 ? "\(s / 60)m\(String(format: "%02d", s % 60))s" : "\(s)s"
    }

    static func count(_ x: Double) -> String {
        x >= 1e6 ? String(format: "%.2fM", x / 1e6) : x >= 1e3 ? String(format: "%.1fk", x / 1e3) : String(format: "%.0f", x)
    }
}

func printErr(_ s: String) { FileHandle.standardError.write(Data((s + "\n").utf8)) }
